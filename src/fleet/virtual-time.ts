/**
 * Simulated time for the real probe engine: timers go into a queue instead of the event loop, and
 * `runOnVirtualTime` fires them in time order, letting every promise settle before the next one fires,
 * so the engine sees exactly the waits it asked for and no real time passes.
 */
import type { Clock, Timers } from '../clock.js';

interface VirtualTimer {
  dueMs: number;
  /** Creation order: timers due at the same moment fire in the order they were set, as in Node. */
  order: number;
  callback: () => void;
  cancelled: boolean;
}

interface VirtualTime extends Clock, Timers {
  /** Timers set and not yet fired or cleared. */
  readonly pending: number;
}

/** A clock and timers that only move inside `runOnVirtualTime`. */
export function createVirtualTime(startMs = 0): VirtualTime & { fireNext(): boolean } {
  let nowMs = startMs;
  let order = 0;
  let pending = 0;
  const heap: VirtualTimer[] = [];
  const before = (left: VirtualTimer, right: VirtualTimer): boolean =>
    left.dueMs < right.dueMs || (left.dueMs === right.dueMs && left.order < right.order);
  const push = (timer: VirtualTimer): void => {
    heap.push(timer);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  };
  const pop = (): VirtualTimer | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  };
  return {
    // Simulated milliseconds since the epoch: the engine reads only the monotonic nowMs.
    now: () => new Date(nowMs),
    nowMs: () => nowMs,
    get pending() {
      return pending;
    },
    setTimeout(callback, delayMs) {
      const timer: VirtualTimer = { dueMs: nowMs + Math.max(0, delayMs), order: order++, callback, cancelled: false };
      push(timer);
      pending += 1;
      return timer;
    },
    clearTimeout(handle) {
      const timer = handle as VirtualTimer | undefined;
      if (timer === undefined || timer.cancelled) return;
      timer.cancelled = true;
      pending -= 1;
    },
    fireNext() {
      for (let timer = pop(); timer !== undefined; timer = pop()) {
        if (timer.cancelled) continue;
        timer.cancelled = true;
        pending -= 1;
        nowMs = timer.dueMs;
        timer.callback();
        return true;
      }
      return false;
    },
  };
}

/** Lets every queued promise reaction run: setImmediate fires only once the microtask queue is empty. */
function settlePromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `work` on `time`: fires its timers in order until the promise it returned settles. Work that
 * waits on something other than these timers never finishes, so that is an error rather than a hang.
 */
export async function runOnVirtualTime<T>(
  time: ReturnType<typeof createVirtualTime>,
  work: () => Promise<T>,
): Promise<T> {
  let settled = false;
  const result = work().finally(() => {
    settled = true;
  });
  // Observed here so a rejection before we return is not reported as unhandled.
  result.catch(() => undefined);
  for (;;) {
    await settlePromises();
    if (settled) return result;
    if (!time.fireNext()) throw new Error('simulated work is waiting on something other than simulated timers');
  }
}
