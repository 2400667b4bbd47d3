// Child process of the namespace tests: records the ICMP and ICMPv6 echo requests this namespace receives
// (raw sockets of our own addon see them all) until stdin closes, then prints them as JSON. Prints "ready"
// on stderr once listening. An IPv4 echo comes with its IP header (destination, TTL); an IPv6 one without
// (a raw ICMPv6 socket hands over the message alone): its hop limit comes beside it and its destination is
// unknown, so a test gives the namespace one IPv6 relay address.
import { createRequire } from 'node:module';

const ICMP_ECHO_REQUEST = 8;
const ICMPV6_ECHO_REQUEST = 128;
const addon = createRequire(import.meta.url)('../../build/Release/relay_select_icmp.node');
const { constants } = addon;
const seen = [];

function record(family, destination, ttl, icmp) {
  if (icmp.length < 8 || icmp[0] !== (family === 4 ? ICMP_ECHO_REQUEST : ICMPV6_ECHO_REQUEST)) return;
  seen.push({
    family,
    destination,
    ttl,
    checksum: icmp.readUInt16BE(2),
    identifier: icmp.readUInt16BE(4),
    sequence: icmp.readUInt16BE(6),
  });
}

const ipv4 = new addon.IcmpSocket(4, 'raw', (bytes) => {
  const headerBytes = (bytes[0] & 0x0f) * 4;
  if (bytes[9] !== 1) return;
  record(4, Array.from(bytes.subarray(16, 20)).join('.'), bytes[8], bytes.subarray(headerBytes));
});
const ipv6 = new addon.IcmpSocket(6, 'raw', (bytes, _source, hopLimit) => record(6, null, hopLimit, bytes));
ipv6.setIntOption(constants.IPPROTO_IPV6, constants.IPV6_RECVHOPLIMIT, 1);
ipv6.setIcmp6Filter([ICMPV6_ECHO_REQUEST]);
ipv4.start();
ipv6.start();

process.stdin.resume();
process.stdin.on('end', () => {
  ipv4.flush();
  ipv6.flush();
  ipv4.close();
  ipv6.close();
  process.stdout.write(JSON.stringify(seen));
});
process.stderr.write('ready\n');
