/**
 * Distance jumps (issue 12): the vendor's advice is to watch "Distance to relay" for jumps, a sign of a
 * routing change or of an endpoint that lost its nearby relays. A selection whose relay is more than
 * DISTANCE_JUMP_HOPS further than the relay of the selection before is reported (a warning line, a metric).
 * Pure.
 */
import { relayKey } from '../relays/relay.js';
import type { CurrentRelay } from './state.js';

/** A growth of more than this many hops from one selection to the next is a jump. */
export const DISTANCE_JUMP_HOPS = 2;

export interface DistanceJump {
  fromHops: number;
  toHops: number;
  /** relayKey of the relays before and after. */
  from: string;
  to: string;
}

/** The jump between the relay before a selection and the one it chose; null when none (or a distance is unknown). */
export function detectDistanceJump(before: CurrentRelay | null, after: CurrentRelay | null): DistanceJump | null {
  if (before === null || after === null || before.distance === null || after.distance === null) return null;
  if (after.distance - before.distance <= DISTANCE_JUMP_HOPS) return null;
  return { fromHops: before.distance, toHops: after.distance, from: relayKey(before), to: relayKey(after) };
}

/** The warning line of a jump. */
export function describeDistanceJump(jump: DistanceJump): string {
  return `distance to the relay jumped from ${jump.fromHops} to ${jump.toHops} hops (${jump.from} → ${jump.to}): more than ${DISTANCE_JUMP_HOPS} hops further than the last selection; a routing change, or the nearby relays stopped answering`;
}
