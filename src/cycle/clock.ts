/**
 * Where "now" comes from. The decision core never reads the clock itself (STYLE §1): the edges
 * take a `Clock` and pass `clock.now()` down as a value, so tests can pin time exactly.
 */
export interface Clock {
  now(): Date;
}

/** The real wall clock. Follows `vi.useFakeTimers()` / `vi.setSystemTime()` in tests. */
export const systemClock: Clock = {
  now: () => new Date(),
};

/** A clock that only moves when told to. */
export interface FakeClock extends Clock {
  set(at: Date | string | number): void;
  advanceSeconds(seconds: number): void;
  advanceMs(ms: number): void;
}

export function createFakeClock(start: Date | string | number = '2024-01-01T00:00:00.000Z'): FakeClock {
  let currentMs = toMs(start);
  return {
    // A fresh Date each call, so a caller mutating the result cannot move the clock.
    now: () => new Date(currentMs),
    set: (at) => {
      currentMs = toMs(at);
    },
    advanceSeconds: (seconds) => {
      currentMs += seconds * 1000;
    },
    advanceMs: (ms) => {
      currentMs += ms;
    },
  };
}

function toMs(at: Date | string | number): number {
  const ms = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at;
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid time: ${String(at)}`);
  return ms;
}
