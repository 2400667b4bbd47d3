import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_RETRY_DELAY_SECONDS, nextRetryDelaySeconds } from '../../src/cycle/backoff.js';

const defaults = { minRetryIntervalSeconds: 60, maxRetryIntervalSeconds: 7200, jitter: 0 };

describe('nextRetryDelaySeconds', () => {
  it('doubles from the minimum and stops at the maximum (jitter 0)', () => {
    const delays = Array.from({ length: 10 }, (_, i) => nextRetryDelaySeconds(i + 1, defaults, Math.random));
    expect(delays).toEqual([60, 120, 240, 480, 960, 1920, 3840, 7200, 7200, 7200]);
  });

  it('stays at the maximum for huge attempt numbers', () => {
    expect(nextRetryDelaySeconds(5000, defaults, () => 0.5)).toBe(7200);
    expect(
      nextRetryDelaySeconds(Number.MAX_SAFE_INTEGER, { ...defaults, jitter: 0.1 }, () => 0.999),
    ).toBeLessThanOrEqual(7200 * 1.1);
  });

  it('treats attempt < 1 as the first retry', () => {
    expect(nextRetryDelaySeconds(0, defaults, () => 0.5)).toBe(60);
    expect(nextRetryDelaySeconds(-3, defaults, () => 0.5)).toBe(60);
  });

  it('u = 0.5 is the base, u = 0 and u → 1 are the edges', () => {
    const options = { ...defaults, jitter: 0.1 };
    expect(nextRetryDelaySeconds(1, options, () => 0.5)).toBeCloseTo(60, 9);
    expect(nextRetryDelaySeconds(1, options, () => 0)).toBeCloseTo(54, 9);
    expect(nextRetryDelaySeconds(1, options, () => 1)).toBeCloseTo(66, 9);
  });

  it('never goes below 1 s', () => {
    expect(
      nextRetryDelaySeconds(1, { minRetryIntervalSeconds: 0.5, maxRetryIntervalSeconds: 10, jitter: 1 }, () => 0),
    ).toBe(MIN_RETRY_DELAY_SECONDS);
  });

  it('jitter stays within ±jitter of the base and never above max × (1 + jitter) (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 3600 }),
        fc.integer({ min: 1, max: 100000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (attempt, minSeconds, extraSeconds, jitter, u) => {
          const options = {
            minRetryIntervalSeconds: minSeconds,
            maxRetryIntervalSeconds: minSeconds + extraSeconds,
            jitter,
          };
          const base = nextRetryDelaySeconds(attempt, { ...options, jitter: 0 }, () => u);
          const delay = nextRetryDelaySeconds(attempt, options, () => u);
          const epsilon = 1e-9 * base;
          expect(delay).toBeGreaterThanOrEqual(Math.max(1, base * (1 - jitter)) - epsilon);
          expect(delay).toBeLessThanOrEqual(base * (1 + jitter) + epsilon);
          expect(delay).toBeLessThanOrEqual(options.maxRetryIntervalSeconds * (1 + jitter) + epsilon);
          expect(delay).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('spreads a fleet: different u give different delays', () => {
    const options = { ...defaults, jitter: 0.1 };
    const delays = new Set([0, 0.25, 0.5, 0.75].map((u) => nextRetryDelaySeconds(3, options, () => u)));
    expect(delays.size).toBe(4);
  });
});
