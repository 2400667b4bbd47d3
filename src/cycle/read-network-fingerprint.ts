/**
 * Reads the endpoint's network fingerprint (network-fingerprint.ts) from the kernel: the default routes from
 * /proc/net/route and /proc/net/ipv6_route, and the source address toward a relay from a connected UDP
 * socket. Connecting a UDP socket sends nothing; the kernel only runs its route lookup (policy rules, VPN
 * routes and all) and binds the socket to the source address it would use, which getsockname() then tells.
 * That is what `ip route get` prints, without starting a process or depending on iproute2. Cheap enough for
 * every cron run (two small file reads and one socket) and for the agent to poll.
 */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { parseIpv4DefaultRoute, parseIpv6DefaultRoute, type NetworkFingerprint } from './network-fingerprint.js';

const IPV4_ROUTES = '/proc/net/route';
const IPV6_ROUTES = '/proc/net/ipv6_route';
/** Any port does: a UDP connect only looks up the route. 52311 keeps it plausible in a packet trace (none is sent). */
const LOOKUP_PORT = 52311;

export interface ReadNetworkFingerprintOptions {
  /** The relay address (IPv4 or IPv6 literal) whose source address is part of the fingerprint; none: source is null. */
  toward?: string | null;
}

/**
 * The network fingerprint now; null on a system without /proc/net/route (not Linux): there is nothing to
 * compare, so a network change is never assumed. For the run cycle and for `relay-select agent`, which
 * compares it with `describeNetworkChange` every few seconds.
 */
export async function readNetworkFingerprint(
  options: ReadNetworkFingerprintOptions = {},
): Promise<NetworkFingerprint | null> {
  const [ipv4Text, ipv6Text] = await Promise.all([
    readFile(IPV4_ROUTES, 'utf8').catch(() => null),
    readFile(IPV6_ROUTES, 'utf8').catch(() => ''),
  ]);
  if (ipv4Text === null) return null;
  const toward = options.toward ?? null;
  // node:net only with a relay to aim at: a run waiting for its first relay or a retry has none.
  const family = toward === null ? 0 : (await import('node:net')).isIP(toward);
  const source =
    toward !== null && family !== 0
      ? { toward, address: await lookUpSourceAddress(toward, family === 6 ? 6 : 4) }
      : null;
  return {
    ipv4: parseIpv4DefaultRoute(ipv4Text, endianness() === 'LE'),
    ipv6: parseIpv6DefaultRoute(ipv6Text ?? ''),
    source,
  };
}

/** The source address the kernel would use toward `address`, or null when it has no route there. */
async function lookUpSourceAddress(address: string, family: 4 | 6): Promise<string | null> {
  // Loaded here: a run with no relay to aim at (the first, or one waiting for a retry) needs no socket.
  const { createSocket } = await import('node:dgram');
  return new Promise((resolve) => {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    const finish = (result: string | null): void => {
      socket.close();
      resolve(result);
    };
    socket.once('error', () => finish(null));
    socket.connect(LOOKUP_PORT, address, () => {
      try {
        finish(socket.address().address);
      } catch {
        finish(null);
      }
    });
  });
}
