/**
 * The endpoint's network as the run cycle compares it (DESIGN §7 `network-changed`): the IPv4 and IPv6
 * default routes (gateway and interface) and the source address the kernel picks toward the current relay.
 * A laptop docked or undocked changes its default route; a VPN that adds its own routes (0.0.0.0/1 and
 * 128.0.0.0/1) may leave the default route alone but changes the source address toward the relay.
 *
 * Pure: parsing /proc/net/route and /proc/net/ipv6_route text, and comparing two fingerprints. Reading the
 * files and asking the kernel for the source address is read-network-fingerprint.ts.
 */
import type { NetworkFingerprint } from './state.js';

export type { NetworkFingerprint } from './state.js';

type DefaultRoute = NetworkFingerprint['ipv4'];

const RTF_UP = 0x0001;
const RTF_GATEWAY = 0x0002;
const RTF_REJECT = 0x0200;

/** A tuple of `N` strings, so the columns destructure as strings, not `string | undefined`. */
type Columns<N extends number, T extends string[] = []> = T['length'] extends N ? T : Columns<N, [...T, string]>;

/** The first `count` whitespace-separated columns of a line of a /proc route table, or null when it has fewer. */
function routeColumns<N extends number>(line: string, count: N): Columns<N> | null {
  const fields = line.trim().split(/\s+/);
  return fields.length < count ? null : (fields.slice(0, count) as Columns<N>);
}

/**
 * The IPv4 default route of /proc/net/route (the one of lowest metric among those up), or null.
 * The kernel prints addresses as the 32-bit value in host byte order: reversed on little-endian machines.
 */
export function parseIpv4DefaultRoute(text: string, littleEndian: boolean): DefaultRoute {
  let best: { route: NonNullable<DefaultRoute>; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const fields = routeColumns(line, 8);
    if (fields === null) continue;
    const [iface, destination, gateway, flagsHex, , , metricText, mask] = fields;
    const flags = Number.parseInt(flagsHex, 16);
    if (destination !== '00000000' || mask !== '00000000' || (flags & RTF_UP) === 0 || (flags & RTF_REJECT) !== 0)
      continue;
    const metric = Number.parseInt(metricText, 10);
    const route = { gateway: (flags & RTF_GATEWAY) !== 0 ? formatIpv4(gateway, littleEndian) : null, interface: iface };
    if (best === null || metric < best.metric) best = { route, metric };
  }
  return best?.route ?? null;
}

/** The IPv6 default route of /proc/net/ipv6_route (lowest metric among those up, not reject routes), or null. */
export function parseIpv6DefaultRoute(text: string): DefaultRoute {
  let best: { route: NonNullable<DefaultRoute>; metric: number } | null = null;
  for (const line of text.split('\n')) {
    const fields = routeColumns(line, 10);
    if (fields === null) continue;
    const [destination, prefixLength, , , nextHop, metricHex, , , flagsHex, iface] = fields;
    const flags = Number.parseInt(flagsHex, 16);
    if (
      !/^0{32}$/.test(destination) ||
      prefixLength !== '00' ||
      (flags & RTF_UP) === 0 ||
      (flags & RTF_REJECT) !== 0 ||
      iface === 'lo'
    )
      continue;
    const metric = Number.parseInt(metricHex, 16);
    const route = {
      gateway: (flags & RTF_GATEWAY) !== 0 && !/^0{32}$/.test(nextHop) ? formatIpv6(nextHop) : null,
      interface: iface,
    };
    if (best === null || metric < best.metric) best = { route, metric };
  }
  return best?.route ?? null;
}

function formatIpv4(hex: string, littleEndian: boolean): string {
  const bytes = [0, 2, 4, 6].map((offset) => Number.parseInt(hex.slice(offset, offset + 2), 16));
  return (littleEndian ? bytes.reverse() : bytes).join('.');
}

/** 32 hex digits → the canonical (RFC 5952) spelling. */
function formatIpv6(hex: string): string {
  const groups = [];
  for (let offset = 0; offset < 32; offset += 4) groups.push(hex.slice(offset, offset + 4));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function describeRoute(route: DefaultRoute): string {
  if (route === null) return 'none';
  return route.gateway === null ? `straight onto ${route.interface}` : `via ${route.gateway} on ${route.interface}`;
}

function sameRoute(left: DefaultRoute, right: DefaultRoute): boolean {
  return left === null || right === null
    ? left === right
    : left.gateway === right.gateway && left.interface === right.interface;
}

/**
 * How the network changed between two fingerprints, in words ("IPv4 default route moved from via 198.18.0.1
 * on e0 to via 198.18.0.5 on e1"), or null when it did not. The source addresses are compared only when both
 * were taken toward the same relay address: after a new selection the relay, not the network, changed.
 */
export function describeNetworkChange(before: NetworkFingerprint, after: NetworkFingerprint): string | null {
  const changes: string[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    if (sameRoute(before[family], after[family])) continue;
    const name = family === 'ipv4' ? 'IPv4' : 'IPv6';
    if (before[family] === null) changes.push(`an ${name} default route appeared (${describeRoute(after[family])})`);
    else if (after[family] === null)
      changes.push(`the ${name} default route (${describeRoute(before[family])}) went away`);
    else
      changes.push(
        `the ${name} default route moved from ${describeRoute(before[family])} to ${describeRoute(after[family])}`,
      );
  }
  const { source: was } = before;
  const { source: now } = after;
  if (was !== null && now !== null && was.toward === now.toward && was.address !== now.address) {
    changes.push(
      `the source address toward ${now.toward} changed from ${was.address ?? 'none (no route)'} to ${now.address ?? 'none (no route)'}`,
    );
  }
  return changes.length === 0 ? null : changes.join('; ');
}
