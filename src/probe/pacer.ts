/**
 * Pacing and timing for probes: a token bucket that spaces echo requests, a monotonic clock for round
 * trips, and the adaptive per-probe timeout.
 */
import { abortedError, throwIfAborted } from '../abort.js';
import { systemClock, systemTimers, type Clock, type Timers } from '../clock.js';

/** Why a probe run stopped when its AbortSignal fired. */
export const PROBING_ABORTED = 'probing aborted';

interface PacerOptions {
  /** Sustained rate, packets per second. */
  ratePps: number;
  /** Packets that may leave at once before the rate applies. */
  burst: number;
  /** Its monotonic time paces the packets. @default systemClock */
  clock?: Clock;
  /** Where the wait for the next token is scheduled. @default systemTimers */
  timers?: Timers;
}

export interface Pacer {
  /** Resolves when the caller may send one packet; rejects with ABORTED when the signal fires. */
  take(signal?: AbortSignal): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

/**
 * Token bucket with a FIFO of waiters and one timer. Each tick releases only the tokens that have
 * accrued (never more than `burst`), so a stalled event loop cannot turn into a burst of queued
 * sends, and a pool of thousands of targets costs one timer and one abort listener per signal rather
 * than one of each per packet (EventTarget listeners are checked for duplicates on every add).
 */
export function createPacer(options: PacerOptions): Pacer {
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const ratePerMs = Math.max(options.ratePps, 0.001) / 1000;
  const burst = Math.max(1, options.burst);
  let tokens = burst;
  let updatedMs = clock.nowMs();
  let queue: Waiter[] = [];
  let head = 0;
  let timer: unknown;
  const abortListeners = new Map<AbortSignal, () => void>();

  const refill = (): void => {
    const now = clock.nowMs();
    tokens = Math.min(burst, tokens + (now - updatedMs) * ratePerMs);
    updatedMs = now;
  };
  const waiting = (): number => queue.length - head;
  const forgetSignals = (): void => {
    for (const [signal, listener] of abortListeners) signal.removeEventListener('abort', listener);
    abortListeners.clear();
  };
  const schedule = (): void => {
    if (timer !== undefined || waiting() === 0) return;
    // A hair under one token counts as one: float sums of rate × elapsed land at 0.9999….
    timer = timers.setTimeout(pump, Math.max(1, Math.ceil((1 - tokens) / ratePerMs)));
  };
  const pump = (): void => {
    timer = undefined;
    refill();
    while (waiting() > 0 && tokens >= 1 - 1e-9) {
      tokens -= 1;
      queue[head++]!.resolve();
    }
    if (waiting() === 0) {
      queue = [];
      head = 0;
      forgetSignals();
    }
    schedule();
  };
  const onAbort = (signal: AbortSignal): void => {
    const error = abortedError(signal, PROBING_ABORTED);
    const kept: Waiter[] = [];
    for (const waiter of queue.slice(head)) {
      if (waiter.signal === signal) waiter.reject(error);
      else kept.push(waiter);
    }
    queue = kept;
    head = 0;
    signal.removeEventListener('abort', abortListeners.get(signal)!);
    abortListeners.delete(signal);
    if (waiting() === 0 && timer !== undefined) {
      timers.clearTimeout(timer);
      timer = undefined;
    }
  };

  return {
    take(signal) {
      throwIfAborted(signal, PROBING_ABORTED);
      refill();
      if (waiting() === 0 && tokens >= 1 - 1e-9) {
        tokens -= 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        if (signal !== undefined && !abortListeners.has(signal)) {
          const listener = (): void => onAbort(signal);
          abortListeners.set(signal, listener);
          signal.addEventListener('abort', listener, { once: true });
        }
        queue.push({ resolve, reject, signal });
        schedule();
      });
    },
  };
}

/** Floor of the adaptive timeout, ms: below it scheduling jitter alone would fake losses. */
const ADAPTIVE_TIMEOUT_FLOOR_MS = 50;

/**
 * Timeout for a probe to a target whose echo round trip is known:
 * `min(timeoutMs, max(50, 3 × largest observed RTT of that target + 20))`. Without an observed RTT the
 * full `timeoutMs` applies. Per target, not global: a relay behind a slow link must not be timed out by
 * the round trips of fast ones.
 */
export function computeAdaptiveTimeoutMs(timeoutMs: number, largestObservedRttMs: number | null): number {
  if (largestObservedRttMs === null) return timeoutMs;
  return Math.min(timeoutMs, Math.max(ADAPTIVE_TIMEOUT_FLOOR_MS, 3 * largestObservedRttMs + 20));
}

/**
 * What a relay not heard from yet is always given: a quarter of `timeoutMs`, and at least 250 ms, about the
 * longest terrestrial round trip (half-way round the world and back).
 */
const UNKNOWN_RELAY_FLOOR_FRACTION = 0.25;
const UNKNOWN_RELAY_FLOOR_MS = 250;

/**
 * How long `inference` waits for the echo at the largest TTL of a relay whose own round trip is not known
 * yet, once other relays of the run have answered: `min(timeoutMs, max(250, timeoutMs / 4, 3 × largest
 * RTT of the run + 20))`; the full `timeoutMs` until the first answer. Relays that drop ICMP would
 * otherwise hold every run for a whole `timeoutMs` after the last echo left. A relay slower than that
 * (more than three times the slowest answer, and beyond 250 ms and a quarter of the timeout) counts as
 * silent: raise `probe.timeoutMs` on such networks (satellite links). The wait is asked again when it
 * runs out, so it grows with the slowest answer seen by then.
 */
export function computeFirstEchoTimeoutMs(timeoutMs: number, runLargestRttMs: number | null): number {
  if (runLargestRttMs === null) return timeoutMs;
  return Math.min(
    timeoutMs,
    Math.max(UNKNOWN_RELAY_FLOOR_MS, timeoutMs * UNKNOWN_RELAY_FLOOR_FRACTION, 3 * runLargestRttMs + 20),
  );
}
