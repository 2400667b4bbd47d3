/**
 * Pacing and timing for probes: a token bucket that spaces echo requests, a monotonic clock for round
 * trips, an abortable sleep, and the adaptive per-probe timeout.
 */
import { RelaySelectError } from '../errors.js';

/** A monotonic millisecond clock (never Date.now: wall-clock steps would corrupt round trips). */
export interface Clock {
  nowMs(): number;
}

export const monotonicClock: Clock = { nowMs: () => performance.now() };

export interface PacerOptions {
  /** Sustained rate, packets per second. */
  ratePps: number;
  /** Packets that may leave at once before the rate applies. */
  burst: number;
  clock?: Clock;
}

export interface Pacer {
  /** Resolves when the caller may send one packet; rejects with ABORTED when the signal fires. */
  take(signal?: AbortSignal): Promise<void>;
}

/**
 * Token bucket. Each caller reserves its token at once (the balance may go negative) and sleeps until the
 * refill covers it, so concurrent callers leave in call order at exactly `ratePps`.
 */
export function createPacer(options: PacerOptions): Pacer {
  const clock = options.clock ?? monotonicClock;
  const ratePerMs = Math.max(options.ratePps, 0.001) / 1000;
  const burst = Math.max(1, options.burst);
  let tokens = burst;
  let updatedMs = clock.nowMs();
  return {
    async take(signal) {
      throwIfAborted(signal);
      const now = clock.nowMs();
      tokens = Math.min(burst, tokens + (now - updatedMs) * ratePerMs);
      updatedMs = now;
      tokens -= 1;
      if (tokens >= 0) return;
      await sleep(-tokens / ratePerMs, signal);
    },
  };
}

/** Waits `delayMs`; an abort clears the timer and rejects with ABORTED. */
function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

export function abortedError(signal: AbortSignal | undefined): RelaySelectError {
  return new RelaySelectError('ABORTED', 'probing aborted', { cause: signal?.reason });
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
