import { relayKey } from '../relays/relay.js';
import { describeDistance } from './rank.js';
import type { RankedRelay } from './types.js';

/** What the switch margin made of a pool's ranking. */
export interface SwitchMarginDecision {
  /** The ranking to try in order: the current relay first when it is kept. */
  ranked: RankedRelay[];
  /** Whether the current relay stays although another ranked first. */
  kept: boolean;
  /** Why, for a person ("kept a:52311: b:52311 is only 1 hop nearer (switchMarginHops 1)"); null when nothing was weighed. */
  reason: string | null;
}

const sameRelay = (left: { host: string; port: number }, right: { host: string; port: number }): boolean =>
  relayKey(left).toLowerCase() === relayKey(right).toLowerCase();

function hops(count: number): string {
  return count === 1 ? '1 hop' : `${count} hops`;
}

/**
 * The hysteresis of the periodic re-selection (DESIGN §7, setting switchMarginHops). Pure. Given the ranking
 * of the pool that answered and the current relay, keeps the current relay first unless the best relay is
 * better by priority, or measured more than `marginHops` hops nearer than the current relay is measured now
 * (margin 1: a relay 1 hop nearer does not win the endpoint, 2 hops nearer does),
 * or the current relay's distance is unknown while the best one's is measured. A current relay that is not
 * among the reachable relays of this pool (it failed, left the list, or belongs to a later pool of the seek
 * list) is not weighed: the ranking stands.
 */
export function applySwitchMargin(
  ranked: readonly RankedRelay[],
  current: { host: string; port: number },
  marginHops: number,
): SwitchMarginDecision {
  const currentIndex = ranked.findIndex((entry) => sameRelay(entry.relay, current));
  if (currentIndex <= 0) return { ranked: [...ranked], kept: false, reason: null };
  const best = ranked[0]!;
  const held = ranked[currentIndex]!;
  const bestName = relayKey(best.relay);
  const heldName = relayKey(held.relay);
  const switchTo = (why: string): SwitchMarginDecision => ({
    ranked: [...ranked],
    kept: false,
    reason: `switched from ${heldName}: ${bestName} ${why}`,
  });
  if (best.relay.priority < held.relay.priority)
    return switchTo(`has a better priority (${best.relay.priority} against ${held.relay.priority})`);
  const bestDistance = best.result.distance;
  const heldDistance = held.result.distance;
  if (heldDistance === null && bestDistance !== null)
    return switchTo(`is measured at ${describeDistance(best.result)}, ${heldName} only over TCP`);
  const gain = bestDistance === null || heldDistance === null ? 0 : heldDistance - bestDistance;
  if (gain > marginHops) return switchTo(`is ${hops(gain)} nearer (switchMarginHops ${marginHops})`);
  const nearer = gain <= 0 ? 'is no nearer' : `is only ${hops(gain)} nearer`;
  return {
    ranked: [held, ...ranked.filter((_entry, index) => index !== currentIndex)],
    kept: true,
    reason: `kept ${heldName}: ${bestName} ${nearer} (switchMarginHops ${marginHops})`,
  };
}
