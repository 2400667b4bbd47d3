/**
 * One probing session: one ICMP identifier per family (ours, or the one a ping socket's kernel imposes),
 * a sequence counter, the pacer, and the table of probes in flight. It matches what the transport hears
 * to its own probes only — echo replies by identifier, sequence and source; Time Exceeded / Unreachable
 * by the quoted identifier, sequence and destination — because every raw ICMP socket on the host hears
 * everyone's traffic. Round trips come from the kernel's send and receive times when the transport has
 * them, so a busy event loop does not lengthen them.
 */
import { canonicalAddress } from './icmp-codec.js';
import { abortedError, throwIfAborted } from '../abort.js';
import { systemTimers, type Clock, type Timers } from '../clock.js';
import { PROBING_ABORTED, type Pacer } from './pacer.js';
import type { IcmpTransport, ReceivedIcmp, SendReceipt } from './transport.js';
import type { ProbeProgress, ProbeTarget } from './types.js';

type ProbeOutcomeKind = 'echo-reply' | 'time-exceeded' | 'unreachable' | 'timeout';

export interface ProbeOutcome {
  kind: ProbeOutcomeKind;
  /** Round trip of the answer; null on timeout. */
  rttMs: number | null;
  /** IP TTL of an echo reply (IPv4 only). */
  replyTtl: number | null;
  /** Who answered: the target for an echo reply, the router for Time Exceeded or Unreachable; null on timeout. */
  source: string | null;
}

/**
 * How long a probe waits for its answer, counted from when it left. A function is asked when the probe
 * leaves, again when its wait runs out (a longer answer extends the wait) and on refreshTimeouts().
 */
type ProbeTimeout = number | (() => number);

const TIMED_OUT: ProbeOutcome = { kind: 'timeout', rttMs: null, replyTtl: null, source: null };

interface InFlight {
  target: ProbeTarget;
  address: string;
  ttl: number;
  /** Monotonic time before the send call: no answer can have taken longer than now − this. */
  sendingAtMs: number;
  sentAtMs: number;
  /** Kernel clock (CLOCK_REALTIME) at send, when the transport reports it. */
  sentAtNs: bigint | undefined;
  timeout: ProbeTimeout;
  /** The wait the running timer was armed for, counted from sentAtMs. */
  armedMs: number;
  /** A handle from the session's timers. */
  timer: unknown;
  resolve: (outcome: ProbeOutcome) => void;
  reject: (error: unknown) => void;
}

interface ProbeSessionOptions {
  transport: IcmpTransport;
  pacer: Pacer;
  clock: Clock;
  /** Where probe timeouts are scheduled. @default systemTimers */
  timers?: Timers;
  /** 16-bit ICMP identifier of this session (a ping socket's kernel may impose its own: the transport says). */
  identifier: number;
  progress: ProbeProgress;
  signal?: AbortSignal;
}

export class ProbeSession {
  /** Echo requests handed to the transport. */
  packetsSent = 0;
  private readonly inFlight = new Map<number, InFlight>();
  private nextSequence: number;
  private readonly unsubscribe: () => void;
  private readonly onAbort = (): void => this.failAll(abortedError(this.options.signal, PROBING_ABORTED));
  private closed = false;
  private readonly timers: Timers;

  constructor(private readonly options: ProbeSessionOptions) {
    this.timers = options.timers ?? systemTimers;
    this.nextSequence = Math.floor(Math.random() * 0x10000);
    this.unsubscribe = options.transport.onPacket((packet) => this.receive(packet));
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Sends one paced echo request with `ttl` and waits for its answer or `timeout` after it left. */
  async probe(target: ProbeTarget, ttl: number, timeout: ProbeTimeout): Promise<ProbeOutcome> {
    await this.options.pacer.take(this.options.signal);
    throwIfAborted(this.options.signal, PROBING_ABORTED);
    if (this.closed) throw abortedError(this.options.signal, PROBING_ABORTED);
    const sequence = this.allocateSequence();
    const address = canonicalAddress(target.address);
    const outcome = new Promise<ProbeOutcome>((resolve, reject) => {
      const nowMs = this.options.clock.nowMs();
      this.inFlight.set(sequence, {
        target,
        address,
        ttl,
        sendingAtMs: nowMs,
        sentAtMs: nowMs,
        sentAtNs: undefined,
        timeout,
        armedMs: 0,
        timer: undefined,
        resolve,
        reject,
      });
    });
    this.packetsSent += 1;
    this.options.progress.onProbeSent?.({ key: target.key, address: target.address, ttl, sequence });
    let receipt: SendReceipt | void;
    try {
      receipt = await this.options.transport.send(
        target.address,
        target.family,
        ttl,
        this.identifierFor(target.family),
        sequence,
      );
    } catch (error) {
      this.settle(sequence, TIMED_OUT);
      if (this.options.signal?.aborted) throw abortedError(this.options.signal, PROBING_ABORTED);
      // A send the kernel refuses (no route, EHOSTUNREACH) is a probe nobody will answer.
      return outcome;
    }
    const entry = this.inFlight.get(sequence);
    if (entry !== undefined) {
      entry.sentAtMs = this.options.clock.nowMs();
      entry.sentAtNs = receipt?.sentAtNs;
      this.arm(sequence, entry, limitOf(timeout), 0);
    }
    return outcome;
  }

  /**
   * Asks every waiting probe's timeout function again and shortens waits that are now shorter (an
   * earlier answer just made the expected round trip known); waits that grew are extended when they run out.
   */
  refreshTimeouts(): void {
    const nowMs = this.options.clock.nowMs();
    for (const [sequence, entry] of this.inFlight) {
      if (entry.timer === undefined || typeof entry.timeout === 'number') continue;
      const limitMs = entry.timeout();
      if (limitMs >= entry.armedMs) continue;
      this.timers.clearTimeout(entry.timer);
      this.arm(sequence, entry, limitMs, nowMs - entry.sentAtMs);
    }
  }

  /** Stops listening, clears every timer and fails what is still in flight. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.failAll(abortedError(this.options.signal, PROBING_ABORTED));
  }

  /** Times the probe out `limitMs` after it left (`elapsedMs` ago), unless its timeout grew meanwhile. */
  private arm(sequence: number, entry: InFlight, limitMs: number, elapsedMs: number): void {
    entry.armedMs = limitMs;
    entry.timer = this.timers.setTimeout(
      () => {
        // An answer that arrived while the event loop was busy is in the socket, not yet heard: hear it first.
        this.options.transport.flush?.();
        if (this.inFlight.get(sequence) !== entry) return;
        const grownMs = limitOf(entry.timeout);
        if (grownMs > entry.armedMs) this.arm(sequence, entry, grownMs, entry.armedMs);
        else this.settle(sequence, TIMED_OUT);
      },
      Math.max(0, limitMs - elapsedMs),
    );
  }

  private allocateSequence(): number {
    for (let attempt = 0; attempt < 0x10000; attempt += 1) {
      const sequence = this.nextSequence;
      this.nextSequence = (this.nextSequence + 1) & 0xffff;
      if (!this.inFlight.has(sequence)) return sequence;
    }
    throw new Error('65536 probes in flight');
  }

  private identifierFor(family: 4 | 6): number {
    return this.options.transport.fixedIdentifier?.(family) ?? this.options.identifier;
  }

  private receive(packet: ReceivedIcmp): void {
    const { message } = packet;
    if (message.identifier !== this.identifierFor(packet.family)) return;
    const entry = this.inFlight.get(message.sequence);
    if (entry === undefined) return;
    // Both canonical already: the transport's source, the decoder's quoted destination.
    const from = message.kind === 'echo-reply' ? packet.source : message.originalDestination;
    if (from !== entry.address) return;
    const rttMs = measureRoundTripMs(entry, packet, this.options.clock.nowMs());
    this.options.progress.onReply?.({
      key: entry.target.key,
      address: entry.target.address,
      kind: message.kind,
      ttl: entry.ttl,
      rttMs,
    });
    this.settle(message.sequence, { kind: message.kind, rttMs, replyTtl: message.replyTtl, source: packet.source });
  }

  private settle(sequence: number, outcome: ProbeOutcome): void {
    const entry = this.inFlight.get(sequence);
    if (entry === undefined) return;
    this.inFlight.delete(sequence);
    if (entry.timer !== undefined) this.timers.clearTimeout(entry.timer);
    entry.resolve(outcome);
  }

  private failAll(error: unknown): void {
    for (const [sequence, entry] of this.inFlight) {
      this.inFlight.delete(sequence);
      if (entry.timer !== undefined) this.timers.clearTimeout(entry.timer);
      entry.reject(error);
    }
  }
}

/** Slack for the two clocks' rates (NTP slews CLOCK_REALTIME by up to 0.05 %) and the µs of the calls around them. */
const CLOCK_AGREEMENT_MS = 1;

/**
 * The round trip by the kernel's clock (send call to receive timestamp) when the transport gives both;
 * else by the monotonic clock from the send to when JavaScript heard the answer. The kernel's clock is
 * CLOCK_REALTIME: a value below zero or beyond what the monotonic clock allows means it was stepped,
 * and the monotonic measure is used.
 */
function measureRoundTripMs(entry: InFlight, packet: ReceivedIcmp, nowMs: number): number {
  const heardAfterMs = nowMs - entry.sentAtMs;
  if (entry.sentAtNs === undefined || packet.receivedAtNs === undefined) return heardAfterMs;
  const kernelMs = Number(packet.receivedAtNs - entry.sentAtNs) / 1e6;
  const upperBoundMs = nowMs - entry.sendingAtMs + CLOCK_AGREEMENT_MS;
  return kernelMs >= 0 && kernelMs <= upperBoundMs ? kernelMs : heardAfterMs;
}

function limitOf(timeout: ProbeTimeout): number {
  return typeof timeout === 'number' ? timeout : timeout();
}
