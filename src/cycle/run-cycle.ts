import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { RelaySelectError } from '../errors.js';
// The probe engine, registration and selection are imported where a cycle needs them: most cron runs
// decide "not due" or "healthy, keep" and must not pay for loading them.
import type { IcmpTransport } from '../probe/index.js';
import type { ProbeProgress, ProbeReport, ProbeResult, ProbeTarget } from '../probe/types.js';
import type { Registrar } from '../register/index.js';
import { FAILOVER_POOL, MANUAL_POOL, ROOT_POOL, formatDiagnostic, relayKey, type Relay } from '../relays/relay.js';
import type { Candidate, HostResolution, SelectionEvent, SelectionOutcome } from '../select/types.js';
import { systemClock, type Clock } from '../clock.js';
import { applySelectionResult, computeNextDueAt, decideCycle, reportFailure, toCycleSelectionResult, type CycleDecision } from './decide.js';
import { acquireRunLock } from './lock.js';
import type { State } from './state.js';
import { cacheRelayList, createStateStore, digestRelayList, loadOrCreateClientId, readCachedRelayList, readClientId, RELAY_LIST_CACHE_FILE_NAME } from './state-store.js';

/** What `relay-select run` did (DESIGN §9 `run --json`). */
export type RunAction = 'selected' | 'kept' | 'waiting' | 'failed';

export interface RunRelayView {
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
  warnings: string[];
  dryRun: boolean;
}

export interface RunCycleOptions extends ProbeProgress {
  settings: Settings;
  /** Select now, whatever the schedule says. */
  force?: boolean;
  /** Probe and rank, but neither register nor write state. */
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
  const warnings: string[] = [];
  const lock = dryRun ? undefined : await acquireRunLock(settings.stateDir);
  try {
    const store = createStateStore(settings.stateDir, { clock });
    const read = await store.read();
    if (read.recovered) warnings.push(`state file was unusable (${read.recovered.reason}); moved to ${read.recovered.movedTo}; starting from a clean state`);
    // A dry run creates nothing: an endpoint without a client id yet gets a throw-away one.
    const clientId = settings.clientId ?? (dryRun ? ((await readClientId(settings.stateDir)) ?? randomUUID()) : await loadOrCreateClientId(settings.stateDir));
    // state.js holds the zod schema: only a first run (or one after a corrupt state) needs it here.
    let state: State = read.state ?? (await import('./state.js')).emptyState(clientId);
    if (state.clientId !== clientId) state = { ...state, clientId };

    const list = await loadRelayListWithCache(settings, dryRun, warnings);
    const now = clock.now();
    const current = state.current;
    const currentInRelayList = current === null || (await isInRelayList(current, state, list, settings));
    let decision = decideCycle({ state, settings, now, force: options.force, currentInRelayList, random: options.random });

    if (decision.action === 'check' && current !== null) {
      const { checkRelayHealthDetailed } = await import('../register/health.js');
      const health = await checkRelayHealthDetailed({ host: current.host, port: current.port, address: current.address }, settings);
      decision = decideCycle({ state, settings, now, currentInRelayList, health: health.health, healthDetail: health.detail, random: options.random });
    }
    if (decision.warning) warnings.push(decision.warning);
    state = { ...state, ...decision.statePatch };

    const report = (fields: Pick<RunReport, 'action' | 'reason' | 'relay' | 'nextDueAt'> & Partial<RunReport>): RunReport => ({
      probes: [],
      rule: decision.rule,
      selection: null,
      registration: null,
      packetsSent: 0,
      warnings,
      dryRun,
      ...fields,
    });

    if (decision.action !== 'select') {
      if (!dryRun && decision.statePatch !== undefined) await store.write(state);
      return report({
        action: decision.action === 'wait' ? 'waiting' : 'kept',
        reason: decision.reason,
        relay: current === null ? null : { ...current },
        nextDueAt: decision.nextDueAt.toISOString(),
      });
    }

    const { outcome, packetsSent } = await runSelection(options, await list.relays(), clientId);
    const after = applySelectionResult(state, toCycleSelectionResult(outcome, list.digest), clock.now(), settings, options.random ?? Math.random);
    if (!dryRun) await store.write(after);
    const selectionFields = { nextDueAt: computeNextDueAt(after, settings, clock.now()).toISOString(), probes: outcome.probes, selection: outcome, packetsSent };
    if (outcome.status === 'failed') {
      const retry = after.retry;
      return report({
        action: 'failed',
        reason: `${decision.reason}; no relay could be registered${retry ? `; retry ${retry.attempt} in ${retry.delaySeconds} s` : ''}`,
        relay: null,
        ...selectionFields,
      });
    }
    return report({
      action: 'selected',
      reason: `${decision.reason}; ${describeWin(outcome.chosen, outcome, dryRun)}`,
      relay: candidateView(outcome.chosen),
      registration: outcome.registration,
      ...selectionFields,
    });
  } finally {
    await lock?.release();
  }
}

/** `relay-select report-failure`: start the failure clock of the current relay. */
export async function reportRelayFailure(settings: Settings, reason?: string, clock: Clock = systemClock): Promise<State | null> {
  const lock = await acquireRunLock(settings.stateDir);
  try {
    const store = createStateStore(settings.stateDir, { clock });
    const { state } = await store.read();
    if (state === null || state.current === null) return state;
    const now = clock.now();
    const reported = reportFailure(state, now);
    const next = reason === undefined ? reported : { ...reported, lastHealthCheck: { at: now.toISOString(), result: 'failing' as const, detail: `reported by the agent: ${reason}` } };
    await store.write(next);
    return next;
  } finally {
    await lock.release();
  }
}

function describeWin(chosen: Candidate, outcome: Extract<SelectionOutcome, { status: 'selected' }>, dryRun: boolean): string {
  const attempt = outcome.attempts.find((entry) => entry.candidate === chosen);
  const why = attempt?.reason ?? chosen.pool;
  // A dry run's registrar only pretends: the reason must not claim a registration that never happened.
  if (dryRun) return `would register with ${relayKey(chosen.relay)}: ${why}`;
  return outcome.registration.status === 'upstream-down'
    ? `${relayKey(chosen.relay)} answered but its upstream server is down (${outcome.registration.detail}); kept, backing off`
    : `registered with ${relayKey(chosen.relay)}: ${why}`;
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

/**
 * The current relay counts as "in the list" when the list still has it, or when it came from a stage
 * outside the list (failover, root, manual) that the settings still name.
 */
async function isInRelayList(current: NonNullable<State['current']>, state: State, list: LoadedRelayList, settings: Settings): Promise<boolean> {
  const outsideTheList = current.pool === FAILOVER_POOL || current.pool === ROOT_POOL || current.pool === MANUAL_POOL;
  // Chosen from a list with the very same text: it is in it, and the list need not be parsed to say so.
  if (!outsideTheList && state.relayListDigest === list.digest) return true;
  const key = relayKey(current);
  if ((await list.relays()).some((relay) => relayKey(relay) === key)) return true;
  if (outsideTheList) {
    const named = [...settings.failoverRelays, ...settings.manualRelays, ...(settings.rootServer ? [settings.rootServer] : [])];
    return named.some((entry) => entry === key || entry === `${current.host}:${current.port}`);
  }
  return false;
}

interface LoadedRelayList {
  digest: string;
  /** The relays, parsed when first asked for if the list is the cached last good one (see loadRelayListWithCache). */
  relays(): Promise<Relay[]>;
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
async function loadRelayListWithCache(settings: Settings, dryRun: boolean, warnings: string[]): Promise<LoadedRelayList> {
  const unchanged = await readUnchangedRelayList(settings);
  if (unchanged !== undefined) {
    let loading: Promise<Relay[]> | undefined;
    return { digest: digestRelayList(unchanged), relays: () => (loading ??= loadRelayListNow(settings, dryRun, warnings).then((list) => list.relays)) };
  }
  const list = await loadRelayListNow(settings, dryRun, warnings);
  return { digest: list.digest, relays: () => Promise.resolve(list.relays) };
}

/**
 * The text of the relay list when its file holds exactly the last good list cached in the state
 * directory; undefined when anything differs or fails (the full load then says what, as always).
 */
async function readUnchangedRelayList(settings: Settings): Promise<string | undefined> {
  try {
    const cached = await readCachedRelayList(settings.stateDir);
    if (cached === null) return undefined;
    const cachedBytes = Buffer.from(cached, 'utf8');
    const info = await stat(settings.relayList);
    if (!info.isFile() || info.size !== cachedBytes.length) return undefined;
    return (await readFile(settings.relayList)).equals(cachedBytes) ? cached : undefined;
  } catch {
    return undefined;
  }
}

/** Reads, parses and caches the relay list, or falls back to the cached copy. */
async function loadRelayListNow(settings: Settings, dryRun: boolean, warnings: string[]): Promise<{ relays: Relay[]; digest: string }> {
  const [{ loadRelayListFile }, { parseRelayList }] = await Promise.all([import('../relays/load.js'), import('../relays/parse.js')]);
  try {
    const list = await loadRelayListFile(settings.relayList);
    for (const diagnostic of list.diagnostics) warnings.push(formatDiagnostic(diagnostic));
    const digest = digestRelayList(list.text);
    if (!dryRun) {
      const cached = await readCachedRelayList(settings.stateDir);
      if (cached === null || digestRelayList(cached) !== digest) await cacheRelayList(settings.stateDir, list.text);
    }
    return { relays: list.relays, digest };
  } catch (error) {
    if (!(error instanceof RelaySelectError) || (error.code !== 'RELAY_LIST_INVALID' && error.code !== 'RELAY_LIST_MISSING')) throw error;
    const cached = await readCachedRelayList(settings.stateDir);
    if (cached === null) throw error;
    const parsed = parseRelayList(cached, { file: path.join(settings.stateDir, RELAY_LIST_CACHE_FILE_NAME) });
    if (parsed.relays.length === 0) throw error;
    warnings.push(`${error.message}; using the last good relay list cached in ${settings.stateDir}`);
    return { relays: parsed.relays, digest: digestRelayList(cached) };
  }
}

async function runSelection(options: RunCycleOptions, relays: Relay[], clientId: string): Promise<{ outcome: SelectionOutcome; packetsSent: number }> {
  const { settings } = options;
  const [{ connectTcp, probeTargets, resolveTargets }, { prepareRegistrar }, { selectRelay }] = await Promise.all([
    import('../probe/index.js'),
    import('../register/index.js'),
    import('../select/select-relay.js'),
  ]);
  const facts = { clientId, hostname: osHostname(), version: options.version };
  // Checked before probing: a bad TLS file is a configuration error (exit 78), not a failed relay.
  const register: Registrar = options.dryRun
    ? async () => ({ status: 'registered', detail: 'dry run: not registered' })
    : await prepareRegistrar(settings, facts, { signal: options.signal });
  let packetsSent = 0;
  const probe = async (targets: ProbeTarget[], _pool: unknown, context: { purpose: 'pool' | 'manual' }): Promise<ProbeReport> => {
    const report = await probeTargets(
      targets,
      {
        ...settings.probe,
        maximumTtlToPing: settings.maximumTtlToPing,
        verify: context.purpose !== 'manual',
        signal: options.signal,
        onProbeSent: options.onProbeSent,
        onReply: options.onReply,
        onRoundDone: options.onRoundDone,
      },
      options.transport === undefined ? {} : { transport: options.transport },
    );
    packetsSent += report.packetsSent;
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
  const outcome = await selectRelay(
    { relays, settings, clientId },
    {
      probe,
      resolve,
      register,
      checkAlive: ({ address, port }) => connectTcp({ address, port, timeoutMs: settings.probe.tcpTimeoutMs, signal: options.signal }),
      onEvent: options.onSelectionEvent,
      random: options.random,
    },
  );
  return { outcome, packetsSent };
}
