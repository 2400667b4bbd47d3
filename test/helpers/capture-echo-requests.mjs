// Child process of the namespace tests: records the ICMP echo requests this namespace receives (a raw
// socket sees them all) until stdin closes, then prints them as JSON. Prints "ready" on stderr once listening.
import { createRequire } from 'node:module';

const raw = createRequire(import.meta.url)('raw-socket');
const socket = raw.createSocket({ protocol: raw.Protocol.ICMP, addressFamily: raw.AddressFamily.IPv4 });
const seen = [];
socket.on('message', (buffer) => {
  const headerBytes = (buffer[0] & 0x0f) * 4;
  const icmp = buffer.subarray(headerBytes);
  if (buffer[9] !== 1 || icmp.length < 8 || icmp[0] !== 8) return;
  seen.push({
    destination: Array.from(buffer.subarray(16, 20)).join('.'),
    ttl: buffer[8],
    checksum: icmp.readUInt16BE(2),
    identifier: icmp.readUInt16BE(4),
    sequence: icmp.readUInt16BE(6),
  });
});
socket.on('error', () => undefined);
process.stdin.resume();
process.stdin.on('end', () => {
  socket.close();
  process.stdout.write(JSON.stringify(seen));
});
process.stderr.write('ready\n');
