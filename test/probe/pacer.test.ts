import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeAdaptiveTimeoutMs, computeFirstEchoTimeoutMs, createPacer } from '../../src/probe/pacer.js';
import { createFakeClock } from '../helpers/fake-clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('createPacer', () => {
  it('lets a burst through at once, then spaces packets at ratePps', async () => {
    vi.useFakeTimers();
    const clock = createFakeClock();
    const pacer = createPacer({ ratePps: 100, burst: 3, clock });
    const times: number[] = [];
    const takes = Array.from({ length: 6 }, () => pacer.take().then(() => times.push(clock.nowMs())));
    await vi.advanceTimersByTimeAsync(0);
    for (let step = 0; step < 40; step += 1) {
      clock.advanceMs(1);
      await vi.advanceTimersByTimeAsync(1);
    }
    await Promise.all(takes);
    expect(times).toEqual([0, 0, 0, 10, 20, 30]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects a waiting caller with ABORTED and clears its timer', async () => {
    vi.useFakeTimers();
    const pacer = createPacer({ ratePps: 1, burst: 1 });
    await pacer.take();
    const controller = new AbortController();
    const waiting = pacer.take(controller.signal).catch((error: unknown) => error);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    expect(await waiting).toMatchObject({ code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('createPacer under load', () => {
  it('after a stalled event loop releases only the accrued burst, not every overdue packet', async () => {
    vi.useFakeTimers();
    const clock = createFakeClock();
    const pacer = createPacer({ ratePps: 100, burst: 2, clock });
    let released = 0;
    const takes = Array.from({ length: 10 }, () => pacer.take().then(() => (released += 1)));
    await vi.advanceTimersByTimeAsync(0);
    expect(released).toBe(2);
    clock.advanceMs(1000); // the loop was blocked for a second
    await vi.advanceTimersByTimeAsync(10);
    expect(released).toBe(4);
    for (let step = 0; step < 60; step += 1) {
      clock.advanceMs(1);
      await vi.advanceTimersByTimeAsync(1);
    }
    await Promise.all(takes);
    expect(released).toBe(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer and one abort listener per signal however many callers wait', async () => {
    vi.useFakeTimers();
    const pacer = createPacer({ ratePps: 1, burst: 1 });
    const controller = new AbortController();
    const addListener = vi.spyOn(controller.signal, 'addEventListener');
    const waiting = Array.from({ length: 1000 }, () => pacer.take(controller.signal).catch((error: unknown) => error));
    expect(vi.getTimerCount()).toBe(1);
    expect(addListener).toHaveBeenCalledTimes(1);
    controller.abort();
    const outcomes = await Promise.all(waiting);
    expect(outcomes.filter((outcome) => (outcome as { code?: string } | undefined)?.code === 'ABORTED')).toHaveLength(
      999,
    );
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('computeAdaptiveTimeoutMs', () => {
  it('keeps the full timeout until a round trip is known', () => {
    expect(computeAdaptiveTimeoutMs(1000, null)).toBe(1000);
  });
  it('is 3 × RTT + 20 ms, at least 50 ms, at most the timeout', () => {
    expect(computeAdaptiveTimeoutMs(1000, 100)).toBe(320);
    expect(computeAdaptiveTimeoutMs(1000, 1)).toBe(50);
    expect(computeAdaptiveTimeoutMs(1000, 900)).toBe(1000);
  });
});

describe('computeFirstEchoTimeoutMs', () => {
  it('waits the whole timeout until an answer is known, then max(250, timeoutMs / 4, 3 × slowest + 20) at most timeoutMs', () => {
    expect(computeFirstEchoTimeoutMs(1000, null)).toBe(1000);
    expect(computeFirstEchoTimeoutMs(1000, 0.3)).toBe(250);
    expect(computeFirstEchoTimeoutMs(1000, 100)).toBe(320);
    expect(computeFirstEchoTimeoutMs(1000, 600)).toBe(1000);
    expect(computeFirstEchoTimeoutMs(3000, 1)).toBe(750);
    expect(computeFirstEchoTimeoutMs(500, 1)).toBe(250);
    expect(computeFirstEchoTimeoutMs(200, 1)).toBe(200);
  });
});
