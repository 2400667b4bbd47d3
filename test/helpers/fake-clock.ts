import type { Clock } from '../../src/clock.js';

/** A clock that only moves when told to: wall time and monotonic time advance together. */
export interface FakeClock extends Clock {
  /** Sets the wall time; monotonic time does not jump (as when NTP steps the system clock). */
  set(at: Date | string | number): void;
  advanceSeconds(seconds: number): void;
  advanceMs(ms: number): void;
}

/** @param start wall time at the start; monotonic time starts at 0. */
export function createFakeClock(start: Date | string | number = '2024-01-01T00:00:00.000Z'): FakeClock {
  let wallAtStartMs = toMs(start);
  let elapsedMs = 0;
  return {
    // A fresh Date each call, so a caller mutating the result cannot move the clock.
    now: () => new Date(wallAtStartMs + elapsedMs),
    nowMs: () => elapsedMs,
    set: (at) => {
      wallAtStartMs = toMs(at) - elapsedMs;
    },
    advanceSeconds: (seconds) => {
      elapsedMs += seconds * 1000;
    },
    advanceMs: (ms) => {
      elapsedMs += ms;
    },
  };
}

function toMs(at: Date | string | number): number {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at;
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid time: ${String(at)}`);
  return ms;
}
