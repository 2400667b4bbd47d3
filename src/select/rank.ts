import type { TieBreak } from '../config/settings.js';
import type { ProbeResult, TieCandidate } from '../probe/types.js';
import { relayKey, type Pool, type Relay } from '../relays/relay.js';
import { orderByRendezvous } from './rendezvous.js';
import type { RankedRelay } from './types.js';

export interface RankPoolOptions {
  /** The endpoint's stable id: the rendezvous hash input for `tieBreak: 'hash'`. */
  clientId: string;
  /** How the competition (equal priority and distance) is ordered. @default 'hash' in Settings */
  tieBreak: TieBreak;
  /** Uniform [0, 1) source for `tieBreak: 'random'`. @default Math.random */
  random?: () => number;
}

interface Entry {
  relay: Relay;
  result: ProbeResult;
  key: string;
  weight: number;
}

/**
 * The reachable relays of a pool, best first: priority ascending, then measured distance ascending,
 * relays of unknown distance (TCP fallback) after every relay with a measured distance; within a
 * competition (same priority and distance) by the tie-break. Relays without a result or with
 * method `unreachable` are left out. Weight 0 sorts after every positive weight of its competition.
 */
export function rankPool(
  pool: Pool,
  results: ReadonlyMap<string, ProbeResult>,
  options: RankPoolOptions,
): RankedRelay[] {
  const competitions = new Map<string, Entry[]>();
  const seen = new Set<string>();
  for (const relay of pool.relays) {
    const key = relayKey(relay);
    const result = results.get(key);
    if (result === undefined || result.method === 'unreachable' || seen.has(key)) continue;
    seen.add(key);
    const groupKey = `${result.distance === null ? 1 : 0}/${relay.priority}/${result.distance ?? ''}`;
    const entries = competitions.get(groupKey) ?? [];
    entries.push({ relay, result, key, weight: relay.weight });
    competitions.set(groupKey, entries);
  }
  const groups = [...competitions.values()].sort((left, right) => compareGroups(left[0]!, right[0]!));
  const ranked: RankedRelay[] = [];
  for (const group of groups) {
    const ordered = orderCompetition(group, options);
    const allZero = group.every((entry) => entry.weight <= 0);
    ordered.forEach((entry, index) => {
      ranked.push({
        relay: entry.relay,
        result: entry.result,
        reason: describeRank(entry, index, ordered.length, options.tieBreak, allZero),
        competitionSize: ordered.length,
        competitionRank: index + 1,
      });
    });
  }
  return ranked;
}

/**
 * The competition's tie-break ahead of the ranking, for the probe (ProbeOptions.preferAmong): of relays
 * equally near and of one priority, the key of the one rankPool would put first. Undefined for
 * `tieBreak: 'random'`, whose draw the probe cannot know in advance.
 */
export function createTiePreference(
  relays: readonly Relay[],
  options: RankPoolOptions,
): ((candidates: ReadonlyArray<TieCandidate>) => string | undefined) | undefined {
  if (options.tieBreak === 'random') return undefined;
  const byKey = new Map(relays.map((relay) => [relayKey(relay), relay]));
  return (candidates) => {
    const entries: Entry[] = [];
    for (const candidate of candidates) {
      const relay = byKey.get(candidate.key);
      if (relay === undefined) continue;
      const result: ProbeResult = {
        key: candidate.key,
        host: relay.host,
        address: null,
        distance: 0,
        rttMs: candidate.rttMs,
        method: 'echo-ttl',
      };
      entries.push({ relay, result, key: candidate.key, weight: relay.weight });
    }
    return entries.length === 0 ? undefined : orderCompetition(entries, options)[0]!.key;
  };
}

function compareGroups(left: Entry, right: Entry): number {
  const leftUnknown = left.result.distance === null;
  const rightUnknown = right.result.distance === null;
  if (leftUnknown !== rightUnknown) return leftUnknown ? 1 : -1;
  if (left.relay.priority !== right.relay.priority) return left.relay.priority - right.relay.priority;
  return (left.result.distance ?? 0) - (right.result.distance ?? 0);
}

function orderCompetition(group: Entry[], options: RankPoolOptions): Entry[] {
  if (group.length === 1) return group;
  if (options.tieBreak === 'hash') return orderByRendezvous(options.clientId, group);
  const positive = group.filter((entry) => entry.weight > 0);
  const zero = group.filter((entry) => entry.weight <= 0);
  if (options.tieBreak === 'random') {
    const random = options.random ?? Math.random;
    return [...drawWeighted(positive, (entry) => entry.weight, random), ...drawWeighted(zero, () => 1, random)];
  }
  return [...orderByRtt(positive, options.clientId), ...orderByRtt(zero, options.clientId)];
}

/** Weighted random order without replacement: each draw picks with probability weight / remaining total. */
function drawWeighted(entries: Entry[], weightOf: (entry: Entry) => number, random: () => number): Entry[] {
  const remaining = [...entries];
  const order: Entry[] = [];
  let total = remaining.reduce((sum, entry) => sum + weightOf(entry), 0);
  while (remaining.length > 0) {
    let target = random() * total;
    let index = 0;
    // The last entry absorbs rounding so a draw always lands.
    for (; index < remaining.length - 1; index++) {
      target -= weightOf(remaining[index]!);
      if (target < 0) break;
    }
    const [chosen] = remaining.splice(index, 1);
    order.push(chosen!);
    total -= weightOf(chosen!);
  }
  return order;
}

/** Lowest RTT first; unknown RTT last; equal RTTs keep their rendezvous order so the result is stable. */
function orderByRtt(entries: Entry[], clientId: string): Entry[] {
  const stable = orderByRendezvous(
    clientId,
    entries.map((entry) => ({ ...entry, weight: 1 })),
  );
  const position = new Map(stable.map((entry, index) => [entry.key, index]));
  return [...entries].sort((left, right) => {
    const leftRtt = left.result.rttMs ?? Number.POSITIVE_INFINITY;
    const rightRtt = right.result.rttMs ?? Number.POSITIVE_INFINITY;
    if (leftRtt !== rightRtt) return leftRtt - rightRtt;
    return position.get(left.key)! - position.get(right.key)!;
  });
}

/** "2 hops", "1 hop", "0 hops (same subnet)", or why the distance is unknown. */
export function describeDistance(result: Pick<ProbeResult, 'distance' | 'method'>): string {
  if (result.distance === null) {
    return result.method === 'tcp' ? 'distance unknown (TCP fallback)' : 'distance unknown';
  }
  if (result.distance === 0) return '0 hops (same subnet)';
  return result.distance === 1 ? '1 hop' : `${result.distance} hops`;
}

function describeRank(entry: Entry, index: number, size: number, tieBreak: TieBreak, allZero: boolean): string {
  const head = `priority ${entry.relay.priority}, ${describeDistance(entry.result)}`;
  if (size === 1) return `${head}, no competition`;
  let tail: string;
  if (tieBreak === 'hash') {
    tail = index === 0 ? `won weighted rendezvous among ${size}` : `weighted rendezvous place ${index + 1} of ${size}`;
  } else if (tieBreak === 'random') {
    tail =
      index === 0 ? `won weighted random draw among ${size}` : `weighted random draw place ${index + 1} of ${size}`;
  } else {
    const rtt = entry.result.rttMs === null ? 'RTT unknown' : `RTT ${formatMs(entry.result.rttMs)}`;
    tail = index === 0 ? `lowest RTT among ${size} (${rtt})` : `${rtt}, place ${index + 1} of ${size}`;
  }
  if (allZero) tail += ', all competitors have weight 0';
  else if (entry.weight <= 0) tail += ', weight 0 (after every weighted competitor)';
  return `${head}, ${tail}`;
}

function formatMs(ms: number): string {
  return `${Number.isInteger(ms) ? ms : ms.toFixed(2)} ms`;
}
