/**
 * From what an operator says about the fleet to the fleet and its distance profiles: generated
 * (`--clients`, `--subnets`, `--relay-count` or the relay list), a topology description, one endpoint's
 * measured distances (`--from` the JSON of `probe` or `plan --probe`), or just the nearest relay's
 * distance (`--nearest-hops`). Pure: files are read by the caller; bad values are one-line errors.
 */
import { RelaySelectError } from '../errors.js';
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT, relayKey, type Relay } from '../relays/relay.js';
import { computeFleetPaths, FLEET_LIMITS, generateFleet, simulatedRelayAddress, type Fleet } from './fleet.js';
import { addressFields, profileFleet, type DistanceProfile, type ProfiledRelay } from './profile.js';
import { formatTopologyFileProblem, parseFleetTopology } from './topology-file.js';

export const FLEET_DEFAULTS = Object.freeze({ clients: 2000, seed: 1, endpointsPerSubnet: 50, endpointsPerRelay: 100 });

export interface FleetInput {
  /** @default 2000 */
  clients?: number;
  /** @default clients / 50 */
  subnets?: number;
  /** Relays to generate when there is no relay list. @default clients / 100 (at least 2) */
  relayCount?: number;
  /** The relay list's relays, when one was given. */
  relays?: Relay[];
  /** A topology description (`--topology`): its text and the file name for messages. */
  topology?: { text: string; file: string };
  /** @default 1 */
  seed?: number;
}

/** The fleet to simulate. @throws RelaySelectError USAGE for a bad count, TOPOLOGY_INVALID for a bad file. */
export function buildFleet(input: FleetInput): Fleet {
  const seed = wholeNumber(input.seed ?? FLEET_DEFAULTS.seed, '--seed', 0, 0xffff_ffff);
  if (input.topology !== undefined) {
    for (const [flag, value] of [
      ['--clients', input.clients],
      ['--subnets', input.subnets],
      ['--relay-count', input.relayCount],
    ] as const) {
      if (value !== undefined)
        throw new RelaySelectError(
          'USAGE',
          `${flag} cannot be combined with --topology: the topology file says how many there are`,
        );
    }
    const parsed = parseFleetTopology(input.topology.text, seed, input.relays);
    if (parsed.fleet === undefined) {
      const [first] = parsed.problems;
      const more =
        parsed.problems.length > 1
          ? ` (and ${parsed.problems.length - 1} more problem${parsed.problems.length > 2 ? 's' : ''})`
          : '';
      throw new RelaySelectError(
        'TOPOLOGY_INVALID',
        `${formatTopologyFileProblem(input.topology.file, first!)}${more}`,
        { file: input.topology.file, hint: 'see "Fleet topology" in relay-select(1)' },
      );
    }
    return parsed.fleet;
  }
  const clients = wholeNumber(input.clients ?? FLEET_DEFAULTS.clients, '--clients', 1, FLEET_LIMITS.maxClients);
  const subnets = wholeNumber(
    input.subnets ?? Math.max(1, Math.round(clients / FLEET_DEFAULTS.endpointsPerSubnet)),
    '--subnets',
    1,
    Math.min(clients, FLEET_LIMITS.maxSubnets),
  );
  if (input.relays !== undefined && input.relayCount !== undefined)
    throw new RelaySelectError(
      'USAGE',
      '--relay-count cannot be combined with --relays: the relay list says which relays there are',
    );
  const relays =
    input.relays ??
    wholeNumber(
      input.relayCount ?? Math.max(2, Math.round(clients / FLEET_DEFAULTS.endpointsPerRelay)),
      '--relay-count',
      1,
      FLEET_LIMITS.maxRelays,
    );
  if (Array.isArray(relays) && relays.length > FLEET_LIMITS.maxRelays)
    throw new RelaySelectError(
      'USAGE',
      `the relay list has ${relays.length} relays; the simulator takes at most ${FLEET_LIMITS.maxRelays}`,
    );
  return generateFleet({ clients, subnets, relays, seed });
}

/** A profile measured at one endpoint stands for the fleet's subnets, of the size a generated fleet has. */
function subnetsOfDefaultSize(clients: number): number {
  return Math.max(1, Math.round(clients / FLEET_DEFAULTS.endpointsPerSubnet));
}

/** The fleet's profiles, as listed and once the `new-relay` scenario's relay is listed too. */
export function profilesOfFleet(
  fleet: Fleet,
  seekList: readonly string[],
): { profiles: DistanceProfile[]; withNewRelay: DistanceProfile[] } {
  const paths = computeFleetPaths(fleet);
  const listed = fleet.relays.map((entry) => entry.relay);
  return {
    profiles: profileFleet(fleet, paths, seekList),
    withNewRelay: profileFleet(fleet, paths, seekList, [...listed, fleet.spareRelay.relay]),
  };
}

/**
 * One profile from the JSON of `relay-select probe --json` (`results`) or `plan --probe --json`
 * (`ranking.pools`, the first pool with a reachable relay). Relays without a measured distance count as
 * not answering ICMP, a little farther than the farthest measured one. Priority and weight come from
 * the relay list when given, else 0 and 100.
 */
export function profileFromProbeJson(
  text: string,
  file: string,
  clients: number,
  relays?: readonly Relay[],
): DistanceProfile {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new RelaySelectError(
      'INPUT_INVALID',
      `${file}: not JSON (${(error as Error).message}); expected the output of "relay-select probe --json" or "plan --probe --json"`,
    );
  }
  const entries = measuredEntries(document);
  if (entries === null || entries.length === 0) {
    throw new RelaySelectError(
      'INPUT_INVALID',
      `${file}: no measured relays; expected the output of "relay-select probe --json" (results) or "plan --probe --json" (ranking)`,
    );
  }
  const byHost = new Map((relays ?? []).map((relay) => [relayKey(relay), relay]));
  const byName = new Map((relays ?? []).map((relay) => [relay.host, relay]));
  const known = entries.filter((entry) => entry.distance !== null).map((entry) => entry.distance!);
  const beyond = known.reduce((farthest, distance) => Math.max(farthest, distance), 0) + 2;
  const endpoints = wholeNumber(clients, '--clients', 1, FLEET_LIMITS.maxClients);
  return {
    clients: endpoints,
    subnets: subnetsOfDefaultSize(endpoints),
    relays: entries.map((entry): ProfiledRelay => {
      const relay = byHost.get(relayKey({ host: entry.host, port: entry.port })) ?? byName.get(entry.host);
      return {
        index: -1,
        hops: entry.distance ?? beyond,
        ...addressFields(entry.address),
        answersIcmp: entry.distance !== null,
        priority: entry.priority ?? relay?.priority ?? 0,
        weight: entry.weight ?? relay?.weight ?? DEFAULT_RELAY_WEIGHT,
        path: null,
      };
    }),
  };
}

interface MeasuredEntry {
  host: string;
  /** The address probed (the host when the JSON does not say). */
  address: string;
  port: number;
  distance: number | null;
  priority?: number;
  weight?: number;
}

function measuredEntries(document: unknown): MeasuredEntry[] | null {
  if (typeof document !== 'object' || document === null) return null;
  const record = document as Record<string, unknown>;
  const read = (value: unknown): MeasuredEntry | null => {
    if (typeof value !== 'object' || value === null) return null;
    const entry = value as Record<string, unknown>;
    if (typeof entry.host !== 'string') return null;
    const distance =
      typeof entry.distance === 'number' && Number.isInteger(entry.distance) && entry.distance >= 0
        ? entry.distance
        : null;
    return {
      host: entry.host,
      address: typeof entry.address === 'string' ? entry.address : entry.host,
      port: typeof entry.port === 'number' ? entry.port : DEFAULT_RELAY_PORT,
      distance,
      ...(typeof entry.priority === 'number' ? { priority: entry.priority } : {}),
      ...(typeof entry.weight === 'number' ? { weight: entry.weight } : {}),
    };
  };
  if (Array.isArray(record.results))
    return record.results.map(read).filter((entry): entry is MeasuredEntry => entry !== null);
  const ranking = record.ranking as { pools?: Array<{ reachable?: number; ranked?: unknown[] }> } | undefined;
  const pool = ranking?.pools?.find((entry) => (entry.reachable ?? 0) > 0);
  if (pool?.ranked !== undefined)
    return pool.ranked.map(read).filter((entry): entry is MeasuredEntry => entry !== null);
  return null;
}

/**
 * One profile from the nearest relay's distance alone: the first relay of the list at `nearestHops`,
 * every other one farther than the verification margin, so only the nearest is verified. The cheapest
 * case for the probes; a real pool with several relays at the best distance costs a few packets more.
 */
export function profileFromNearestHops(
  nearestHops: number,
  clients: number,
  relays: readonly Pick<Relay, 'priority' | 'weight'>[],
  verifyMargin: number,
): DistanceProfile {
  const hops = wholeNumber(nearestHops, '--nearest-hops', 0, 253);
  const endpoints = wholeNumber(clients, '--clients', 1, FLEET_LIMITS.maxClients);
  return {
    clients: endpoints,
    subnets: subnetsOfDefaultSize(endpoints),
    relays: relays.map((relay, index) => ({
      index: -1,
      hops: index === 0 ? hops : Math.min(254, hops + verifyMargin + 1),
      ...addressFields(simulatedRelayAddress(index)),
      answersIcmp: true,
      priority: relay.priority,
      weight: relay.weight,
      path: null,
    })),
  };
}

/** A profile with one more relay as near as its nearest (what `new-relay` adds when no fleet says where). */
export function withNearbyRelay(profile: DistanceProfile): DistanceProfile {
  const nearest =
    profile.relays.reduce(
      (best, relay) => (relay.answersIcmp && (best === undefined || relay.hops < best.hops) ? relay : best),
      undefined as ProfiledRelay | undefined,
    ) ?? profile.relays[0];
  return nearest === undefined ? profile : { ...profile, relays: [...profile.relays, { ...nearest, index: -1 }] };
}

/** Relays for `--relay-count N` without a fleet: all alike (priority 0, weight 100). */
export function uniformRelays(count: number): Array<Pick<Relay, 'priority' | 'weight'>> {
  const relays = wholeNumber(count, '--relay-count', 1, FLEET_LIMITS.maxRelays);
  return Array.from({ length: relays }, () => ({ priority: 0, weight: DEFAULT_RELAY_WEIGHT }));
}

export function wholeNumber(value: number, flag: string, low: number, high: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
    throw new RelaySelectError(
      'USAGE',
      `${flag} ${String(value)}: expected a whole number from ${low.toLocaleString('en-US')} to ${high.toLocaleString('en-US')}`,
    );
  }
  return value;
}

export function positiveNumber(value: number, flag: string, high: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > high) {
    throw new RelaySelectError(
      'USAGE',
      `${flag} ${String(value)}: expected a number above 0 and at most ${high.toLocaleString('en-US')}`,
    );
  }
  return value;
}
