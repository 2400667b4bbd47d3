/**
 * Where time comes from. The pure core never reads a clock (STYLE §1): the edges take a `Clock` and pass
 * `clock.now()` down as a value, and tests pin time with a fake one (test/helpers/fake-clock.ts).
 */
export interface Clock {
  /** Wall-clock time: schedules, due times, the state file. */
  now(): Date;
  /** Monotonic milliseconds from an arbitrary origin: round trips and pacing, which a wall-clock step would corrupt. */
  nowMs(): number;
}

/** The real clocks. `now` follows `vi.useFakeTimers()` / `vi.setSystemTime()` in tests. */
export const systemClock: Clock = {
  now: () => new Date(),
  nowMs: () => performance.now(),
};

/**
 * Where waits are scheduled. The engine's pacer and probe timeouts take these, so the fleet simulator
 * (src/fleet) can run the real engine on simulated time without waiting in real time.
 */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The event loop's timers. */
export const systemTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
