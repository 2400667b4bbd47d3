import type { Settings } from '../config/settings.js';

/**
 * The retry back-off of the run cycle (DESIGN §7), used both after a failed selection and while the
 * current relay reports its upstream server down. The formula lives here and nowhere else.
 */
export type RetryBackoffOptions = Pick<Settings, 'minRetryIntervalSeconds' | 'maxRetryIntervalSeconds' | 'jitter'>;

/** The delay is never shorter than this, whatever the settings and the jitter. */
export const MIN_RETRY_DELAY_SECONDS = 1;

/**
 * Seconds to wait before retry number `attempt` (1 = the first retry after the first failure).
 *
 * Formula:
 * - base(attempt) = min(maxRetryIntervalSeconds, minRetryIntervalSeconds × 2^(attempt − 1))
 *   — 60, 120, 240, … up to the maximum with the defaults;
 * - delay = base × (1 + jitter × (2u − 1)), u ∈ [0, 1) from `random`, so the delay lies in
 *   [base × (1 − jitter), base × (1 + jitter)];
 * - delay = max(delay, 1 s).
 *
 * The jitter is applied after the cap on purpose: a fleet that has reached the maximum must still be
 * spread out, otherwise every endpoint would retry in step at exactly `maxRetryIntervalSeconds`. The
 * delay may therefore exceed the maximum, but never `maxRetryIntervalSeconds × (1 + jitter)`.
 *
 * @param attempt retry number, ≥ 1 (smaller values count as 1)
 * @param random source of u; injected so that tests and the pure core stay deterministic
 */
export function nextRetryDelaySeconds(attempt: number, options: RetryBackoffOptions, random: () => number): number {
  const exponent = Math.max(0, Math.floor(Number.isFinite(attempt) ? attempt : 1) - 1);
  // 2^exponent overflows to Infinity for huge attempts; min() then yields the maximum, as wanted.
  const baseSeconds = Math.min(options.maxRetryIntervalSeconds, options.minRetryIntervalSeconds * 2 ** exponent);
  const jitter = clamp(options.jitter, 0, 1);
  const u = clamp(random(), 0, 1);
  const delaySeconds = baseSeconds * (1 + jitter * (2 * u - 1));
  return Math.max(MIN_RETRY_DELAY_SECONDS, delaySeconds);
}

function clamp(value: number, low: number, high: number): number {
  if (Number.isNaN(value)) return low;
  return Math.min(high, Math.max(low, value));
}
