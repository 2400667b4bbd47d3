/**
 * The simulated fleet (DESIGN §14): a tree of routers, subnets of endpoints behind their gateway
 * router, relays behind theirs. Distance between a subnet and a relay is the number of routers on the
 * tree path between them (gateway and the relay's router included), the same way the lab counts it.
 * Pure: built from options or a parsed topology description, never from the network.
 */
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT, relayKey, type Relay } from '../relays/relay.js';
import { createRandom, deriveClientId, DRAW } from './random.js';

export interface FleetRouter {
  name: string;
  /** Source address of its Time Exceeded messages. */
  address: string;
  /** Index of the parent router; -1 for the root. */
  parent: number;
}

export interface FleetSubnet {
  name: string;
  /** Index of the gateway router. */
  router: number;
  clients: number;
  /** Index of the subnet's first endpoint; its endpoints are contiguous. */
  firstEndpoint: number;
}

export interface FleetRelay {
  relay: Relay;
  /** relayKey(relay). */
  key: string;
  /** The address the simulated resolver gives for its host. */
  address: string;
  /** Index of the router the relay sits behind. */
  router: number;
  /** Registrations the relay accepts before it answers 429 (full); null = no limit. */
  capacity: number | null;
  /** Drops ICMP echo (a firewalled internet-facing relay) but accepts TCP on its port. */
  dropsIcmp: boolean;
}

export interface Fleet {
  seed: number;
  routers: FleetRouter[];
  subnets: FleetSubnet[];
  /** The relay list the endpoints start with. */
  relays: FleetRelay[];
  /** The relay the `new-relay` scenario adds (not in `relays`). */
  spareRelay: FleetRelay;
  clientIds: string[];
  /** Subnet index per endpoint. */
  endpointSubnet: Int32Array;
}

/** Router paths from every subnet to every relay (the spare one last), computed once per fleet. */
export interface FleetPaths {
  /** paths[subnet][relay]: router indices from the subnet's gateway to the relay's router. */
  paths: Int32Array[][];
  /** distances[subnet][relay] = paths[subnet][relay].length. */
  distances: Int16Array[];
}

export interface GenerateFleetOptions {
  clients: number;
  /** @default max(1, round(clients / 50)) */
  subnets?: number;
  /** Relays to generate, or the relays of a relay list to place in the generated network. */
  relays: number | Relay[];
  seed: number;
}

/** Limits that keep a mistyped count from eating the machine. */
export const FLEET_LIMITS = Object.freeze({ maxClients: 1_000_000, maxSubnets: 20_000, maxRelays: 20_000 });

const SUBNETS_PER_SITE = 4;
const SUBNETS_PER_REGION = 50;
/** Share of generated relays in the data centre (behind the core) rather than at a site. */
const DATA_CENTRE_SHARE = 0.15;

/**
 * A fleet on a generated network: a core router with a data centre behind it, regions under the core,
 * sites under the regions (some behind one or two extra WAN routers), four subnets per site behind
 * the site's access router. Relays sit in the data centre or at a random site, so a relay at the
 * endpoint's own site is 2 routers away (gateway, site router), one in the same region 4 or more, one
 * in the data centre 5 or more. Client ids, placement and weights of generated relays (50, 100 or 200)
 * derive from the seed.
 */
export function generateFleet(options: GenerateFleetOptions): Fleet {
  const random = createRandom(options.seed ^ DRAW.topology);
  const subnetCount = options.subnets ?? Math.max(1, Math.round(options.clients / 50));
  const siteCount = Math.max(1, Math.round(subnetCount / SUBNETS_PER_SITE));
  const regionCount = Math.max(1, Math.round(subnetCount / SUBNETS_PER_REGION));
  const routers: FleetRouter[] = [];
  const addRouter = (name: string, parent: number): number => {
    routers.push({ name, address: routerAddress(routers.length), parent });
    return routers.length - 1;
  };
  const core = addRouter('core', -1);
  const dataCentre = addRouter('dc', core);
  const regions = Array.from({ length: regionCount }, (_, index) => addRouter(`region-${index + 1}`, core));
  const sites: number[] = [];
  const gateways: number[] = [];
  for (let site = 0; site < siteCount; site += 1) {
    let parent = regions[site % regionCount]!;
    const wanHops = Math.floor(random() * 3);
    for (let hop = 0; hop < wanHops; hop += 1) parent = addRouter(`wan-${site + 1}-${hop + 1}`, parent);
    sites.push(addRouter(`site-${site + 1}`, parent));
    // The site's subnets (VLANs) are routed by one access router below the site router.
    gateways.push(addRouter(`gw-${site + 1}`, sites[site]!));
  }
  const subnets = spreadClients(options.clients, subnetCount).map((clients, index) => ({
    name: `subnet-${index + 1}`,
    router: gateways[index % siteCount]!,
    clients,
    firstEndpoint: 0,
  }));
  const placeRelay = (relay: Relay, index: number): FleetRelay => {
    const router = random() < DATA_CENTRE_SHARE ? dataCentre : sites[Math.floor(random() * siteCount)]!;
    return { relay, key: relayKey(relay), address: relayAddress(index), router, capacity: null, dropsIcmp: false };
  };
  const listed =
    typeof options.relays === 'number'
      ? Array.from({ length: options.relays }, (_, index) => generatedRelay(index, random))
      : options.relays;
  const relays = listed.map((relay, index) => placeRelay(relay, index));
  const spare = generatedRelay(listed.length, random, 'relay-new');
  const spareRelay: FleetRelay = {
    relay: spare,
    key: relayKey(spare),
    address: relayAddress(listed.length),
    router: sites[Math.floor(random() * siteCount)]!,
    capacity: null,
    dropsIcmp: false,
  };
  return assembleFleet(options.seed, routers, subnets, relays, spareRelay);
}

/** Numbers endpoints subnet by subnet and derives their client ids from the seed. */
export function assembleFleet(
  seed: number,
  routers: FleetRouter[],
  subnets: FleetSubnet[],
  relays: FleetRelay[],
  spareRelay: FleetRelay,
): Fleet {
  let endpoints = 0;
  const numbered = subnets.map((subnet) => {
    const first = endpoints;
    endpoints += subnet.clients;
    return { ...subnet, firstEndpoint: first };
  });
  const endpointSubnet = new Int32Array(endpoints);
  numbered.forEach((subnet, index) =>
    endpointSubnet.fill(index, subnet.firstEndpoint, subnet.firstEndpoint + subnet.clients),
  );
  const clientIds = Array.from({ length: endpoints }, (_, endpoint) => deriveClientId(seed, endpoint));
  return { seed, routers, subnets: numbered, relays, spareRelay, clientIds, endpointSubnet };
}

/** Paths and distances from every subnet to every relay of the fleet, the spare relay last. */
export function computeFleetPaths(fleet: Fleet): FleetPaths {
  const depth = fleet.routers.map(() => -1);
  const depthOf = (router: number): number => {
    if (depth[router]! >= 0) return depth[router]!;
    const parent = fleet.routers[router]!.parent;
    depth[router] = parent < 0 ? 0 : depthOf(parent) + 1;
    return depth[router];
  };
  const pathBetween = (from: number, to: number): Int32Array => {
    const up: number[] = [];
    const down: number[] = [];
    let a = from;
    let b = to;
    while (depthOf(a) > depthOf(b)) {
      up.push(a);
      a = fleet.routers[a]!.parent;
    }
    while (depthOf(b) > depthOf(a)) {
      down.push(b);
      b = fleet.routers[b]!.parent;
    }
    while (a !== b) {
      up.push(a);
      down.push(b);
      a = fleet.routers[a]!.parent;
      b = fleet.routers[b]!.parent;
    }
    up.push(a);
    return Int32Array.from([...up, ...down.reverse()]);
  };
  const all = [...fleet.relays, fleet.spareRelay];
  const paths = fleet.subnets.map((subnet) => all.map((relay) => pathBetween(subnet.router, relay.router)));
  return { paths, distances: paths.map((row) => Int16Array.from(row.map((path) => path.length))) };
}

function spreadClients(clients: number, subnets: number): number[] {
  const base = Math.floor(clients / subnets);
  const extra = clients - base * subnets;
  return Array.from({ length: subnets }, (_, index) => base + (index < extra ? 1 : 0));
}

function generatedRelay(
  index: number,
  random: () => number,
  name = `relay-${String(index + 1).padStart(3, '0')}`,
): Relay {
  const draw = random();
  const weight = draw < 0.2 ? DEFAULT_RELAY_WEIGHT / 2 : draw < 0.8 ? DEFAULT_RELAY_WEIGHT : DEFAULT_RELAY_WEIGHT * 2;
  return { host: relayAddress(index), port: DEFAULT_RELAY_PORT, groups: [], priority: 0, weight, name };
}

/** 198.18.0.0/15 is the benchmarking range: relays from 198.18.0.1 on, routers from 198.19.0.1 on. */
function relayAddress(index: number): string {
  const value = index + 1;
  return `198.18.${(value >> 8) & 0xff}.${value & 0xff}`;
}

function routerAddress(index: number): string {
  const value = index + 1;
  return `198.19.${(value >> 8) & 0xff}.${value & 0xff}`;
}

export { relayAddress as simulatedRelayAddress, routerAddress as simulatedRouterAddress };
