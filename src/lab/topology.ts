/**
 * Lab topology files (relay-samples/labs/*.json, man page relay-select-lab(5)): a small network of
 * routers, one endpoint and some relays, described by names only. Parsing is pure and happens before
 * any namespace exists, so a wrong file never leaves half a lab behind.
 */
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT } from '../relays/relay.js';
import type { LinkShaping, NetworkLinkSpec, NetworkSpec } from './netns/network-plan.js';
import { isObject } from '../plain-object.js';

/** How a relay's stub answers `POST /relay-select/v1/register`. */
export type RegistrationBehaviour = 'ok' | '503' | '500' | 'down' | 'client-cert-required' | 'full';
const REGISTRATION_BEHAVIOURS: readonly RegistrationBehaviour[] = [
  'ok',
  '503',
  '500',
  'down',
  'client-cert-required',
  'full',
];

/** Largest one-way delay a link may add; more is a typo, not a network. */
const MAX_LINK_DELAY_MS = 10_000;
/** Longest node name: namespace and interface names are built from it. */
const MAX_NODE_NAME_LENGTH = 12;
const NODE_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * A topology speaks the testbed's language (netns/network-plan.ts): the same node names, links with
 * `from`/`to`, the same link shaping; the endpoint and the relays are its hosts. Parsing fills every
 * default in, so here the shaping is always present.
 */
type LinkProperties = Required<LinkShaping>;

export type TopologyLink = Required<NetworkLinkSpec>;

interface TopologyEndpoint extends LinkProperties {
  /** @default 'endpoint' */
  name: string;
  /** The router the endpoint's access link goes to. */
  attach: string;
}

export interface TopologyRelay extends LinkProperties {
  name: string;
  attach: string;
  /** Affiliation groups written to the relay list. @default [] (unaffiliated) */
  groups: string[];
  /** @default 0 */
  priority: number;
  /** @default 100 */
  weight: number;
  /** The relay's namespace drops ICMP echo requests (a firewalled internet-facing relay). @default false */
  dropsIcmp: boolean;
  /** @default 'ok' */
  registration: RegistrationBehaviour;
  /** @default 52311 */
  port: number;
  /** Distinct clients the relay accepts; the next one is answered 429 (full). @default null (no limit) */
  capacity: number | null;
  /** `Retry-After` seconds of a 429 answer. @default null (none sent) */
  retryAfterSeconds: number | null;
}

export interface Topology {
  name: string;
  description: string;
  routers: string[];
  endpoint: TopologyEndpoint;
  relays: TopologyRelay[];
  links: TopologyLink[];
  /**
   * A settings object as in .relay-selectrc.json. `failoverRelays`, `manualRelays` and `rootServer`
   * name relays of the topology; the lab replaces the names with the relays' addresses.
   */
  settings: Record<string, unknown>;
  /** The relay a correct run chooses, or null when a correct run chooses none. */
  expect: string | null;
}

/** The network a topology describes, as the testbed builds it: the endpoint and the relays are hosts. */
export function networkOf(topology: Topology): NetworkSpec {
  return { routers: topology.routers, hosts: [topology.endpoint, ...topology.relays], links: topology.links };
}

/** One thing wrong with a topology file, at a field path such as `links[3].to`. */
export interface TopologyProblem {
  path: string;
  message: string;
}

interface TopologyParseResult {
  topology: Topology | undefined;
  problems: TopologyProblem[];
}

/** `file: path: message`, the one line the CLI prints. */
export function formatTopologyProblem(file: string, problem: TopologyProblem): string {
  return problem.path === '' ? `${file}: ${problem.message}` : `${file}: ${problem.path}: ${problem.message}`;
}

const TOP_KEYS = ['$schema', 'name', 'description', 'routers', 'endpoint', 'relays', 'links', 'settings', 'expect'];
const LINK_KEYS = ['delayMs', 'lossPercent'];
const ENDPOINT_KEYS = ['name', 'attach', ...LINK_KEYS];
const RELAY_KEYS = [
  'name',
  'attach',
  'groups',
  'priority',
  'weight',
  'dropsIcmp',
  'registration',
  'port',
  'capacity',
  'retryAfterSeconds',
  ...LINK_KEYS,
];
const EDGE_KEYS = ['from', 'to', ...LINK_KEYS];
/** Settings the lab itself decides: it writes the relay list and uses a fresh state directory. */
const SETTINGS_SET_BY_LAB = ['relayList', 'stateDir'];
const SETTINGS_NAMING_RELAYS = ['failoverRelays', 'manualRelays'];

type Json = Record<string, unknown>;

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** Collects problems while reading one object. */
class Reader {
  readonly problems: TopologyProblem[] = [];

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  unknownKeys(object: Json, allowed: readonly string[], path: string): void {
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key))
        this.problem(
          join(path, key),
          `unknown key (expected one of: ${allowed.filter((name) => name !== '$schema').join(', ')})`,
        );
    }
  }

  nodeName(value: unknown, path: string): string | undefined {
    if (typeof value !== 'string') {
      this.problem(path, `expected a name, got ${describeValue(value)}`);
      return undefined;
    }
    if (!NODE_NAME.test(value) || value.length > MAX_NODE_NAME_LENGTH) {
      this.problem(
        path,
        `bad name ${JSON.stringify(value)} (lower-case letters, digits and "-", starting with a letter, at most ${MAX_NODE_NAME_LENGTH} characters)`,
      );
      return undefined;
    }
    return value;
  }

  number(
    object: Json,
    key: string,
    path: string,
    range: { min: number; max: number; integer?: boolean },
    fallback: number,
  ): number {
    const value = object[key];
    if (value === undefined) return fallback;
    const where = join(path, key);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problem(where, `expected a number from ${range.min} to ${range.max}, got ${describeValue(value)}`);
      return fallback;
    }
    if (range.integer === true && !Number.isInteger(value)) {
      this.problem(where, `expected a whole number, got ${value}`);
      return fallback;
    }
    if (value < range.min || value > range.max) {
      this.problem(where, `${value} is out of range (${range.min} to ${range.max})`);
      return fallback;
    }
    return value;
  }

  linkProperties(object: Json, path: string): LinkProperties {
    return {
      delayMs: this.number(object, 'delayMs', path, { min: 0, max: MAX_LINK_DELAY_MS }, 0),
      lossPercent: this.number(object, 'lossPercent', path, { min: 0, max: 100 }, 0),
    };
  }
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Parses topology JSON text. Pure: the caller reads the file. */
export function parseTopologyText(text: string, fallbackName: string): TopologyParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { topology: undefined, problems: [{ path: '', message: `not valid JSON: ${(error as Error).message}` }] };
  }
  return parseTopology(value, fallbackName);
}

/** Validates a parsed topology object: shapes, names, references, then reachability from the endpoint. */
export function parseTopology(value: unknown, fallbackName: string): TopologyParseResult {
  const reader = new Reader();
  if (!isObject(value)) {
    reader.problem('', `expected a JSON object with routers, endpoint, relays and links, got ${describeValue(value)}`);
    return { topology: undefined, problems: reader.problems };
  }
  reader.unknownKeys(value, TOP_KEYS, '');

  const name = typeof value.name === 'string' && value.name.trim() !== '' ? value.name.trim() : fallbackName;
  if (value.name !== undefined && typeof value.name !== 'string')
    reader.problem('name', `expected a string, got ${describeValue(value.name)}`);
  const description = typeof value.description === 'string' ? value.description : '';
  if (value.description !== undefined && typeof value.description !== 'string')
    reader.problem('description', `expected a string, got ${describeValue(value.description)}`);

  const seen = new Map<string, string>();
  const claim = (nodeName: string | undefined, path: string): void => {
    if (nodeName === undefined) return;
    const first = seen.get(nodeName);
    if (first !== undefined)
      reader.problem(
        path,
        `duplicate name "${nodeName}" (first used at ${first}); routers, relays and the endpoint share one namespace of names`,
      );
    else seen.set(nodeName, path);
  };

  const routers: string[] = [];
  if (!Array.isArray(value.routers) || value.routers.length === 0) {
    reader.problem('routers', `expected a non-empty array of router names, got ${describeValue(value.routers)}`);
  } else {
    value.routers.forEach((entry, index) => {
      const routerName = reader.nodeName(entry, `routers[${index}]`);
      claim(routerName, `routers[${index}]`);
      if (routerName !== undefined && !routers.includes(routerName)) routers.push(routerName);
    });
  }
  const routerSet = new Set(routers);
  const checkRouter = (target: unknown, path: string): string | undefined => {
    if (typeof target !== 'string') {
      reader.problem(path, `expected a router name, got ${describeValue(target)}`);
      return undefined;
    }
    if (!routerSet.has(target)) {
      reader.problem(
        path,
        `unknown router "${target}"${routers.length > 0 ? ` (routers: ${routers.join(', ')})` : ''}`,
      );
      return undefined;
    }
    return target;
  };

  let endpoint: TopologyEndpoint | undefined;
  if (!isObject(value.endpoint)) {
    reader.problem('endpoint', `expected an object such as {"attach": "ROUTER"}, got ${describeValue(value.endpoint)}`);
  } else {
    reader.unknownKeys(value.endpoint, ENDPOINT_KEYS, 'endpoint');
    const endpointName =
      value.endpoint.name === undefined ? 'endpoint' : reader.nodeName(value.endpoint.name, 'endpoint.name');
    claim(endpointName, 'endpoint.name');
    const attach = checkRouter(value.endpoint.attach, 'endpoint.attach');
    const properties = reader.linkProperties(value.endpoint, 'endpoint');
    if (endpointName !== undefined && attach !== undefined) endpoint = { name: endpointName, attach, ...properties };
  }

  const relays: TopologyRelay[] = [];
  if (!Array.isArray(value.relays) || value.relays.length === 0) {
    reader.problem('relays', `expected a non-empty array of relays, got ${describeValue(value.relays)}`);
  } else {
    value.relays.forEach((entry, index) => {
      const relay = readRelay(reader, entry, `relays[${index}]`, checkRouter);
      claim(relay?.name, `relays[${index}].name`);
      if (relay !== undefined) relays.push(relay);
    });
  }

  const links: TopologyLink[] = [];
  if (value.links !== undefined && !Array.isArray(value.links)) {
    reader.problem('links', `expected an array of links, got ${describeValue(value.links)}`);
  } else {
    const pairs = new Map<string, number>();
    (value.links ?? []).forEach((entry: unknown, index: number) => {
      const path = `links[${index}]`;
      if (!isObject(entry)) {
        reader.problem(path, `expected an object such as {"from": "r1", "to": "r2"}, got ${describeValue(entry)}`);
        return;
      }
      reader.unknownKeys(entry, EDGE_KEYS, path);
      const from = checkRouter(entry.from, `${path}.from`);
      const to = checkRouter(entry.to, `${path}.to`);
      const properties = reader.linkProperties(entry, path);
      if (from === undefined || to === undefined) return;
      if (from === to) {
        reader.problem(`${path}.to`, `a link from "${from}" to itself`);
        return;
      }
      const pair = [from, to].sort().join('\u0000');
      const first = pairs.get(pair);
      if (first !== undefined) {
        reader.problem(path, `duplicate link between "${from}" and "${to}" (first at links[${first}])`);
        return;
      }
      pairs.set(pair, index);
      links.push({ from, to, ...properties });
    });
  }

  const settings = readSettings(reader, value.settings, new Set(relays.map((relay) => relay.name)));

  let expect: string | null = null;
  if (value.expect !== undefined && value.expect !== null) {
    if (typeof value.expect !== 'string')
      reader.problem('expect', `expected a relay name or null, got ${describeValue(value.expect)}`);
    else if (!relays.some((relay) => relay.name === value.expect))
      reader.problem(
        'expect',
        `unknown relay "${value.expect}" (relays: ${relays.map((relay) => relay.name).join(', ')})`,
      );
    else expect = value.expect;
  }

  if (reader.problems.length > 0 || endpoint === undefined) return { topology: undefined, problems: reader.problems };
  const topology: Topology = { name, description, routers, endpoint, relays, links, settings, expect };
  checkReachability(reader, topology);
  return reader.problems.length > 0 ? { topology: undefined, problems: reader.problems } : { topology, problems: [] };
}

function readRelay(
  reader: Reader,
  entry: unknown,
  path: string,
  checkRouter: (target: unknown, path: string) => string | undefined,
): TopologyRelay | undefined {
  if (!isObject(entry)) {
    reader.problem(path, `expected an object such as {"name": "relay-1", "attach": "r1"}, got ${describeValue(entry)}`);
    return undefined;
  }
  reader.unknownKeys(entry, RELAY_KEYS, path);
  const relayName = reader.nodeName(entry.name, `${path}.name`);
  const attach = checkRouter(entry.attach, `${path}.attach`);
  const groups: string[] = [];
  if (entry.groups !== undefined) {
    if (!Array.isArray(entry.groups))
      reader.problem(`${path}.groups`, `expected an array of group names, got ${describeValue(entry.groups)}`);
    else {
      entry.groups.forEach((group: unknown, index: number) => {
        if (typeof group !== 'string' || !/^(\*|[A-Za-z0-9_-]{1,64})$/.test(group))
          reader.problem(
            `${path}.groups[${index}]`,
            `bad group ${describeValue(group)} (letters, digits, "_" and "-", at most 64, or "*")`,
          );
        else groups.push(group);
      });
    }
  }
  const registration = entry.registration ?? 'ok';
  if (!REGISTRATION_BEHAVIOURS.includes(registration as RegistrationBehaviour)) {
    reader.problem(
      `${path}.registration`,
      `expected one of ${REGISTRATION_BEHAVIOURS.join(', ')}, got ${describeValue(registration)}`,
    );
  }
  if (entry.dropsIcmp !== undefined && typeof entry.dropsIcmp !== 'boolean')
    reader.problem(`${path}.dropsIcmp`, `expected true or false, got ${describeValue(entry.dropsIcmp)}`);
  const relay: TopologyRelay = {
    name: relayName ?? '',
    attach: attach ?? '',
    groups,
    priority: reader.number(entry, 'priority', path, { min: 0, max: 1_000_000_000, integer: true }, 0),
    weight: reader.number(entry, 'weight', path, { min: 0, max: 1_000_000_000, integer: true }, DEFAULT_RELAY_WEIGHT),
    dropsIcmp: entry.dropsIcmp === true,
    registration: registration as RegistrationBehaviour,
    port: reader.number(entry, 'port', path, { min: 1, max: 65_535, integer: true }, DEFAULT_RELAY_PORT),
    capacity:
      entry.capacity === undefined
        ? null
        : reader.number(entry, 'capacity', path, { min: 0, max: 1_000_000, integer: true }, 0),
    retryAfterSeconds:
      entry.retryAfterSeconds === undefined
        ? null
        : reader.number(entry, 'retryAfterSeconds', path, { min: 0, max: 86_400, integer: true }, 0),
    ...reader.linkProperties(entry, path),
  };
  return relayName === undefined || attach === undefined ? undefined : relay;
}

function readSettings(reader: Reader, value: unknown, relayNames: Set<string>): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isObject(value)) {
    reader.problem('settings', `expected a settings object as in .relay-selectrc.json, got ${describeValue(value)}`);
    return {};
  }
  for (const key of SETTINGS_SET_BY_LAB) {
    if (key in value)
      reader.problem(
        `settings.${key}`,
        'set by the lab itself (it writes the relay list and uses a fresh state directory); remove it',
      );
  }
  for (const key of SETTINGS_NAMING_RELAYS) {
    const list = value[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      reader.problem(`settings.${key}`, `expected an array of relay names, got ${describeValue(list)}`);
      continue;
    }
    list.forEach((entry: unknown, index: number) => {
      if (typeof entry !== 'string' || !relayNames.has(entry))
        reader.problem(
          `settings.${key}[${index}]`,
          `unknown relay ${describeValue(entry)} (name a relay of this topology)`,
        );
    });
  }
  if (value.rootServer !== undefined && (typeof value.rootServer !== 'string' || !relayNames.has(value.rootServer))) {
    reader.problem(
      'settings.rootServer',
      `unknown relay ${describeValue(value.rootServer)} (name a relay of this topology)`,
    );
  }
  return value;
}

/** Routers adjacent to each router. */
export function adjacencyOf(topology: Pick<Topology, 'routers' | 'links'>): Map<string, string[]> {
  const adjacency = new Map<string, string[]>(topology.routers.map((router) => [router, []]));
  for (const link of topology.links) {
    adjacency.get(link.from)?.push(link.to);
    adjacency.get(link.to)?.push(link.from);
  }
  return adjacency;
}

/** Hop count from the endpoint's router to every router it reaches (breadth first, fewest routers). */
function routerHopsFromEndpoint(
  topology: Pick<Topology, 'routers' | 'links' | 'endpoint'>,
  adjacency = adjacencyOf(topology),
): Map<string, number> {
  const hops = new Map<string, number>([[topology.endpoint.attach, 0]]);
  const queue = [topology.endpoint.attach];
  while (queue.length > 0) {
    const router = queue.shift()!;
    for (const next of adjacency.get(router) ?? []) {
      if (hops.has(next)) continue;
      hops.set(next, hops.get(router)! + 1);
      queue.push(next);
    }
  }
  return hops;
}

/**
 * The distance relay-select should measure to each relay: the routers on the shortest path
 * (DESIGN §2), so a relay on the endpoint's own router is 1 away.
 */
export function expectedDistances(topology: Topology): Map<string, number> {
  const hops = routerHopsFromEndpoint(topology);
  const distances = new Map<string, number>();
  for (const relay of topology.relays) {
    const routerHops = hops.get(relay.attach);
    if (routerHops !== undefined) distances.set(relay.name, routerHops + 1);
  }
  return distances;
}

function checkReachability(reader: Reader, topology: Topology): void {
  const adjacency = adjacencyOf(topology);
  const hops = routerHopsFromEndpoint(topology, adjacency);
  const reported = new Set<string>();
  topology.routers.forEach((router, index) => {
    if (hops.has(router) || reported.has(router)) return;
    const island = collectIsland(router, adjacency);
    for (const member of island) reported.add(member);
    const cycle = island.length >= 3 && island.every((member) => (adjacency.get(member)?.length ?? 0) >= 2);
    const shape =
      island.length === 1
        ? 'it has no link'
        : cycle
          ? `its links form a cycle ${[...island, island[0]].join(' - ')} with no route to the endpoint`
          : `it is linked only to ${island.filter((member) => member !== router).join(', ')}`;
    reader.problem(
      `routers[${index}]`,
      `router "${router}" is not reachable from the endpoint (attached to "${topology.endpoint.attach}"): ${shape}`,
    );
  });
  topology.relays.forEach((relay, index) => {
    if (!hops.has(relay.attach))
      reader.problem(
        `relays[${index}].attach`,
        `relay "${relay.name}" hangs off router "${relay.attach}", which the endpoint cannot reach`,
      );
  });
}

function collectIsland(start: string, adjacency: Map<string, string[]>): string[] {
  const island = [start];
  const seen = new Set(island);
  for (let index = 0; index < island.length; index += 1) {
    for (const next of adjacency.get(island[index]!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        island.push(next);
      }
    }
  }
  return island;
}

/** The same topology with every delay and loss removed (a kept lab where the delay cannot outlive us). */
export function withoutLinkShaping(topology: Topology): Topology {
  const flat = { delayMs: 0, lossPercent: 0 };
  return {
    ...topology,
    endpoint: { ...topology.endpoint, ...flat },
    relays: topology.relays.map((relay) => ({ ...relay, ...flat })),
    links: topology.links.map((link) => ({ ...link, ...flat })),
  };
}
