/**
 * Distance profiles: what a subnet's endpoints would measure to the relays of the pool their selection
 * settles in. `estimate` computes from profiles; the simulator uses them only to name the relay the
 * `relay-loss` scenario kills (the one the topology makes busiest), so both agree on it.
 */
import { addressOrderKey, pathPrefixOf } from '../probe/paths.js';
import { buildPools } from '../relays/pools.js';
import type { Relay } from '../relays/relay.js';
import type { Fleet, FleetPaths } from './fleet.js';

export interface ProfiledRelay {
  /** Index into the fleet's relays (the spare relay last); -1 for a profile not built from a fleet. */
  index: number;
  /** Routers between the subnet and the relay. */
  hops: number;
  /** The address probed. */
  address: string;
  /** Its /24 (/64) and numeric order (probe/paths.ts): path verification groups and orders relays by them. */
  prefix: string;
  orderKey: string;
  /** Answers ICMP echo; false for a relay found only by TCP (its distance stays unknown). */
  answersIcmp: boolean;
  priority: number;
  weight: number;
  /** Router indices on the way, when known: the Time Exceeded budget is per router. */
  path: Int32Array | null;
}

/** A relay's address with what path verification reads from it, worked out once per profile. */
export function addressFields(address: string): Pick<ProfiledRelay, 'address' | 'prefix' | 'orderKey'> {
  const family = address.includes(':') ? 6 : 4;
  return { address, prefix: pathPrefixOf(address, family), orderKey: addressOrderKey(address, family) ?? address };
}

/** The relays of the first pool with a reachable relay, as one group of endpoints sees them. */
export interface DistanceProfile {
  /** Endpoints that see the network this way. */
  clients: number;
  /** Subnets they are spread over, alike (what subnet cooperation measures once each). @default 1 */
  subnets?: number;
  relays: ProfiledRelay[];
}

/** The first pool of the seek list that has a relay: with every relay up, selection settles there. */
function firstPoolRelays(relays: readonly Relay[], seekList: readonly string[]): Relay[] {
  return buildPools(relays, seekList).find((pool) => pool.relays.length > 0)?.relays ?? [];
}

/** One profile per subnet of the fleet, for the relay list in `relays` (by default the fleet's own). */
export function profileFleet(
  fleet: Fleet,
  paths: FleetPaths,
  seekList: readonly string[],
  relays: readonly Relay[] = fleet.relays.map((entry) => entry.relay),
): DistanceProfile[] {
  const indexByRelay = new Map([...fleet.relays, fleet.spareRelay].map((entry, index) => [entry.relay, index]));
  const pool = firstPoolRelays(relays, seekList).map((relay) => indexByRelay.get(relay)!);
  const all = [...fleet.relays, fleet.spareRelay];
  return fleet.subnets.map((subnet, subnetIndex) => ({
    clients: subnet.clients,
    relays: pool.map((index) => {
      const entry = all[index]!;
      return {
        index,
        hops: paths.distances[subnetIndex]![index]!,
        ...addressFields(entry.address),
        answersIcmp: !entry.dropsIcmp,
        priority: entry.relay.priority,
        weight: entry.relay.weight,
        path: paths.paths[subnetIndex]![index]!,
      };
    }),
  }));
}

/**
 * The competition of a profile: the relays the ranking puts first (best priority, then smallest
 * measured distance), among which rendezvous hashing spreads endpoints by weight.
 */
function competitionOf(profile: DistanceProfile): ProfiledRelay[] {
  const measured = profile.relays.filter((relay) => relay.answersIcmp);
  const candidates = measured.length > 0 ? measured : profile.relays;
  if (candidates.length === 0) return [];
  const bestPriority = candidates.reduce((best, relay) => Math.min(best, relay.priority), Number.POSITIVE_INFINITY);
  const sameClass = candidates.filter((relay) => relay.priority === bestPriority);
  if (measured.length === 0) return sameClass;
  const nearest = sameClass.reduce((best, relay) => Math.min(best, relay.hops), Number.POSITIVE_INFINITY);
  return sameClass.filter((relay) => relay.hops === nearest);
}

/** Clients each relay can expect: each profile's clients shared within its competition by weight. */
export function expectedClientsPerRelay(profiles: readonly DistanceProfile[], relayCount: number): Float64Array {
  const expected = new Float64Array(relayCount);
  for (const profile of profiles) {
    const competition = competitionOf(profile);
    const positive = competition.filter((relay) => relay.weight > 0);
    const sharing = positive.length > 0 ? positive : competition;
    const total = sharing.reduce((sum, relay) => sum + (positive.length > 0 ? relay.weight : 1), 0);
    for (const relay of sharing)
      if (relay.index >= 0)
        expected[relay.index]! += (profile.clients * (positive.length > 0 ? relay.weight : 1)) / total;
  }
  return expected;
}

/** The relay the topology makes busiest (most expected clients; the first on a tie). */
export function busiestRelayIndex(profiles: readonly DistanceProfile[], relayCount: number): number {
  const expected = expectedClientsPerRelay(profiles, relayCount);
  let best = 0;
  for (let index = 1; index < relayCount; index += 1) if (expected[index]! > expected[best]!) best = index;
  return best;
}
