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

/**
 * A shared link, like an office LAN: a Linux bridge in a namespace of its own, which every member (router or
 * host) joins with one interface; all members share one subnet (a /24 and a /64) and reach each other in one
 * hop. Multicast is flooded to every member (the bridge's snooping is off). No delay or loss.
 */
interface NetworkSegmentSpec {
  /** Names the segment's namespace, like a node's; must not be the name of a node. */
  name: string;
  /** The routers and hosts on the segment, at least 2 and at most 253. */
  members: string[];
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
  /** Shared links (bridges) besides the point-to-point ones. @default [] (at most 16) */
  segments?: NetworkSegmentSpec[];
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

/** A node's interface on a segment. */
interface PlannedSegmentInterface {
  /** Device name inside the node's namespace. */
  device: string;
  segmentIndex: number;
  ipv4: string;
  ipv6: string | null;
}

interface PlannedSegmentPort extends PlannedSegmentInterface {
  node: string;
  /** The other end of the member's veth, a port of the bridge in the segment's namespace. */
  bridgePort: string;
}

export interface PlannedSegment {
  index: number;
  name: string;
  ipv4Subnet: string;
  ipv6Subnet: string | null;
  members: PlannedSegmentPort[];
}

interface PlannedRoute {
  destination: string;
  via: string;
}

export interface PlannedNode {
  name: string;
  kind: 'router' | 'host';
  interfaces: PlannedInterface[];
  segmentInterfaces: PlannedSegmentInterface[];
  routes: PlannedRoute[];
  extraAddresses: string[];
  extraIpv6Addresses: string[];
  dropsIcmp: boolean;
  tcpListen: number[];
}

export interface NetworkPlan {
  nodes: PlannedNode[];
  links: PlannedLink[];
  segments: PlannedSegment[];
  ipv6: boolean;
}

/** Namespaces are named `${prefix}-${node}`; the prefix has no "-", so a prefix match stays exact. */
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$/;
const MAX_LINKS = 16384;
const MAX_EXTRA_ADDRESSES = 1022;
const MAX_EXTRA_BLOCKS = 64;
const MAX_SEGMENTS = 16;
const MAX_SEGMENT_MEMBERS = 253;

/** Validates the spec and computes addresses and routes. Throws TOPOLOGY_INVALID naming the problem. */
export function planNetwork(spec: NetworkSpec): NetworkPlan {
  const kinds = new Map<string, 'router' | 'host'>();
  for (const name of spec.routers) addNode(kinds, name, 'router');
  for (const host of spec.hosts) addNode(kinds, host.name, 'host');
  const linkSpecs: NetworkLinkSpec[] = [...(spec.links ?? [])];
  for (const host of spec.hosts) {
    if (host.attach !== undefined)
      linkSpecs.push({ from: host.name, to: host.attach, delayMs: host.delayMs, lossPercent: host.lossPercent });
  }
  const segmentSpecs = spec.segments ?? [];
  if (segmentSpecs.length > MAX_SEGMENTS) invalid(`${segmentSpecs.length} segments: at most ${MAX_SEGMENTS}`);
  // Segment i takes 198.18.(255 - i).0/24, from the top of the range the /30s of the links fill from the bottom.
  const maxLinks = Math.min(MAX_LINKS, (256 - segmentSpecs.length) * 64);
  if (linkSpecs.length > maxLinks)
    invalid(
      `${linkSpecs.length} links: at most ${maxLinks}${segmentSpecs.length > 0 ? ` with ${segmentSpecs.length} segments` : ''}`,
    );
  const ipv6 = spec.ipv6 ?? false;
  const hostSpecs = new Map(spec.hosts.map((host) => [host.name, host]));
  const nodes = new Map<string, PlannedNode>();
  for (const [name, kind] of kinds) {
    const host = hostSpecs.get(name);
    nodes.set(name, {
      name,
      kind,
      interfaces: [],
      segmentInterfaces: [],
      routes: [],
      extraAddresses: [],
      extraIpv6Addresses: [],
      dropsIcmp: host?.dropsIcmp ?? false,
      tcpListen: host?.tcpListen ?? [],
    });
  }
  const links = linkSpecs.map((link, index): PlannedLink => {
    const { from: a, to: b } = link;
    if (!kinds.has(a) || !kinds.has(b)) invalid(`link ${a}–${b}: unknown node ${kinds.has(a) ? b : a}`);
    if (a === b) invalid(`link ${a}–${b}: a node cannot link to itself`);
    const delayMs = link.delayMs ?? 0;
    const lossPercent = link.lossPercent ?? 0;
    if (!(delayMs >= 0 && delayMs <= 10_000)) invalid(`link ${a}–${b}: delayMs ${delayMs} is not within 0..10000`);
    if (!(lossPercent >= 0 && lossPercent <= 100))
      invalid(`link ${a}–${b}: lossPercent ${lossPercent} is not within 0..100`);
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
    for (const [self, other] of [
      [endA, endB],
      [endB, endA],
    ] as const) {
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

  const segments = segmentSpecs.map((segment, index) => planSegment(segment, index, kinds, nodes, ipv6));

  const extraBlocks = new Map<string, string>();
  for (const host of spec.hosts) {
    const count = host.extraAddresses ?? 0;
    if (count === 0) continue;
    if (!Number.isInteger(count) || count < 0 || count > MAX_EXTRA_ADDRESSES)
      invalid(`host ${host.name}: extraAddresses ${count} is not within 0..${MAX_EXTRA_ADDRESSES}`);
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
    if (!Number.isInteger(count) || count < 0 || count > MAX_EXTRA_ADDRESSES)
      invalid(`host ${host.name}: extraIpv6Addresses ${count} is not within 0..${MAX_EXTRA_ADDRESSES}`);
    if (extraIpv6Blocks.size >= MAX_EXTRA_BLOCKS)
      invalid(`more than ${MAX_EXTRA_BLOCKS} hosts with extra IPv6 addresses`);
    // Blocks from 1, so that every address is already in its canonical (RFC 5952) spelling.
    const block = (extraIpv6Blocks.size + 1).toString(16);
    extraIpv6Blocks.set(host.name, `2001:db8:1:${block}::/64`);
    const node = nodes.get(host.name)!;
    for (let offset = 1; offset <= count; offset += 1)
      node.extraIpv6Addresses.push(`2001:db8:1:${block}::${offset.toString(16)}`);
  }

  for (const node of nodes.values())
    if (node.interfaces.length === 0 && node.segmentInterfaces.length === 0) invalid(`node ${node.name} has no link`);
  const adjacency = new Map([...nodes.keys()].map((name) => [name, neighboursOf(nodes.get(name)!, segments)]));

  // Destinations: every link subnet (owned by both ends) and every extra block (owned by its host).
  const destinations: Array<{ prefix: string; owners: string[]; family: 4 | 6 }> = [];
  for (const link of links) {
    destinations.push({ prefix: link.ipv4Subnet, owners: [link.a, link.b], family: 4 });
    if (link.ipv6Subnet !== null) destinations.push({ prefix: link.ipv6Subnet, owners: [link.a, link.b], family: 6 });
  }
  for (const segment of segments) {
    const owners = segment.members.map((member) => member.node);
    destinations.push({ prefix: segment.ipv4Subnet, owners, family: 4 });
    if (segment.ipv6Subnet !== null) destinations.push({ prefix: segment.ipv6Subnet, owners, family: 6 });
  }
  for (const [host, prefix] of extraBlocks) destinations.push({ prefix, owners: [host], family: 4 });
  for (const [host, prefix] of extraIpv6Blocks) destinations.push({ prefix, owners: [host], family: 6 });

  const overrides = new Map<string, string>();
  for (const route of spec.routes ?? []) {
    const path = [route.from, ...route.via];
    for (const name of [...path, route.to])
      if (!kinds.has(name)) invalid(`route ${route.from}→${route.to}: unknown node ${name}`);
    for (let step = 0; step + 1 < path.length; step += 1) {
      if (!adjacency.get(path[step]!)!.some((entry) => entry.peer === path[step + 1]))
        invalid(`route ${route.from}→${route.to}: ${path[step]} has no link to ${path[step + 1]}`);
      overrides.set(`${path[step]}→${route.to}`, path[step + 1]!);
    }
  }

  for (const node of nodes.values()) {
    const firstHops = computeFirstHops(node.name, nodes, adjacency);
    for (const destination of destinations) {
      if (destination.owners.includes(node.name)) continue;
      const owner = destination.owners.find((candidate) => overrides.has(`${node.name}→${candidate}`));
      let nextHop = owner === undefined ? undefined : overrides.get(`${node.name}→${owner}`);
      if (nextHop === undefined) {
        const reachable = destination.owners.filter((candidate) => firstHops.has(candidate));
        if (reachable.length === 0) continue;
        const nearest = reachable.reduce((best, candidate) =>
          firstHops.get(candidate)!.hops < firstHops.get(best)!.hops ? candidate : best,
        );
        nextHop = firstHops.get(nearest)!.via;
      }
      const through = adjacency.get(node.name)!.find((candidate) => candidate.peer === nextHop)!;
      const via = destination.family === 4 ? through.viaIpv4 : through.viaIpv6;
      if (via !== null) node.routes.push({ destination: destination.prefix, via });
    }
  }
  return { nodes: [...nodes.values()], links, segments, ipv6 };
}

function planSegment(
  spec: NetworkSegmentSpec,
  index: number,
  kinds: Map<string, 'router' | 'host'>,
  nodes: Map<string, PlannedNode>,
  ipv6: boolean,
): PlannedSegment {
  if (!NODE_NAME.test(spec.name))
    invalid(`segment name "${spec.name}": expected 1–24 letters, digits, "_" or "-", starting with a letter or digit`);
  if (kinds.has(spec.name)) invalid(`segment name "${spec.name}" is also the name of a node`);
  if (spec.members.length < 2 || spec.members.length > MAX_SEGMENT_MEMBERS)
    invalid(`segment ${spec.name}: ${spec.members.length} members, expected 2..${MAX_SEGMENT_MEMBERS}`);
  const octets = `198.18.${255 - index}`;
  // Blocks from 1, so that every address is already in its canonical (RFC 5952) spelling.
  const hex = (index + 1).toString(16);
  const members = spec.members.map((name, position): PlannedSegmentPort => {
    const node = nodes.get(name);
    if (node === undefined) invalid(`segment ${spec.name}: unknown node ${name}`);
    if (spec.members.indexOf(name) !== position) invalid(`segment ${spec.name}: ${name} is a member twice`);
    const port: PlannedSegmentPort = {
      node: name,
      device: `s${index}`,
      bridgePort: `p${position}`,
      segmentIndex: index,
      ipv4: `${octets}.${position + 1}`,
      ipv6: ipv6 ? `2001:db8:2:${hex}::${(position + 1).toString(16)}` : null,
    };
    node.segmentInterfaces.push({ device: port.device, segmentIndex: index, ipv4: port.ipv4, ipv6: port.ipv6 });
    return port;
  });
  return {
    index,
    name: spec.name,
    ipv4Subnet: `${octets}.0/24`,
    ipv6Subnet: ipv6 ? `2001:db8:2:${hex}::/64` : null,
    members,
  };
}

/** Who a node reaches in one hop, and at which address: the far end of each link, every other member of each segment. */
interface Neighbour {
  peer: string;
  viaIpv4: string;
  viaIpv6: string | null;
}

function neighboursOf(node: PlannedNode, segments: readonly PlannedSegment[]): Neighbour[] {
  const neighbours: Neighbour[] = node.interfaces.map((entry) => ({
    peer: entry.peer,
    viaIpv4: entry.peerIpv4,
    viaIpv6: entry.peerIpv6,
  }));
  for (const joined of node.segmentInterfaces) {
    for (const member of segments[joined.segmentIndex]!.members) {
      if (member.node !== node.name) neighbours.push({ peer: member.node, viaIpv4: member.ipv4, viaIpv6: member.ipv6 });
    }
  }
  return neighbours;
}

/** BFS from `source`: for every reachable node, the neighbour to send to and the hop count. Hosts do not forward. */
function computeFirstHops(
  source: string,
  nodes: Map<string, PlannedNode>,
  adjacency: Map<string, Neighbour[]>,
): Map<string, { via: string; hops: number }> {
  const found = new Map<string, { via: string; hops: number }>();
  const queue: string[] = [];
  for (const entry of adjacency.get(source)!) {
    if (found.has(entry.peer) || entry.peer === source) continue;
    found.set(entry.peer, { via: entry.peer, hops: 1 });
    queue.push(entry.peer);
  }
  while (queue.length > 0) {
    const current = queue.shift()!;
    if (nodes.get(current)!.kind !== 'router') continue;
    const { via, hops } = found.get(current)!;
    for (const entry of adjacency.get(current)!) {
      if (entry.peer === source || found.has(entry.peer)) continue;
      found.set(entry.peer, { via, hops: hops + 1 });
      queue.push(entry.peer);
    }
  }
  return found;
}

function addNode(kinds: Map<string, 'router' | 'host'>, name: string, kind: 'router' | 'host'): void {
  if (!NODE_NAME.test(name))
    invalid(`node name "${name}": expected 1–24 letters, digits, "_" or "-", starting with a letter or digit`);
  if (kinds.has(name)) invalid(`node name "${name}" is used twice`);
  kinds.set(name, kind);
}

function invalid(message: string): never {
  throw new RelaySelectError('TOPOLOGY_INVALID', `network: ${message}`);
}
