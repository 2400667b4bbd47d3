/**
 * The fleet simulator (DESIGN §14): discrete events on simulated time, deterministic for a seed.
 *
 * Each endpoint runs from cron every 5 minutes after a random sleep of 0–59 s, as
 * relay-samples/cron/relay-select.cron does, and each run is the real one: `decideCycle` (src/cycle),
 * on `check` the health answer of its relay read as the model reads it, on `select` the real
 * `selectRelay` (src/select: pools, ranking by rendezvous of the endpoint's client id, registration in
 * rank order) whose probe is the real engine (src/probe) over the in-memory transport, then
 * `applySelectionResult` and `computeNextDueAt`.
 *
 * What keeps 20,000 endpoints × a week fast, without changing what any endpoint does:
 * - A run whose decision cannot differ from the previous one is not repeated: between two runs that
 *   matter, nothing the decision reads changes (its state, the relay's answer, the network), so the
 *   next run that matters is the first cron tick at or after the decision's own `nextDueAt` — or, when
 *   an event changes what an endpoint's relay or network answers, the first tick after the event.
 *   `everyTick: true` runs every tick instead; a test checks both give the same counts.
 * - A probe is measured once per (subnet, network state, pool, strategy) and replayed for every
 *   endpoint of the subnet that probes that state (see probe-footprint.ts); its packets are counted
 *   for each endpoint and each router every time.
 * - A selection's outcome is kept per endpoint with the network state and relay answers it was made
 *   in, and reused while they stay the same (its inputs are then identical); `memoizeSelections:
 *   false` recomputes every time. Not with `tieBreak: random`, whose outcome is a fresh draw.
 * - Counters are sums per time bucket, never per-packet records.
 */
import { checkConfirmation } from '../agent/peer-table.js';
import type { Settings } from '../config/settings.js';
import {
  applySelectionResult,
  computeNextDueAt,
  decideCycle,
  toCycleSelectionResult,
  type CycleSelectionResult,
} from '../cycle/decide.js';
import { emptyState, type State } from '../cycle/state.js';
import { RelaySelectError } from '../errors.js';
import type { TimeExceededLimit } from '../probe/memory-transport.js';
import type { ProbeReport, ProbeResult, ProbeTarget } from '../probe/types.js';
import type { RegisterOutcome } from '../register/types.js';
import { buildPools } from '../relays/pools.js';
import { FAILOVER_POOL, MANUAL_POOL, ROOT_POOL, relayKey, type Relay } from '../relays/relay.js';
import { selectRelay } from '../select/select-relay.js';
import type { HostResolution, SelectionOutcome, SelectRelayDeps } from '../select/types.js';
import { EndpointAgenda } from './event-queue.js';
import { computeFleetPaths, type Fleet, type FleetPaths } from './fleet.js';
import { FLEET_MODELS, peerTableValiditySeconds, type FleetModel, type ModelName, type RelayAnswer } from './models.js';
import { measureProbeFootprint, type ProbeFootprint } from './probe-footprint.js';
import { busiestRelayIndex, profileFleet } from './profile.js';
import { DRAW, hashUnit } from './random.js';
import type { FleetEvent, ScenarioPlan } from './scenarios.js';

/** The cron file's schedule: every 5 minutes, after `sleep $((random % 60))`. */
export interface CronSchedule {
  /** @default 300 */
  periodSeconds: number;
  /** Sleep before each run: a whole number of seconds in [0, splaySeconds). @default 60 */
  splaySeconds: number;
}

export const CRON_DEFAULT: Readonly<CronSchedule> = Object.freeze({ periodSeconds: 300, splaySeconds: 60 });
/** Rates are per second, averaged over buckets of this many seconds (one cron minute). */
const BUCKET_DEFAULT_SECONDS = 60;
/** Simulated time 0: a Monday, midnight UTC. */
const SIMULATION_EPOCH = '2024-01-01T00:00:00.000Z';

export interface SimulateProgress {
  model: ModelName;
  /** Simulated seconds reached, from -warmupSeconds to durationSeconds. */
  atSeconds: number;
  durationSeconds: number;
}

export interface SimulateOptions {
  fleet: Fleet;
  /** The operator's settings; each model derives its endpoints' settings from them. */
  settings: Settings;
  scenario: ScenarioPlan;
  /** @default DEFAULT_MODELS: default and bigfix */
  models?: readonly ModelName[];
  /** @default 60 */
  bucketSeconds?: number;
  /** Routers' Time Exceeded limit per source. @default Linux's: burst 6, then 1 per second */
  timeExceededLimit?: TimeExceededLimit | null;
  /** @default CRON_DEFAULT */
  cron?: CronSchedule;
  /** Run the decision at every cron tick, even where it cannot change (slow; for checking). @default false */
  everyTick?: boolean;
  /** Reuse an endpoint's selection while its inputs are unchanged. @default true */
  memoizeSelections?: boolean;
  /** Called every few thousand runs. */
  onProgress?: (progress: SimulateProgress) => void;
  signal?: AbortSignal;
}

export interface RatePair {
  mean: number;
  peak: number;
}

export interface RelayLoad {
  relay: string;
  name: string | null;
  weight: number;
  clients: number;
}

export interface ModelRun {
  model: ModelName;
  summary: string;
  /** Per second, averaged over each bucket: mean over the measured window and the worst bucket. */
  echoRequestsPerSecond: RatePair;
  timeExceededPerSecond: RatePair;
  /** TTL expiries routers handled (their CPU work), whether or not the rate limit let a Time Exceeded out. */
  ttlExpiredPerSecond: RatePair;
  /** When the worst bucket of echo requests began, seconds into the measured window. */
  peakAtSeconds: number;
  /** Selections (probe + registration attempts) in the measured window. */
  selections: number;
  /** Packets in the measured window. */
  totals: { echoRequests: number; timeExceeded: number; ttlExpired: number };
  /** At the end of the run. `mean` is over the relays in the list. */
  clientsPerRelay: { max: number; mean: number; relays: RelayLoad[] };
  /** From the end of the trouble until every endpoint holds a healthy relay again (null: not within the run, or steady). */
  secondsToRecover: number | null;
  /** The router with the most Time Exceeded in one bucket. */
  busiestRouter: { name: string; timeExceededPerSecond: number; ttlExpiredPerSecond: number } | null;
  /** Echo requests per endpoint per day. */
  echoRequestsPerEndpointPerDay: { mean: number; max: number };
  /** Endpoints without a relay at the end. */
  endpointsWithoutRelay: number;
  /** Real probe-engine runs (distinct subnet × network state × pool); the rest were replays. */
  probeEngineRuns: number;
  /** Endpoint runs simulated (cron ticks whose decision could matter, or every tick with everyTick). */
  endpointRuns: number;
  series: {
    /** Per bucket, per second. */
    echoRequestsPerSecond: Float64Array;
    timeExceededPerSecond: Float64Array;
    ttlExpiredPerSecond: Float64Array;
    selections: Float64Array;
  };
}

export interface SimulationResult {
  clients: number;
  relays: number;
  subnets: number;
  routers: number;
  scenario: ScenarioPlan['name'];
  seed: number;
  durationSeconds: number;
  bucketSeconds: number;
  events: FleetEvent[];
  spans: ScenarioPlan['spans'];
  /** The relay the `relay-loss` scenario kills (relayKey), when it does. */
  lostRelay: string | null;
  models: Partial<Record<ModelName, ModelRun>>;
}

/** What the simulator may reuse between runs on the same fleet and settings: probes and selections. */
export interface SimulationCache {
  fleet: Fleet;
  settings: Settings;
  models: Map<ModelName, ModelCache>;
}

interface ModelCache {
  footprints: Map<string, ProbeFootprint>;
  /** Selections every endpoint behind one gateway shares (every registration refused), by gateway and state. */
  sharedFailures: Map<string, SelectionMemo>;
  /** The leaders of the first reachable pool, by gateway and network state. */
  leaders: Map<string, Leaders | null>;
  selections: Array<[SelectionMemo | undefined, SelectionMemo | undefined]>;
}

/**
 * A cache for several runs on one fleet with one set of settings (e.g. `steady` then `server-outage`):
 * both start from the same installed fleet, so their first selections are the same.
 */
export function createSimulationCache(fleet: Fleet, settings: Settings): SimulationCache {
  return { fleet, settings, models: new Map() };
}

/** The facts of a run every model shares: paths, the relay `relay-loss` kills, the result's frame. */
interface SimulationFrame {
  paths: FleetPaths;
  bucketSeconds: number;
  lostRelayIndex: number;
}

export function prepareSimulation(options: SimulateOptions): { frame: SimulationFrame; result: SimulationResult } {
  const paths = computeFleetPaths(options.fleet);
  const bucketSeconds = options.bucketSeconds ?? BUCKET_DEFAULT_SECONDS;
  if (!(bucketSeconds > 0) || !Number.isFinite(bucketSeconds))
    throw new RelaySelectError('USAGE', `bucket of ${bucketSeconds} s: expected a positive number of seconds`);
  const profiles = profileFleet(options.fleet, paths, options.settings.seekList);
  const lostRelayIndex = options.scenario.events.some((event) => event.kind === 'relay-down')
    ? busiestRelayIndex(profiles, options.fleet.relays.length)
    : -1;
  const result: SimulationResult = {
    clients: options.fleet.clientIds.length,
    relays: options.fleet.relays.length,
    subnets: options.fleet.subnets.length,
    routers: options.fleet.routers.length,
    scenario: options.scenario.name,
    seed: options.fleet.seed,
    durationSeconds: options.scenario.durationSeconds,
    bucketSeconds,
    events: options.scenario.events,
    spans: options.scenario.spans,
    lostRelay: lostRelayIndex >= 0 ? options.fleet.relays[lostRelayIndex]!.key : null,
    models: {},
  };
  return { frame: { paths, bucketSeconds, lostRelayIndex }, result };
}

/** Simulates every model of `options.models` in turn on the same fleet and events. */
export async function simulateFleet(options: SimulateOptions, cache?: SimulationCache): Promise<SimulationResult> {
  const { frame, result } = prepareSimulation(options);
  for (const name of options.models ?? DEFAULT_MODELS)
    result.models[name] = await simulateModel(options, name, frame, cache);
  return result;
}

/** One model on the fleet and events of `options`. */
export async function simulateModel(
  options: SimulateOptions,
  model: ModelName,
  frame: SimulationFrame = prepareSimulation(options).frame,
  cache?: SimulationCache,
): Promise<ModelRun> {
  if (cache !== undefined && (cache.fleet !== options.fleet || cache.settings !== options.settings)) {
    throw new RelaySelectError('INTERNAL', 'a simulation cache serves one fleet with one set of settings');
  }
  let modelCache = cache?.models.get(model);
  if (modelCache === undefined) {
    modelCache = {
      footprints: new Map(),
      sharedFailures: new Map(),
      leaders: new Map(),
      selections: Array.from({ length: options.fleet.clientIds.length }, () => [undefined, undefined]),
    };
    cache?.models.set(model, modelCache);
  }
  return new ModelSimulation(options, FLEET_MODELS[model], frame, modelCache).run();
}

export const DEFAULT_MODELS: readonly ModelName[] = ['default', 'bigfix'];

interface Leaders {
  pool: string;
  relays: Relay[];
  /** The probe results of `relays` only. */
  report: ProbeReport;
  /** Every probe a selection makes up to and including this pool. */
  footprints: ProbeFootprint[];
}

interface SelectionMemo {
  key: string;
  result: CycleSelectionResult;
  footprints: ProbeFootprint[];
  /** Relay index of the registered relay, -1 when none. */
  relayIndex: number;
}

type FootprintOptions = Parameters<typeof measureProbeFootprint>[0]['options'];

const UP_ANSWER: RelayAnswer = { kind: 'http', statusCode: 200, body: '{"accepted":true}' };
const UPSTREAM_DOWN_ANSWER: RelayAnswer = {
  kind: 'http',
  statusCode: 503,
  body: '{"accepted":false,"reason":"upstream server unreachable"}',
};
const FULL_ANSWER: RelayAnswer = { kind: 'http', statusCode: 429, body: '{"accepted":false,"reason":"full"}' };
const RELAY_DOWN_ANSWER: RelayAnswer = { kind: 'unreachable', detail: 'connection timed out' };
const NETWORK_DOWN_ANSWER: RelayAnswer = { kind: 'unreachable', detail: 'network unreachable' };

class ModelSimulation {
  private readonly fleet: Fleet;
  private readonly settings: Settings;
  private readonly scenario: ScenarioPlan;
  private readonly cron: CronSchedule;
  private readonly epochMs = Date.parse(SIMULATION_EPOCH);
  /** The fleet's relays, the spare one last. */
  private readonly allRelays: Fleet['relays'];
  private readonly relayIndexByKey: Map<string, number>;
  private readonly addressByHost: Map<string, string>;
  private readonly routerAddresses: readonly string[];
  private relayList: Relay[];
  private readonly relayInList: Uint8Array;
  private readonly relayUp: Uint8Array;
  private readonly relayClients: Int32Array;
  private readonly subnetLinkDown: Uint8Array;
  private serverDown = false;
  /** What a probe can see, as a key: relays down, whether the added relay is listed. */
  private networkKey = '';
  /** What a registration can be answered with, as a key: server down, relays full. */
  private answersKey = '';

  private readonly states: State[];
  private readonly currentRelay: Int32Array;
  private readonly unsettled: Uint8Array;
  private unsettledCount: number;
  private recoveredAtSeconds: number | null = null;
  private readonly lastSelectedAt: Float64Array;
  private readonly memos: Array<[SelectionMemo | undefined, SelectionMemo | undefined]>;
  private readonly agenda: EndpointAgenda;
  private readonly footprints: Map<string, ProbeFootprint>;
  private readonly sharedFailures: Map<string, SelectionMemo>;
  private readonly leaders: Map<string, Leaders | null>;
  /** Per subnet, until when its leader's measurement of each pool may be adopted (AGENT_MODEL). */
  private readonly tables: Array<Map<ProbeFootprint, number> | undefined> = [];
  private readonly tableValiditySeconds: number;
  private readonly registrationReadings = new Map<RelayAnswer, RegisterOutcome>();
  private readonly healthReadings = new Map<RelayAnswer, ReturnType<FleetModel['readHealth']>>();

  private readonly bucketCount: number;
  private readonly echo: Float64Array;
  private readonly expired: Float64Array;
  private readonly timeExceeded: Float64Array;
  private readonly selectionsPerBucket: Float64Array;
  private readonly routerTimeExceeded = new Map<number, Float32Array>();
  private readonly routerExpired = new Map<number, Float32Array>();
  private readonly endpointEcho: Float64Array;
  private probeEngineRuns = 0;
  private endpointRuns = 0;
  private selections = 0;

  private readonly paths: FleetPaths;
  private readonly bucketSeconds: number;
  private readonly lostRelayIndex: number;

  constructor(
    private readonly options: SimulateOptions,
    private readonly model: FleetModel,
    frame: SimulationFrame,
    cache: ModelCache,
  ) {
    this.paths = frame.paths;
    this.bucketSeconds = frame.bucketSeconds;
    this.lostRelayIndex = frame.lostRelayIndex;
    this.footprints = cache.footprints;
    this.memos = cache.selections;
    this.sharedFailures = cache.sharedFailures;
    this.leaders = cache.leaders;
    this.fleet = options.fleet;
    this.settings = model.settingsFor(options.settings);
    this.tableValiditySeconds = peerTableValiditySeconds(this.settings);
    this.scenario = options.scenario;
    this.cron = options.cron ?? CRON_DEFAULT;
    this.allRelays = [...this.fleet.relays, this.fleet.spareRelay];
    this.relayIndexByKey = new Map(this.allRelays.map((entry, index) => [entry.key, index]));
    this.addressByHost = new Map(this.allRelays.map((entry) => [entry.relay.host, entry.address]));
    this.routerAddresses = this.fleet.routers.map((router) => router.address);
    this.relayList = this.fleet.relays.map((entry) => entry.relay);
    this.relayInList = new Uint8Array(this.allRelays.length).fill(1, 0, this.fleet.relays.length);
    this.relayUp = new Uint8Array(this.allRelays.length).fill(1);
    this.relayClients = new Int32Array(this.allRelays.length);
    this.subnetLinkDown = new Uint8Array(this.fleet.subnets.length);
    const endpoints = this.fleet.clientIds.length;
    this.states = this.fleet.clientIds.map((clientId) => emptyState(clientId));
    this.currentRelay = new Int32Array(endpoints).fill(-1);
    this.unsettled = new Uint8Array(endpoints).fill(1);
    this.unsettledCount = endpoints;
    this.lastSelectedAt = new Float64Array(endpoints).fill(Number.NEGATIVE_INFINITY);
    this.agenda = new EndpointAgenda(endpoints);
    this.bucketCount = Math.ceil(this.scenario.durationSeconds / this.bucketSeconds);
    this.echo = new Float64Array(this.bucketCount);
    this.expired = new Float64Array(this.bucketCount);
    this.timeExceeded = new Float64Array(this.bucketCount);
    this.selectionsPerBucket = new Float64Array(this.bucketCount);
    this.endpointEcho = new Float64Array(endpoints);
    this.refreshNetworkKey();
    this.refreshAnswersKey();
  }

  async run(): Promise<ModelRun> {
    const { warmupSeconds, durationSeconds } = this.scenario;
    // Installed at random over the warm-up, so the measured window starts with a fleet whose periodic
    // re-selections are spread as a fleet installed over time has them.
    for (let endpoint = 0; endpoint < this.states.length; endpoint += 1) {
      const installedAt =
        -warmupSeconds + Math.floor(hashUnit(this.fleet.seed, DRAW.install, endpoint) * warmupSeconds);
      this.agenda.schedule(endpoint, this.tickAtOrAfter(endpoint, installedAt));
    }
    const events = [...this.scenario.events].sort((a, b) => a.atSeconds - b.atSeconds);
    let nextEvent = 0;
    let sinceProgress = 0;
    for (;;) {
      const tickAt = this.agenda.peekTime();
      const eventAt = nextEvent < events.length ? events[nextEvent]!.atSeconds : Number.POSITIVE_INFINITY;
      if (Math.min(tickAt, eventAt) >= durationSeconds) break;
      if (eventAt <= tickAt) {
        this.applyEvent(events[nextEvent]!);
        nextEvent += 1;
        continue;
      }
      const endpoint = this.agenda.pop();
      await this.runEndpoint(endpoint, tickAt);
      sinceProgress += 1;
      if (sinceProgress >= 5000) {
        sinceProgress = 0;
        if (this.options.signal?.aborted)
          throw new RelaySelectError('ABORTED', 'simulation aborted', { cause: this.options.signal.reason });
        this.options.onProgress?.({ model: this.model.name, atSeconds: tickAt, durationSeconds });
        // Let the event loop breathe (signals, progress output) during long runs.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return this.summarize();
  }

  /** The endpoint's first cron run at or after `atSeconds`. */
  private tickAtOrAfter(endpoint: number, atSeconds: number): number {
    const { periodSeconds } = this.cron;
    let block = Math.floor(atSeconds / periodSeconds);
    let tick = block * periodSeconds + this.splay(endpoint, block);
    if (tick < atSeconds) {
      block += 1;
      tick = block * periodSeconds + this.splay(endpoint, block);
    }
    return tick;
  }

  private splay(endpoint: number, block: number): number {
    return Math.floor(hashUnit(this.fleet.seed, DRAW.cronSplay, endpoint, block) * this.cron.splaySeconds);
  }

  private dateAt(seconds: number): Date {
    return new Date(this.epochMs + seconds * 1000);
  }

  /** Draws for one run of one endpoint: addressed by (purpose, endpoint, time, draw number). */
  private randomFor(purpose: number, endpoint: number, atSeconds: number): () => number {
    let draw = 0;
    return () => hashUnit(this.fleet.seed ^ purpose, endpoint, atSeconds, draw++);
  }

  private async runEndpoint(endpoint: number, atSeconds: number): Promise<void> {
    this.endpointRuns += 1;
    const subnet = this.fleet.endpointSubnet[endpoint]!;
    let state = this.states[endpoint]!;
    const now = this.dateAt(atSeconds);
    const random = this.randomFor(DRAW.decision, endpoint, atSeconds);
    const relayIndex = this.currentRelay[endpoint]!;
    const currentInRelayList = state.current === null || this.isCurrentInList(state.current, relayIndex);
    let decision = decideCycle({ state, settings: this.settings, now, currentInRelayList, random });
    if (decision.action === 'check') {
      const reading = this.readHealth(this.healthAnswer(relayIndex, subnet));
      decision = decideCycle({
        state,
        settings: this.settings,
        now,
        currentInRelayList,
        health: reading.health,
        healthDetail: reading.detail,
        random,
      });
    }
    state = decision.statePatch === undefined ? state : { ...state, ...decision.statePatch };
    let nextDueAt = decision.nextDueAt;
    if (decision.action === 'select') {
      const selection = await this.select(endpoint, subnet, atSeconds);
      let durationSeconds = 0;
      if (this.model.sharesSubnetProbe && this.settings.automatic && selection.footprints.length > 0) {
        durationSeconds = await this.cooperate(endpoint, subnet, atSeconds, selection);
      } else {
        for (const footprint of selection.footprints) {
          this.replay(endpoint, footprint, atSeconds + durationSeconds);
          durationSeconds += footprint.durationSeconds;
        }
      }
      const doneAt = this.dateAt(atSeconds + durationSeconds);
      state = applySelectionResult(state, selection.result, doneAt, this.settings, random);
      this.moveEndpoint(endpoint, selection.result.ok ? selection.relayIndex : this.currentRelay[endpoint]!);
      this.lastSelectedAt[endpoint] = atSeconds;
      const bucket = Math.floor(atSeconds / this.bucketSeconds);
      if (atSeconds >= 0 && bucket < this.bucketCount) {
        this.selections += 1;
        this.selectionsPerBucket[bucket]! += 1;
      }
      nextDueAt = computeNextDueAt(state, this.settings, doneAt);
    }
    this.states[endpoint] = state;
    this.updateSettled(endpoint, atSeconds);
    const dueSeconds = (nextDueAt.getTime() - this.epochMs) / 1000;
    const earliest = atSeconds + 1;
    this.agenda.schedule(
      endpoint,
      this.tickAtOrAfter(endpoint, this.options.everyTick ? earliest : Math.max(earliest, dueSeconds)),
    );
  }

  /**
   * The current relay counts as listed while the relay list has it, or when it came from a stage
   * outside the list (failover, root, manual) — as the run cycle decides it (src/cycle/run-cycle.ts).
   */
  private isCurrentInList(current: NonNullable<State['current']>, relayIndex: number): boolean {
    if (relayIndex >= 0) return this.relayInList[relayIndex] === 1;
    return current.pool === FAILOVER_POOL || current.pool === ROOT_POOL || current.pool === MANUAL_POOL;
  }

  /**
   * The endpoint's selection, by the real `selectRelay`. Three shortcuts, each giving exactly what the
   * full computation would record (a test compares them with `memoizeSelections: false`):
   * - the endpoint's own earlier selection in the same network state and relay answers;
   * - when every relay of the list would refuse the registration, the outcome cannot depend on the
   *   rank order, so one endpoint's selection stands for every endpoint behind the same gateway;
   * - otherwise the selection first runs on the relays rankPool puts first in the first pool with a
   *   reachable relay (best priority, then nearest: the "leaders"): when one of them accepts, the full
   *   ranking would have tried the same relays in the same order up to it, and pools after it are not
   *   probed. Only when none accepts does the selection run again on the whole relay list.
   */
  private async select(endpoint: number, subnet: number, atSeconds: number): Promise<SelectionMemo> {
    const memoize = this.options.memoizeSelections !== false && this.settings.tieBreak !== 'random';
    const key = `${this.networkKey}|${this.answersKey}|${this.subnetLinkDown[subnet]}`;
    const slots = this.memos[endpoint]!;
    if (!memoize) return this.runFullSelection(endpoint, subnet, atSeconds, key);
    for (const memo of slots) if (memo !== undefined && memo.key === key) return memo;
    let memo: SelectionMemo | undefined;
    if (this.everyRegistrationFails(subnet)) {
      const sharedKey = `${this.fleet.subnets[subnet]!.router}|${key}`;
      memo = this.sharedFailures.get(sharedKey);
      if (memo === undefined) {
        memo = await this.runFullSelection(endpoint, subnet, atSeconds, key);
        this.sharedFailures.set(sharedKey, memo);
      }
    } else {
      memo =
        (await this.runLeadersSelection(endpoint, subnet, atSeconds, key)) ??
        (await this.runFullSelection(endpoint, subnet, atSeconds, key));
    }
    slots[1] = slots[0];
    slots[0] = memo;
    return memo;
  }

  /**
   * The packets of a cooperating endpoint's selection (AGENT_MODEL), counted as they go: each pool the
   * selection probes is measured by the subnet's leader unless it holds a measurement still valid; a
   * follower then confirms its pick with one echo and probes itself when the echo does not confirm it.
   * Returns how long the selection took.
   */
  private async cooperate(
    endpoint: number,
    subnet: number,
    atSeconds: number,
    selection: SelectionMemo,
  ): Promise<number> {
    const leader = this.fleet.subnets[subnet]!.firstEndpoint;
    // A footprint stands for one pool in one network state (footprintFor's key), as a table entry does.
    const table = (this.tables[subnet] ??= new Map<ProbeFootprint, number>());
    let seconds = 0;
    for (const footprint of selection.footprints) {
      const validUntilSeconds = table.get(footprint);
      if (validUntilSeconds !== undefined && atSeconds <= validUntilSeconds) continue;
      this.replay(leader, footprint, atSeconds + seconds);
      seconds += footprint.durationSeconds;
      table.set(footprint, atSeconds + seconds + this.tableValiditySeconds);
    }
    if (endpoint === leader) return seconds;
    const pick = await this.confirmationTarget(subnet, selection);
    if (pick === null) return seconds;
    const confirm = await this.confirmFootprint(subnet, pick.relayIndex);
    this.replay(endpoint, confirm, atSeconds + seconds);
    seconds += confirm.durationSeconds;
    if (checkConfirmation(pick.expected, confirm.report.results[0]).ok) return seconds;
    for (const footprint of selection.footprints) {
      this.replay(endpoint, footprint, atSeconds + seconds);
      seconds += footprint.durationSeconds;
    }
    return seconds;
  }

  /**
   * The relay a follower confirms and what the leader measured of it: the relay it registered with, or
   * when no registration succeeded, the nearest relay of the table (what rankPool would put first).
   * Null when the table names no reachable relay (the follower then moves on without an echo).
   */
  private async confirmationTarget(
    subnet: number,
    selection: SelectionMemo,
  ): Promise<{ relayIndex: number; expected: ProbeResult } | null> {
    const measured = (key: string): ProbeResult | undefined => {
      for (const footprint of selection.footprints) {
        const result = footprint.report.results.find((entry) => entry.key === key);
        if (result !== undefined) return result;
      }
      return undefined;
    };
    if (selection.relayIndex >= 0) {
      const expected = measured(this.allRelays[selection.relayIndex]!.key);
      if (expected !== undefined) return { relayIndex: selection.relayIndex, expected };
    }
    const leaders = await this.leadersOf(subnet);
    const nearest = leaders?.report.results[0];
    if (nearest === undefined) return null;
    return { relayIndex: this.relayIndexByKey.get(nearest.key)!, expected: nearest };
  }

  /** One echo at the maximum TTL to a relay, by the engine (as for a manual relay: no verification, no retry). */
  private confirmFootprint(subnet: number, relayIndex: number): Promise<ProbeFootprint> {
    return this.measure(subnet, `confirm:${relayIndex}`, [this.targetOf(relayIndex)], {
      ...this.settings.probe,
      strategy: 'inference',
      retries: 0,
      verify: 'none',
    });
  }

  /** Whether no relay of the list would accept a registration from this subnet now. */
  private everyRegistrationFails(subnet: number): boolean {
    for (let index = 0; index < this.allRelays.length; index += 1) {
      if (
        this.relayInList[index] === 1 &&
        this.readRegistration(this.registrationAnswer(index, subnet)).status !== 'failed'
      )
        return false;
    }
    return true;
  }

  private selectionDeps(
    endpoint: number,
    subnet: number,
    atSeconds: number,
    probe: SelectRelayDeps['probe'],
  ): SelectRelayDeps {
    return {
      probe,
      resolve: (hosts) => Promise.resolve(hosts.map((host): HostResolution => this.resolve(host))),
      register: (candidate) => {
        const index = this.relayIndexByKey.get(relayKey(candidate.relay));
        return Promise.resolve(
          this.readRegistration(index === undefined ? RELAY_DOWN_ANSWER : this.registrationAnswer(index, subnet)),
        );
      },
      checkAlive: ({ host, port }) => {
        const index = this.relayIndexByKey.get(relayKey({ host, port }));
        return Promise.resolve(index !== undefined && this.subnetLinkDown[subnet] === 0 && this.relayUp[index] === 1);
      },
      random: this.randomFor(DRAW.tieBreak, endpoint, atSeconds),
    };
  }

  private async runFullSelection(
    endpoint: number,
    subnet: number,
    atSeconds: number,
    key: string,
  ): Promise<SelectionMemo> {
    const footprints: ProbeFootprint[] = [];
    const outcome = await selectRelay(
      { relays: this.relayList, settings: this.settings, clientId: this.fleet.clientIds[endpoint]! },
      this.selectionDeps(endpoint, subnet, atSeconds, async (targets, pool, context) => {
        const footprint = await this.footprintFor(
          subnet,
          targets,
          `${pool.name}|${context.purpose}`,
          context.purpose === 'manual',
        );
        footprints.push(footprint);
        return footprint.report;
      }),
    );
    return this.memoOf(key, outcome, footprints);
  }

  private async runLeadersSelection(
    endpoint: number,
    subnet: number,
    atSeconds: number,
    key: string,
  ): Promise<SelectionMemo | undefined> {
    const leaders = await this.leadersOf(subnet);
    if (leaders === null) return undefined;
    const outcome = await selectRelay(
      { relays: leaders.relays, settings: this.settings, clientId: this.fleet.clientIds[endpoint]! },
      this.selectionDeps(endpoint, subnet, atSeconds, () => Promise.resolve(leaders.report)),
    );
    if (!(outcome.status === 'selected' && outcome.chosen.pool === leaders.pool)) return undefined;
    return this.memoOf(key, outcome, leaders.footprints);
  }

  private memoOf(key: string, outcome: SelectionOutcome, footprints: ProbeFootprint[]): SelectionMemo {
    const relayIndex =
      outcome.status === 'selected' ? (this.relayIndexByKey.get(relayKey(outcome.chosen.relay)) ?? -1) : -1;
    return { key, result: toCycleSelectionResult(outcome), footprints, relayIndex };
  }

  /**
   * The first pool of the seek list with a reachable relay, from this subnet, now; the probes a
   * selection makes up to it (each earlier pool probed and found unreachable); and the relays rankPool
   * puts first in it: reachable, measured distance before unknown, then the best priority, then the
   * smallest distance (src/select/rank.ts). Null in manual mode or when no pool has a reachable relay.
   */
  private async leadersOf(subnet: number): Promise<Leaders | null> {
    const cacheKey = this.gatewayKey(subnet);
    const known = this.leaders.get(cacheKey);
    if (known !== undefined) return known;
    let found: Leaders | null = null;
    if (this.settings.automatic) {
      const footprints: ProbeFootprint[] = [];
      for (const pool of buildPools(this.relayList, this.settings.seekList)) {
        // The targets probeRelays (src/select/select-relay.ts) builds for the pool.
        const targets = pool.relays.map((relay) => this.targetOf(this.relayIndexByKey.get(relayKey(relay))!));
        if (targets.length === 0) continue;
        const footprint = await this.footprintFor(subnet, targets, `${pool.name}|pool`, false);
        footprints.push(footprint);
        const reachable = footprint.report.results.filter((result) => result.method !== 'unreachable');
        if (reachable.length === 0) continue;
        const measured = reachable.filter((result) => result.distance !== null);
        const group = measured.length > 0 ? measured : reachable;
        const relayOf = (result: ProbeResult): Relay => this.allRelays[this.relayIndexByKey.get(result.key)!]!.relay;
        const bestPriority = group.reduce(
          (best, result) => Math.min(best, relayOf(result).priority),
          Number.POSITIVE_INFINITY,
        );
        const sameClass = group.filter((result) => relayOf(result).priority === bestPriority);
        const nearest = sameClass.reduce(
          (best, result) => Math.min(best, result.distance ?? 0),
          Number.POSITIVE_INFINITY,
        );
        const results = sameClass.filter((result) => (result.distance ?? 0) === nearest);
        found = { pool: pool.name, relays: results.map(relayOf), report: { ...footprint.report, results }, footprints };
        break;
      }
    }
    this.leaders.set(cacheKey, found);
    return found;
  }

  private resolve(host: string): HostResolution {
    const address = this.addressByHost.get(host);
    return address === undefined
      ? { host, address: null, error: 'not a relay of the simulated fleet' }
      : { host, address, family: 4 };
  }

  /** Subnets behind the same gateway have the same paths to every relay: they probe alike. */
  private gatewayKey(subnet: number): string {
    return `${this.fleet.subnets[subnet]!.router}|${this.networkKey}|${this.subnetLinkDown[subnet]}`;
  }

  /** The target of a relay as probeRelays (src/select/select-relay.ts) builds it. */
  private targetOf(relayIndex: number): ProbeTarget {
    const entry = this.allRelays[relayIndex]!;
    return {
      key: entry.key,
      host: entry.relay.host,
      address: entry.address,
      family: 4,
      port: entry.relay.port,
      priority: entry.relay.priority,
    };
  }

  private footprintFor(
    subnet: number,
    targets: ProbeTarget[],
    poolKey: string,
    manual: boolean,
  ): Promise<ProbeFootprint> {
    return this.measure(subnet, poolKey, targets, {
      ...this.settings.probe,
      verify: manual ? 'none' : this.settings.probe.verify,
    });
  }

  /** The probe of `targets` from the subnet in the current network state, by the engine, once per gateway and `what`. */
  private async measure(
    subnet: number,
    what: string,
    targets: ProbeTarget[],
    options: Omit<FootprintOptions, 'maximumTtlToPing'>,
  ): Promise<ProbeFootprint> {
    const key = `${this.gatewayKey(subnet)}|${what}`;
    const known = this.footprints.get(key);
    if (known !== undefined) return known;
    const footprint = await measureProbeFootprint({
      relays: targets.map((target) => {
        const index = this.relayIndexByKey.get(target.key)!;
        const up = this.relayUp[index] === 1;
        return {
          target,
          path: this.paths.paths[subnet]![index]!,
          answersIcmp: up && !this.allRelays[index]!.dropsIcmp,
          acceptsTcp: up,
        };
      }),
      linkUp: this.subnetLinkDown[subnet] === 0,
      options: { ...options, maximumTtlToPing: this.settings.maximumTtlToPing },
      routerAddresses: this.routerAddresses,
      ...(this.options.timeExceededLimit === undefined ? {} : { timeExceededLimit: this.options.timeExceededLimit }),
    });
    this.probeEngineRuns += 1;
    this.footprints.set(key, footprint);
    return footprint;
  }

  /** Counts a probe's packets for the endpoint, the fleet and each router, from `startSeconds` on. */
  private replay(endpoint: number, footprint: ProbeFootprint, startSeconds: number): void {
    this.endpointEcho[endpoint]! += startSeconds >= 0 ? footprint.echoRequests : 0;
    const start = Math.floor(startSeconds);
    for (let second = 0; second < footprint.echoBySecond.length; second += 1) {
      const at = start + second;
      if (at < 0) continue;
      const bucket = Math.floor(at / this.bucketSeconds);
      if (bucket >= this.bucketCount) break;
      this.echo[bucket]! += footprint.echoBySecond[second]!;
      this.expired[bucket]! += footprint.expiredBySecond[second]!;
      this.timeExceeded[bucket]! += footprint.timeExceededBySecond[second]!;
    }
    if (startSeconds < 0 || footprint.routers.length === 0) return;
    const bucket = Math.floor(startSeconds / this.bucketSeconds);
    if (bucket >= this.bucketCount) return;
    for (let index = 0; index < footprint.routers.length; index += 1) {
      const router = footprint.routers[index]!;
      this.routerSeries(this.routerTimeExceeded, router)[bucket]! += footprint.routerTimeExceeded[index]!;
      this.routerSeries(this.routerExpired, router)[bucket]! += footprint.routerExpired[index]!;
    }
  }

  private routerSeries(table: Map<number, Float32Array>, router: number): Float32Array {
    let series = table.get(router);
    if (series === undefined) {
      series = new Float32Array(this.bucketCount);
      table.set(router, series);
    }
    return series;
  }

  private healthAnswer(relayIndex: number, subnet: number): RelayAnswer {
    if (this.subnetLinkDown[subnet] === 1) return NETWORK_DOWN_ANSWER;
    if (relayIndex < 0 || this.relayUp[relayIndex] === 0) return RELAY_DOWN_ANSWER;
    return this.serverDown ? UPSTREAM_DOWN_ANSWER : UP_ANSWER;
  }

  private registrationAnswer(relayIndex: number, subnet: number): RelayAnswer {
    const health = this.healthAnswer(relayIndex, subnet);
    if (health !== UP_ANSWER) return health;
    const capacity = this.allRelays[relayIndex]!.capacity;
    return capacity !== null && this.relayClients[relayIndex]! >= capacity ? FULL_ANSWER : UP_ANSWER;
  }

  // The readings are pure functions of the answer; there are five answers, so each is read once.
  private readHealth(answer: RelayAnswer): ReturnType<FleetModel['readHealth']> {
    let reading = this.healthReadings.get(answer);
    if (reading === undefined) {
      reading = this.model.readHealth(answer);
      this.healthReadings.set(answer, reading);
    }
    return reading;
  }

  private readRegistration(answer: RelayAnswer): RegisterOutcome {
    let reading = this.registrationReadings.get(answer);
    if (reading === undefined) {
      reading = this.model.readRegistration(answer);
      this.registrationReadings.set(answer, reading);
    }
    return reading;
  }

  private moveEndpoint(endpoint: number, relayIndex: number): void {
    const before = this.currentRelay[endpoint]!;
    if (before === relayIndex) return;
    if (before >= 0) this.changeClients(before, -1);
    if (relayIndex >= 0) this.changeClients(relayIndex, 1);
    this.currentRelay[endpoint] = relayIndex;
  }

  private changeClients(relayIndex: number, delta: number): void {
    const capacity = this.allRelays[relayIndex]!.capacity;
    const wasFull = capacity !== null && this.relayClients[relayIndex]! >= capacity;
    this.relayClients[relayIndex]! += delta;
    const isFull = capacity !== null && this.relayClients[relayIndex]! >= capacity;
    if (wasFull !== isFull) this.refreshAnswersKey();
  }

  private refreshNetworkKey(): void {
    const down: number[] = [];
    this.relayUp.forEach((up, index) => {
      if (up === 0) down.push(index);
    });
    this.networkKey = `down:${down.join(',')};spare:${this.relayInList[this.allRelays.length - 1]}`;
  }

  /** A key of everything a registration can be answered with, for the selection memo. */
  private refreshAnswersKey(): void {
    const parts: string[] = [this.serverDown ? 'server-down' : 'server-up'];
    this.allRelays.forEach((entry, index) => {
      if (entry.capacity !== null && this.relayClients[index]! >= entry.capacity) parts.push(`full:${index}`);
    });
    this.answersKey = parts.join(',');
  }

  private applyEvent(event: FleetEvent): void {
    const wakeAll = (): void => {
      for (let endpoint = 0; endpoint < this.states.length; endpoint += 1) this.wake(endpoint, event.atSeconds);
    };
    switch (event.kind) {
      case 'server-down':
      case 'server-up':
        this.serverDown = event.kind === 'server-down';
        this.refreshAnswersKey();
        wakeAll();
        break;
      case 'relay-down':
        this.relayUp[this.lostRelayIndex] = 0;
        this.refreshNetworkKey();
        for (let endpoint = 0; endpoint < this.states.length; endpoint += 1)
          if (this.currentRelay[endpoint] === this.lostRelayIndex) this.wake(endpoint, event.atSeconds);
        break;
      case 'network-down':
      case 'network-up':
        this.subnetLinkDown.fill(event.kind === 'network-down' ? 1 : 0);
        wakeAll();
        break;
      case 'relay-added': {
        const spare = this.allRelays.length - 1;
        this.relayInList[spare] = 1;
        this.relayList = [...this.relayList, this.allRelays[spare]!.relay];
        this.refreshNetworkKey();
        // Nobody's decision changes (periodic re-selection picks the relay up), but nobody has considered it yet.
        for (let endpoint = 0; endpoint < this.states.length; endpoint += 1)
          this.updateSettled(endpoint, event.atSeconds);
        break;
      }
    }
  }

  /** An event changed what the endpoint's relay or network answers: its next run may decide otherwise. */
  private wake(endpoint: number, atSeconds: number): void {
    const tick = this.tickAtOrAfter(endpoint, atSeconds);
    const due = this.agenda.dueAt[endpoint]!;
    if (Number.isNaN(due) || tick < due) this.agenda.schedule(endpoint, tick);
    this.updateSettled(endpoint, atSeconds);
  }

  /** Settled: registered with a relay that is up and answering, no failure clock, no back-off, no retry. */
  private updateSettled(endpoint: number, atSeconds: number): void {
    const state = this.states[endpoint]!;
    const relayIndex = this.currentRelay[endpoint]!;
    const subnet = this.fleet.endpointSubnet[endpoint]!;
    const recoveryFrom = this.scenario.recoveryFromSeconds;
    const settled =
      state.current !== null &&
      relayIndex >= 0 &&
      this.relayUp[relayIndex] === 1 &&
      !this.serverDown &&
      this.subnetLinkDown[subnet] === 0 &&
      state.retry === null &&
      state.failingSince === null &&
      (state.upstreamBackoff ?? null) === null &&
      // After a relay is added, an endpoint has taken it into account once it selected again.
      !(this.scenario.name === 'new-relay' && recoveryFrom !== null && this.lastSelectedAt[endpoint]! < recoveryFrom);
    const flag = settled ? 0 : 1;
    if (this.unsettled[endpoint] !== flag) {
      this.unsettledCount += flag === 1 ? 1 : -1;
      this.unsettled[endpoint] = flag;
    }
    if (
      recoveryFrom !== null &&
      atSeconds >= recoveryFrom &&
      this.recoveredAtSeconds === null &&
      this.unsettledCount === 0
    )
      this.recoveredAtSeconds = atSeconds;
  }

  private summarize(): ModelRun {
    const { durationSeconds } = this.scenario;
    const perSecond = (series: Float64Array): Float64Array => series.map((value) => value / this.bucketSeconds);
    const pair = (series: Float64Array): RatePair => {
      let total = 0;
      let peak = 0;
      for (const value of series) {
        total += value;
        if (value > peak) peak = value;
      }
      return { mean: total / durationSeconds, peak: peak / this.bucketSeconds };
    };
    let peakBucket = 0;
    for (let bucket = 1; bucket < this.bucketCount; bucket += 1)
      if (this.echo[bucket]! > this.echo[peakBucket]!) peakBucket = bucket;
    let busiestRouter: ModelRun['busiestRouter'] = null;
    for (const [router, series] of this.routerTimeExceeded) {
      let peak = 0;
      let peakAt = 0;
      series.forEach((value, bucket) => {
        if (value > peak) {
          peak = value;
          peakAt = bucket;
        }
      });
      const rate = peak / this.bucketSeconds;
      if (busiestRouter === null || rate > busiestRouter.timeExceededPerSecond) {
        busiestRouter = {
          name: this.fleet.routers[router]!.name,
          timeExceededPerSecond: rate,
          ttlExpiredPerSecond: this.routerExpired.get(router)![peakAt]! / this.bucketSeconds,
        };
      }
    }
    const listed = this.allRelays
      .map((entry, index) => ({ entry, index }))
      .filter(({ index }) => this.relayInList[index] === 1);
    const relays: RelayLoad[] = listed.map(({ entry, index }) => ({
      relay: entry.key,
      name: entry.relay.name ?? null,
      weight: entry.relay.weight,
      clients: this.relayClients[index]!,
    }));
    const clientTotal = relays.reduce((sum, relay) => sum + relay.clients, 0);
    const days = durationSeconds / 86_400;
    let maxEndpointEcho = 0;
    let totalEndpointEcho = 0;
    for (const value of this.endpointEcho) {
      totalEndpointEcho += value;
      if (value > maxEndpointEcho) maxEndpointEcho = value;
    }
    const endpoints = this.states.length;
    return {
      model: this.model.name,
      summary: this.model.summary,
      echoRequestsPerSecond: pair(this.echo),
      timeExceededPerSecond: pair(this.timeExceeded),
      ttlExpiredPerSecond: pair(this.expired),
      peakAtSeconds: peakBucket * this.bucketSeconds,
      selections: this.selections,
      totals: { echoRequests: sum(this.echo), timeExceeded: sum(this.timeExceeded), ttlExpired: sum(this.expired) },
      clientsPerRelay: {
        max: relays.reduce((most, relay) => Math.max(most, relay.clients), 0),
        mean: relays.length === 0 ? 0 : clientTotal / relays.length,
        relays,
      },
      secondsToRecover:
        this.recoveredAtSeconds === null || this.scenario.recoveryFromSeconds === null
          ? null
          : this.recoveredAtSeconds - this.scenario.recoveryFromSeconds,
      busiestRouter,
      echoRequestsPerEndpointPerDay: {
        mean: endpoints === 0 ? 0 : totalEndpointEcho / endpoints / days,
        max: maxEndpointEcho / days,
      },
      endpointsWithoutRelay: this.states.filter((state) => state.current === null).length,
      probeEngineRuns: this.probeEngineRuns,
      endpointRuns: this.endpointRuns,
      series: {
        echoRequestsPerSecond: perSecond(this.echo),
        timeExceededPerSecond: perSecond(this.timeExceeded),
        ttlExpiredPerSecond: perSecond(this.expired),
        selections: this.selectionsPerBucket,
      },
    };
  }
}

function sum(series: Float64Array): number {
  let total = 0;
  for (const value of series) total += value;
  return total;
}
