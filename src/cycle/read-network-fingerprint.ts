/**
 * Reads the endpoint's network fingerprint (network-fingerprint.ts) from the kernel: the default routes from
 * /proc/net/route and /proc/net/ipv6_route, and the source address toward a relay
 * (probe/source-address.ts: a connected UDP socket, which sends nothing). Cheap enough for
 * every cron run (two small file reads and one socket) and for the agent to poll.
 */
import { readFile } from '../sync-fs.js';
import { endianness } from 'node:os';
import { lookUpSourceAddress } from '../probe/source-address.js';
import { parseIpv4DefaultRoute, parseIpv6DefaultRoute, type NetworkFingerprint } from './network-fingerprint.js';

const IPV4_ROUTES = '/proc/net/route';
const IPV6_ROUTES = '/proc/net/ipv6_route';

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
