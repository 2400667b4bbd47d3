/**
 * The scenarios of `simulate` and `estimate` (DESIGN §14), as timelines both share: when each event
 * happens, how long the run lasts, and from when the fleet is expected to settle again.
 */
import type { Settings } from '../config/settings.js';

export const SCENARIOS = ['steady', 'server-outage', 'relay-loss', 'flap', 'new-relay'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const SCENARIO_SUMMARIES: Readonly<Record<ScenarioName, string>> = Object.freeze({
  steady: 'normal life: periodic re-selection only',
  'server-outage': 'the central server is down for 24 h: every relay answers 503',
  'relay-loss': 'the busiest relay dies (no ICMP, no TCP) and stays down',
  flap: 'every endpoint loses its network for 10 minutes',
  'new-relay': 'a relay is added to the relay list',
});

export type FleetEventKind = 'server-down' | 'server-up' | 'relay-down' | 'network-down' | 'network-up' | 'relay-added';

export interface FleetEvent {
  atSeconds: number;
  kind: FleetEventKind;
  /** For pictures and summaries, e.g. "server down". */
  label: string;
}

export interface ScenarioPlan {
  name: ScenarioName;
  /** Endpoints are installed at random over [-warmupSeconds, 0); only [0, durationSeconds) is measured. */
  warmupSeconds: number;
  durationSeconds: number;
  events: FleetEvent[];
  /** When the trouble ends: `secondsToRecover` counts from here. Null for `steady`. */
  recoveryFromSeconds: number | null;
  /** Periods of trouble, for pictures. */
  spans: Array<{ fromSeconds: number; toSeconds: number; label: string }>;
}

export type ScenarioSettings = Pick<
  Settings,
  'intervalSeconds' | 'resistFailureIntervalSeconds' | 'maxRetryIntervalSeconds' | 'jitter'
>;

export interface PlanScenarioOptions {
  /** How long `steady` runs. @default 7 */
  days?: number;
  /** When the scenario's trouble starts, after the measured window opens. @default 7200 (2 h of normal life first) */
  eventAtSeconds?: number;
  /** @default 86400 (24 h) */
  outageSeconds?: number;
  /** @default 600 (10 minutes) */
  flapSeconds?: number;
  /** Overrides the computed length of the run (tests). */
  durationSeconds?: number;
}

export const STEADY_DAYS_DEFAULT = 7;
export const EVENT_AT_DEFAULT_SECONDS = 7200;
export const OUTAGE_DEFAULT_SECONDS = 86_400;
export const FLAP_DEFAULT_SECONDS = 600;
const HOUR_SECONDS = 3600;

/**
 * Time the fleet is given to settle after the trouble ends: one resist-failure interval, the longest
 * back-off with its jitter, one periodic re-selection interval (so the re-selections the trouble put in
 * step show), and an hour.
 */
export function recoveryAllowanceSeconds(settings: ScenarioSettings): number {
  return (
    settings.resistFailureIntervalSeconds +
    settings.maxRetryIntervalSeconds * (1 + settings.jitter) +
    Math.max(settings.intervalSeconds, HOUR_SECONDS) +
    HOUR_SECONDS
  );
}

export function planScenario(
  name: ScenarioName,
  settings: ScenarioSettings,
  options: PlanScenarioOptions = {},
): ScenarioPlan {
  const warmupSeconds = Math.max(settings.intervalSeconds, HOUR_SECONDS);
  const at = options.eventAtSeconds ?? EVENT_AT_DEFAULT_SECONDS;
  const after = (end: number): number =>
    options.durationSeconds ?? Math.ceil((end + recoveryAllowanceSeconds(settings)) / 300) * 300;
  /** Trouble from `at` (event `down`) to `end` (event `up`), shown as a span; recovery counts from `end`. */
  const trouble = (
    end: number,
    [down, downLabel]: [FleetEventKind, string],
    [up, upLabel]: [FleetEventKind, string],
  ): ScenarioPlan => ({
    name,
    warmupSeconds,
    durationSeconds: after(end),
    events: [
      { atSeconds: at, kind: down, label: downLabel },
      { atSeconds: end, kind: up, label: upLabel },
    ],
    recoveryFromSeconds: end,
    spans: [{ fromSeconds: at, toSeconds: end, label: downLabel }],
  });
  /** One change at `at` that stays; recovery counts from it. */
  const lasting = (kind: FleetEventKind, label: string): ScenarioPlan => ({
    name,
    warmupSeconds,
    durationSeconds: after(at),
    events: [{ atSeconds: at, kind, label }],
    recoveryFromSeconds: at,
    spans: [],
  });
  switch (name) {
    case 'steady': {
      const durationSeconds = options.durationSeconds ?? Math.round((options.days ?? STEADY_DAYS_DEFAULT) * 86_400);
      return { name, warmupSeconds, durationSeconds, events: [], recoveryFromSeconds: null, spans: [] };
    }
    case 'server-outage':
      return trouble(
        at + (options.outageSeconds ?? OUTAGE_DEFAULT_SECONDS),
        ['server-down', 'server down'],
        ['server-up', 'server back'],
      );
    case 'relay-loss':
      return lasting('relay-down', 'busiest relay dies');
    case 'flap':
      return trouble(
        at + (options.flapSeconds ?? FLAP_DEFAULT_SECONDS),
        ['network-down', 'network down'],
        ['network-up', 'network back'],
      );
    case 'new-relay':
      return lasting('relay-added', 'relay added');
  }
}
