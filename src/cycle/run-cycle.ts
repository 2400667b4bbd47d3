import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { RelaySelectError } from '../errors.js';
import { randomUuid } from '../random-bytes.js';
import { processTrustPolicy, readFileBounded } from '../trust.js';
// The probe engine, registration and selection are imported where a cycle needs them: most cron runs
// decide "not due" or "healthy, keep" and must not pay for loading them.
import type { IcmpTransport } from '../probe/index.js';
import type { ProbeProgress, ProbeReport, ProbeResult, ProbeTarget } from '../probe/types.js';
import type { Registrar } from '../register/index.js';
import { formatDuration } from '../format.js';
import { FAILOVER_POOL, MANUAL_POOL, ROOT_POOL, formatDiagnostic, relayKey, type Relay } from '../relays/relay.js';
import type {
  Candidate,
  HostResolution,
  ProbeContext,
  SelectionEvent,
  SelectionOutcome,
  SelectRelayDeps,
} from '../select/types.js';
import { systemClock, type Clock } from '../clock.js';
import { activeAvoidedRelays, recordFullRelays } from './avoided-relays.js';
import {
  applySelectionResult,
  computeNextDueAt,
  decideCycle,
  reportFailure,
  toCycleSelectionResult,
  type CycleDecision,
} from './decide.js';
import { clampFutureTimes, describeClampedTime } from './clamp-future.js';
import { describeDistanceJump, detectDistanceJump, type DistanceJump } from './distance-jump.js';
import { acquireRunLock } from './lock.js';
import { describeNetworkChange } from './network-fingerprint.js';
import { readNetworkFingerprint } from './read-network-fingerprint.js';
import type { Counters, NetworkFingerprint, State } from './state.js';
import { zeroCounters } from './state-check.js';
import {
  cacheRelayList,
  createStateStore,
  digestRelayList,
  loadOrCreateClientId,
  readCachedRelayList,
  type CachedRelayList,
  readClientId,
  RELAY_LIST_CACHE_FILE_NAME,
} from './state-store.js';

/** What `relay-select run` did (DESIGN §9 `run --json`). */
type RunAction = 'selected' | 'kept' | 'waiting' | 'failed';

interface RunRelayView {
  host: string;
  port: number;
  address: string | null;
  distance: number | null;
  pool: string;
  method: string;
  rttMs: number | null;
}

export interface RunReport {
  action: RunAction;
  reason: string;
  relay: RunRelayView | null;
  nextDueAt: string;
  probes: ProbeResult[];
  /** The rule of DESIGN §7 that decided (see CycleRule). */
  rule: CycleDecision['rule'];
  /** The selection, when one ran. */
  selection: SelectionOutcome | null;
  /** Registration detail of the chosen relay (e.g. "HTTP 200", "recorded only"). */
  registration: { status: string; detail?: string } | null;
  /** ICMP echo requests sent by this run. */
  packetsSent: number;
  /** TCP connects and HTTP health checks made by this run. */
  tcpChecks: number;
  /** The peer measurements the selection adopted instead of probing (`relay-select agent`); null when it probed itself. */
  peerTable: PeerTableUse | null;
  /** Why the selection did not use a peer's table, when the agent cooperates with peers. */
  peerNotes: string[];
  warnings: string[];
  dryRun: boolean;
  /** How the network changed, when that is why the run selected. */
  networkChange: string | null;
  /** The current relay weighed against the best (periodic re-selection, switchMarginHops). */
  switchMargin: { kept: boolean; reason: string } | null;
  /** Set when the new relay is more than 2 hops further than the previous one. */
  distanceJump: DistanceJump | null;
  /** The state after the run (what was written, or in a dry run what would have been). */
  state: State;
}

/** A leader's table that a selection adopted (DESIGN §13). */
export interface PeerTableUse {
  /** The leader's address. */
  from: string;
  /** When the leader measured, ISO-8601. */
  measuredAt: string;
  /** The pools whose measurements came from it. */
  pools: string[];
  /** Echo requests sent to confirm it: one per adopted pool with a reachable relay. */
  confirmEchoes: number;
}

/** How the selection probes a pool (SelectRelayDeps.probe). */
export type PoolProbe = SelectRelayDeps['probe'];

/** What a selection works from, for a probe that takes its measurements elsewhere. */
export interface SelectionFacts {
  relays: Relay[];
  /** sha256 of the relay list text the relays came from. */
  relayListDigest: string;
  clientId: string;
}

/** A probe in place of the cycle's own, and what it says of its peer use afterwards. */
export interface PoolProbeOverride {
  probe: PoolProbe;
  peerTable(): PeerTableUse | null;
  peerNotes(): string[];
}

export interface RunCycleOptions extends ProbeProgress {
  settings: Settings;
  /** Select now, whatever the schedule says. */
  force?: boolean;
  /** Probe and rank, but neither register nor create, rename or write anything in the state directory. */
  dryRun?: boolean;
  clock?: Clock;
  signal?: AbortSignal;
  /** Progress of the selection (pools, registrations). */
  onSelectionEvent?: (event: SelectionEvent) => void;
  /** Program version sent in the registration. */
  version: string;
  /** Injected for tests; by default each pool's probe opens a raw socket for the address families it needs. */
  transport?: IcmpTransport;
  random?: () => number;
  /** Reads the network fingerprint toward a relay address. @default readNetworkFingerprint (the kernel's) */
  readNetwork?: (toward: string | null) => Promise<NetworkFingerprint | null>;
  /** The caller already holds the run lock of `settings.stateDir` (`relay-select agent` holds it for its whole life). */
  holdsLock?: boolean;
  /**
   * Replaces how the selection probes pools, given the cycle's own probe to fall back on: the agent's
   * subnet cooperation adopts a peer's table here (src/agent/peer-probe.ts).
   */
  overrideProbe?: (own: PoolProbe, facts: SelectionFacts) => PoolProbeOverride;
}

/**
 * One cron cycle (DESIGN §7): take the lock, read the state, decide, check health or select and
 * register, record the result. The decision itself is the pure `decideCycle`; this function is
 * the edge that feeds it facts read from disk and network.
 */
export async function runCycle(options: RunCycleOptions): Promise<RunReport> {
  const { settings } = options;
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun === true;
  const readNetwork = options.readNetwork ?? ((toward: string | null) => readNetworkFingerprint({ toward }));
  const warnings: string[] = [];
  const lock = dryRun || options.holdsLock === true ? undefined : await acquireRunLock(settings.stateDir);
  try {
    const store = createStateStore(settings.stateDir, { clock, readOnly: dryRun });
    const read = await store.read();
    if (read.recovered) warnings.push(describeRecovery(read.recovered));
    // A dry run creates nothing: an endpoint without a client id yet gets a throw-away one.
    const clientId =
      settings.clientId ??
      (dryRun
        ? ((await readClientId(settings.stateDir)) ?? randomUuid())
        : await loadOrCreateClientId(settings.stateDir));
    // state.js holds the zod schema: only a first run (or one after a corrupt state) needs it here.
    let state: State = read.state ?? (await import('./state.js')).emptyState(clientId);
    if (state.clientId !== clientId) state = { ...state, clientId };
    const counters: Counters = structuredClone(state.counters ?? zeroCounters());
    if (read.recovered) counters.stateFilesMovedAside++;

    const list = await loadRelayListWithCache(settings, dryRun, warnings);
    const now = clock.now();
    const clamp = clampFutureTimes(state, settings, now);
    for (const time of clamp.clamped) warnings.push(describeClampedTime(time));
    state = clamp.state;
    // Written back even when nothing else changes: otherwise each run would clamp to a later limit and never get there.
    const clampToSave = clamp.clamped.length > 0 && !dryRun;
    const current = state.current;
    const network = await readNetwork(current?.address ?? null);
    const networkChange =
      state.network !== undefined && network !== null ? describeNetworkChange(state.network, network) : null;
    const currentInRelayList = current === null || (await isInRelayList(current, state, list, settings));
    // Found in a list of another text (a push that kept it): remembered, so later runs need not parse the list to know.
    const recordListDigest =
      current !== null && currentInRelayList && !isOutsideTheList(current) && state.relayListDigest !== list.digest;
    let decision = decideCycle({
      state,
      settings,
      now,
      force: options.force,
      currentInRelayList,
      random: options.random,
      ...(networkChange === null ? {} : { networkChange }),
    });

    if (decision.action === 'check' && current !== null) {
      const { checkRelayHealthDetailed } = await import('../register/health.js');
      const health = await checkRelayHealthDetailed(
        { host: current.host, port: current.port, address: current.address },
        settings,
        { signal: options.signal },
      );
      counters.tcpChecks++;
      decision = decideCycle({
        state,
        settings,
        now,
        currentInRelayList,
        health: health.health,
        healthDetail: health.detail,
        random: options.random,
      });
    }
    if (decision.warning) warnings.push(decision.warning);
    state = { ...state, ...decision.statePatch };

    const report = (
      fields: Pick<RunReport, 'action' | 'reason' | 'relay' | 'nextDueAt' | 'state'> & Partial<RunReport>,
    ): RunReport => ({
      probes: [],
      rule: decision.rule,
      selection: null,
      registration: null,
      packetsSent: 0,
      tcpChecks: counters.tcpChecks - (state.counters?.tcpChecks ?? 0),
      peerTable: null,
      peerNotes: [],
      warnings,
      dryRun,
      networkChange: null,
      switchMargin: null,
      distanceJump: null,
      ...fields,
    });

    const refusedLines = await relayListRefusedLines(list, state, settings.metricsFile !== undefined && !dryRun);
    const refusedLinesChanged =
      refusedLines?.digest !== state.relayListRefusedLines?.digest ||
      refusedLines?.count !== state.relayListRefusedLines?.count;
    const withRefusedLines = refusedLines === undefined ? {} : { relayListRefusedLines: refusedLines };

    if (decision.action !== 'select') {
      const recordNetwork = state.network === undefined && network !== null;
      const changed =
        decision.statePatch !== undefined ||
        recordNetwork ||
        recordListDigest ||
        read.recovered !== undefined ||
        clampToSave ||
        refusedLinesChanged;
      const after: State = changed
        ? {
            ...state,
            ...(recordNetwork ? { network } : {}),
            ...(recordListDigest ? { relayListDigest: list.digest } : {}),
            counters,
            ...withRefusedLines,
          }
        : state;
      if (!dryRun && changed) await store.write(after);
      const done = report({
        action: decision.action === 'wait' ? 'waiting' : 'kept',
        reason: decision.reason,
        relay: current === null ? null : { ...current },
        nextDueAt: decision.nextDueAt.toISOString(),
        state: after,
      });
      await writeMetrics(settings, done, list.fromCache, clock, dryRun);
      return done;
    }

    const stickTo =
      decision.rule === 'periodic' && current !== null ? { host: current.host, port: current.port } : undefined;
    const avoid = activeAvoidedRelays(state.avoidedRelays, now);
    const { outcome, packetsSent, tcpChecks, peerTable, peerNotes } = await runSelection(
      options,
      { relays: await list.relays(), relayListDigest: list.digest, clientId },
      { stickTo, avoid },
    );
    const endedAt = clock.now();
    const selected = applySelectionResult(
      state,
      toCycleSelectionResult(outcome, list.digest),
      endedAt,
      settings,
      options.random ?? Math.random,
    );
    const switchMargin = outcome.status === 'selected' ? (outcome.switchMargin ?? null) : null;
    const distanceJump = outcome.status === 'selected' ? detectDistanceJump(current, selected.current) : null;
    if (distanceJump !== null) warnings.push(describeDistanceJump(distanceJump));
    counters.echoRequests += packetsSent;
    counters.tcpChecks += tcpChecks;
    counters.selections[outcome.status === 'failed' ? 'failed' : switchMargin?.kept === true ? 'kept' : 'selected']++;
    if (distanceJump !== null) counters.distanceJumps++;
    // The network is recorded after every selection, failed ones too: an unchanged network must not make
    // every later run select again, which would defeat the retry back-off.
    const networkAfter = await readNetwork(selected.current?.address ?? null);
    const after: State = {
      ...selected,
      ...withRefusedLines,
      avoidedRelays: recordFullRelays(state.avoidedRelays, outcome.attempts, endedAt, settings),
      counters,
      ...(networkAfter === null ? {} : { network: networkAfter }),
      ...(distanceJump === null ? {} : { lastDistanceJump: { at: endedAt.toISOString(), ...distanceJump } }),
    };
    if (!dryRun) await store.write(after);
    const selectionFields = {
      nextDueAt: computeNextDueAt(after, settings, endedAt).toISOString(),
      probes: outcome.probes,
      selection: outcome,
      packetsSent,
      peerTable,
      peerNotes,
      networkChange,
      switchMargin,
      distanceJump,
      state: after,
    };
    let done: RunReport;
    if (outcome.status === 'failed') {
      const retry = after.retry;
      done = report({
        action: 'failed',
        reason: `${decision.reason}; no relay could be registered: ${(await import('../select/explain.js')).describeSelectionFailure(outcome)}${retry ? `; retry ${retry.attempt} in ${formatDuration(retry.delaySeconds)}` : ''}`,
        relay: null,
        ...selectionFields,
      });
    } else {
      const kept = switchMargin?.kept === true;
      done = report({
        action: kept ? 'kept' : 'selected',
        reason: `${decision.reason}; ${describeWin(outcome.chosen, outcome, dryRun)}`,
        relay: candidateView(outcome.chosen),
        registration: outcome.registration,
        ...selectionFields,
      });
    }
    await writeMetrics(settings, done, list.fromCache, clock, dryRun);
    return done;
  } finally {
    await lock?.release();
  }
}

/**
 * The metrics file after a run (setting metricsFile). A file that cannot be written is a warning: the run
 * itself (registration, state) succeeded and its exit status says so.
 */
async function writeMetrics(
  settings: Settings,
  report: RunReport,
  relayListRefused: boolean,
  clock: Clock,
  dryRun: boolean,
): Promise<void> {
  if (settings.metricsFile === undefined || dryRun) return;
  try {
    const { writeRunMetrics } = await import('../metrics/metrics-file.js');
    await writeRunMetrics(settings.metricsFile, report.state, {
      now: clock.now(),
      action: report.action,
      rule: report.rule,
      nextDueAt: new Date(report.nextDueAt),
      relayListRefusedLines: report.state.relayListRefusedLines?.count ?? 0,
      relayListRefused,
    });
  } catch (error) {
    report.warnings.push(
      error instanceof RelaySelectError && error.hint !== undefined
        ? `${error.message} — ${error.hint}`
        : String(error),
    );
  }
}

function describeRecovery(recovered: { movedTo: string | null; reason: string }): string {
  return recovered.movedTo === null
    ? `the state file is unusable (${recovered.reason}); left in place (a dry run changes nothing; the next run moves it aside); going on from a clean state`
    : `state file was unusable (${recovered.reason}); moved to ${recovered.movedTo}; starting from a clean state`;
}

/** `relay-select report-failure`: start the failure clock of the current relay. */
export async function reportRelayFailure(
  settings: Settings,
  reason?: string,
  clock: Clock = systemClock,
): Promise<State | null> {
  const lock = await acquireRunLock(settings.stateDir);
  try {
    const store = createStateStore(settings.stateDir, { clock });
    const { state } = await store.read();
    if (state === null || state.current === null) return state;
    const now = clock.now();
    const reported = reportFailure(state, now);
    const next =
      reason === undefined
        ? reported
        : {
            ...reported,
            lastHealthCheck: {
              at: now.toISOString(),
              result: 'failing' as const,
              detail: `reported by the agent: ${reason}`,
            },
          };
    await store.write(next);
    return next;
  } finally {
    await lock.release();
  }
}

function describeWin(
  chosen: Candidate,
  outcome: Extract<SelectionOutcome, { status: 'selected' }>,
  dryRun: boolean,
): string {
  const attempt = outcome.attempts.find((entry) => entry.candidate === chosen);
  const why = attempt?.reason ?? chosen.pool;
  const margin = outcome.switchMargin;
  if (margin !== undefined && margin.kept) {
    return dryRun ? `would keep ${relayKey(chosen.relay)}: ${why}` : `${margin.reason}; registered with it again`;
  }
  const switched = margin === undefined ? '' : `${margin.reason}; `;
  // A dry run's registrar only pretends: the reason must not claim a registration that never happened.
  if (dryRun) return `${switched}would register with ${relayKey(chosen.relay)}: ${why}`;
  return outcome.registration.status === 'upstream-down'
    ? `${switched}${relayKey(chosen.relay)} answered but its upstream server is down (${outcome.registration.detail}); kept, backing off`
    : `${switched}registered with ${relayKey(chosen.relay)}: ${why}`;
}

function candidateView(candidate: Candidate): RunRelayView {
  return {
    host: candidate.relay.host,
    port: candidate.relay.port,
    address: candidate.address,
    distance: candidate.distance,
    pool: candidate.pool,
    method: candidate.method,
    rttMs: candidate.rttMs,
  };
}

/** A relay of a stage outside the relay list: failover, root, manual. */
function isOutsideTheList(relay: NonNullable<State['current']>): boolean {
  return relay.pool === FAILOVER_POOL || relay.pool === ROOT_POOL || relay.pool === MANUAL_POOL;
}

/**
 * The current relay counts as "in the list" when the list still has it, or when it came from a stage
 * outside the list (failover, root, manual) that the settings still name.
 */
async function isInRelayList(
  current: NonNullable<State['current']>,
  state: State,
  list: LoadedRelayList,
  settings: Settings,
): Promise<boolean> {
  const outsideTheList = isOutsideTheList(current);
  // Chosen from (or found in) a list with the very same text: it is in it, and the list need not be parsed to say so.
  if (!outsideTheList && state.relayListDigest === list.digest) return true;
  const key = relayKey(current);
  // Looked up before the list, which it may spare a parse: a cron run on a failover relay is a no-op too.
  if (outsideTheList) {
    const named = [
      ...settings.failoverRelays,
      ...settings.manualRelays,
      ...(settings.rootServer ? [settings.rootServer] : []),
    ];
    if (named.some((entry) => entry === key || entry === `${current.host}:${current.port}`)) return true;
  }
  return (await list.relays()).some((relay) => relayKey(relay) === key);
}

interface LoadedRelayList {
  digest: string;
  /** The list was refused as a whole; these relays are the cached copy's. */
  fromCache: boolean;
  /** The relays, parsed when first asked for if the list is the cached last good one (see loadRelayListWithCache). */
  relays(): Promise<Relay[]>;
  /**
   * Lines (or JSON elements, or dump blocks) skipped as bad. For a list taken as unchanged, undefined
   * unless it was parsed meanwhile or `parse` asks to parse it now.
   */
  refusedLines(parse: boolean): Promise<number | undefined>;
}

/**
 * The refused-line count the state keeps for the relay list in use: counted when the list was parsed, kept
 * from the state while the list is the same, or counted now when the metrics file needs it and nothing
 * else has; undefined when nobody needs it.
 */
async function relayListRefusedLines(
  list: LoadedRelayList,
  state: State,
  needed: boolean,
): Promise<State['relayListRefusedLines']> {
  const kept = state.relayListRefusedLines?.digest === list.digest ? state.relayListRefusedLines : undefined;
  const count = await list.refusedLines(needed && kept === undefined);
  return count === undefined ? kept : { digest: list.digest, count };
}

/**
 * The relay list of this run. A list that is missing or broken falls back to the last good list
 * cached in the state directory, so a bad push never leaves an endpoint without its relay (DESIGN §7).
 *
 * Parsing a list of a thousand relays costs a cron run that waits or keeps its relay more than all the
 * rest it does, so a list whose file holds exactly the cached last good list is parsed only when the
 * run needs its relays: parsing the same text gives the same relays, and its warnings were reported by
 * the run that read it after it changed (and `plan` shows them any time).
 */
export async function loadRelayListWithCache(
  settings: Settings,
  dryRun: boolean,
  warnings: string[],
): Promise<LoadedRelayList> {
  const { cached, unchanged } = await readUnchangedRelayList(settings);
  if (unchanged && cached) {
    // A cache written before its first line recorded the digest gets that line now, once (and a parse
    // later in this run, told the cache has it, does not write it again).
    const digest = cached.digest ?? digestRelayList(cached.text);
    if (cached.digest === null && !dryRun) await cacheRelayList(settings.stateDir, cached.text, { digest });
    let loading: Promise<ParsedRelayList> | undefined;
    const load = (): Promise<ParsedRelayList> =>
      (loading ??= loadRelayListNow(settings, { text: cached.text, digest }, dryRun, warnings));
    return {
      digest,
      fromCache: false,
      relays: async () => (await load()).relays,
      refusedLines: async (parse) => (loading === undefined && !parse ? undefined : (await load()).refusedLines),
    };
  }
  const list = await loadRelayListNow(settings, cached, dryRun, warnings);
  return {
    digest: list.digest,
    fromCache: list.fromCache,
    relays: () => Promise.resolve(list.relays),
    refusedLines: () => Promise.resolve(list.refusedLines),
  };
}

/**
 * The last good relay list cached in the state directory (null: none; undefined: it could not be read,
 * and the full load reads it again to say why), and whether the relay list file holds exactly that text.
 * Anything that fails here only means "not unchanged": the full load then says what, as always.
 */
async function readUnchangedRelayList(
  settings: Settings,
): Promise<{ cached: CachedRelayList | null | undefined; unchanged: boolean }> {
  let cached: CachedRelayList | null | undefined;
  try {
    cached = await readCachedRelayList(settings.stateDir);
    if (cached === null) return { cached, unchanged: false };
    const cachedBytes = Buffer.from(cached.text, 'utf8');
    // Read as the full load reads it (trust.ts): a regular file, as root a trusted one, and never more bytes than the cache holds.
    const read = await readFileBounded(settings.relayList, {
      trust: processTrustPolicy(),
      maxBytes: cachedBytes.length,
    });
    return { cached, unchanged: read.ok && !read.tooLarge && read.bytes.equals(cachedBytes) };
  } catch {
    return { cached, unchanged: false };
  }
}

interface ParsedRelayList {
  relays: Relay[];
  digest: string;
  refusedLines: number;
  fromCache: boolean;
}

/**
 * Reads, parses and caches the relay list, or falls back to the cached copy. `cachedAlready` is the
 * cached copy as readUnchangedRelayList read it (undefined: read it here, which throws what failed).
 */
async function loadRelayListNow(
  settings: Settings,
  cachedAlready: CachedRelayList | null | undefined,
  dryRun: boolean,
  warnings: string[],
): Promise<ParsedRelayList> {
  const [{ loadRelayListFile }, { parseRelayList }] = await Promise.all([
    import('../relays/load.js'),
    import('../relays/parse.js'),
  ]);
  const readCached = async (): Promise<CachedRelayList | null> =>
    cachedAlready === undefined ? readCachedRelayList(settings.stateDir) : cachedAlready;
  try {
    const list = await loadRelayListFile(settings.relayList);
    for (const diagnostic of list.diagnostics) warnings.push(formatDiagnostic(diagnostic));
    const digest = digestRelayList(list.text);
    const cached = dryRun ? null : await readCached();
    if (!dryRun && (cached?.text !== list.text || cached.digest !== digest))
      await cacheRelayList(settings.stateDir, list.text, { digest });
    return {
      relays: list.relays,
      digest,
      refusedLines: list.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length,
      fromCache: false,
    };
  } catch (error) {
    if (
      !(error instanceof RelaySelectError) ||
      (error.code !== 'RELAY_LIST_INVALID' && error.code !== 'RELAY_LIST_MISSING')
    )
      throw error;
    const cached = await readCached();
    if (cached === null) throw error;
    const parsed = parseRelayList(cached.text, {
      file: path.join(settings.stateDir, RELAY_LIST_CACHE_FILE_NAME),
    });
    if (parsed.relays.length === 0) throw error;
    warnings.push(`${error.message}; using the last good relay list cached in ${settings.stateDir}`);
    return {
      relays: parsed.relays,
      digest: cached.digest ?? digestRelayList(cached.text),
      refusedLines: 0,
      fromCache: true,
    };
  }
}

interface SelectionRun {
  outcome: SelectionOutcome;
  packetsSent: number;
  tcpChecks: number;
  peerTable: PeerTableUse | null;
  peerNotes: string[];
}

async function runSelection(
  options: RunCycleOptions,
  facts: SelectionFacts,
  weigh: { stickTo: { host: string; port: number } | undefined; avoid: ReadonlyMap<string, string> },
): Promise<SelectionRun> {
  const { settings } = options;
  const [{ connectTcp, probeTargets, resolveTargets }, { prepareRegistrar }, { selectRelay }] = await Promise.all([
    import('../probe/index.js'),
    import('../register/index.js'),
    import('../select/select-relay.js'),
  ]);
  const { relays, clientId } = facts;
  const registration = { clientId, hostname: osHostname(), version: options.version };
  // Checked before probing: a bad TLS file is a configuration error (exit 78), not a failed relay.
  const register: Registrar = options.dryRun
    ? () => Promise.resolve({ status: 'registered', detail: 'dry run: not registered' })
    : await prepareRegistrar(settings, registration, { signal: options.signal });
  let packetsSent = 0;
  let tcpChecks = 0;
  const ownProbe: PoolProbe = async (
    targets: ProbeTarget[],
    _pool: unknown,
    context: ProbeContext,
  ): Promise<ProbeReport> => {
    const report = await probeTargets(
      targets,
      {
        ...settings.probe,
        maximumTtlToPing: settings.maximumTtlToPing,
        // Verification is for pools; a manual relay and a follower's confirmation are one echo at the maximum TTL.
        verify: context.purpose === 'pool' ? settings.probe.verify : 'none',
        ...(context.preferAmong === undefined ? {} : { preferAmong: context.preferAmong }),
        // A confirmation is exactly one echo: when it goes unanswered, the follower probes the pool anyway.
        retries: context.purpose === 'confirm' ? 0 : settings.probe.retries,
        signal: options.signal,
        onProbeSent: options.onProbeSent,
        onReply: options.onReply,
        onRoundDone: options.onRoundDone,
      },
      options.transport === undefined ? {} : { transport: options.transport },
    );
    packetsSent += report.packetsSent;
    tcpChecks += report.tcpAttempts;
    return report;
  };
  const resolve = async (hosts: string[]): Promise<HostResolution[]> => {
    const { targets, unresolved } = await resolveTargets(
      hosts.map((host) => ({ key: host, host, port: 0 })),
      settings.ipMode,
    );
    return [
      ...targets.map((target) => ({ host: target.host, address: target.address, family: target.family })),
      ...unresolved.map((entry) => ({ host: entry.host, address: null, error: entry.reason })),
    ];
  };
  const override = options.overrideProbe?.(ownProbe, facts);
  const outcome = await selectRelay(
    {
      relays,
      settings,
      clientId,
      avoid: weigh.avoid,
      ...(weigh.stickTo === undefined ? {} : { stickTo: weigh.stickTo }),
    },
    {
      probe: override?.probe ?? ownProbe,
      resolve,
      register,
      checkAlive: ({ address, port }) => {
        tcpChecks++;
        return connectTcp({ address, port, timeoutMs: settings.probe.tcpTimeoutMs, signal: options.signal });
      },
      onEvent: options.onSelectionEvent,
      random: options.random,
    },
  );
  return {
    outcome,
    packetsSent,
    tcpChecks,
    peerTable: override?.peerTable() ?? null,
    peerNotes: override?.peerNotes() ?? [],
  };
}
