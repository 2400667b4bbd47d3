/**
 * Full relays (DESIGN §7): a registration answered 429 means the relay is alive but has all the clients it
 * takes. The selection moves on to the next relay in the same run; the relay is then passed over by later
 * selections until its Retry-After, or `intervalSeconds` when it sent none, so a fleet does not knock on a
 * full relay every run. Pure.
 */
import type { Settings } from '../config/settings.js';
import { relayKey } from '../relays/relay.js';
import type { Attempt } from '../select/types.js';
import type { AvoidedRelay } from './state.js';

/** Without a Retry-After and with periodic re-selection off, a full relay is avoided this long. */
const FULL_RELAY_FALLBACK_SECONDS = 3600;

/** The longest a full relay is avoided: `intervalSeconds` (the next periodic selection looks again), or an hour without periodic selection. */
export function longestAvoidSeconds(settings: Pick<Settings, 'intervalSeconds'>): number {
  return settings.intervalSeconds > 0 ? settings.intervalSeconds : FULL_RELAY_FALLBACK_SECONDS;
}

/** Whether `entry` is still in force at `now` (its `until` not yet reached). */
export function isAvoidedAt(entry: AvoidedRelay, now: Date): boolean {
  return Date.parse(entry.until) > now.getTime();
}

/** The avoided relays still in force at `now`, by relayKey, with why (what the selection says when it skips one). */
export function activeAvoidedRelays(avoided: readonly AvoidedRelay[] | undefined, now: Date): Map<string, string> {
  const active = new Map<string, string>();
  for (const entry of avoided ?? []) {
    if (isAvoidedAt(entry, now)) active.set(relayKey(entry), `${entry.reason}; avoided until ${entry.until}`);
  }
  return active;
}

/**
 * The avoided relays after a selection: the ones still in force, plus every relay that answered full in
 * `attempts`, until now + its Retry-After (at most `intervalSeconds` when periodic re-selection is on: the
 * next periodic selection looks again) or + `intervalSeconds` without one.
 */
export function recordFullRelays(
  avoided: readonly AvoidedRelay[] | undefined,
  attempts: readonly Attempt[],
  now: Date,
  settings: Pick<Settings, 'intervalSeconds'>,
): AvoidedRelay[] {
  const byKey = new Map<string, AvoidedRelay>();
  for (const entry of avoided ?? []) if (isAvoidedAt(entry, now)) byKey.set(relayKey(entry), entry);
  const longestSeconds = longestAvoidSeconds(settings);
  for (const attempt of attempts) {
    const { outcome, candidate } = attempt;
    if (outcome.status !== 'full') continue;
    const seconds = Math.min(outcome.retryAfterSeconds ?? longestSeconds, longestSeconds);
    const { host, port } = candidate.relay;
    byKey.set(relayKey(candidate.relay), {
      host,
      port,
      until: new Date(now.getTime() + seconds * 1000).toISOString(),
      reason: `full (HTTP 429${outcome.retryAfterSeconds === undefined ? '' : `, Retry-After ${outcome.retryAfterSeconds} s`})`,
    });
  }
  return [...byKey.values()];
}
