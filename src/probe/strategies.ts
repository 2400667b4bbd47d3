/**
 * Probe strategies (DESIGN §6): `inference` (one echo at the largest TTL per target, distance inferred
 * from the reply TTL, then the competition verified with TTL-limited echoes) and `rounds` (the classic TTL
 * ladder), for IPv4 and IPv6 alike (the reply's hop limit tells the IPv6 return path). Targets that never
 * answer ICMP may be checked with a TCP connect.
 *
 * Vocabulary used below: a target's *forward distance* f is what DESIGN calls distance — the smallest TTL
 * whose echo reaches it, minus one. Per target we keep `reachTtl` (smallest TTL seen answered, so f ≤
 * reachTtl − 1) and `failTtl` (largest TTL seen not to reach, so f ≥ failTtl). f is exact when they meet.
 *
 * Path verification (`verify: 'paths'`, the default; DESIGN §4 `probe.verify`). The reply TTL gives the
 * return distance; only TTL-limited echoes prove the forward one, and each that expires costs a router a
 * Time Exceeded, which Linux rate-limits per source (a burst of about 6, then 1/s). Verifying every relay
 * near the best costs a data centre of hundreds of equally near relays hundreds of echoes that expire in
 * the same router, most of them unanswered. So verification grows with distinct paths, not relays:
 *  1. The candidates (best priority class, inferred within `verifyMargin` of the best distance g) are
 *     grouped by inferred distance i and address prefix (/24 IPv4, /64 IPv6), in address order.
 *  2. The first and the last relay of a group get an echo at TTL i: on a symmetric path it expires in the
 *     last router before the relay, and the Time Exceeded source names that router. Ends that disagree
 *     (other routers, or one reached and one not) split the group in two, recursively, so every group
 *     becomes a run of addresses whose ends share their last hop — a path.
 *  3. One representative per path — the relay the selection's tie-break would take among its members
 *     (`preferAmong`; rendezvous and lowest-RTT choices pick the winner of a union among the winners of
 *     its parts) — stands for the path in the search for the smallest forward distance (findNearest).
 *     A path whose ends expired at TTL i > g needs nothing more: none of it can be nearer than g.
 *  4. Every member takes its path's distance. The winner among the relays at the smallest distance is
 *     then checked itself: unless its own echo at distance + 1 was answered it gets one, and if that
 *     disagrees the path is verified relay by relay.
 * What this assumes (also in relay-select(1)): relays of one /24 (/64) with the same reply-TTL distance,
 * lying between two relays whose echoes expired in the same router, share one forward path — asymmetry
 * belongs to a path (a subnet behind a different return route), not to one host inside a subnet. Silence
 * at TTL i (a router that sends no Time Exceeded) agrees with any answer. `verify: 'all'` assumes nothing
 * and verifies every candidate. Probes stay on one path under per-flow ECMP because every echo of a run
 * carries the same identifier, and every echo to one relay the same checksum (icmp-codec.ts).
 *
 * Retries follow paths too: a target that stayed silent while a target of its prefix with the same or a
 * better priority answered sits behind a working path, so it drops ICMP itself and is not retried (its
 * TCP fallback starts at once); in a prefix where nobody answered, one target is retried, and the others
 * only if it answers.
 */
import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { RelaySelectError } from '../errors.js';
import { throwIfAborted } from '../abort.js';
import { systemClock, type Clock, type Timers } from '../clock.js';
import { computeAdaptiveTimeoutMs, computeFirstEchoTimeoutMs, createPacer, PROBING_ABORTED } from './pacer.js';
import { addressOrderKey, pathPrefixOf } from './paths.js';
import { ProbeSession, type ProbeOutcome } from './session.js';
import { connectTcp, type TcpConnect } from './tcp-connect.js';
import { openIcmpTransport } from './icmp-socket-transport.js';
import type { IcmpTransport } from './transport.js';
import { computeLadderTtls, computeLargestTtl, inferDistanceFromReplyTtl } from './ttl-ladder.js';
import {
  unreachableResult,
  type ProbeMethod,
  type ProbeOptions,
  type ProbeReport,
  type ProbeResult,
  type ProbeTarget,
  type VerifyMode,
} from './types.js';

export interface ProbeDependencies {
  /** Where echo requests go. @default ICMP sockets of the kind options.transport names, opened here and closed at the end */
  transport?: IcmpTransport;
  /** @default a node:net connect */
  tcpConnect?: TcpConnect;
  /** Its monotonic time measures round trips and paces packets. @default systemClock */
  clock?: Clock;
  /** Where probe timeouts and pacing waits are scheduled. @default systemTimers */
  timers?: Timers;
  /** ICMP identifier of this run. @default random 16-bit */
  identifier?: number;
}

const TCP_FALLBACK_CONCURRENCY = 64;
/** Winners checked one after another when a path turns out not to be one (each check dissolves a path). */
const MAX_WINNER_CHECKS = 3;

interface TargetState {
  target: ProbeTarget;
  /** Position in the caller's list. */
  listIndex: number;
  priority: number;
  bestRttMs: number | null;
  largestRttMs: number | null;
  /** Return-path length read from the reply TTL (IPv4). */
  inferredDistance: number | null;
  /** Smallest TTL whose echo was answered; null until an echo reply arrives. */
  reachTtl: number | null;
  failTtl: number;
  /** The ladder stopped (a nearer target answered) before this target answered: not unreachable. */
  ladderStoppedAtTtl: number | null;
  viaLadder: boolean;
  /** The /24 or /64 of the address (paths.ts). */
  prefix: string;
  /** The path this target was verified through (`verify: 'paths'`). */
  path?: VerifiedPath;
}

/** Targets taken to share one forward path, and what the echoes at TTL i to its two ends showed. */
interface VerifiedPath {
  members: TargetState[];
  representative: TargetState;
  /** No member reaches at this TTL (from the ends). */
  failTtl: number;
  /** Every member reaches at this TTL (from the ends); null when not shown. */
  reachTtl: number | null;
}

/** What an echo at TTL i to one end of a group showed: the relay, a router (by address), or nothing. */
type PathSignature = { kind: 'reached' } | { kind: 'expired'; router: string | null } | { kind: 'silent' };

/**
 * Probes every target and reports distance, round trip and method per target, in input order.
 * Aborting `options.signal` stops at once, clears every timer and rejects with code ABORTED.
 */
export async function probeTargets(
  targets: ProbeTarget[],
  options: ProbeOptions,
  deps: ProbeDependencies = {},
): Promise<ProbeReport> {
  throwIfAborted(options.signal, PROBING_ABORTED);
  // One listener on the caller's signal; every waiting probe listens to this inner one instead.
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  const forwardAbort = (): void => inner.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  const signal = inner.signal;
  const clock = deps.clock ?? systemClock;
  const startedMs = clock.nowMs();
  const states = targets.map((target, index) => createState(target, index));
  const ownsTransport = deps.transport === undefined && targets.length > 0;
  let transport: IcmpTransport | undefined;
  let session: ProbeSession | undefined;
  const tcp = options.tcpFallback
    ? new TcpFallback(deps.tcpConnect ?? connectTcp, options.tcpTimeoutMs, clock, signal)
    : undefined;
  try {
    transport =
      deps.transport ??
      (ownsTransport ? openIcmpTransport({ kind: options.transport, families: familiesOf(targets) }) : undefined);
    if (transport !== undefined) {
      session = new ProbeSession({
        transport,
        pacer: createPacer({ ratePps: options.ratePps, burst: options.burst, clock, timers: deps.timers }),
        clock,
        timers: deps.timers,
        identifier: deps.identifier ?? randomInt(0x10000),
        progress: options,
        signal,
      });
      const engine = new StrategyEngine(session, options, (state) => tcp?.start(state));
      await (options.strategy === 'inference' ? engine.runInference(states) : engine.runLadder(states));
    }
    if (tcp !== undefined) {
      for (const state of states) if (!hasAnswered(state) && state.ladderStoppedAtTtl === null) tcp.start(state);
      await tcp.finish();
    }
    return {
      results: states.map((state) => describeResult(state, tcp?.rttOf(state) ?? null)),
      packetsSent: session?.packetsSent ?? 0,
      tcpAttempts: tcp?.attempts ?? 0,
      ...(transport?.description === undefined ? {} : { transport: transport.description }),
      wallMs: clock.nowMs() - startedMs,
    };
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof RelaySelectError && error.code === 'ABORTED')) {
      throw new RelaySelectError('ABORTED', 'probing aborted', { cause: error });
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
    session?.close();
    if (ownsTransport) transport?.close();
    // Stops TCP connects still running when probing failed.
    inner.abort();
  }
}

/**
 * TCP connects to targets that never answered ICMP, at most TCP_FALLBACK_CONCURRENCY at a time. A target
 * is started as soon as its silence is final (no retry will follow), so the connects overlap the wait for
 * the last echoes instead of following it.
 */
class TcpFallback {
  private readonly rtts = new Map<TargetState, number>();
  private readonly started = new Set<TargetState>();
  private readonly waiting: TargetState[] = [];
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly connect: TcpConnect,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
    private readonly signal: AbortSignal,
  ) {}

  get attempts(): number {
    return this.started.size;
  }

  start(state: TargetState): void {
    if (this.started.has(state)) return;
    this.started.add(state);
    this.waiting.push(state);
    this.pump();
  }

  async finish(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
    throwIfAborted(this.signal, PROBING_ABORTED);
  }

  rttOf(state: TargetState): number | null {
    return this.rtts.get(state) ?? null;
  }

  private pump(): void {
    while (this.running.size < TCP_FALLBACK_CONCURRENCY && this.waiting.length > 0) {
      const state = this.waiting.shift()!;
      const task = this.attempt(state).finally(() => {
        this.running.delete(task);
        this.pump();
      });
      this.running.add(task);
    }
  }

  /** Never rejects: an abort shows in finish(). */
  private async attempt(state: TargetState): Promise<void> {
    if (this.signal.aborted) return;
    const begunMs = this.clock.nowMs();
    const connected = await this.connect({
      address: state.target.address,
      port: state.target.port,
      timeoutMs: this.timeoutMs,
      signal: this.signal,
    });
    if (connected && !this.signal.aborted) this.rtts.set(state, this.clock.nowMs() - begunMs);
  }
}

class StrategyEngine {
  private round = 0;
  private readonly largestTtl: number;
  /** Largest echo round trip of this run: how long a target not heard from yet is waited for. */
  private runLargestRttMs: number | null = null;
  /** Best priority that answered per prefix, in the first echo pass (`verify: 'paths'`). */
  private readonly answeredPriority = new Map<string, number>();

  /** @param onFinalSilence told of a target whose silence is final before probing ends (TCP fallback). */
  constructor(
    private readonly session: ProbeSession,
    private readonly options: ProbeOptions,
    private readonly onFinalSilence: (state: TargetState) => void = () => undefined,
  ) {
    this.largestTtl = computeLargestTtl(options.maximumTtlToPing);
  }

  /** One echo at the largest TTL each (plus retries for the silent), then verify the competition. */
  async runInference(states: TargetState[]): Promise<void> {
    if (states.length === 0) return;
    const verify: VerifyMode = this.options.verify ?? 'paths';
    await this.echoAtLargestTtl(states, verify === 'paths');
    if (verify === 'paths') await this.retryUnknownPaths(states);
    else await this.retryEverySilent(states);
    const answered = states.filter((state) => hasAnswered(state) && state.inferredDistance !== null);
    if (answered.length === 0 || verify === 'none') return;
    const bestClass = selectBestPriorityClass(answered);
    const bestInferred = smallest(bestClass.map((state) => state.inferredDistance!));
    const candidates = bestClass.filter((state) => state.inferredDistance! <= bestInferred + this.options.verifyMargin);
    if (verify === 'all') await this.findNearest(candidates, 0, this.largestTtl, bestInferred);
    else await this.verifyPaths(candidates, bestInferred);
  }

  /**
   * One echo at the largest TTL to each target; a target not heard from yet waits computeFirstEchoTimeoutMs.
   * `firstOfPaths`: the first pass under `verify: 'paths'`, where a target that stays silent while its prefix
   * has answered will not be retried (retryUnknownPaths), so its silence is final at once.
   */
  private async echoAtLargestTtl(states: TargetState[], firstOfPaths = false): Promise<void> {
    await Promise.all(
      states.map(async (state) => {
        const outcome = await this.session.probe(state.target, this.largestTtl, () => this.echoTimeoutMs(state));
        recordOutcome(state, this.largestTtl, outcome, false);
        if (outcome.kind === 'echo-reply' && outcome.rttMs !== null) this.noteRoundTrip(outcome.rttMs);
        if (!firstOfPaths) return;
        const answered = this.answeredPriority.get(state.prefix) ?? Number.POSITIVE_INFINITY;
        if (hasAnswered(state)) this.answeredPriority.set(state.prefix, Math.min(answered, state.priority));
        else if (answered <= state.priority) this.onFinalSilence(state);
      }),
    );
    const answered = states.filter(hasAnswered).length;
    this.finishRound(this.largestTtl, answered, states.length - answered);
  }

  private echoTimeoutMs(state: TargetState): number {
    if (state.largestRttMs !== null) return computeAdaptiveTimeoutMs(this.options.timeoutMs, state.largestRttMs);
    return computeFirstEchoTimeoutMs(this.options.timeoutMs, this.runLargestRttMs);
  }

  private noteRoundTrip(rttMs: number): void {
    const first = this.runLargestRttMs === null;
    if (!first && rttMs <= this.runLargestRttMs!) return;
    this.runLargestRttMs = rttMs;
    // The first answer shortens the waits already running; later, larger ones lengthen them as they run out.
    if (first) this.session.refreshTimeouts();
  }

  private async retryEverySilent(states: TargetState[]): Promise<void> {
    let silent = states.filter((state) => !hasAnswered(state));
    for (let attempt = 0; attempt < this.options.retries && silent.length > 0; attempt += 1) {
      await this.echoAtLargestTtl(silent);
      silent = silent.filter((state) => !hasAnswered(state));
    }
  }

  /**
   * Retries where an answer could matter (see the top of this file): silent targets whose prefix has no
   * answer from a target of the same or a better priority, one per prefix first (the scout), the rest of
   * the prefix once the scout answers. Each target gets at most `retries` extra echoes.
   */
  private async retryUnknownPaths(states: TargetState[]): Promise<void> {
    const unknownByPrefix = new Map<string, TargetState[]>();
    for (const state of states) {
      if (hasAnswered(state) || (this.answeredPriority.get(state.prefix) ?? Number.POSITIVE_INFINITY) <= state.priority)
        continue;
      const members = unknownByPrefix.get(state.prefix) ?? [];
      members.push(state);
      unknownByPrefix.set(state.prefix, members);
    }
    const retriesLeft = new Map<TargetState, number>();
    for (const members of unknownByPrefix.values())
      for (const state of members) retriesLeft.set(state, this.options.retries);
    for (;;) {
      const again: TargetState[] = [];
      for (const members of unknownByPrefix.values()) {
        const scout = members[0]!;
        const waiting = members.filter((state) => !hasAnswered(state) && retriesLeft.get(state)! > 0);
        if (members.some(hasAnswered)) for (const state of waiting) again.push(state);
        else if (waiting.includes(scout)) again.push(scout);
      }
      if (again.length === 0) return;
      for (const state of again) retriesLeft.set(state, retriesLeft.get(state)! - 1);
      await this.echoAtLargestTtl(again);
    }
  }

  /** Verification by distinct paths (see the top of this file). */
  private async verifyPaths(candidates: TargetState[], guess: number): Promise<void> {
    const groups = new Map<string, TargetState[]>();
    for (const state of candidates) {
      const key = `${state.inferredDistance}|${state.prefix}`;
      const members = groups.get(key) ?? [];
      members.push(state);
      groups.set(key, members);
    }
    const orderKeys = new Map(
      candidates.map((state) => [
        state,
        addressOrderKey(state.target.address, state.target.family) ?? state.target.address,
      ]),
    );
    const paths: VerifiedPath[] = [];
    await Promise.all(
      [...groups.values()].map((members) => {
        members.sort((left, right) => compareText(orderKeys.get(left)!, orderKeys.get(right)!));
        return this.splitByLastHop(members, members[0]!.inferredDistance!, paths);
      }),
    );
    this.finishRound(null, paths.length, 0);
    await this.findNearest(
      paths.map((path) => path.representative),
      0,
      this.largestTtl,
      guess,
    );
    for (let check = 0; check < MAX_WINNER_CHECKS; check += 1) {
      const best = smallest(candidates.map((state) => upperBound(state)));
      const tied = candidates.filter((state) => upperBound(state) === best && lowerBound(state) === best);
      if (tied.length === 0) return;
      const winner = this.preferAmong(tied);
      if (winner.reachTtl !== null && winner.reachTtl <= best + 1) return;
      await this.probeAll([winner], best + 1, true);
      if (winner.reachTtl !== null && winner.reachTtl <= best + 1) return;
      // Not one path after all: its members are verified one by one.
      const broken = winner.path;
      if (broken === undefined) return;
      for (const state of broken.members) state.path = undefined;
      await this.findNearest(broken.members, 0, this.largestTtl, broken.members[0]!.inferredDistance);
    }
  }

  /**
   * Splits a group (same inferred distance `ttl`, same prefix, address order) into paths: the ends of a
   * path got the same answer to an echo at `ttl`; ends that disagree split the run in two (bisection).
   */
  private async splitByLastHop(members: TargetState[], ttl: number, paths: VerifiedPath[]): Promise<void> {
    // Distance 0 (same subnet): no router to tell paths apart, and TTL 0 cannot be sent; nor may a TTL
    // beyond the largest (a return path longer than maximumTtlToPing).
    if (ttl < 1 || ttl >= this.largestTtl) {
      paths.push(createPath(members, this.preferAmong(members), null, null));
      return;
    }
    const signatures = new Map<TargetState, Promise<PathSignature>>();
    const signatureOf = (state: TargetState): Promise<PathSignature> => {
      let signature = signatures.get(state);
      if (signature === undefined) {
        signature = this.probeOne(state, ttl).then(describeSignature);
        signatures.set(state, signature);
      }
      return signature;
    };
    const split = async (low: number, high: number): Promise<void> => {
      const [first, last] = await Promise.all([signatureOf(members[low]!), signatureOf(members[high]!)]);
      if (low === high || signaturesAgree(first, last)) {
        const run = members.slice(low, high + 1);
        paths.push(createPath(run, this.preferAmong(run), members[low]!, members[high]!));
      } else if (high === low + 1) {
        paths.push(createPath([members[low]!], members[low]!, members[low]!, members[low]!));
        paths.push(createPath([members[high]!], members[high]!, members[high]!, members[high]!));
      } else {
        const middle = Math.floor((low + high) / 2);
        await Promise.all([split(low, middle), split(middle + 1, high)]);
      }
    };
    await split(0, members.length - 1);
  }

  /**
   * The target the selection would take among `tied` (ProbeOptions.preferAmong), else the first in list
   * order — a choice that, like rendezvous, picks the winner of a union among the winners of its parts.
   */
  private preferAmong(tied: TargetState[]): TargetState {
    const first = tied.reduce((best, state) => (state.listIndex < best.listIndex ? state : best));
    if (tied.length === 1 || this.options.preferAmong === undefined) return first;
    const key = this.options.preferAmong(tied.map((state) => ({ key: state.target.key, rttMs: state.bestRttMs })));
    return tied.find((state) => state.target.key === key) ?? first;
  }

  /**
   * The ladder: one echo per pending target per rung, stopping at the first rung where a target answers —
   * except that targets of a better (lower) priority than every answer so far keep climbing, since any
   * of them would be preferred. The gap below the answering rung is then searched for the competition.
   */
  async runLadder(states: TargetState[]): Promise<void> {
    if (states.length === 0) return;
    for (const state of states) state.viaLadder = true;
    let pending = states;
    let bestAnsweredPriority = Number.POSITIVE_INFINITY;
    for (const ttl of computeLadderTtls(this.options.maximumTtlToPing)) {
      const climbing = pending.filter((state) => state.priority < bestAnsweredPriority);
      if (climbing.length === 0) break;
      await this.probeAll(climbing, ttl, true);
      const answeredNow = climbing.filter(hasAnswered);
      pending = pending.filter((state) => !hasAnswered(state));
      for (const state of answeredNow) bestAnsweredPriority = Math.min(bestAnsweredPriority, state.priority);
      this.finishRound(ttl, answeredNow.length, pending.length);
    }
    // A target left below the largest TTL was not given up on: a nearer or preferred one answered first.
    for (const state of pending) if (state.failTtl < this.largestTtl) state.ladderStoppedAtTtl = state.failTtl;
    const answered = states.filter(hasAnswered);
    if (answered.length === 0) return;
    const bestClass = selectBestPriorityClass(answered);
    const highTtl = smallest(bestClass.map((state) => state.reachTtl!));
    const firstAnswering = bestClass.filter((state) => state.reachTtl === highTtl);
    const lowTtl = smallest(firstAnswering.map((state) => state.failTtl));
    await this.findNearest(firstAnswering, lowTtl, highTtl, null);
  }

  /**
   * Finds the members with the smallest forward distance, exactly, with few TTL-limited echoes.
   * Invariant: no member reaches at `lowTtl`, some member reaches at `highTtl`. Each step probes, at one
   * TTL, only the members whose answer there is not yet implied, and moves one bound. With a guess g
   * (inferred best distance) the first TTLs tried are g+1 (expected: answered) then g (expected: not),
   * which settles a symmetric network in two steps; when nobody reaches at g+1 the search steps up
   * one TTL at a time within the margin (asymmetric, longer forward path); otherwise it bisects.
   */
  private async findNearest(
    members: TargetState[],
    lowTtl: number,
    highTtl: number,
    guess: number | null,
  ): Promise<void> {
    let low = lowTtl;
    let high = highTtl;
    let steps = 0;
    while (high - low > 1 && steps < 64) {
      steps += 1;
      const ttl = this.chooseTtl(low, high, guess);
      const unknown = members.filter((state) => lowerBound(state) < ttl && upperBound(state) + 1 > ttl);
      await this.probeAll(unknown, ttl, true);
      const reached = members.filter((state) => upperBound(state) + 1 <= ttl);
      this.finishRound(ttl, reached.length, members.length - reached.length);
      if (reached.length > 0) high = ttl;
      else low = ttl;
    }
  }

  private chooseTtl(low: number, high: number, guess: number | null): number {
    if (guess !== null) {
      if (low < guess + 1 && guess + 1 < high) return guess + 1;
      if (high === guess + 1 && low < guess && guess >= 1) return guess;
      if (low >= guess + 1 && low + 1 < high && low + 1 <= guess + this.options.verifyMargin + 1) return low + 1;
    }
    return Math.floor((low + high) / 2);
  }

  private async probeAll(states: TargetState[], ttl: number, silenceMeansNotReached: boolean): Promise<void> {
    await Promise.all(states.map((state) => this.probeOne(state, ttl, silenceMeansNotReached)));
  }

  private async probeOne(state: TargetState, ttl: number, silenceMeansNotReached = true): Promise<ProbeOutcome> {
    const timeoutMs = computeAdaptiveTimeoutMs(this.options.timeoutMs, state.largestRttMs);
    const outcome = await this.session.probe(state.target, ttl, timeoutMs);
    recordOutcome(state, ttl, outcome, silenceMeansNotReached);
    return outcome;
  }

  private finishRound(ttl: number | null, answered: number, pending: number): void {
    this.round += 1;
    this.options.onRoundDone?.({ round: this.round, ttl, answered, pending });
  }
}

function createState(target: ProbeTarget, listIndex: number): TargetState {
  return {
    target,
    listIndex,
    priority: target.priority ?? 0,
    bestRttMs: null,
    largestRttMs: null,
    inferredDistance: null,
    reachTtl: null,
    failTtl: 0,
    ladderStoppedAtTtl: null,
    viaLadder: false,
    prefix: pathPrefixOf(target.address, target.family),
  };
}

function createPath(
  members: TargetState[],
  representative: TargetState,
  first: TargetState | null,
  last: TargetState | null,
): VerifiedPath {
  // What both ends showed holds for the path: the weaker of their two bounds.
  const shown = first !== null && last !== null;
  const path: VerifiedPath = {
    members,
    representative,
    failTtl: shown ? Math.min(first.failTtl, last.failTtl) : 0,
    reachTtl:
      shown && first.reachTtl !== null && last.reachTtl !== null ? Math.max(first.reachTtl, last.reachTtl) : null,
  };
  for (const state of members) state.path = path;
  return path;
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

function describeSignature(outcome: ProbeOutcome): PathSignature {
  if (outcome.kind === 'echo-reply') return { kind: 'reached' };
  if (outcome.kind === 'timeout') return { kind: 'silent' };
  return { kind: 'expired', router: outcome.source };
}

/** Same answer at the same TTL: the same router, or both reached; silence agrees with anything. */
function signaturesAgree(first: PathSignature, last: PathSignature): boolean {
  if (first.kind === 'silent' || last.kind === 'silent') return true;
  if (first.kind === 'reached' || last.kind === 'reached') return first.kind === last.kind;
  return first.router === last.router;
}

/** f ≥ this: the target's own echoes, its path's ends and, for a member, its representative. */
function lowerBound(state: TargetState): number {
  const path = state.path;
  if (path === undefined) return state.failTtl;
  const representative = path.representative === state ? 0 : path.representative.failTtl;
  return Math.max(state.failTtl, path.failTtl, representative);
}

/** f ≤ this (reach TTL − 1); +∞ before any answer. */
function upperBound(state: TargetState): number {
  const path = state.path;
  const reaches = [
    state.reachTtl,
    path?.reachTtl ?? null,
    path !== undefined && path.representative !== state ? path.representative.reachTtl : null,
  ];
  return smallest(reaches.filter((ttl): ttl is number => ttl !== null)) - 1;
}

function hasAnswered(state: TargetState): boolean {
  return state.reachTtl !== null;
}

function selectBestPriorityClass(states: TargetState[]): TargetState[] {
  const bestPriority = smallest(states.map((state) => state.priority));
  return states.filter((state) => state.priority === bestPriority);
}

function recordOutcome(state: TargetState, ttl: number, outcome: ProbeOutcome, silenceMeansNotReached: boolean): void {
  if (outcome.kind === 'echo-reply') {
    const rttMs = outcome.rttMs ?? 0;
    state.bestRttMs = state.bestRttMs === null ? rttMs : Math.min(state.bestRttMs, rttMs);
    state.largestRttMs = state.largestRttMs === null ? rttMs : Math.max(state.largestRttMs, rttMs);
    state.reachTtl = state.reachTtl === null ? ttl : Math.min(state.reachTtl, ttl);
    if (state.inferredDistance === null && outcome.replyTtl !== null)
      state.inferredDistance = inferDistanceFromReplyTtl(outcome.replyTtl);
    return;
  }
  if (outcome.kind === 'timeout' && !silenceMeansNotReached) return;
  state.failTtl = Math.max(state.failTtl, ttl);
}

/** Round trips in whole microseconds: finer digits are clock noise (0.14183600000001206 ms). */
function roundToMicroseconds(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 1000) / 1000;
}

function describeResult(state: TargetState, tcpRttMs: number | null): ProbeResult {
  const base = { key: state.target.key, host: state.target.host, address: state.target.address };
  const method: ProbeMethod = state.viaLadder ? 'ladder' : 'echo-ttl';
  const notes: string[] = [];
  if (state.reachTtl !== null) {
    const upper = upperBound(state);
    const lower = Math.min(lowerBound(state), upper);
    const representative = state.path?.representative;
    if (representative !== undefined && representative !== state && lower === upper)
      notes.push(`path verified through ${representative.target.address}`);
    let distance: number;
    if (lower === upper) distance = upper;
    else if (state.inferredDistance !== null && !state.viaLadder) {
      distance = Math.min(upper, Math.max(lower, state.inferredDistance));
      if (distance !== state.inferredDistance)
        notes.push(
          `reply TTL suggests ${state.inferredDistance} hops; TTL-limited echoes bound it to ${lower}..${upper}`,
        );
    } else {
      distance = upper;
      notes.push(`between ${lower} and ${upper} hops (gap not refined outside the competition)`);
    }
    return { ...base, distance, rttMs: roundToMicroseconds(state.bestRttMs), method, ...noteField(notes) };
  }
  if (state.ladderStoppedAtTtl !== null) {
    notes.push(`no answer up to TTL ${state.ladderStoppedAtTtl}: the ladder stopped at the first answering round`);
    return { ...base, distance: null, rttMs: null, method: 'ladder', ...noteField(notes) };
  }
  if (tcpRttMs !== null) {
    notes.push('no ICMP answer; TCP connection accepted');
    return { ...base, distance: null, rttMs: roundToMicroseconds(tcpRttMs), method: 'tcp', ...noteField(notes) };
  }
  notes.push('no answer');
  return unreachableResult(base, notes.join('; '));
}

function noteField(notes: string[]): { note?: string } {
  return notes.length === 0 ? {} : { note: notes.join('; ') };
}

function familiesOf(targets: ProbeTarget[]): Array<4 | 6> {
  return [...new Set(targets.map((target) => target.family))];
}

/**
 * The smallest value. Math.min(...values) throws RangeError past about 120,000 arguments, and a pool
 * may hold up to a million relays.
 */
function smallest(values: number[]): number {
  let result = Number.POSITIVE_INFINITY;
  for (const value of values) if (value < result) result = value;
  return result;
}
