/**
 * `relay-select estimate` (DESIGN §14): fleet-wide echo requests and Time Exceeded per second, in
 * steady state and at the worst moment of each scenario, in closed form — from the settings, the
 * distance profile and the fleet size, with no endpoint and no packet simulated.
 *
 * The model, per endpoint behaviour:
 * - A selection costs what `estimateFootprint` says for each distance profile (weighted by clients).
 * - Cron runs every endpoint in the first minute of every 5-minute block (a random sleep of 0–59 s), so
 *   a run due at time x happens at the first tick ≥ x; this "next tick" step is applied to whole
 *   distributions of due times (`quantize`).
 * - Steady state: phases are spread evenly; each endpoint selects every P seconds, where P is the
 *   interval plus the probe plus the expected wait for the next tick; a block holds N·300/P selections.
 * - Scenarios move the fleet as cohorts: a distribution over time of when each cohort's next run is
 *   due, pushed through the rules of DESIGN §7 (failure clock, resist-failure, back-off with or
 *   without jitter, periodic re-selection) by shifting, spreading by jitter, and the next-tick step.
 * - Subnet cooperation (`agent`): the same selections as `default`; in each subnet a selection that finds
 *   no measurement younger than the table's validity V makes the leader measure (a counter with dead
 *   time V fed by the subnet's share of the selections, as Poisson arrivals: per second, a measurement
 *   with probability (1 − e^(−λ)) × (1 − the measurements of the last V seconds)), and every selection
 *   by a follower adds one echo (the confirmation). Each profile stands for `subnets` subnets alike.
 * - Rates are per second averaged over each minute, as `simulate` reports them. The worst minute is the
 *   expected maximum over the run of minutes whose packet counts are sums over a Poisson number of
 *   selections (mean and variance from the cohorts and the footprints), the minutes of steady state
 *   counted as independent only as far as phases drift from one period to the next.
 */
import type { Settings } from '../config/settings.js';
import type { TimeExceededLimit } from '../probe/memory-transport.js';
import { estimateFootprint, type FootprintConditions } from './footprint-estimate.js';
import { FLEET_MODELS, peerTableValiditySeconds, type FleetModel, type ModelName } from './models.js';
import { busiestRelayIndex, expectedClientsPerRelay, type DistanceProfile } from './profile.js';
import {
  planScenario,
  SCENARIOS,
  type PlanScenarioOptions,
  type ScenarioName,
  type ScenarioPlan,
} from './scenarios.js';
import { CRON_DEFAULT, type CronSchedule } from './simulate.js';

export interface EstimateOptions {
  settings: Settings;
  /** Distance profiles of the fleet (clients each), with the relays of the pool selection settles in. */
  profiles: DistanceProfile[];
  /** Profiles once the `new-relay` scenario's relay is listed (the same clients); default: `profiles`. */
  profilesWithNewRelay?: DistanceProfile[];
  /** @default every scenario */
  scenarios?: readonly ScenarioName[];
  /** Timelines to use instead of `scenarios` planned with `scenarioOptions` (e.g. the ones `simulate` ran). */
  plans?: readonly ScenarioPlan[];
  /** @default default and bigfix */
  models?: readonly ModelName[];
  scenarioOptions?: PlanScenarioOptions;
  /** @default Linux's: burst 6, then 1 per second */
  timeExceededLimit?: TimeExceededLimit | null;
  /** @default CRON_DEFAULT */
  cron?: CronSchedule;
  /** @default 60 */
  bucketSeconds?: number;
  /** Reuses probe costs between estimates of the same profiles (e.g. while searching settings). */
  cache?: EstimateCache;
}

/** Probe costs by model and probe settings, for estimates of the same profiles. */
export interface EstimateCache {
  footprints: Map<string, Record<FootprintKind, MeanFootprint>>;
}

export function createEstimateCache(): EstimateCache {
  return { footprints: new Map() };
}

export interface RateEstimate {
  mean: number;
  peak: number;
}

export interface ScenarioEstimate {
  echoRequestsPerSecond: RateEstimate;
  timeExceededPerSecond: RateEstimate;
  ttlExpiredPerSecond: RateEstimate;
  /** Expected selections in the run. */
  selections: number;
  durationSeconds: number;
}

export interface ModelEstimate {
  /** Steady state: mean rates. */
  steady: {
    echoRequestsPerSecond: number;
    timeExceededPerSecond: number;
    ttlExpiredPerSecond: number;
    worstMinuteEchoRequestsPerSecond: number;
  };
  /** The worst minute of any scenario estimated. */
  worst: { scenario: ScenarioName; echoRequestsPerSecond: number; timeExceededPerSecond: number };
  scenarios: Partial<Record<ScenarioName, ScenarioEstimate>>;
  /** Per selection, averaged over the fleet in steady state. */
  perSelection: { echoRequests: number; ttlExpired: number; timeExceeded: number; durationSeconds: number };
  /** Seconds between two periodic selections of one endpoint, cron's wait included. */
  periodSeconds: number;
}

export interface FleetEstimate {
  clients: number;
  models: Partial<Record<ModelName, ModelEstimate>>;
}

export function estimateFleet(options: EstimateOptions): FleetEstimate {
  const clients = options.profiles.reduce((sum, profile) => sum + profile.clients, 0);
  const result: FleetEstimate = { clients, models: {} };
  for (const name of options.models ?? ['default', 'bigfix'])
    result.models[name] = estimateModel(options, FLEET_MODELS[name]);
  return result;
}

/** What one selection costs, averaged over the fleet's profiles: per offset second and in total. */
export interface MeanFootprint {
  echoBySecond: number[];
  timeExceededBySecond: number[];
  echo: number;
  echoSquared: number;
  timeExceeded: number;
  timeExceededSquared: number;
  ttlExpired: number;
  durationSeconds: number;
}

/**
 * Which network a selection probes: as normal, with the lost relay down (for the fleet at large, and
 * for the lost relay's own endpoints, whose subnets are the ones that lose their nearest relay), with
 * the network down, or with the added relay listed.
 */
export type FootprintKind = 'normal' | 'relay-lost' | 'relay-lost-cohort' | 'network-down' | 'new-relay';

/** One model's estimate (see `estimateFleet`). */
export function estimateModel(options: EstimateOptions, model: FleetModel): ModelEstimate {
  const settings = model.settingsFor(options.settings);
  const cron = options.cron ?? CRON_DEFAULT;
  const bucketSeconds = options.bucketSeconds ?? 60;
  let relayCount = 1;
  for (const profile of options.profiles)
    for (const relay of profile.relays) relayCount = Math.max(relayCount, relay.index + 1);
  const lostRelay = busiestRelayIndex(options.profiles, relayCount);
  const lostClients = expectedClientsPerRelay(options.profiles, relayCount)[lostRelay] ?? 0;
  const lostShare = (profile: DistanceProfile): number =>
    expectedClientsPerRelay([profile], relayCount)[lostRelay] ?? 0;
  const footprintSettings = {
    strategy: settings.probe.strategy,
    maximumTtlToPing: settings.maximumTtlToPing,
    probe: settings.probe,
    timeExceededLimit: options.timeExceededLimit === undefined ? { burst: 6, perSecond: 1 } : options.timeExceededLimit,
  };
  const mean = (
    profiles: DistanceProfile[],
    conditions: FootprintConditions,
    weight?: (profile: DistanceProfile) => number,
  ): MeanFootprint =>
    averageFootprints(profiles, (profile) => estimateFootprint(profile, footprintSettings, conditions), weight);
  const cacheKey = JSON.stringify(footprintSettings);
  let footprints = options.cache?.footprints.get(cacheKey);
  if (footprints === undefined) {
    footprints = {
      normal: mean(options.profiles, {}),
      'relay-lost': mean(
        options.profiles,
        { down: new Set([lostRelay]) },
        (profile) => profile.clients - lostShare(profile),
      ),
      'relay-lost-cohort': mean(options.profiles, { down: new Set([lostRelay]) }, lostShare),
      'network-down': mean(options.profiles, { linkDown: true }),
      'new-relay': mean(options.profilesWithNewRelay ?? options.profiles, {}),
    };
    options.cache?.footprints.set(cacheKey, footprints);
  }
  const clients = options.profiles.reduce((sum, profile) => sum + profile.clients, 0);
  const ticks = new TickModel(cron);
  const periodSeconds = ticks.expectedElapsed(settings.intervalSeconds + footprints.normal.durationSeconds);
  const scenarios: Partial<Record<ScenarioName, ScenarioEstimate>> = {};
  const cooperation = model.sharesSubnetProbe ? cooperationOf(options.profiles, settings, footprints.normal) : null;
  const estimatePlan = (plan: ScenarioPlan): ScenarioEstimate =>
    new ScenarioFlows(
      plan,
      settings,
      model,
      ticks,
      clients,
      footprints,
      periodSeconds,
      lostClients,
      cooperation,
    ).estimate(bucketSeconds);
  // Planned from the operator's settings, as `simulate` plans them: both models live the same timeline.
  const plans =
    options.plans ??
    (options.scenarios ?? SCENARIOS).map((name) => planScenario(name, options.settings, options.scenarioOptions));
  for (const plan of plans) scenarios[plan.name] = estimatePlan(plan);
  const steadyPlan = scenarios.steady;
  const normal = footprints.normal;
  // Cooperation's steady cost depends on how selections bunch in time: it is read off a steady run.
  const cooperativeSteady =
    cooperation === null ? null : (steadyPlan ?? estimatePlan(planScenario('steady', options.settings, { days: 1 })));
  const steadyRate = (perSelection: number, cooperative?: RateEstimate): number =>
    cooperative?.mean ?? (clients * perSelection) / periodSeconds;
  const steady = {
    echoRequestsPerSecond: steadyRate(normal.echo, cooperativeSteady?.echoRequestsPerSecond),
    timeExceededPerSecond: steadyRate(normal.timeExceeded, cooperativeSteady?.timeExceededPerSecond),
    ttlExpiredPerSecond: steadyRate(normal.ttlExpired, cooperativeSteady?.ttlExpiredPerSecond),
  };
  const worstName = (Object.keys(scenarios) as ScenarioName[]).reduce((best, name) =>
    scenarios[name]!.echoRequestsPerSecond.peak > scenarios[best]!.echoRequestsPerSecond.peak ? name : best,
  );
  return {
    steady: {
      ...steady,
      worstMinuteEchoRequestsPerSecond: steadyPlan?.echoRequestsPerSecond.peak ?? Number.NaN,
    },
    worst: {
      scenario: worstName,
      echoRequestsPerSecond: scenarios[worstName]!.echoRequestsPerSecond.peak,
      timeExceededPerSecond: scenarios[worstName]!.timeExceededPerSecond.peak,
    },
    scenarios,
    // With cooperation, what a selection costs on average: its share of the leader's measurements and its confirmation.
    perSelection: {
      echoRequests: cooperation === null ? normal.echo : (steady.echoRequestsPerSecond * periodSeconds) / clients,
      ttlExpired: cooperation === null ? normal.ttlExpired : (steady.ttlExpiredPerSecond * periodSeconds) / clients,
      timeExceeded:
        cooperation === null ? normal.timeExceeded : (steady.timeExceededPerSecond * periodSeconds) / clients,
      durationSeconds: normal.durationSeconds,
    },
    periodSeconds,
  };
}

/** What the closed form needs of subnet cooperation: the table's validity and the subnets by size. */
interface Cooperation {
  /** Seconds from a measurement's start until a selection no longer adopts it. */
  validitySeconds: number;
  /** Subnets of each size (endpoints). */
  subnets: Array<{ count: number; clients: number }>;
  /** Subnets in all: the leaders, whose selections send no confirmation. */
  subnetCount: number;
}

function cooperationOf(profiles: DistanceProfile[], settings: Settings, normal: MeanFootprint): Cooperation {
  const bySize = new Map<number, number>();
  let subnetCount = 0;
  for (const profile of profiles) {
    const count = Math.max(1, profile.subnets ?? 1);
    const size = profile.clients / count;
    bySize.set(size, (bySize.get(size) ?? 0) + count);
    subnetCount += count;
  }
  return {
    validitySeconds: peerTableValiditySeconds(settings) + Math.round(normal.durationSeconds),
    subnets: [...bySize].map(([clients, count]) => ({ clients, count })),
    subnetCount,
  };
}

/** A follower's confirmation: one echo at the maximum TTL, answered by the relay (no TTL expires). */
const CONFIRMATION: MeanFootprint = {
  echoBySecond: [1],
  timeExceededBySecond: [0],
  echo: 1,
  echoSquared: 1,
  timeExceeded: 0,
  timeExceededSquared: 0,
  ttlExpired: 0,
  durationSeconds: 0,
};

function averageFootprints(
  profiles: DistanceProfile[],
  estimate: (profile: DistanceProfile) => ReturnType<typeof estimateFootprint>,
  weight: (profile: DistanceProfile) => number = (profile) => profile.clients,
): MeanFootprint {
  const total = profiles.reduce((sum, profile) => sum + weight(profile), 0) || 1;
  const result: MeanFootprint = {
    echoBySecond: [],
    timeExceededBySecond: [],
    echo: 0,
    echoSquared: 0,
    timeExceeded: 0,
    timeExceededSquared: 0,
    ttlExpired: 0,
    durationSeconds: 0,
  };
  for (const profile of profiles) {
    if (weight(profile) === 0) continue;
    const share = weight(profile) / total;
    const one = estimate(profile);
    one.echoBySecond.forEach(
      (count, second) => (result.echoBySecond[second] = (result.echoBySecond[second] ?? 0) + share * count),
    );
    one.timeExceededBySecond.forEach(
      (count, second) =>
        (result.timeExceededBySecond[second] = (result.timeExceededBySecond[second] ?? 0) + share * count),
    );
    result.echo += share * one.echoRequests;
    result.echoSquared += share * one.echoRequests ** 2;
    result.timeExceeded += share * one.timeExceeded;
    result.timeExceededSquared += share * one.timeExceeded ** 2;
    result.ttlExpired += share * one.ttlExpired;
    result.durationSeconds += share * one.durationSeconds;
  }
  result.echoBySecond = Array.from(result.echoBySecond, (value) => value ?? 0);
  result.timeExceededBySecond = Array.from(result.timeExceededBySecond, (value) => value ?? 0);
  return result;
}

/** What a relay answers while the central server is down (the server-outage scenario). */
const UPSTREAM_DOWN = { kind: 'http', statusCode: 503, body: '' } as const;

/** Cron's ticks: block starts every `periodSeconds`, each run after a whole random sleep in [0, splay). */
class TickModel {
  constructor(readonly cron: CronSchedule) {}

  /**
   * Where the mass due at each whole second runs: at the first tick at or after it. Each block draws a
   * fresh sleep s (uniform in [0, splay)): mass due at residue r of a block runs at `block + s` for each
   * s ≥ r (1/splay each); with probability min(1, r/splay) it misses its block and runs at the next
   * block's tick, whichever s that block draws.
   */
  quantize(due: Float64Array, offset: number): Float64Array {
    const { periodSeconds, splaySeconds } = this.cron;
    const ticks = new Float64Array(due.length);
    const firstBlock = Math.floor(offset / periodSeconds);
    const lastBlock = Math.floor((offset + due.length - 1) / periodSeconds);
    let carried = 0;
    for (let block = firstBlock; block <= lastBlock + 1; block += 1) {
      const start = block * periodSeconds;
      let running = 0;
      let missing = 0;
      for (let splay = 0; splay < splaySeconds; splay += 1) {
        const at = start + splay - offset;
        const mass = at >= 0 && at < due.length ? due[at]! : 0;
        running += mass;
        missing += (mass * splay) / splaySeconds;
        if (at >= 0 && at < ticks.length) ticks[at]! += (running + carried) / splaySeconds;
      }
      for (let residue = splaySeconds; residue < periodSeconds; residue += 1) {
        const at = start + residue - offset;
        if (at >= 0 && at < due.length) missing += due[at]!;
      }
      carried = missing;
    }
    return ticks;
  }

  /** Expected time from a tick to the first tick at least `delaySeconds` later. */
  expectedElapsed(delaySeconds: number): number {
    const { periodSeconds, splaySeconds } = this.cron;
    let sum = 0;
    for (let from = 0; from < splaySeconds; from += 1) {
      for (let to = 0; to < splaySeconds; to += 1) {
        const due = from + delaySeconds;
        const block = Math.floor(due / periodSeconds) * periodSeconds;
        const tick = block + to >= due ? block + to : block + periodSeconds + to;
        sum += tick - from;
      }
    }
    return sum / (splaySeconds * splaySeconds);
  }

  /** Probability that a run `delaySeconds` after a tick lands one block later than the nearest. */
  lateBlockProbability(delaySeconds: number): number {
    const { periodSeconds, splaySeconds } = this.cron;
    let late = 0;
    const blocks = new Map<number, number>();
    for (let from = 0; from < splaySeconds; from += 1) {
      for (let to = 0; to < splaySeconds; to += 1) {
        const due = from + delaySeconds;
        const block = Math.floor(due / periodSeconds) * periodSeconds;
        const offset = block + to >= due ? block : block + periodSeconds;
        blocks.set(offset, (blocks.get(offset) ?? 0) + 1);
      }
    }
    const counts = [...blocks.entries()].sort((a, b) => a[0] - b[0]);
    if (counts.length > 1) late = counts[counts.length - 1]![1] / (splaySeconds * splaySeconds);
    return late;
  }
}

/** Selection starts over the run, by footprint kind, pushed through DESIGN §7's rules as cohorts. */
class ScenarioFlows {
  private readonly durationSeconds: number;
  /** Selection starts per whole second of the measured window, by the network they probe. */
  private readonly starts = new Map<FootprintKind, Float64Array>();

  constructor(
    private readonly plan: ScenarioPlan,
    private readonly settings: Settings,
    private readonly model: FleetModel,
    private readonly ticks: TickModel,
    private readonly clients: number,
    private readonly footprints: Record<FootprintKind, MeanFootprint>,
    private readonly periodSeconds: number,
    private readonly lostClients: number,
    private readonly cooperation: Cooperation | null,
  ) {
    this.durationSeconds = plan.durationSeconds;
  }

  private startsOf(kind: FootprintKind): Float64Array {
    let series = this.starts.get(kind);
    if (series === undefined) {
      series = new Float64Array(this.durationSeconds);
      this.starts.set(kind, series);
    }
    return series;
  }

  estimate(bucketSeconds: number): ScenarioEstimate {
    this.build();
    return this.measure(bucketSeconds);
  }

  private eventAt(kind: string): number | null {
    return this.plan.events.find((event) => event.kind === kind)?.atSeconds ?? null;
  }

  private kindAt(atSeconds: number): FootprintKind {
    switch (this.plan.name) {
      case 'relay-loss':
        return atSeconds >= this.eventAt('relay-down')! ? 'relay-lost' : 'normal';
      case 'flap':
        return atSeconds >= this.eventAt('network-down')! && atSeconds < this.eventAt('network-up')!
          ? 'network-down'
          : 'normal';
      case 'new-relay':
        return atSeconds >= this.eventAt('relay-added')! ? 'new-relay' : 'normal';
      default:
        return 'normal';
    }
  }

  /** Adds `mass` endpoints selecting in steady state, evenly over [from, to), in cron's pattern. */
  private addSteady(mass: number, from: number, to: number): void {
    this.add(this.steadyRuns(mass, from, to));
  }

  /** The runs of `mass` endpoints selecting in steady state, evenly over [from, to), in cron's pattern. */
  private steadyRuns(mass: number, from: number, to: number): Float64Array {
    const runs = new Float64Array(this.durationSeconds);
    const { periodSeconds, splaySeconds } = this.ticks.cron;
    const perTick = (mass * periodSeconds) / this.periodSeconds / splaySeconds;
    for (let block = Math.floor(from / periodSeconds); block * periodSeconds < to; block += 1) {
      for (let splay = 0; splay < splaySeconds; splay += 1) {
        const at = block * periodSeconds + splay;
        if (at >= from && at < to && at < this.durationSeconds) runs[at]! += perTick;
      }
    }
    return runs;
  }

  /** The ticks at which `mass` endpoints first run at or after `atSeconds` (a wake-up by an event). */
  private wakeAt(mass: number, atSeconds: number): Float64Array {
    const due = new Float64Array(this.durationSeconds);
    if (atSeconds < this.durationSeconds) due[Math.ceil(atSeconds)] = mass;
    return this.ticks.quantize(due, 0);
  }

  /** Runs `delaySeconds` (± `jitter`) after each run of `runs`, at the next tick. */
  private after(runs: Float64Array, delaySeconds: number, jitter: number): Float64Array {
    const due = new Float64Array(this.durationSeconds);
    const low = delaySeconds * (1 - jitter);
    const high = delaySeconds * (1 + jitter);
    const width = high - low;
    if (width < 1) {
      const shift = Math.ceil(low);
      for (let at = 0; at + shift < due.length; at += 1) due[at + shift]! += runs[at]!;
      return this.ticks.quantize(due, 0);
    }
    // A delay uniform in [low, high]: the run is due in second t (at the next whole second ≥ due) with
    // the share of [t − 1, t] the delay interval covers. With F(x) = Σ mass(at) · clamp(x − at − low, 0, width),
    // second t gets (F(t) − F(t − 1)) / width; F comes from prefix sums of mass and of at · mass.
    const count = runs.length;
    const mass = new Float64Array(count + 1);
    const moment = new Float64Array(count + 1);
    for (let at = 0; at < count; at += 1) {
      mass[at + 1] = mass[at]! + runs[at]!;
      moment[at + 1] = moment[at]! + at * runs[at]!;
    }
    const upTo = (index: number, table: Float64Array): number => (index < 0 ? 0 : table[Math.min(count, index + 1)]!);
    const ramp = (x: number): number => {
      const first = Math.ceil(x - high);
      const last = Math.floor(x - low);
      const inRamp =
        last >= first
          ? (x - low) * (upTo(last, mass) - upTo(first - 1, mass)) - (upTo(last, moment) - upTo(first - 1, moment))
          : 0;
      return inRamp + width * upTo(first - 1, mass);
    };
    let previous = ramp(0);
    for (let target = 1; target < due.length; target += 1) {
      const current = ramp(target);
      due[target] = (current - previous) / width;
      previous = current;
    }
    return this.ticks.quantize(due, 0);
  }

  /** Whether a cohort still holds a share of an endpoint worth following (float dust does not). */
  private matters(runs: Float64Array): boolean {
    let total = 0;
    for (const mass of runs) total += mass;
    return total > 1e-6;
  }

  /** Selections at `runs`; their network is the one of their time unless `kind` says otherwise. */
  private add(runs: Float64Array, kind?: FootprintKind): void {
    for (let at = 0; at < runs.length; at += 1)
      if (runs[at]! !== 0) this.startsOf(kind ?? this.kindAt(at))[at]! += runs[at]!;
  }

  /** Periodic re-selection of a cohort that selected at `runs`, to the end of the run. */
  private addPeriodic(runs: Float64Array, kind?: FootprintKind): void {
    let current = runs;
    const delay = this.settings.intervalSeconds + this.footprints[kind ?? 'normal'].durationSeconds;
    for (;;) {
      current = this.after(current, delay, 0);
      if (!this.matters(current)) return;
      this.add(current, kind);
    }
  }

  private split(runs: Float64Array, atSeconds: number): { before: Float64Array; after: Float64Array } {
    const cut = Math.max(0, Math.min(runs.length, Math.ceil(atSeconds)));
    const before = new Float64Array(runs.length);
    const after = new Float64Array(runs.length);
    before.set(runs.subarray(0, cut));
    after.set(runs.subarray(cut), cut);
    return { before, after };
  }

  private retryDelay(attempt: number): number {
    return Math.min(this.settings.maxRetryIntervalSeconds, this.settings.minRetryIntervalSeconds * 2 ** (attempt - 1));
  }

  /**
   * Failed selections at `runs` retry with the back-off (DESIGN §7) until they run at or after
   * `succeedFrom`; every retry is a selection. Returns the successful selections.
   */
  private addRetries(failed: Float64Array, succeedFrom: number, durationSeconds: number): Float64Array {
    let pending = failed;
    const succeeded = new Float64Array(this.durationSeconds);
    for (let attempt = 1; attempt < 64; attempt += 1) {
      const next = this.after(pending, durationSeconds + this.retryDelay(attempt), this.settings.jitter);
      if (!this.matters(next)) break;
      this.add(next);
      const { before, after } = this.split(next, succeedFrom);
      for (let at = 0; at < after.length; at += 1) succeeded[at]! += after[at]!;
      pending = before;
      if (!this.matters(pending)) break;
    }
    return succeeded;
  }

  private build(): void {
    const { clients } = this;
    const end = this.durationSeconds;
    const durationOf = (kind: FootprintKind): number => this.footprints[kind].durationSeconds;
    switch (this.plan.name) {
      case 'steady':
      case 'new-relay':
        this.addSteady(clients, 0, end);
        return;
      case 'server-outage': {
        const down = this.eventAt('server-down')!;
        const up = this.eventAt('server-up')!;
        const woken = this.wakeAt(clients, down);
        const firstBlockEnd = (Math.floor(down / this.ticks.cron.periodSeconds) + 1) * this.ticks.cron.periodSeconds;
        this.addSteady(clients, 0, firstBlockEnd);
        const dueShare = this.ticks.cron.periodSeconds / this.periodSeconds;
        if (this.model.readHealth(UPSTREAM_DOWN).health === 'upstream-down') {
          // Every endpoint hears 503 at its next run and backs off (with jitter) until a check after the
          // server is back finds it healthy; the deferred periodic re-selection then runs.
          let checks = woken;
          const recovered = new Float64Array(end);
          for (let attempt = 1; attempt < 64 && this.matters(checks); attempt += 1) {
            const next = this.after(checks, this.retryDelay(attempt), this.settings.jitter);
            const { before, after } = this.split(next, up);
            for (let at = 0; at < end; at += 1) recovered[at]! += after[at]!;
            checks = before;
          }
          // A check that finds the server back selects only if the periodic re-selection fell due
          // meanwhile (due times are spread over one period after the outage began); the others keep
          // their relay and re-select when their period ends, once they have recovered.
          const firstDue = firstBlockEnd;
          const recoveredSoFar = new Float64Array(end);
          let running = 0;
          for (let at = 0; at < end; at += 1) {
            running += recovered[at]!;
            recoveredSoFar[at] = running / clients;
          }
          const deferred = recovered.map(
            (mass, at) => mass * Math.min(1, Math.max(0, (at - firstDue) / this.periodSeconds)),
          );
          const onTime = this.steadyRuns(clients, firstDue, firstDue + this.periodSeconds).map(
            (mass, at) => mass * recoveredSoFar[at]!,
          );
          for (const runs of [deferred, onTime]) {
            this.add(runs);
            this.addPeriodic(runs);
          }
          return;
        }
        // bigfix: the periodic selections due in the first block fail at once; everyone else starts the
        // failure clock and selects when resist-failure runs out; every selection fails until the
        // server is back, then the back-off without jitter brings the next attempt.
        const failingFirst = this.after(woken, this.settings.resistFailureIntervalSeconds, 0);
        const firstFailures = new Float64Array(end);
        for (let at = 0; at < end; at += 1)
          firstFailures[at] = woken[at]! * dueShare + failingFirst[at]! * (1 - dueShare);
        const { before, after: lateFirsts } = this.split(firstFailures, up);
        const beforeFirstBlock = this.split(before, firstBlockEnd);
        // The first block's periodic selections are already in the steady part.
        this.add(beforeFirstBlock.after);
        this.add(lateFirsts);
        const succeeded = this.addRetries(before, up, durationOf('normal'));
        for (let at = 0; at < end; at += 1) succeeded[at]! += lateFirsts[at]!;
        this.addPeriodic(succeeded);
        return;
      }
      case 'relay-loss': {
        const lost = this.eventAt('relay-down')!;
        const others = clients - this.lostClients;
        this.addSteady(others, 0, end);
        this.addSteady(this.lostClients, 0, lost);
        // Its endpoints find it failing at their next run and select when resist-failure runs out.
        const woken = this.wakeAt(this.lostClients, lost);
        const reselected = this.after(woken, this.settings.resistFailureIntervalSeconds, 0);
        this.add(reselected, 'relay-lost-cohort');
        this.addPeriodic(reselected, 'relay-lost-cohort');
        return;
      }
      case 'flap': {
        const down = this.eventAt('network-down')!;
        const up = this.eventAt('network-up')!;
        this.addSteady(clients, 0, down);
        // The periodic selections due while the network is down fail, and retry until it is back.
        const failed = this.steadyRuns(clients, down, up);
        this.add(failed);
        // A failure clock that outlasts the flap's end never makes anyone select: the wake-up at the
        // end finds the relay healthy.
        const stillDown = this.settings.resistFailureIntervalSeconds < up - down;
        if (stillDown) {
          const woken = this.wakeAt(clients, down);
          const resisted = this.split(this.after(woken, this.settings.resistFailureIntervalSeconds, 0), up).before;
          this.add(resisted);
          for (let at = 0; at < end; at += 1) failed[at]! += resisted[at]!;
        }
        const failedMass = failed.reduce((sum, mass) => sum + mass, 0);
        const succeeded = this.addRetries(failed, up, durationOf('network-down'));
        this.addSteady(Math.max(0, clients - failedMass), up, end);
        this.addPeriodic(succeeded);
        return;
      }
    }
  }

  /**
   * What sends packets when, as (footprint, starts per second): every selection's probe; with
   * cooperation, the leaders' measurements (of the network of their time) and the followers' confirmations.
   */
  private packetSources(): Array<[MeanFootprint, Float64Array]> {
    const cooperation = this.cooperation;
    if (cooperation === null) return [...this.starts].map(([kind, starts]) => [this.footprints[kind], starts]);
    const end = this.durationSeconds;
    const all = new Float64Array(end);
    for (const starts of this.starts.values()) for (let at = 0; at < end; at += 1) all[at]! += starts[at]!;
    const measurements = new Float64Array(end);
    const validity = cooperation.validitySeconds;
    for (const { count, clients } of cooperation.subnets) {
      const share = clients / this.clients;
      // One subnet: the chance of a measurement in each second, and their sum over the last `validity` seconds.
      const measured = new Float64Array(end);
      let recent = 0;
      for (let at = 0; at < end; at += 1) {
        if (at - validity - 1 >= 0) recent -= measured[at - validity - 1]!;
        measured[at] = (1 - Math.exp(-all[at]! * share)) * Math.max(0, 1 - recent);
        recent += measured[at]!;
        measurements[at]! += count * measured[at]!;
      }
    }
    const sources: Array<[MeanFootprint, Float64Array]> = [];
    for (const [kind, starts] of this.starts) {
      const measuredOfKind = starts.map((mass, at) => (mass === 0 ? 0 : (measurements[at]! * mass) / all[at]!));
      sources.push([this.footprints[kind], measuredOfKind]);
    }
    const followerShare = Math.max(0, 1 - cooperation.subnetCount / this.clients);
    sources.push([CONFIRMATION, all.map((mass) => mass * followerShare)]);
    return sources;
  }

  /** Mean and expected worst minute of each rate, from the selection starts. */
  private measure(bucketSeconds: number): ScenarioEstimate {
    const end = this.durationSeconds;
    const buckets = Math.ceil(end / bucketSeconds);
    const echoMean = new Float64Array(buckets);
    const echoVariance = new Float64Array(buckets);
    const teMean = new Float64Array(buckets);
    const teVariance = new Float64Array(buckets);
    let echoTotal = 0;
    let teTotal = 0;
    let expiredTotal = 0;
    let selections = 0;
    for (const starts of this.starts.values()) for (const mass of starts) selections += mass;
    for (const [footprint, starts] of this.packetSources()) {
      const spread = (
        at: number,
        mass: number,
        series: number[],
        meanOut: Float64Array,
        varianceOut: Float64Array,
        perSelection: number,
        squared: number,
      ): void => {
        series.forEach((count, offset) => {
          const bucket = Math.floor((at + offset) / bucketSeconds);
          if (bucket >= buckets || perSelection === 0) return;
          const share = count / perSelection;
          meanOut[bucket]! += mass * count;
          // A Poisson number of selections, each adding its share of a random footprint (the shares
          // of one selection that fall in one minute move together).
          varianceOut[bucket]! += mass * share * squared;
        });
      };
      for (let at = 0; at < end; at += 1) {
        const mass = starts[at]!;
        if (mass === 0) continue;
        echoTotal += mass * footprint.echo;
        teTotal += mass * footprint.timeExceeded;
        expiredTotal += mass * footprint.ttlExpired;
        spread(at, mass, footprint.echoBySecond, echoMean, echoVariance, footprint.echo, footprint.echoSquared);
        spread(
          at,
          mass,
          footprint.timeExceededBySecond,
          teMean,
          teVariance,
          footprint.timeExceeded,
          footprint.timeExceededSquared,
        );
      }
    }
    const independence = this.steadyIndependence();
    const echoPeak = expectedMaximum(echoMean, echoVariance, independence);
    return {
      echoRequestsPerSecond: { mean: echoTotal / end, peak: echoPeak / bucketSeconds },
      timeExceededPerSecond: {
        mean: teTotal / end,
        peak: expectedMaximum(teMean, teVariance, independence) / bucketSeconds,
      },
      ttlExpiredPerSecond: {
        mean: expiredTotal / end,
        peak:
          (echoPeak * (this.footprints.normal.ttlExpired / Math.max(1e-9, this.footprints.normal.echo))) /
          bucketSeconds,
      },
      selections,
      durationSeconds: end,
    };
  }

  /**
   * How many of the run's minutes count as independent draws, as a share. An endpoint returns every
   * P seconds, so a busy minute is busy again one period later, except as far as cron's random sleep
   * moves each endpoint by a block now and then: after k periods an endpoint is still in the same block
   * with about the largest probability of a binomial(k, q) (q: chance of landing one block late).
   */
  private steadyIndependence(): number {
    const periods = this.durationSeconds / this.periodSeconds;
    if (periods <= 1) return 1;
    const late = this.ticks.lateBlockProbability(
      this.settings.intervalSeconds + this.footprints.normal.durationSeconds,
    );
    let independent = 1;
    for (let k = 1; k < periods; k += 1) {
      const spread = k * late * (1 - late);
      const stay = spread <= 0 ? 1 : Math.min(1, 1 / Math.sqrt(2 * Math.PI * spread));
      independent += 1 - stay;
    }
    return Math.min(1, independent / periods);
  }
}

/**
 * E[max] of independent normal variables (mean[i], variance[i]) where each counts as `weight` draws:
 * ∫₀^∞ (1 − Π Φ((x − μᵢ)/σᵢ)^weight) dx, on a grid.
 */
function expectedMaximum(mean: Float64Array, variance: Float64Array, weight: number): number {
  // A minute whose mean lies many deviations below the largest mean cannot be the maximum: left out.
  let largestMean = 0;
  for (const mu of mean) largestMean = Math.max(largestMean, mu);
  const groups = new Map<string, { mean: number; sd: number; count: number }>();
  let top = 0;
  for (let index = 0; index < mean.length; index += 1) {
    const mu = mean[index]!;
    const sd = Math.sqrt(Math.max(0, variance[index]!));
    if ((mu <= 0 && sd <= 0) || mu + 8 * sd < largestMean) continue;
    const key = `${mu.toPrecision(9)}/${sd.toPrecision(9)}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { mean: mu, sd, count: 1 });
    else group.count += 1;
    top = Math.max(top, mu + 8 * sd);
  }
  if (top === 0) return 0;
  // Below the largest mean less eight of its deviations the product is 0 to double precision.
  const entries = [...groups.values()];
  const bottom = Math.max(
    0,
    entries.reduce((lowest, group) => Math.min(lowest, group.mean - 8 * group.sd), Number.POSITIVE_INFINITY),
  );
  const steps = 2000;
  const dx = (top - bottom) / steps;
  let integral = bottom;
  for (let step = 0; step < steps; step += 1) {
    const x = bottom + (step + 0.5) * dx;
    let logProduct = 0;
    for (const group of entries) {
      const cdf = group.sd === 0 ? (x >= group.mean ? 1 : 0) : normalCdf((x - group.mean) / group.sd);
      if (cdf <= 0) {
        logProduct = Number.NEGATIVE_INFINITY;
        break;
      }
      logProduct += group.count * weight * Math.log(cdf);
    }
    integral += (1 - Math.exp(logProduct)) * dx;
  }
  return integral;
}

function normalCdf(z: number): number {
  // Abramowitz & Stegun 7.1.26 on erf, good to 1.5e-7.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
