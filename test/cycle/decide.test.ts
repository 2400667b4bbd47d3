import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import {
  applySelectionResult,
  computeNextDueAt,
  decideAfterHealthCheck,
  decideCycle,
  reportFailure,
  toCycleSelectionResult,
  type DecideCycleInput,
} from '../../src/cycle/decide.js';
import { emptyState, stateSchema, type State } from '../../src/cycle/state.js';
import { settings } from '../helpers/settings.js';
import { at, currentRelay, state, T0 } from './builders.js';

function decide(overrides: Partial<DecideCycleInput> & { state: State }) {
  return decideCycle({ settings: settings(), now: at(60), currentInRelayList: true, ...overrides });
}

function merge(base: State, patch: Partial<State> | undefined): State {
  return stateSchema.parse({ ...base, ...patch });
}

describe('decideCycle: selection rules', () => {
  it('selects on the first run', () => {
    const decision = decide({ state: emptyState('c'), now: T0 });
    expect(decision).toMatchObject({ action: 'select', rule: 'first-run' });
    expect(decision.reason).toMatch(/first run/);
    expect(decision.nextDueAt).toEqual(T0);
  });

  it('selects when there is no relay after an earlier selection', () => {
    const decision = decide({ state: state({ current: null }) });
    expect(decision).toMatchObject({ action: 'select', rule: 'no-relay' });
  });

  it('waits while a retry is not due, and says until when', () => {
    const retry = { attempt: 2, nextAt: at(120).toISOString(), delaySeconds: 120, reason: 'no relay answered' };
    const decision = decide({ state: state({ current: null, retry }), now: at(119.999) });
    expect(decision.action).toBe('wait');
    expect(decision.rule).toBe('retry-pending');
    expect(decision.nextDueAt).toEqual(at(120));
    expect(decision.reason).toContain(at(120).toISOString());
    expect(decision.statePatch).toBeUndefined();
  });

  it('waits for a pending retry even with a current relay', () => {
    const retry = { attempt: 1, nextAt: at(600).toISOString(), delaySeconds: 60, reason: 'x' };
    expect(decide({ state: state({ retry }), now: at(599) }).action).toBe('wait');
  });

  it('selects when the retry is due (at and after)', () => {
    const retry = { attempt: 2, nextAt: at(120).toISOString(), delaySeconds: 120, reason: 'no relay answered' };
    expect(decide({ state: state({ current: null, retry }), now: at(120) })).toMatchObject({
      action: 'select',
      rule: 'retry-due',
    });
    expect(decide({ state: state({ current: null, retry }), now: at(5000) })).toMatchObject({
      action: 'select',
      rule: 'retry-due',
    });
  });

  it('selects periodically: not just before intervalSeconds, but at it', () => {
    const s = settings({ intervalSeconds: 3600 });
    const before = decideCycle({ state: state(), settings: s, now: at(3599.999), currentInRelayList: true });
    expect(before.action).toBe('check');
    const atInterval = decideCycle({ state: state(), settings: s, now: at(3600), currentInRelayList: true });
    expect(atInterval).toMatchObject({ action: 'select', rule: 'periodic' });
  });

  it('selects when the current relay was removed from the relay list', () => {
    const decision = decide({ state: state(), currentInRelayList: false });
    expect(decision).toMatchObject({ action: 'select', rule: 'relay-removed' });
    expect(decision.reason).toContain('relay-a.corp.example:52311');
  });

  it('selects when forced, even with a retry pending', () => {
    const retry = { attempt: 3, nextAt: at(9999).toISOString(), delaySeconds: 240, reason: 'x' };
    expect(decide({ state: state({ retry }), force: true })).toMatchObject({ action: 'select', rule: 'forced' });
    expect(decide({ state: state(), force: true, health: 'healthy' }).action).toBe('select');
  });

  it('asks for a health check otherwise', () => {
    expect(decide({ state: state() })).toMatchObject({ action: 'check', rule: 'health-check', nextDueAt: at(60) });
  });
});

describe('decideAfterHealthCheck', () => {
  it('keeps a healthy relay and clears the failure clock', () => {
    const before = state({ failingSince: at(10).toISOString() });
    const decision = decideAfterHealthCheck({ state: before, settings: settings(), now: at(60), health: 'healthy' });
    expect(decision).toMatchObject({ action: 'keep', rule: 'healthy' });
    expect(decision.statePatch?.failingSince).toBeNull();
    expect(decision.statePatch?.lastHealthCheck).toEqual({ at: at(60).toISOString(), result: 'healthy' });
    expect(decision.nextDueAt).toEqual(at(21600));
    expect(decision.warning).toBeUndefined();
  });

  it('decideCycle with health set gives the same answer as the two steps', () => {
    const s = state({ failingSince: at(10).toISOString() });
    const oneStep = decide({ state: s, health: 'failing' });
    const twoSteps = decideAfterHealthCheck({ state: s, settings: settings(), now: at(60), health: 'failing' });
    expect(oneStep).toEqual(twoSteps);
  });

  it('starts the failure clock on the first failing check and keeps with a warning', () => {
    const decision = decideAfterHealthCheck({
      state: state(),
      settings: settings(),
      now: at(60),
      health: 'failing',
      healthDetail: 'ECONNREFUSED',
    });
    expect(decision).toMatchObject({ action: 'keep', rule: 'failing' });
    expect(decision.statePatch?.failingSince).toBe(at(60).toISOString());
    expect(decision.warning).toMatch(/failing.*ECONNREFUSED/);
    expect(decision.nextDueAt).toEqual(at(60 + 600));
    expect(decision.statePatch?.lastHealthCheck).toMatchObject({ result: 'failing', detail: 'ECONNREFUSED' });
  });

  it('keeps the original failure clock on later failing checks', () => {
    const decision = decideAfterHealthCheck({
      state: state({ failingSince: at(100).toISOString() }),
      settings: settings(),
      now: at(300),
      health: 'failing',
    });
    expect(decision.statePatch?.failingSince).toBe(at(100).toISOString());
  });

  it.each([
    { failingForSeconds: 599.999, action: 'keep' },
    { failingForSeconds: 600, action: 'select' },
    { failingForSeconds: 601, action: 'select' },
  ])('resist-failure boundary: failing for $failingForSeconds s of 600 → $action', ({ failingForSeconds, action }) => {
    const s = state({ failingSince: at(1000).toISOString() });
    const decision = decideAfterHealthCheck({
      state: s,
      settings: settings(),
      now: at(1000 + failingForSeconds),
      health: 'failing',
    });
    expect(decision.action).toBe(action);
    if (action === 'select') expect(decision.rule).toBe('resist-failure-exceeded');
  });

  it('keeps a relay whose upstream is down, without probing, and backs off like the retry', () => {
    const random = () => 0.5;
    let s = state();
    const delays: number[] = [];
    let now = at(60);
    for (let check = 0; check < 4; check++) {
      const first = decideCycle({ state: s, settings: settings(), now, currentInRelayList: true, random });
      expect(first.action).toBe('check');
      const decision = decideAfterHealthCheck({ state: s, settings: settings(), now, health: 'upstream-down', random });
      expect(decision).toMatchObject({ action: 'keep', rule: 'upstream-down' });
      expect(decision.warning).toMatch(/503/);
      s = merge(s, decision.statePatch);
      expect(s.current?.upstreamDown).toBe(true);
      expect(s.failingSince).toBeNull();
      delays.push(s.upstreamBackoff!.delaySeconds);
      expect(decision.nextDueAt).toEqual(new Date(now.getTime() + s.upstreamBackoff!.delaySeconds * 1000));
      // Before the next check time: kept without a check.
      const waiting = decideCycle({
        state: s,
        settings: settings(),
        now: new Date(decision.nextDueAt.getTime() - 1),
        currentInRelayList: true,
      });
      expect(waiting).toMatchObject({ action: 'keep', rule: 'upstream-backoff' });
      now = decision.nextDueAt;
    }
    expect(delays).toEqual([60, 120, 240, 480]);
  });

  it('defers the periodic re-selection while the upstream is down, and clears the back-off when healthy', () => {
    const s = state({
      current: currentRelay({ upstreamDown: true }),
      upstreamBackoff: { attempt: 3, nextAt: at(30000).toISOString(), delaySeconds: 240 },
    });
    // Interval (21600 s) elapsed, but the back-off is pending: no ICMP storm.
    expect(decideCycle({ state: s, settings: settings(), now: at(25000), currentInRelayList: true })).toMatchObject({
      action: 'keep',
      rule: 'upstream-backoff',
    });
    // Back-off due: check first.
    expect(decideCycle({ state: s, settings: settings(), now: at(30000), currentInRelayList: true }).action).toBe(
      'check',
    );
    const healthy = decideAfterHealthCheck({ state: s, settings: settings(), now: at(30000), health: 'healthy' });
    expect(healthy).toMatchObject({ action: 'select', rule: 'periodic' });
    expect(healthy.statePatch?.upstreamBackoff).toBeNull();
    expect(healthy.statePatch?.current?.upstreamDown).toBeUndefined();
    // A relay removed from the list is replaced even during the back-off.
    expect(decideCycle({ state: s, settings: settings(), now: at(25000), currentInRelayList: false }).action).toBe(
      'select',
    );
  });
});

describe('applySelectionResult', () => {
  const relay = {
    host: 'relay-b',
    port: 52311,
    address: '198.18.1.2',
    distance: 1,
    rttMs: 0.8,
    pool: 'lyon',
    method: 'echo-ttl',
  };

  it('success sets the relay and clears retry, failure clock and back-off', () => {
    const before = state({
      current: null,
      failingSince: at(5).toISOString(),
      retry: { attempt: 4, nextAt: at(0).toISOString(), delaySeconds: 480, reason: 'x' },
      upstreamBackoff: { attempt: 2, nextAt: at(0).toISOString(), delaySeconds: 120 },
    });
    const after = applySelectionResult(
      before,
      { ok: true, relay, relayListDigest: 'abc' },
      at(100),
      settings(),
      () => 0.5,
    );
    expect(stateSchema.parse(after)).toEqual(after);
    expect(after.current).toEqual({ ...relay, registeredAt: at(100).toISOString() });
    expect(after).toMatchObject({
      retry: null,
      failingSince: null,
      upstreamBackoff: null,
      lastSelectionAt: at(100).toISOString(),
      lastAttemptAt: at(100).toISOString(),
      relayListDigest: 'abc',
    });
    expect(computeNextDueAt(after, settings(), at(100))).toEqual(at(100 + 21600));
  });

  it('failure schedules retries 60 → 120 → 240 … capped at the maximum (jitter 0)', () => {
    let s = emptyState('c');
    const delays: number[] = [];
    let now = T0;
    for (let i = 0; i < 9; i++) {
      s = applySelectionResult(s, { ok: false, reason: 'no relay answered' }, now, settings(), () => 0.5);
      expect(s.retry?.attempt).toBe(i + 1);
      expect(s.retry?.reason).toBe('no relay answered');
      expect(s.lastAttemptAt).toBe(now.toISOString());
      expect(Date.parse(s.retry!.nextAt) - now.getTime()).toBe(s.retry!.delaySeconds * 1000);
      delays.push(s.retry!.delaySeconds);
      expect(decideCycle({ state: s, settings: settings(), now, currentInRelayList: true }).action).toBe('wait');
      now = new Date(s.retry!.nextAt);
      expect(decideCycle({ state: s, settings: settings(), now, currentInRelayList: true }).action).toBe('select');
    }
    expect(delays).toEqual([60, 120, 240, 480, 960, 1920, 3840, 7200, 7200]);
    expect(stateSchema.parse(s)).toEqual(s);
  });

  it('a failed selection keeps the previous relay recorded', () => {
    const after = applySelectionResult(
      state(),
      { ok: false, reason: 'registration refused' },
      at(50),
      settings(),
      () => 0,
    );
    expect(after.current).toEqual(currentRelay());
    expect(after.lastSelectionAt).toBe(T0.toISOString());
  });
});

describe('toCycleSelectionResult', () => {
  const candidate = {
    relay: { host: 'relay-c', port: 52311 },
    address: '198.18.2.3',
    distance: null,
    rttMs: 3,
    pool: 'failover',
    method: 'failover' as const,
  };

  it('records the chosen relay; a 503 at registration starts the upstream back-off', () => {
    const outcome = {
      status: 'selected' as const,
      chosen: candidate,
      registration: { status: 'upstream-down' as const, detail: '503' },
      attempts: [],
      probes: [],
      pools: [],
    };
    const result = toCycleSelectionResult(outcome, 'digest');
    expect(result).toEqual({
      ok: true,
      relay: {
        host: 'relay-c',
        port: 52311,
        address: '198.18.2.3',
        distance: null,
        rttMs: 3,
        pool: 'failover',
        method: 'failover',
        upstreamDown: true,
      },
      relayListDigest: 'digest',
    });
    const after = applySelectionResult(emptyState('c'), result, T0, settings(), () => 0.5);
    expect(after.upstreamBackoff).toEqual({ attempt: 1, nextAt: at(60).toISOString(), delaySeconds: 60 });
    expect(decideCycle({ state: after, settings: settings(), now: at(59), currentInRelayList: true }).rule).toBe(
      'upstream-backoff',
    );
  });

  it('turns a failed selection into a retry reason', () => {
    const outcome = {
      status: 'failed' as const,
      attempts: [{ candidate, reason: 'x', outcome: { status: 'failed' as const, detail: 'timeout' } }],
      probes: [],
      pools: [{ name: '*', probed: true, reachable: 1, relayCount: 4 }],
    };
    expect(toCycleSelectionResult(outcome)).toEqual({
      ok: false,
      reason: 'no relay could be registered (1 reachable, 1 registration attempts)',
    });
  });
});

describe('reportFailure', () => {
  it('starts the failure clock once', () => {
    const clock = createFakeClock(at(10));
    const started = reportFailure(state(), clock.now());
    expect(started.failingSince).toBe(at(10).toISOString());
    clock.advanceSeconds(30);
    expect(reportFailure(started, clock.now()).failingSince).toBe(at(10).toISOString());
    // The next run's failing check counts from the report.
    const decision = decideAfterHealthCheck({ state: started, settings: settings(), now: at(610), health: 'failing' });
    expect(decision.action).toBe('select');
  });

  it('a reported failure is not cleared by a health check that passes, until resist-failure elapses', () => {
    const reported = reportFailure(state(), at(10));
    const before = decideAfterHealthCheck({ state: reported, settings: settings(), now: at(609), health: 'healthy' });
    expect(before.action).toBe('keep');
    expect(before.rule).toBe('failing');
    expect(before.reason).toMatch(/failure reported by the endpoint's agent/);
    expect(before.statePatch?.failingSince).toBe(at(10).toISOString());
    expect(before.statePatch?.lastHealthCheck?.result).toBe('healthy');
    const after = decideAfterHealthCheck({
      state: { ...reported, ...before.statePatch },
      settings: settings(),
      now: at(610),
      health: 'healthy',
    });
    expect(after.action).toBe('select');
    expect(after.rule).toBe('resist-failure-exceeded');
  });

  it('a health-check failure (not reported) is cleared by the next passing check', () => {
    const failing = decideAfterHealthCheck({ state: state(), settings: settings(), now: at(10), health: 'failing' });
    const next = { ...state(), ...failing.statePatch };
    const healthy = decideAfterHealthCheck({ state: next, settings: settings(), now: at(20), health: 'healthy' });
    expect(healthy.rule).toBe('healthy');
    expect(healthy.statePatch?.failingSince).toBeNull();
  });

  it('a successful selection clears the reported failure', () => {
    const reported = reportFailure(state(), at(10));
    const selected = applySelectionResult(
      reported,
      {
        ok: true,
        relay: { host: 'b', port: 52311, address: null, distance: 1, rttMs: 1, pool: '*', method: 'echo-ttl' },
      },
      at(700),
      settings(),
      () => 0.5,
    );
    expect(selected.failingSince).toBeNull();
    expect(selected.failureReportedAt).toBeNull();
  });
});

describe('fake clock', () => {
  it('moves only when told to and hands out copies', () => {
    const clock = createFakeClock(T0);
    const first = clock.now();
    first.setTime(0);
    expect(clock.now()).toEqual(T0);
    clock.advanceMs(1500);
    expect(clock.now()).toEqual(at(1.5));
    clock.set('2030-01-01T00:00:00Z');
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('systemClock follows fake timers and leaves no timer behind', () => {
    vi.useFakeTimers();
    try {
      vi.setSystemTime(at(42));
      expect(systemClock.now()).toEqual(at(42));
      const decision = decideCycle({
        state: state(),
        settings: settings(),
        now: systemClock.now(),
        currentInRelayList: true,
      });
      expect(decision.action).toBe('check');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('decision properties', () => {
  it('never selects a healthy, listed relay before the interval, and always selects after it (no back-off)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 100000 }),
        fc.double({ min: 0, max: 200000, noNaN: true }),
        (intervalSeconds, elapsed) => {
          const decision = decideCycle({
            state: state(),
            settings: settings({ intervalSeconds }),
            now: at(elapsed),
            currentInRelayList: true,
            health: 'healthy',
          });
          expect(decision.action).toBe(elapsed >= intervalSeconds ? 'select' : 'keep');
        },
      ),
    );
  });
});
