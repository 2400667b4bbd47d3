/**
 * Probe strategies (DESIGN §6): `inference` (one echo at the largest TTL per target, distance inferred
 * from the reply TTL, then the competition verified with TTL-limited echoes) and `rounds` (the classic TTL
 * ladder), for IPv4 and IPv6 alike (the reply's hop limit tells the IPv6 return path). Targets that never
 * answer ICMP may be checked with a TCP connect.
 *
 * Vocabulary used below: a target's *forward distance* f is what DESIGN calls distance — the smallest TTL
 * whose echo reaches it, minus one. Per target we keep `reachTtl` (smallest TTL seen answered, so f ≤
 * reachTtl − 1) and `failTtl` (largest TTL seen not to reach, so f ≥ failTtl). f is exact when they meet.
 */
import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { RelaySelectError } from '../errors.js';
import { runWithConcurrency } from './concurrency.js';
import { throwIfAborted } from '../abort.js';
import { systemClock, type Clock, type Timers } from '../clock.js';
import { computeAdaptiveTimeoutMs, createPacer, PROBING_ABORTED } from './pacer.js';
import { ProbeSession, type ProbeOutcome } from './session.js';
import { connectTcp, type TcpConnect } from './tcp-connect.js';
import { openIcmpTransport } from './icmp-socket-transport.js';
import type { IcmpTransport } from './transport.js';
import { computeLadderTtls, computeLargestTtl, inferDistanceFromReplyTtl } from './ttl-ladder.js';
import type { ProbeMethod, ProbeOptions, ProbeReport, ProbeResult, ProbeTarget } from './types.js';

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

interface TargetState {
  target: ProbeTarget;
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
}

/**
 * Probes every target and reports distance, round trip and method per target, in input order.
 * Aborting `options.signal` stops at once, clears every timer and rejects with code ABORTED.
 */
export async function probeTargets(targets: ProbeTarget[], options: ProbeOptions, deps: ProbeDependencies = {}): Promise<ProbeReport> {
  throwIfAborted(options.signal, PROBING_ABORTED);
  // One listener on the caller's signal; every waiting probe listens to this inner one instead.
  const inner = new AbortController();
  setMaxListeners(0, inner.signal);
  const forwardAbort = (): void => inner.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  const signal = inner.signal;
  const clock = deps.clock ?? systemClock;
  const startedMs = clock.nowMs();
  const states = targets.map(createState);
  const ownsTransport = deps.transport === undefined && targets.length > 0;
  let transport: IcmpTransport | undefined;
  let session: ProbeSession | undefined;
  let tcpAttempts = 0;
  try {
    transport = deps.transport ?? (ownsTransport ? openIcmpTransport({ kind: options.transport, families: familiesOf(targets) }) : undefined);
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
      const engine = new StrategyEngine(session, options);
      await (options.strategy === 'inference' ? engine.runInference(states) : engine.runLadder(states));
    }
    const silent = states.filter((state) => !hasAnswered(state) && state.ladderStoppedAtTtl === null);
    const tcpRtts = new Map<TargetState, number>();
    if (options.tcpFallback && silent.length > 0) {
      tcpAttempts = silent.length;
      const connect = deps.tcpConnect ?? connectTcp;
      await runWithConcurrency(silent, TCP_FALLBACK_CONCURRENCY, async (state) => {
        const begunMs = clock.nowMs();
        const connected = await connect({ address: state.target.address, port: state.target.port, timeoutMs: options.tcpTimeoutMs, signal });
        throwIfAborted(signal, PROBING_ABORTED);
        if (connected) tcpRtts.set(state, clock.nowMs() - begunMs);
      });
    }
    return {
      results: states.map((state) => describeResult(state, tcpRtts.get(state) ?? null)),
      packetsSent: session?.packetsSent ?? 0,
      tcpAttempts,
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
  }
}

class StrategyEngine {
  private round = 0;
  private readonly largestTtl: number;

  constructor(
    private readonly session: ProbeSession,
    private readonly options: ProbeOptions,
  ) {
    this.largestTtl = computeLargestTtl(options.maximumTtlToPing);
  }

  /** One echo at the largest TTL each (plus retries for the silent), then verify the competition. */
  async runInference(states: TargetState[]): Promise<void> {
    if (states.length === 0) return;
    let silent = states;
    for (let attempt = 0; attempt <= this.options.retries && silent.length > 0; attempt += 1) {
      await this.probeAll(silent, this.largestTtl, false);
      silent = silent.filter((state) => !hasAnswered(state));
      this.finishRound(this.largestTtl, states.length - silent.length, silent.length);
    }
    const answered = states.filter((state) => hasAnswered(state) && state.inferredDistance !== null);
    if (answered.length === 0 || this.options.verify === false) return;
    const bestClass = selectBestPriorityClass(answered);
    const bestInferred = smallest(bestClass.map((state) => state.inferredDistance!));
    const candidates = bestClass.filter((state) => state.inferredDistance! <= bestInferred + this.options.verifyMargin);
    await this.findNearest(candidates, 0, this.largestTtl, bestInferred);
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
  private async findNearest(members: TargetState[], lowTtl: number, highTtl: number, guess: number | null): Promise<void> {
    let low = lowTtl;
    let high = highTtl;
    let steps = 0;
    while (high - low > 1 && steps < 64) {
      steps += 1;
      const ttl = this.chooseTtl(low, high, guess);
      const unknown = members.filter((state) => state.failTtl < ttl && (state.reachTtl ?? Number.POSITIVE_INFINITY) > ttl);
      await this.probeAll(unknown, ttl, true);
      const reached = members.filter((state) => state.reachTtl !== null && state.reachTtl <= ttl);
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
    await Promise.all(
      states.map(async (state) => {
        const timeoutMs = computeAdaptiveTimeoutMs(this.options.timeoutMs, state.largestRttMs);
        recordOutcome(state, ttl, await this.session.probe(state.target, ttl, timeoutMs), silenceMeansNotReached);
      }),
    );
  }

  private finishRound(ttl: number, answered: number, pending: number): void {
    this.round += 1;
    this.options.onRoundDone?.({ round: this.round, ttl, answered, pending });
  }
}

function createState(target: ProbeTarget): TargetState {
  return {
    target,
    priority: target.priority ?? 0,
    bestRttMs: null,
    largestRttMs: null,
    inferredDistance: null,
    reachTtl: null,
    failTtl: 0,
    ladderStoppedAtTtl: null,
    viaLadder: false,
  };
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
    if (state.inferredDistance === null && outcome.replyTtl !== null) state.inferredDistance = inferDistanceFromReplyTtl(outcome.replyTtl);
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
    const upper = state.reachTtl - 1;
    const lower = Math.min(state.failTtl, upper);
    let distance: number;
    if (lower === upper) distance = upper;
    else if (state.inferredDistance !== null && !state.viaLadder) {
      distance = Math.min(upper, Math.max(lower, state.inferredDistance));
      if (distance !== state.inferredDistance) notes.push(`reply TTL suggests ${state.inferredDistance} hops; TTL-limited echoes bound it to ${lower}..${upper}`);
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
  return { ...base, distance: null, rttMs: null, method: 'unreachable', ...noteField(notes) };
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
