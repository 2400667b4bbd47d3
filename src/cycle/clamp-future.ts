import type { Settings } from '../config/settings.js';
import { formatDuration } from '../format.js';
import { relayKey } from '../relays/relay.js';
import { longestAvoidSeconds } from './avoided-relays.js';
import type { State } from './state.js';

/**
 * Times in the state that lie in the future where they cannot (DESIGN §7): an endpoint whose clock
 * was once wrong — years ahead after a dead RTC battery, say — wrote them, and read back as they are
 * they would stop selection until then. Pure: the state, the settings and `now` in, the state with
 * those times clamped and what was clamped out.
 *
 * - A due time (`retry.nextAt`, `upstreamBackoff.nextAt`) is at most the longest delay the settings
 *   allow ahead: `maxRetryIntervalSeconds × (1 + jitter)`, the back-off's cap with its jitter.
 * - The end of a full relay's avoidance (`avoidedRelays[].until`, from its Retry-After) is at most
 *   `intervalSeconds` ahead (an hour when periodic selection is off), the cap recordFullRelays applies.
 * - The time of something that happened (`lastSelectionAt`, `failingSince`, …) is at most now, give
 *   or take a clock step of {@link CLOCK_STEP_TOLERANCE_SECONDS}.
 */
type ClampSettings = Pick<Settings, 'maxRetryIntervalSeconds' | 'jitter' | 'intervalSeconds'>;

/** A clock set back by NTP by a few seconds or minutes makes recent times look ahead: not worth a word. */
export const CLOCK_STEP_TOLERANCE_SECONDS = 300;

interface ClampedTime {
  /** Dotted path in the state, e.g. `retry.nextAt`. */
  field: string;
  /** ISO-8601, as read. */
  from: string;
  /** ISO-8601, as clamped. */
  to: string;
  /** `due`: a time something is due, clamped to now + the longest delay it may lie ahead; `past`: an event, clamped to now. */
  kind: 'due' | 'past';
  /** How far ahead of now the settings allow this time, in seconds. */
  allowedAheadSeconds: number;
}

/** The longest delay any due time of the state may lie ahead: the retry back-off's cap with its jitter. */
export function longestDelaySeconds(settings: Pick<Settings, 'maxRetryIntervalSeconds' | 'jitter'>): number {
  // To the millisecond: 7200 × 1.1 is 7920, not 7920.000000000001.
  return Math.round(settings.maxRetryIntervalSeconds * (1 + Math.min(1, Math.max(0, settings.jitter))) * 1000) / 1000;
}

/** The state's times, each with how far ahead of now it may lie and how to put a clamped value back. */
interface StateTime {
  field: string;
  value: string | null | undefined;
  /** `due`: clamped to the limit; `past`: an event, clamped to now. */
  kind: 'due' | 'past';
  allowedAheadSeconds: number;
  set: (next: State, value: string) => State;
}

function timesOf(state: State, settings: ClampSettings): StateTime[] {
  const due = { kind: 'due' as const, allowedAheadSeconds: longestDelaySeconds(settings) };
  const avoided = { kind: 'due' as const, allowedAheadSeconds: longestAvoidSeconds(settings) };
  const past = { kind: 'past' as const, allowedAheadSeconds: CLOCK_STEP_TOLERANCE_SECONDS };
  const avoidedRelays = (state.avoidedRelays ?? []).map((entry, index): StateTime => ({
    field: `avoidedRelays[${relayKey(entry)}].until`,
    value: entry.until,
    ...avoided,
    set: (next, value) => ({
      ...next,
      avoidedRelays: next.avoidedRelays?.map((other, otherIndex) =>
        otherIndex === index ? { ...other, until: value } : other,
      ),
    }),
  }));
  return [
    {
      field: 'retry.nextAt',
      value: state.retry?.nextAt,
      ...due,
      set: (next, value) => ({ ...next, retry: next.retry && { ...next.retry, nextAt: value } }),
    },
    {
      field: 'upstreamBackoff.nextAt',
      value: state.upstreamBackoff?.nextAt,
      ...due,
      set: (next, value) => ({
        ...next,
        upstreamBackoff: next.upstreamBackoff && { ...next.upstreamBackoff, nextAt: value },
      }),
    },
    ...(['lastSelectionAt', 'lastAttemptAt', 'failingSince', 'failureReportedAt'] as const).map((field): StateTime => ({
      field,
      value: state[field],
      ...past,
      set: (next, value) => ({ ...next, [field]: value }),
    })),
    {
      field: 'current.registeredAt',
      value: state.current?.registeredAt,
      ...past,
      set: (next, value) => ({ ...next, current: next.current && { ...next.current, registeredAt: value } }),
    },
    {
      field: 'lastHealthCheck.at',
      value: state.lastHealthCheck?.at,
      ...past,
      set: (next, value) => ({
        ...next,
        ...(next.lastHealthCheck === undefined ? {} : { lastHealthCheck: { ...next.lastHealthCheck, at: value } }),
      }),
    },
    {
      field: 'lastDistanceJump.at',
      value: state.lastDistanceJump?.at,
      ...past,
      set: (next, value) => ({
        ...next,
        ...(next.lastDistanceJump === undefined ? {} : { lastDistanceJump: { ...next.lastDistanceJump, at: value } }),
      }),
    },
    ...avoidedRelays,
  ];
}

/**
 * `state` with every time that lies further ahead of `now` than the settings allow clamped: a due time
 * to now + the longest delay, a past event to now. `clamped` lists them, in a fixed order, for the warning.
 */
export function clampFutureTimes(
  state: State,
  settings: ClampSettings,
  now: Date,
): { state: State; clamped: ClampedTime[] } {
  let next = state;
  const clamped: ClampedTime[] = [];
  for (const time of timesOf(state, settings)) {
    if (time.value === null || time.value === undefined) continue;
    const atMs = Date.parse(time.value);
    const limitMs = now.getTime() + time.allowedAheadSeconds * 1000;
    if (!Number.isFinite(atMs) || atMs <= limitMs) continue;
    // A due time lands on its limit; a past event on now.
    const to = new Date(time.kind === 'due' ? limitMs : now.getTime()).toISOString();
    next = time.set(next, to);
    clamped.push({
      field: time.field,
      from: time.value,
      to,
      kind: time.kind,
      allowedAheadSeconds: time.allowedAheadSeconds,
    });
  }
  return { state: next, clamped };
}

/** One warning line per clamped time: which, from, to, and what probably happened. */
export function describeClampedTime(time: ClampedTime): string {
  const allowed =
    time.kind === 'due'
      ? `more than ${formatDuration(time.allowedAheadSeconds)} ahead, the longest delay the settings allow`
      : 'in the future';
  return `state: ${time.field} ${time.from} is ${allowed}; clamped to ${time.to} (was the clock wrong when it was written?)`;
}
