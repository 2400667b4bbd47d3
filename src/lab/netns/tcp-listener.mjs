// A host of a namespace lab that accepts TCP and nothing else (a relay port behind a firewall that drops
// ICMP). Started by src/lab/netns/network.ts inside the host's namespace as
// `node tcp-listener.mjs PORT...`; accepts connections on every port and closes them at once, and
// prints "ready" once all ports listen.
import net from 'node:net';

const ports = process.argv.slice(2).map(Number);
let listening = 0;
for (const port of ports) {
  net
    .createServer((socket) => socket.end())
    .listen({ port, host: '::', ipv6Only: false }, () => {
      listening += 1;
      if (listening === ports.length) process.stdout.write('ready\n');
    });
}
