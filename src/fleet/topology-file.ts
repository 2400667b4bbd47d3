/**
 * The fleet topology description of `simulate --topology FILE` and `estimate --topology FILE`: routers
 * as a tree, subnets of endpoints behind a router, relays behind a router. Pure: text in, a fleet or
 * problems (each at a field path such as `subnets[3].router`) out.
 *
 * ```json
 * {
 *   "routers": [{ "name": "core" }, { "name": "emea", "parent": "core" }, { "name": "lyon", "parent": "emea" }],
 *   "subnets": [{ "name": "lyon-a", "router": "lyon", "clients": 120 }],
 *   "relays": [{ "host": "relay-lyon.corp.example", "router": "lyon", "capacity": 500 }],
 *   "newRelay": { "host": "relay-new.corp.example", "router": "lyon" }
 * }
 * ```
 * Relays are matched to the relay list (`--relays`) by host or host:port; without a relay list the
 * topology's relays are the list (fields `port`, `weight`, `priority`, `groups`, `name`).
 */
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT, relayKey, type Relay } from '../relays/relay.js';
import {
  assembleFleet,
  FLEET_LIMITS,
  simulatedRelayAddress,
  simulatedRouterAddress,
  type Fleet,
  type FleetRelay,
  type FleetRouter,
  type FleetSubnet,
} from './fleet.js';
import { isObject } from '../plain-object.js';

export interface TopologyFileProblem {
  path: string;
  message: string;
}

export type ParseFleetTopologyResult =
  { fleet: Fleet; problems: [] } | { fleet: undefined; problems: TopologyFileProblem[] };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Reads a topology description; `relays`, when given, are the relay list's relays the file places. */
export function parseFleetTopology(text: string, seed: number, relays?: readonly Relay[]): ParseFleetTopologyResult {
  const problems: TopologyFileProblem[] = [];
  const fail = (path: string, message: string): void => {
    problems.push({ path, message });
  };
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { fleet: undefined, problems: [{ path: '', message: `not JSON (${(error as Error).message})` }] };
  }
  if (!isObject(document))
    return {
      fleet: undefined,
      problems: [{ path: '', message: 'expected a JSON object with "routers", "subnets" and "relays"' }],
    };
  for (const key of Object.keys(document))
    if (!['$schema', 'routers', 'subnets', 'relays', 'newRelay'].includes(key))
      fail(key, 'unknown key; expected routers, subnets, relays, newRelay');

  const routers: FleetRouter[] = [];
  const routerIndex = new Map<string, number>();
  const parents: Array<{ name: string | undefined; path: string }> = [];
  arrayAt(document, 'routers', fail).forEach((entry, index) => {
    const path = `routers[${index}]`;
    if (!isObject(entry)) return fail(path, 'expected an object {"name", "parent"}');
    const name = nameAt(entry, 'name', `${path}.name`, fail);
    if (name === undefined) return;
    if (routerIndex.has(name)) return fail(`${path}.name`, `router "${name}" is defined twice`);
    routerIndex.set(name, routers.length);
    routers.push({ name, address: simulatedRouterAddress(routers.length), parent: -1 });
    const parent = entry.parent;
    parents.push({
      name: parent === undefined ? undefined : typeof parent === 'string' ? parent : JSON.stringify(parent),
      path: `${path}.parent`,
    });
  });
  parents.forEach(({ name, path }, index) => {
    if (name === undefined) return;
    const parent = routerIndex.get(name);
    if (parent === undefined) fail(path, `unknown router "${name}"`);
    else routers[index]!.parent = parent;
  });
  if (routers.filter((router) => router.parent === -1).length > 1)
    fail('routers', 'more than one router has no parent; the routers must form one tree');
  routers.forEach((_, index) => {
    const seen = new Set<number>();
    for (let at = index; at !== -1; at = routers[at]!.parent) {
      if (seen.has(at)) return fail(`routers[${index}].parent`, 'the parents form a loop');
      seen.add(at);
    }
  });
  const routerAt = (value: unknown, path: string): number | undefined => {
    const router = typeof value === 'string' ? routerIndex.get(value) : undefined;
    if (router === undefined) fail(path, `expected the name of a router of "routers", got ${JSON.stringify(value)}`);
    return router;
  };

  const subnets: FleetSubnet[] = [];
  let clients = 0;
  arrayAt(document, 'subnets', fail).forEach((entry, index) => {
    const path = `subnets[${index}]`;
    if (!isObject(entry)) return fail(path, 'expected an object {"name", "router", "clients"}');
    const name = nameAt(entry, 'name', `${path}.name`, fail);
    const router = routerAt(entry.router, `${path}.router`);
    const count = entry.clients;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0)
      return fail(`${path}.clients`, `expected a whole number of endpoints ≥ 0, got ${JSON.stringify(count)}`);
    clients += count;
    if (name !== undefined && router !== undefined) subnets.push({ name, router, clients: count, firstEndpoint: 0 });
  });
  if (subnets.length > FLEET_LIMITS.maxSubnets)
    fail('subnets', `${subnets.length} subnets; at most ${FLEET_LIMITS.maxSubnets}`);
  if (clients > FLEET_LIMITS.maxClients)
    fail('subnets', `${clients} endpoints in all; at most ${FLEET_LIMITS.maxClients}`);

  const listed = relays === undefined ? undefined : new Map(relays.map((relay) => [relay.host.toLowerCase(), relay]));
  const listedByKey =
    relays === undefined ? undefined : new Map(relays.map((relay) => [relayKey(relay).toLowerCase(), relay]));
  const placeRelay = (entry: unknown, path: string, index: number): FleetRelay | undefined => {
    if (!isObject(entry)) {
      fail(path, 'expected an object {"host", "router"}');
      return undefined;
    }
    const host = typeof entry.host === 'string' && entry.host.trim() !== '' ? entry.host.trim() : undefined;
    if (host === undefined) {
      fail(`${path}.host`, "expected the relay's host as in the relay list");
      return undefined;
    }
    const router = routerAt(entry.router, `${path}.router`);
    const capacity = entry.capacity === undefined ? null : entry.capacity;
    if (capacity !== null && (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 0))
      fail(`${path}.capacity`, `expected a whole number of registrations ≥ 0, got ${JSON.stringify(capacity)}`);
    let relay: Relay;
    if (listed !== undefined && path !== 'newRelay') {
      const found = listedByKey!.get(host.toLowerCase()) ?? listed.get(host.toLowerCase());
      if (found === undefined) {
        fail(`${path}.host`, `relay "${host}" is not in the relay list`);
        return undefined;
      }
      relay = found;
    } else {
      const port = entry.port === undefined ? DEFAULT_RELAY_PORT : entry.port;
      const weight = entry.weight === undefined ? DEFAULT_RELAY_WEIGHT : entry.weight;
      const priority = entry.priority === undefined ? 0 : entry.priority;
      for (const [key, value, low, high] of [
        ['port', port, 1, 65535],
        ['weight', weight, 0, 1e9],
        ['priority', priority, 0, 1e9],
      ] as const) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high)
          fail(`${path}.${key}`, `expected a whole number in ${low}..${high}, got ${JSON.stringify(value)}`);
      }
      const groups = entry.groups === undefined ? [] : entry.groups;
      if (!Array.isArray(groups) || groups.some((group) => typeof group !== 'string'))
        fail(`${path}.groups`, 'expected an array of affiliation group names');
      relay = {
        host,
        port: port as number,
        groups: Array.isArray(groups) ? groups.map((group) => String(group).trim().toLowerCase()) : [],
        priority: priority as number,
        weight: weight as number,
        ...(typeof entry.name === 'string' ? { name: entry.name } : {}),
      };
    }
    if (router === undefined) return undefined;
    return {
      relay,
      key: relayKey(relay),
      address: simulatedRelayAddress(index),
      router,
      capacity: capacity as number | null,
      dropsIcmp: entry.dropsIcmp === true,
    };
  };
  const placed: FleetRelay[] = [];
  arrayAt(document, 'relays', fail).forEach((entry, index) => {
    const relay = placeRelay(entry, `relays[${index}]`, index);
    if (relay === undefined) return;
    if (placed.some((other) => other.key === relay.key))
      return fail(`relays[${index}].host`, `relay ${relay.key} is placed twice`);
    placed.push(relay);
  });
  if (relays !== undefined) {
    const missing = relays.filter((relay) => !placed.some((entry) => entry.relay === relay));
    if (missing.length > 0)
      fail(
        'relays',
        `relay ${relayKey(missing[0]!)} of the relay list is not placed${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}; add it with its "router"`,
      );
  }
  if (placed.length === 0) fail('relays', 'no relay is placed');
  if (placed.length > FLEET_LIMITS.maxRelays)
    fail('relays', `${placed.length} relays; at most ${FLEET_LIMITS.maxRelays}`);
  if (subnets.length === 0 && problems.length === 0) fail('subnets', 'no subnet is defined');

  let spare: FleetRelay | undefined;
  if (document.newRelay !== undefined) spare = placeRelay(document.newRelay, 'newRelay', placed.length);
  else if (placed.length > 0) {
    // The relay `new-relay` adds, when the file names none: one more like the first, behind the same router.
    const model = placed[0]!;
    const relay: Relay = { ...model.relay, host: simulatedRelayAddress(placed.length), name: 'relay-new' };
    spare = { ...model, relay, key: relayKey(relay), address: simulatedRelayAddress(placed.length) };
  }
  if (problems.length > 0 || spare === undefined)
    return { fleet: undefined, problems: problems.length > 0 ? problems : [{ path: 'newRelay', message: 'invalid' }] };
  return { fleet: assembleFleet(seed, routers, subnets, placed, spare), problems: [] };
}

export function formatTopologyFileProblem(file: string, problem: TopologyFileProblem): string {
  return problem.path === '' ? `${file}: ${problem.message}` : `${file}: ${problem.path}: ${problem.message}`;
}

function arrayAt(
  document: Record<string, unknown>,
  key: string,
  fail: (path: string, message: string) => void,
): unknown[] {
  const value = document[key];
  if (value === undefined) {
    fail(key, `missing; expected an array`);
    return [];
  }
  if (!Array.isArray(value)) {
    fail(key, 'expected an array');
    return [];
  }
  return value;
}

function nameAt(
  entry: Record<string, unknown>,
  key: string,
  path: string,
  fail: (path: string, message: string) => void,
): string | undefined {
  const value = entry[key];
  if (typeof value !== 'string' || !NAME.test(value)) {
    fail(path, `expected a name of letters, digits, "-", "_" or "." (up to 63), got ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}
