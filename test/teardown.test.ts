import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { createTeardown, FORCED_EXIT_AFTER_SIGNAL_MS, type SignalTarget } from '../src/teardown.js';

/** A stand-in for `process`: records the signals the teardown re-raises. */
function fakeProcess(): SignalTarget & { emitter: EventEmitter; killed: Array<[number, string]>; listening(): number } {
  const emitter = new EventEmitter();
  const killed: Array<[number, string]> = [];
  return {
    emitter,
    killed,
    pid: 4242,
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
    kill: (pid, signal) => killed.push([pid, signal]),
    listening: () => emitter.listenerCount('SIGINT') + emitter.listenerCount('SIGTERM') + emitter.listenerCount('exit'),
  };
}

describe('createTeardown', () => {
  it('listens only while something is registered', () => {
    const target = fakeProcess();
    const teardown = createTeardown(target);
    expect(target.listening()).toBe(0);
    const forget = teardown.add(() => undefined);
    const stop = teardown.abortOnSignals();
    expect(target.listening()).toBe(3);
    forget();
    expect(target.listening()).toBe(3);
    stop.dispose();
    expect(target.listening()).toBe(0);
  });

  it('on SIGINT runs every cleanup, latest first, before the work holding an abort signal hears of it', () => {
    const target = fakeProcess();
    const teardown = createTeardown(target);
    const events: string[] = [];
    teardown.add(() => events.push('remove namespaces'));
    teardown.add(() => events.push('kill stub relays'));
    const stop = teardown.abortOnSignals();
    stop.signal.addEventListener('abort', () => events.push('abort'));
    target.emitter.emit('SIGINT', 'SIGINT');
    expect(events).toEqual(['kill stub relays', 'remove namespaces', 'abort']);
    expect(stop.signal.reason).toMatchObject({ code: 'ABORTED', message: 'interrupted by SIGINT' });
    expect(stop.received()).toBe('SIGINT');
    // The work stops by itself and returns its exit status: the signal is not re-raised.
    expect(target.killed).toEqual([]);
  });

  it('without work to stop, ends the process of the signal after the cleanups', () => {
    const target = fakeProcess();
    const teardown = createTeardown(target);
    const events: string[] = [];
    teardown.add(() => events.push('cleanup'));
    target.emitter.emit('SIGTERM', 'SIGTERM');
    expect(events).toEqual(['cleanup']);
    expect(target.killed).toEqual([[4242, 'SIGTERM']]);
    expect(target.listening()).toBe(0);
  });

  it('work that does not stop within FORCED_EXIT_AFTER_SIGNAL_MS of the signal: the process ends of the signal then', () => {
    vi.useFakeTimers();
    try {
      const target = fakeProcess();
      const teardown = createTeardown(target);
      const stop = teardown.abortOnSignals();
      target.emitter.emit('SIGTERM', 'SIGTERM');
      expect(stop.received()).toBe('SIGTERM');
      vi.advanceTimersByTime(FORCED_EXIT_AFTER_SIGNAL_MS - 1);
      expect(target.killed).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(target.killed).toEqual([[4242, 'SIGTERM']]);
      expect(target.listening()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a second signal while the work is stopping ends the process', () => {
    const target = fakeProcess();
    const teardown = createTeardown(target);
    teardown.abortOnSignals();
    target.emitter.emit('SIGINT', 'SIGINT');
    expect(target.killed).toEqual([]);
    target.emitter.emit('SIGINT', 'SIGINT');
    expect(target.killed).toEqual([[4242, 'SIGINT']]);
  });

  it('runs the cleanups on exit, each once, and a failing one does not stop the others', () => {
    const target = fakeProcess();
    const teardown = createTeardown(target);
    const events: string[] = [];
    teardown.add(() => events.push('first'));
    teardown.add(() => {
      throw new Error('already gone');
    });
    const forgotten = teardown.add(() => events.push('released'));
    forgotten();
    target.emitter.emit('exit');
    target.emitter.emit('exit');
    expect(events).toEqual(['first']);
  });

  it('calls the reload listeners on SIGHUP, listens for it only while one is registered, and leaves SIGINT alone', () => {
    const target = fakeProcess();
    const teardown = createTeardown(target);
    const events: string[] = [];
    expect(target.emitter.listenerCount('SIGHUP')).toBe(0);
    const forgetFirst = teardown.onReload(() => events.push('reload settings'));
    const forgetSecond = teardown.onReload(() => events.push('reload relays'));
    expect(target.emitter.listenerCount('SIGHUP')).toBe(1);
    expect(target.listening()).toBe(0);
    target.emitter.emit('SIGHUP', 'SIGHUP');
    expect(events).toEqual(['reload settings', 'reload relays']);
    expect(target.killed).toEqual([]);
    forgetFirst();
    forgetFirst();
    expect(target.emitter.listenerCount('SIGHUP')).toBe(1);
    forgetSecond();
    expect(target.emitter.listenerCount('SIGHUP')).toBe(0);
  });
});

describe('rejectIfNeverSettled', () => {
  it('turns a promise that nothing can settle any more into a rejection, where node would exit 13 without a word', () => {
    // Only a process whose event loop runs dry can tell; vitest's never does, so a child shows it.
    const teardown = new URL('../dist/teardown.js', import.meta.url).pathname;
    const script = `import { rejectIfNeverSettled } from '${teardown}';
      try { await rejectIfNeverSettled(new Promise(() => {}), () => new Error('stuck')); } catch (error) { console.log('rejected:', error.message); process.exitCode = 78; }`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect({ status: result.status, stdout: result.stdout.trim() }).toEqual({ status: 78, stdout: 'rejected: stuck' });
  });
});
