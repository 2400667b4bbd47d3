/**
 * Pure planning of a namespace lab: which links exist, which addresses each end gets, and the static
 * routes of every node (shortest path by hop count, with explicit overrides for asymmetric paths).
 * network.ts turns the plan into namespaces; nothing here touches the system.
 */
import { RelaySelectError } from '../../errors.js';

/** How a link shapes traffic; the same properties for a link between routers and a host's access link. */
export interface LinkShaping {
  /** Added to each direction, so a round trip over the link grows by twice this. @default 0 */
  delayMs?: number;
  /** Frames dropped in each direction, percent. @default 0 */
  lossPercent?: number;
}

export interface NetworkLinkSpec extends LinkShaping {
  /** The two nodes (routers or hosts) the link joins. */
  from: string;
  to: string;
}

/** A host; `delayMs` and `lossPercent` shape its `attach` link. */
interface NetworkHostSpec extends LinkShaping {
  name: string;
  /** Router (or host) this host is linked to; shorthand for a link in `links`. */
  attach?: string;
  /** Extra IPv4 addresses (/32 on the host's loopback, routed to it): many relays on one host. @default 0 (at most 1022) */
  extraAddresses?: number;
  /** Extra IPv6 addresses (/128 on the host's loopback, in a /64 routed to it); needs `ipv6`. @default 0 (at most 1022) */
  extraIpv6Addresses?: number;
  /** Ignore ICMP echo (net.ipv4.icmp_echo_ignore_all=1 and its IPv6 twin), like a firewall dropping ICMP. @default false */
  dropsIcmp?: boolean;
  /** TCP ports on which a listener accepts connections (and closes them). @default [] */
  tcpListen?: number[];
}

/** Route override: traffic from `from` to the host `to` goes through `via` in order; shortest paths after. */
interface NetworkRouteSpec {
  from: string;
  to: string;
  via: string[];
}

export interface NetworkSpec {
  routers: string[];
  hosts: NetworkHostSpec[];
  links?: NetworkLinkSpec[];
  /** Give every link an IPv6 /64 from 2001:db8::/32 as well. @default false */
  ipv6?: boolean;
  routes?: NetworkRouteSpec[];
}

interface PlannedInterface {
  /** Device name inside the node's namespace. */
  device: string;
  linkIndex: number;
  peer: string;
  ipv4: string;
  peerIpv4: string;
  ipv6: string | null;
  peerIpv6: string | null;
}

interface PlannedLink {
  index: number;
  a: string;
  b: string;
  device: string;
  ipv4Subnet: string;
  ipv6Subnet: string | null;
  delayMs: number;
  lossPercent: number;
}

interface PlannedRoute {
  destination: string;
  via: string;
}

export interface PlannedNode {
  name: string;
  kind: 'router' | 'host';
  interfaces: PlannedInterface[];
  routes: PlannedRoute[];
  extraAddresses: string[];
  extraIpv6Addresses: string[];
  dropsIcmp: boolean;
  tcpListen: number[];
}

export interface NetworkPlan {
  nodes: PlannedNode[];
  links: PlannedLink[];
  ipv6: boolean;
}

/** Namespaces are named `${prefix}-${node}`; the prefix has no "-", so a prefix match stays exact. */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;
const MAX_LINKS = 16384;
const MAX_EXTRA_ADDRESSES = 1022;
const MAX_EXTRA_BLOCKS = 64;

/** Validates the spec and computes addresses and routes. Throws TOPOLOGY_INVALID naming the problem. */
export function planNetwork(spec: NetworkSpec): NetworkPlan {
  const kinds = new Map<string, 'router' | 'host'>();
  for (const name of spec.routers) addNode(kinds, name, 'router');
  for (const host of spec.hosts) addNode(kinds, host.name, 'host');
  const linkSpecs: NetworkLinkSpec[] = [...(spec.links ?? [])];
  for (const host of spec.hosts) {
    if (host.attach !== undefined) linkSpecs.push({ from: host.name, to: host.attach, delayMs: host.delayMs, lossPercent: host.lossPercent });
  }
  if (linkSpecs.length > MAX_LINKS) invalid(`${linkSpecs.length} links: at most ${MAX_LINKS}`);
  const ipv6 = spec.ipv6 ?? false;
  const hostSpecs = new Map(spec.hosts.map((host) => [host.name, host]));
  const nodes = new Map<string, PlannedNode>();
  for (const [name, kind] of kinds) {
    const host = hostSpecs.get(name);
    nodes.set(name, { name, kind, interfaces: [], routes: [], extraAddresses: [], extraIpv6Addresses: [], dropsIcmp: host?.dropsIcmp ?? false, tcpListen: host?.tcpListen ?? [] });
  }
  const links = linkSpecs.map((link, index): PlannedLink => {
    const { from: a, to: b } = link;
    if (!kinds.has(a) || !kinds.has(b)) invalid(`link ${a}–${b}: unknown node ${kinds.has(a) ? b : a}`);
    if (a === b) invalid(`link ${a}–${b}: a node cannot link to itself`);
    const delayMs = link.delayMs ?? 0;
    const lossPercent = link.lossPercent ?? 0;
    if (!(delayMs >= 0 && delayMs <= 10_000)) invalid(`link ${a}–${b}: delayMs ${delayMs} is not within 0..10000`);
    if (!(lossPercent >= 0 && lossPercent <= 100)) invalid(`link ${a}–${b}: lossPercent ${lossPercent} is not within 0..100`);
    const base = 4 * index;
    const octets = `198.18.${base >> 8}`;
    const low = base & 0xff;
    const hex = index.toString(16);
    const planned: PlannedLink = {
      index,
      a,
      b,
      device: `e${index}`,
      ipv4Subnet: `${octets}.${low}/30`,
      ipv6Subnet: ipv6 ? `2001:db8:0:${hex}::/64` : null,
      delayMs,
      lossPercent,
    };
    const endA = { node: a, ipv4: `${octets}.${low + 1}`, ipv6: ipv6 ? `2001:db8:0:${hex}::1` : null };
    const endB = { node: b, ipv4: `${octets}.${low + 2}`, ipv6: ipv6 ? `2001:db8:0:${hex}::2` : null };
    for (const [self, other] of [[endA, endB], [endB, endA]]) {
      nodes.get(self.node)!.interfaces.push({
        device: planned.device,
        linkIndex: index,
        peer: other.node,
        ipv4: self.ipv4,
        peerIpv4: other.ipv4,
        ipv6: self.ipv6,
        peerIpv6: other.ipv6,
      });
    }
    return planned;
  });

  const extraBlocks = new Map<string, string>();
  for (const host of spec.hosts) {
    const count = host.extraAddresses ?? 0;
    if (count === 0) continue;
    if (!Number.isInteger(count) || count < 0 || count > MAX_EXTRA_ADDRESSES) invalid(`host ${host.name}: extraAddresses ${count} is not within 0..${MAX_EXTRA_ADDRESSES}`);
    const block = extraBlocks.size;
    if (block >= MAX_EXTRA_BLOCKS) invalid(`more than ${MAX_EXTRA_BLOCKS} hosts with extra addresses`);
    extraBlocks.set(host.name, `198.19.${block * 4}.0/22`);
    const node = nodes.get(host.name)!;
    for (let offset = 1; offset <= count; offset += 1) {
      const value = block * 1024 + offset;
      node.extraAddresses.push(`198.19.${value >> 8}.${value & 0xff}`);
    }
  }

  const extraIpv6Blocks = new Map<string, string>();
  for (const host of spec.hosts) {
    const count = host.extraIpv6Addresses ?? 0;
    if (count === 0) continue;
    if (!ipv6) invalid(`host ${host.name}: extraIpv6Addresses needs ipv6: true`);
    if (!Number.isInteger(count) || count < 0 || count > MAX_EXTRA_ADDRESSES) invalid(`host ${host.name}: extraIpv6Addresses ${count} is not within 0..${MAX_EXTRA_ADDRESSES}`);
    if (extraIpv6Blocks.size >= MAX_EXTRA_BLOCKS) invalid(`more than ${MAX_EXTRA_BLOCKS} hosts with extra IPv6 addresses`);
    // Blocks from 1, so that every address is already in its canonical (RFC 5952) spelling.
    const block = (extraIpv6Blocks.size + 1).toString(16);
    extraIpv6Blocks.set(host.name, `2001:db8:1:${block}::/64`);
    const node = nodes.get(host.name)!;
    for (let offset = 1; offset <= count; offset += 1) node.extraIpv6Addresses.push(`2001:db8:1:${block}::${offset.toString(16)}`);
  }

  for (const node of nodes.values()) if (node.interfaces.length === 0) invalid(`node ${node.name} has no link`);

  // Destinations: every link subnet (owned by both ends) and every extra block (owned by its host).
  const destinations: Array<{ prefix: string; owners: string[]; family: 4 | 6 }> = [];
  for (const link of links) {
    destinations.push({ prefix: link.ipv4Subnet, owners: [link.a, link.b], family: 4 });
    if (link.ipv6Subnet !== null) destinations.push({ prefix: link.ipv6Subnet, owners: [link.a, link.b], family: 6 });
  }
  for (const [host, prefix] of extraBlocks) destinations.push({ prefix, owners: [host], family: 4 });
  for (const [host, prefix] of extraIpv6Blocks) destinations.push({ prefix, owners: [host], family: 6 });

  const overrides = new Map<string, string>();
  for (const route of spec.routes ?? []) {
    const path = [route.from, ...route.via];
    for (const name of [...path, route.to]) if (!kinds.has(name)) invalid(`route ${route.from}→${route.to}: unknown node ${name}`);
    for (let step = 0; step + 1 < path.length; step += 1) {
      if (!adjacent(nodes.get(path[step]!)!, path[step + 1]!)) invalid(`route ${route.from}→${route.to}: ${path[step]} has no link to ${path[step + 1]}`);
      overrides.set(`${path[step]}→${route.to}`, path[step + 1]!);
    }
  }

  for (const node of nodes.values()) {
    const firstHops = computeFirstHops(node.name, nodes);
    for (const destination of destinations) {
      if (destination.owners.includes(node.name)) continue;
      const owner = destination.owners.find((candidate) => overrides.has(`${node.name}→${candidate}`));
      let nextHop = owner === undefined ? undefined : overrides.get(`${node.name}→${owner}`);
      if (nextHop === undefined) {
        const reachable = destination.owners.filter((candidate) => firstHops.has(candidate));
        if (reachable.length === 0) continue;
        const nearest = reachable.reduce((best, candidate) => (firstHops.get(candidate)!.hops < firstHops.get(best)!.hops ? candidate : best));
        nextHop = firstHops.get(nearest)!.via;
      }
      const through = node.interfaces.find((candidate) => candidate.peer === nextHop)!;
      const via = destination.family === 4 ? through.peerIpv4 : through.peerIpv6;
      if (via !== null) node.routes.push({ destination: destination.prefix, via });
    }
  }
  return { nodes: [...nodes.values()], links, ipv6 };
}

/** BFS from `source`: for every reachable node, the neighbour to send to and the hop count. Hosts do not forward. */
function computeFirstHops(source: string, nodes: Map<string, PlannedNode>): Map<string, { via: string; hops: number }> {
  const found = new Map<string, { via: string; hops: number }>();
  const queue: string[] = [];
  for (const entry of nodes.get(source)!.interfaces) {
    if (found.has(entry.peer) || entry.peer === source) continue;
    found.set(entry.peer, { via: entry.peer, hops: 1 });
    queue.push(entry.peer);
  }
  while (queue.length > 0) {
    const current = queue.shift()!;
    const node = nodes.get(current)!;
    if (node.kind !== 'router') continue;
    const { via, hops } = found.get(current)!;
    for (const entry of node.interfaces) {
      if (entry.peer === source || found.has(entry.peer)) continue;
      found.set(entry.peer, { via, hops: hops + 1 });
      queue.push(entry.peer);
    }
  }
  return found;
}

function adjacent(node: PlannedNode, other: string): boolean {
  return node.interfaces.some((entry) => entry.peer === other);
}

function addNode(kinds: Map<string, 'router' | 'host'>, name: string, kind: 'router' | 'host'): void {
  if (!NODE_NAME.test(name)) invalid(`node name "${name}": expected 1–24 letters, digits, "_" or "-", starting with a letter or digit`);
  if (kinds.has(name)) invalid(`node name "${name}" is used twice`);
  kinds.set(name, kind);
}

function invalid(message: string): never {
  throw new RelaySelectError('TOPOLOGY_INVALID', `network: ${message}`);
}
