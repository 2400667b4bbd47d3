/**
 * The source address the kernel would use toward an address, from a connected UDP socket. Connecting a UDP
 * socket sends nothing; the kernel only runs its route lookup (policy rules, VPN routes and all) and binds
 * the socket to the source address it would use, which getsockname() then tells — what `ip route get`
 * prints, without starting a process. For the network fingerprint of the run cycle and the agent's peer link.
 */

/** Any port does: a UDP connect only looks up the route. 52311 keeps it plausible in a packet trace (none is sent). */
const LOOKUP_PORT = 52311;

/** The source address toward `destination` (an IP literal of `family`), or null when no route leads there. */
export async function lookUpSourceAddress(destination: string, family: 4 | 6): Promise<string | null> {
  // Loaded here: a cron run with no relay to aim at needs no socket.
  const { createSocket } = await import('node:dgram');
  return new Promise((resolve) => {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const finish = (address: string | null): void => {
      socket.close();
      resolve(address);
    };
    socket.once('error', () => finish(null));
    socket.connect(LOOKUP_PORT, destination, () => {
      try {
        finish(socket.address().address);
      } catch {
        finish(null);
      }
    });
  });
}
