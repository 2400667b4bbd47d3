/**
 * The one owner of process-wide teardown and signals: nothing else in relay-select listens for
 * SIGINT, SIGTERM, SIGHUP or `exit`.
 *
 * What a process must undo when it ends — stub relays and forwarders to kill, namespaces to delete — is
 * registered with {@link onTeardown}. On SIGINT/SIGTERM every registered cleanup runs first, latest
 * first and synchronously, whoever else reacts to the signal; on `exit` they run too. Then:
 * - while work holds {@link abortOnSignals}, its signal aborts, so a command stops at a safe point
 *   (lock released, state not half written) and returns its exit status;
 * - otherwise, or on a second signal, the process ends of the signal as it would have without us;
 * - and if the process is still alive {@link FORCED_EXIT_AFTER_SIGNAL_MS} after the first signal — work
 *   that does not heed its AbortSignal, a handle left open — it ends of the signal then: whatever it
 *   waits on, a stopped relay-select is gone within a second.
 *
 * SIGHUP means "reload" to a long-running command (`relay-select agent`), which registers with
 * {@link onReloadSignal}; while nobody does, SIGHUP keeps its default action.
 */
import { RelaySelectError } from './errors.js';

type TeardownEvent = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'exit';

/** The parts of `process` the teardown uses (a test passes an EventEmitter). */
export interface SignalTarget {
  readonly pid: number;
  on(event: TeardownEvent, listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: TeardownEvent, listener: (signal: NodeJS.Signals) => void): unknown;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

export interface Teardown {
  /** Runs `cleanup` (synchronous) on exit, SIGINT or SIGTERM; returns a function that unregisters it. */
  add(cleanup: () => void): () => void;
  /** An AbortSignal that fires on SIGINT/SIGTERM; `dispose` when the work is done. */
  abortOnSignals(): SignalAbort;
  /** Calls `listener` on each SIGHUP; returns a function that unregisters it. */
  onReload(listener: () => void): () => void;
}

/** Work that a SIGINT or SIGTERM stops. */
export interface SignalAbort {
  signal: AbortSignal;
  /** The signal that stopped the work, or null while none came. */
  received(): NodeJS.Signals | null;
  dispose(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** How long stopped work has to return before the process ends of the signal anyway. */
export const FORCED_EXIT_AFTER_SIGNAL_MS = 900;

/** Listens on `target` only while something is registered, so an idle process keeps the default behaviour. */
export function createTeardown(target: SignalTarget): Teardown {
  const cleanups: Array<() => void> = [];
  const holders = new Map<AbortController, { signal: NodeJS.Signals | null }>();
  let installed = false;
  let stopping = false;

  const runCleanups = (): void => {
    for (let cleanup = cleanups.pop(); cleanup !== undefined; cleanup = cleanups.pop()) {
      try {
        cleanup();
      } catch {
        // One cleanup that fails must not keep the others from running.
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    runCleanups();
    if (holders.size > 0 && !stopping) {
      stopping = true;
      // Unref'd: a process that ends by itself in time is not kept waiting for it.
      setTimeout(() => {
        uninstall();
        target.kill(target.pid, signal);
      }, FORCED_EXIT_AFTER_SIGNAL_MS).unref();
      for (const [controller, holder] of holders) {
        holder.signal = signal;
        controller.abort(new RelaySelectError('ABORTED', `interrupted by ${signal}`));
      }
      return;
    }
    uninstall();
    target.kill(target.pid, signal);
  };
  const onExit = (): void => runCleanups();
  const install = (): void => {
    if (installed) return;
    installed = true;
    for (const signal of SIGNALS) target.on(signal, onSignal);
    target.on('exit', onExit);
  };
  const uninstall = (): void => {
    if (!installed) return;
    installed = false;
    for (const signal of SIGNALS) target.off(signal, onSignal);
    target.off('exit', onExit);
  };
  const uninstallWhenIdle = (): void => {
    if (holders.size === 0) stopping = false;
    if (cleanups.length === 0 && holders.size === 0) uninstall();
  };
  const reloaders = new Set<() => void>();
  const onHangup = (): void => {
    for (const listener of [...reloaders]) listener();
  };

  return {
    add(cleanup) {
      cleanups.push(cleanup);
      install();
      return () => {
        const index = cleanups.lastIndexOf(cleanup);
        if (index !== -1) cleanups.splice(index, 1);
        uninstallWhenIdle();
      };
    },
    abortOnSignals() {
      const controller = new AbortController();
      const holder: { signal: NodeJS.Signals | null } = { signal: null };
      holders.set(controller, holder);
      install();
      return {
        signal: controller.signal,
        received: () => holder.signal,
        dispose() {
          holders.delete(controller);
          uninstallWhenIdle();
        },
      };
    },
    onReload(listener) {
      // A wrapper per registration, so the same function registered twice is called twice.
      const entry = (): void => listener();
      if (reloaders.size === 0) target.on('SIGHUP', onHangup);
      reloaders.add(entry);
      return () => {
        if (!reloaders.delete(entry)) return;
        if (reloaders.size === 0) target.off('SIGHUP', onHangup);
      };
    },
  };
}

/** The teardown of this process. */
const processTeardown = createTeardown(process);

/** Registers a synchronous cleanup for exit, SIGINT and SIGTERM; returns its removal. */
export function onTeardown(cleanup: () => void): () => void {
  return processTeardown.add(cleanup);
}

/**
 * An AbortSignal that fires on SIGINT/SIGTERM, so a command stops probing, releases its lock and
 * returns its exit status instead of dying mid-write.
 */
export function abortOnSignals(): SignalAbort {
  return processTeardown.abortOnSignals();
}

/**
 * `promise`, or a rejection with `whenStuck()` if the process runs out of work while it is pending: a
 * promise that nothing can settle any more, such as a module whose top-level await never settles. Node
 * would otherwise end the process right there, with status 13 and no word of what was stuck.
 */
export function rejectIfNeverSettled<T>(promise: Promise<T>, whenStuck: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onIdle = (): void => reject(whenStuck());
    process.once('beforeExit', onIdle);
    promise.finally(() => process.off('beforeExit', onIdle)).then(resolve, reject);
  });
}

/** Calls `listener` on each SIGHUP (reload settings), until the returned function is called. */
export function onReloadSignal(listener: () => void): () => void {
  return processTeardown.onReload(listener);
}
