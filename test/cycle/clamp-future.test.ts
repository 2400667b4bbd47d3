import { describe, expect, it } from 'vitest';
import {
  CLOCK_STEP_TOLERANCE_SECONDS,
  clampFutureTimes,
  describeClampedTime,
  longestDelaySeconds,
} from '../../src/cycle/clamp-future.js';
import { decideCycle } from '../../src/cycle/decide.js';
import { settings } from '../helpers/settings.js';
import { at, currentRelay, state, T0 } from './builders.js';

const defaults = settings();
const YEAR_2099 = '2099-01-01T00:00:00.000Z';

describe('clampFutureTimes', () => {
  it('the longest delay is the back-off cap with its jitter: 7200 s × 1.1 with the defaults', () => {
    expect(longestDelaySeconds(defaults)).toBeCloseTo(7920);
    expect(longestDelaySeconds({ maxRetryIntervalSeconds: 600, jitter: 0 })).toBe(600);
  });

  it('leaves a state without times from the future alone', () => {
    const healthy = state({ retry: { attempt: 2, nextAt: at(7000).toISOString(), delaySeconds: 120, reason: 'x' } });
    expect(clampFutureTimes(healthy, defaults, T0)).toEqual({ state: healthy, clamped: [] });
  });

  it('clamps a retry due in 2099 to now + the longest delay, and the next run selects once that has passed', () => {
    const stuck = state({
      current: null,
      retry: { attempt: 3, nextAt: YEAR_2099, delaySeconds: 240, reason: 'no relay' },
    });
    const { state: clamped, clamped: times } = clampFutureTimes(stuck, defaults, T0);
    expect(clamped.retry).toEqual({
      attempt: 3,
      nextAt: at(7920).toISOString(),
      delaySeconds: 240,
      reason: 'no relay',
    });
    expect(times).toEqual([
      { field: 'retry.nextAt', from: YEAR_2099, to: at(7920).toISOString(), kind: 'due', allowedAheadSeconds: 7920 },
    ]);
    // Without the clamp the endpoint would wait until 2099; with it, at most the longest delay.
    expect(decideCycle({ state: stuck, settings: defaults, now: at(8000), currentInRelayList: true }).action).toBe(
      'wait',
    );
    expect(decideCycle({ state: clamped, settings: defaults, now: at(8000), currentInRelayList: true })).toMatchObject({
      action: 'select',
      rule: 'retry-due',
    });
  });

  it('clamps an upstream back-off in the future the same way', () => {
    const { state: clamped } = clampFutureTimes(
      state({ upstreamBackoff: { attempt: 1, nextAt: YEAR_2099, delaySeconds: 60 } }),
      { maxRetryIntervalSeconds: 600, jitter: 0, intervalSeconds: 21600 },
      T0,
    );
    expect(clamped.upstreamBackoff?.nextAt).toBe(at(600).toISOString());
  });

  it('puts past events stamped in the future (selection, failure clock, registration, health check) at now', () => {
    const future = state({
      current: currentRelay({ registeredAt: YEAR_2099 }),
      lastSelectionAt: YEAR_2099,
      lastAttemptAt: YEAR_2099,
      failingSince: YEAR_2099,
      failureReportedAt: YEAR_2099,
      lastHealthCheck: { at: YEAR_2099, result: 'failing' },
      lastDistanceJump: { at: YEAR_2099, fromHops: 2, toHops: 6, from: 'relay-a:52311', to: 'relay-b:52311' },
    });
    const { state: clamped, clamped: times } = clampFutureTimes(future, defaults, T0);
    expect(times.map((time) => time.field)).toEqual([
      'lastSelectionAt',
      'lastAttemptAt',
      'failingSince',
      'failureReportedAt',
      'current.registeredAt',
      'lastHealthCheck.at',
      'lastDistanceJump.at',
    ]);
    for (const time of times) expect(time).toMatchObject({ to: T0.toISOString(), kind: 'past' });
    expect(clamped).toMatchObject({
      lastSelectionAt: T0.toISOString(),
      failingSince: T0.toISOString(),
      current: { registeredAt: T0.toISOString() },
      lastHealthCheck: { at: T0.toISOString() },
    });
    // A periodic re-selection is due again after intervalSeconds, not after 2099.
    expect(
      decideCycle({ state: clamped, settings: defaults, now: at(defaults.intervalSeconds), currentInRelayList: true }),
    ).toMatchObject({ action: 'select', rule: 'periodic' });
  });

  it("clamps a full relay's avoidance (Retry-After) to intervalSeconds ahead, an hour without periodic selection, and leaves a near one alone", () => {
    const full = state({
      avoidedRelays: [
        { host: 'relay-a', port: 52311, until: YEAR_2099, reason: 'full (HTTP 429)' },
        { host: 'relay-b', port: 52311, until: at(600).toISOString(), reason: 'full (HTTP 429, Retry-After 600 s)' },
      ],
    });
    const { state: clamped, clamped: times } = clampFutureTimes(full, defaults, T0);
    expect(times).toEqual([
      {
        field: 'avoidedRelays[relay-a:52311].until',
        from: YEAR_2099,
        to: at(defaults.intervalSeconds).toISOString(),
        kind: 'due',
        allowedAheadSeconds: defaults.intervalSeconds,
      },
    ]);
    expect(clamped.avoidedRelays).toEqual([
      { host: 'relay-a', port: 52311, until: at(defaults.intervalSeconds).toISOString(), reason: 'full (HTTP 429)' },
      { host: 'relay-b', port: 52311, until: at(600).toISOString(), reason: 'full (HTTP 429, Retry-After 600 s)' },
    ]);
    expect(clampFutureTimes(full, { ...defaults, intervalSeconds: 0 }, T0).state.avoidedRelays?.[0]?.until).toBe(
      at(3600).toISOString(),
    );
  });

  it('tolerates a clock stepped back a few minutes', () => {
    const recent = state({ lastSelectionAt: at(CLOCK_STEP_TOLERANCE_SECONDS).toISOString() });
    expect(clampFutureTimes(recent, defaults, T0).clamped).toEqual([]);
    expect(
      clampFutureTimes(state({ lastSelectionAt: at(CLOCK_STEP_TOLERANCE_SECONDS + 1).toISOString() }), defaults, T0)
        .clamped,
    ).toHaveLength(1);
  });

  it('says what it clamped, from when, to when, and the allowance in words', () => {
    const [time] = clampFutureTimes(
      state({ retry: { attempt: 1, nextAt: YEAR_2099, delaySeconds: 60, reason: 'x' } }),
      defaults,
      T0,
    ).clamped;
    expect(describeClampedTime(time!)).toBe(
      `state: retry.nextAt ${YEAR_2099} is more than 2 h 12 min ahead, the longest delay the settings allow; clamped to ${at(7920).toISOString()} (was the clock wrong when it was written?)`,
    );
  });
});
