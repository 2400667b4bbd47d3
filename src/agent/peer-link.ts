/**
 * Which link the peers meet on: the interface (and its address) that this endpoint's traffic toward its
 * relays leaves by — the link whose other endpoints measure the same network. Found by asking the kernel
 * for its source address toward a relay (probe/source-address.ts) and the interface that holds it.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { lookUpSourceAddress } from '../probe/source-address.js';

export interface PeerLink {
  family: 4 | 6;
  /** The interface name, e.g. eth0. */
  interfaceName: string;
  /** Our address on it toward the relays. */
  address: string;
}

/**
 * The link toward the relays: IPv4 when some relay has an IPv4 address (so every peer of a dual-stack
 * link picks the same family), else IPv6. Null when no relay address is routed from here.
 */
export async function findPeerLink(relayAddresses: readonly string[]): Promise<PeerLink | null> {
  for (const family of [4, 6] as const) {
    const toward = relayAddresses.find((address) => (family === 4 ? isIPv4(address) : isIPv6(address)));
    if (toward === undefined) continue;
    const source = await lookUpSourceAddress(toward, family);
    if (source === null) continue;
    const interfaceName = interfaceHolding(source, family);
    if (interfaceName !== null) return { family, interfaceName, address: source };
  }
  return null;
}

function interfaceHolding(address: string, family: 4 | 6): string | null {
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    if (entries?.some((entry) => familyOf(entry) === family && sameAddress(entry.address, address))) return name;
  }
  return null;
}

function familyOf(entry: NetworkInterfaceInfo): 4 | 6 {
  // Node 18.0–18.3 reported the family as a number; later versions as 'IPv4' / 'IPv6'.
  return String(entry.family) === 'IPv4' || String(entry.family) === '4' ? 4 : 6;
}

function sameAddress(left: string, right: string): boolean {
  return withoutScope(left).toLowerCase() === withoutScope(right).toLowerCase();
}

function withoutScope(address: string): string {
  const percent = address.indexOf('%');
  return percent === -1 ? address : address.slice(0, percent);
}

/**
 * The subnets of the link, for "accept only from the same link": the interface's own prefixes, and for
 * IPv6 the link-local prefix fe80::/10 (peers send from their link-local address to ff02::/16).
 */
export function onLinkSubnets(link: PeerLink): BlockList {
  const subnets = new BlockList();
  for (const entry of networkInterfaces()[link.interfaceName] ?? []) {
    if (familyOf(entry) !== link.family || entry.cidr === null) continue;
    const prefix = Number(entry.cidr.slice(entry.cidr.indexOf('/') + 1));
    subnets.addSubnet(withoutScope(entry.address), prefix, link.family === 4 ? 'ipv4' : 'ipv6');
  }
  if (link.family === 6) subnets.addSubnet('fe80::', 10, 'ipv6');
  return subnets;
}

/** Whether a datagram's source lies on the link (scope suffixes ignored). */
export function isOnLink(subnets: BlockList, address: string, family: 4 | 6): boolean {
  try {
    return subnets.check(withoutScope(address), family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
}
