import type { Settings } from '../config/settings.js';
import { relayKey } from '../relays/relay.js';
import type { SelectionOutcome } from '../select/types.js';
import { nextRetryDelaySeconds, type RetryBackoffOptions } from './backoff.js';
import type { CurrentRelay, HealthCheck, HealthResult, State } from './state.js';

/**
 * The decision of one `relay-select run` (DESIGN §7). Pure: the state, the settings and `now` go in,
 * a decision comes out; nothing here reads the clock, the disk or the network.
 *
 * Because the health check needs I/O, a cycle takes up to two steps:
 *   1. `decideCycle(...)` → `select` | `wait` | `keep` | `check`;
 *   2. on `check`, the caller checks the relay and calls `decideAfterHealthCheck(...)` (or
 *      `decideCycle` again with `health` set) → `select` | `keep`.
 * The caller merges `statePatch` into the state (`{ ...state, ...statePatch }`) and saves it.
 */
export type CycleSettings = Pick<
  Settings,
  'intervalSeconds' | 'resistFailureIntervalSeconds' | 'minRetryIntervalSeconds' | 'maxRetryIntervalSeconds' | 'jitter'
>;

type CycleAction = 'select' | 'wait' | 'keep' | 'check';

/** Which rule of DESIGN §7 made the decision; stable, for tests, logs and `--json`. */
type CycleRule =
  | 'forced'
  | 'network-changed'
  | 'retry-pending'
  | 'retry-due'
  | 'first-run'
  | 'no-relay'
  | 'relay-removed'
  | 'periodic'
  | 'upstream-backoff'
  | 'health-check'
  | 'healthy'
  | 'failing'
  | 'resist-failure-exceeded'
  | 'upstream-down';

export interface CycleDecision {
  action: CycleAction;
  rule: CycleRule;
  /** One sentence for a person, e.g. "retry 2 not due until 2024-01-01T00:02:00.000Z". */
  reason: string;
  /** When the next run has something to do (the selection or retry time; now for `select`/`check`). */
  nextDueAt: Date;
  /** Changes to persist (merge shallowly into the state). */
  statePatch?: Partial<State>;
  /** Set when the endpoint keeps a relay that is not healthy: the CLI prints it on stderr. */
  warning?: string;
}

export interface DecideCycleInput {
  state: State;
  settings: CycleSettings;
  now: Date;
  /** `run --force`: select whatever the state says. */
  force?: boolean;
  /** Whether `state.current` is still in the (current) relay list. Ignored when there is no current relay. */
  currentInRelayList: boolean;
  /** Result of the health check, once done. Absent: the decision may be `check`. */
  health?: HealthResult;
  /** What the health check saw, kept in `lastHealthCheck.detail`. */
  healthDetail?: string;
  /** u ∈ [0, 1) for the back-off jitter. @default Math.random */
  random?: () => number;
  /**
   * How the endpoint's network changed since the state recorded it (describeNetworkChange), if it did.
   * A laptop docked, undocked or on a VPN selects at once: its relay may now be far, and a pending retry
   * or an upstream back-off was about the old network.
   */
  networkChange?: string;
}

export function decideCycle(input: DecideCycleInput): CycleDecision {
  const { state, settings, now } = input;
  if (input.force) return select(now, 'forced', 'selection forced');
  if (input.networkChange !== undefined && (state.current !== null || state.retry !== null)) {
    return select(now, 'network-changed', `the network changed: ${input.networkChange}`);
  }

  if (state.retry !== null) {
    const retryAt = new Date(state.retry.nextAt);
    if (now.getTime() < retryAt.getTime()) {
      return {
        action: 'wait',
        rule: 'retry-pending',
        reason: `retry ${state.retry.attempt} after a failed selection (${state.retry.reason}) is not due until ${retryAt.toISOString()}`,
        nextDueAt: retryAt,
      };
    }
    return select(
      now,
      'retry-due',
      `retry ${state.retry.attempt} after a failed selection (${state.retry.reason}) is due`,
    );
  }

  const current = state.current;
  if (current === null) {
    return state.lastSelectionAt === null && state.lastAttemptAt === null
      ? select(now, 'first-run', 'first run: no relay selected yet')
      : select(now, 'no-relay', 'no current relay');
  }
  if (!input.currentInRelayList) {
    return select(now, 'relay-removed', `current relay ${relayKey(current)} is no longer in the relay list`);
  }

  // While the relay reports its upstream down, even the periodic re-selection waits: a server outage
  // must not make the whole fleet probe and re-register at once (DESIGN §7).
  const backoff = state.upstreamBackoff ?? null;
  if (backoff !== null) {
    const checkAt = new Date(backoff.nextAt);
    if (now.getTime() < checkAt.getTime()) {
      return {
        action: 'keep',
        rule: 'upstream-backoff',
        reason: `relay ${relayKey(current)} reported its upstream server down; next check at ${checkAt.toISOString()}`,
        nextDueAt: checkAt,
      };
    }
  } else {
    const periodicAt = periodicDueAt(state, current, settings);
    if (periodicAt !== null && now.getTime() >= periodicAt.getTime()) {
      const since = state.lastSelectionAt ?? current.registeredAt;
      return select(
        now,
        'periodic',
        `periodic re-selection: intervalSeconds ${settings.intervalSeconds} elapsed since the last selection at ${since}`,
      );
    }
  }

  if (input.health === undefined) {
    return {
      action: 'check',
      rule: 'health-check',
      reason: `checking the health of relay ${relayKey(current)}`,
      nextDueAt: now,
    };
  }
  return decideAfterHealthCheck({ ...input, health: input.health });
}

interface DecideAfterHealthCheckInput {
  state: State;
  settings: CycleSettings;
  /** The time the check finished. */
  now: Date;
  health: HealthResult;
  healthDetail?: string;
  /** u ∈ [0, 1) for the back-off jitter. @default Math.random */
  random?: () => number;
}

/** Second step of a cycle, after `decideCycle` answered `check` and the caller checked the relay. */
export function decideAfterHealthCheck(input: DecideAfterHealthCheckInput): CycleDecision {
  const { state, settings, now } = input;
  // The agent's own report outranks a TCP connect that still succeeds.
  const reported = input.health === 'healthy' && state.failureReportedAt != null && state.failingSince !== null;
  const health: HealthResult = reported ? 'failing' : input.health;
  if (reported)
    input = {
      ...input,
      healthDetail: `failure reported by the endpoint's agent at ${state.failureReportedAt}; the health check itself passes`,
    };
  const current = state.current;
  if (current === null) return select(now, 'no-relay', 'no current relay');
  const key = relayKey(current);
  const lastHealthCheck: HealthCheck = {
    at: now.toISOString(),
    result: input.health,
    ...(input.healthDetail === undefined ? {} : { detail: input.healthDetail }),
  };

  if (health === 'healthy') {
    const statePatch: Partial<State> = {
      current: withoutUpstreamDown(current),
      failingSince: null,
      failureReportedAt: null,
      upstreamBackoff: null,
      lastHealthCheck,
    };
    const periodicAt = periodicDueAt(state, current, settings);
    if (periodicAt !== null && now.getTime() >= periodicAt.getTime()) {
      // Only reachable after an upstream outage deferred the periodic re-selection.
      return {
        ...select(now, 'periodic', `periodic re-selection, deferred while the upstream server of ${key} was down`),
        statePatch,
      };
    }
    const recovered = state.failingSince !== null ? ` again (failing since ${state.failingSince})` : '';
    return {
      action: 'keep',
      rule: 'healthy',
      reason: `relay ${key} is healthy${recovered}`,
      nextDueAt: periodicAt ?? now,
      statePatch,
    };
  }

  if (health === 'failing') {
    const failingSince = state.failingSince ?? now.toISOString();
    const failingForSeconds = (now.getTime() - Date.parse(failingSince)) / 1000;
    const statePatch: Partial<State> = {
      current: withoutUpstreamDown(current),
      failingSince,
      upstreamBackoff: null,
      lastHealthCheck,
    };
    const detail = input.healthDetail === undefined ? '' : ` (${input.healthDetail})`;
    if (failingForSeconds >= settings.resistFailureIntervalSeconds) {
      return select(
        now,
        'resist-failure-exceeded',
        `relay ${key} has been failing since ${failingSince}${detail}: ${Math.round(failingForSeconds)} s ≥ resistFailureIntervalSeconds ${settings.resistFailureIntervalSeconds}`,
        statePatch,
      );
    }
    const reselectAt = new Date(Date.parse(failingSince) + settings.resistFailureIntervalSeconds * 1000);
    const warning = `relay ${key} is failing${detail}, since ${failingSince}; kept until ${reselectAt.toISOString()} unless it recovers`;
    return {
      action: 'keep',
      rule: 'failing',
      reason: warning,
      warning,
      nextDueAt: minDate(periodicDueAt(state, current, settings) ?? reselectAt, reselectAt),
      statePatch,
    };
  }

  const attempt = (state.upstreamBackoff?.attempt ?? 0) + 1;
  const delaySeconds = nextRetryDelaySeconds(attempt, settings, input.random ?? Math.random);
  const nextAt = new Date(now.getTime() + delaySeconds * 1000);
  const warning = `relay ${key} reports its upstream server down (HTTP 503): kept without re-selection; next check at ${nextAt.toISOString()}`;
  return {
    action: 'keep',
    rule: 'upstream-down',
    reason: warning,
    warning,
    nextDueAt: nextAt,
    statePatch: {
      current: { ...current, upstreamDown: true },
      failingSince: null,
      failureReportedAt: null,
      upstreamBackoff: { attempt, nextAt: nextAt.toISOString(), delaySeconds },
      lastHealthCheck,
    },
  };
}

/** What a selection (probe + register) came to, as the cycle records it (see `toCycleSelectionResult`). */
export type CycleSelectionResult =
  | {
      ok: true;
      /** The relay registered with; `registeredAt` defaults to `now`. */
      relay: Omit<CurrentRelay, 'registeredAt'> & { registeredAt?: string };
      /** sha256 of the relay list it was selected from. */
      relayListDigest?: string;
    }
  | { ok: false; reason: string };

/**
 * The state after a selection. Success: the new relay becomes current and every clock is reset.
 * Failure: the next retry is scheduled by the back-off; the previous relay, if any, stays recorded
 * (its registration may still be good).
 */
export function applySelectionResult(
  state: State,
  outcome: CycleSelectionResult,
  now: Date,
  settings: RetryBackoffOptions,
  random: () => number,
): State {
  const at = now.toISOString();
  if (outcome.ok) {
    const { registeredAt, ...relay } = outcome.relay;
    const upstreamBackoff = relay.upstreamDown === true ? firstUpstreamBackoff(now, settings, random) : null;
    return {
      ...state,
      current: { ...relay, registeredAt: registeredAt ?? at },
      lastSelectionAt: at,
      lastAttemptAt: at,
      failingSince: null,
      failureReportedAt: null,
      retry: null,
      upstreamBackoff,
      ...(outcome.relayListDigest === undefined ? {} : { relayListDigest: outcome.relayListDigest }),
    };
  }
  const attempt = (state.retry?.attempt ?? 0) + 1;
  const delaySeconds = nextRetryDelaySeconds(attempt, settings, random);
  return {
    ...state,
    lastAttemptAt: at,
    retry: {
      attempt,
      nextAt: new Date(now.getTime() + delaySeconds * 1000).toISOString(),
      delaySeconds,
      reason: outcome.reason,
    },
  };
}

/** Maps what `selectRelay` returned (src/select) to what `applySelectionResult` records. */
export function toCycleSelectionResult(outcome: SelectionOutcome, relayListDigest?: string): CycleSelectionResult {
  if (outcome.status === 'failed') {
    const tried = outcome.attempts.filter((attempt) => attempt.outcome.status !== 'skipped').length;
    const reachable = outcome.pools.reduce((sum, pool) => sum + pool.reachable, 0);
    return {
      ok: false,
      reason: `no relay could be registered (${reachable} reachable, ${tried} registration attempts)`,
    };
  }
  const { chosen, registration } = outcome;
  return {
    ok: true,
    relay: {
      host: chosen.relay.host,
      port: chosen.relay.port,
      address: chosen.address,
      distance: chosen.distance,
      rttMs: chosen.rttMs,
      pool: chosen.pool,
      method: chosen.method,
      ...(registration.status === 'upstream-down' ? { upstreamDown: true } : {}),
    },
    ...(relayListDigest === undefined ? {} : { relayListDigest }),
  };
}

/** `relay-select report-failure`: start the failure clock of the current relay (kept if already running). */
export function reportFailure(state: State, now: Date): State {
  return { ...state, failingSince: state.failingSince ?? now.toISOString(), failureReportedAt: now.toISOString() };
}

/** When the next run has something to do, for `status` and `run --json` after a cycle. */
export function computeNextDueAt(state: State, settings: CycleSettings, now: Date): Date {
  if (state.retry !== null) return new Date(state.retry.nextAt);
  if (state.current === null) return now;
  if (state.upstreamBackoff) return new Date(state.upstreamBackoff.nextAt);
  const periodicAt = periodicDueAt(state, state.current, settings) ?? now;
  if (state.failingSince === null) return periodicAt;
  return minDate(periodicAt, new Date(Date.parse(state.failingSince) + settings.resistFailureIntervalSeconds * 1000));
}

/** When the periodic re-selection is due; null when `intervalSeconds` is 0 (periodic re-selection off). */
function periodicDueAt(state: State, current: CurrentRelay, settings: Pick<Settings, 'intervalSeconds'>): Date | null {
  if (settings.intervalSeconds === 0) return null;
  const since = state.lastSelectionAt ?? current.registeredAt;
  const sinceMs = Date.parse(since);
  // An unreadable time cannot pass schema validation; treat it as "long ago" rather than "never".
  return new Date(Number.isFinite(sinceMs) ? sinceMs + settings.intervalSeconds * 1000 : 0);
}

function firstUpstreamBackoff(
  now: Date,
  settings: RetryBackoffOptions,
  random: () => number,
): State['upstreamBackoff'] {
  const delaySeconds = nextRetryDelaySeconds(1, settings, random);
  return { attempt: 1, nextAt: new Date(now.getTime() + delaySeconds * 1000).toISOString(), delaySeconds };
}

function withoutUpstreamDown(current: CurrentRelay): CurrentRelay {
  const { upstreamDown: _upstreamDown, ...rest } = current;
  return rest;
}

function select(now: Date, rule: CycleRule, reason: string, statePatch?: Partial<State>): CycleDecision {
  return { action: 'select', rule, reason, nextDueAt: now, ...(statePatch === undefined ? {} : { statePatch }) };
}

function minDate(a: Date, b: Date): Date {
  return a.getTime() <= b.getTime() ? a : b;
}
