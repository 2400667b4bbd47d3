import { spawn } from 'node:child_process';
import { abortedError, throwIfAborted } from '../abort.js';
import type { RegisterSettings } from '../config/settings.js';
import { RelaySelectError } from '../errors.js';
import { REGISTRATION_ABORTED, toDetailLine } from './http-exchange.js';
import type { RegisterOutcome, RegistrationCandidate, RegistrationFacts } from './types.js';
import { stripBrackets } from './url.js';

/**
 * Exit status of a registration hook meaning "relay alive, upstream down, try later" (sysexits
 * EX_TEMPFAIL). It maps to `upstream-down` so a hook can ask for the same keep-and-back-off
 * behaviour as an HTTP 503, instead of a re-selection.
 */
const COMMAND_EXIT_UPSTREAM_DOWN = 75;

/** After the deadline the hook gets SIGTERM, then SIGKILL this much later. */
const COMMAND_KILL_GRACE_MS = 1000;
/** Stopped by a signal, relay-select must end within a second: a hook that ignores SIGTERM gets less grace. */
const ABORT_KILL_GRACE_MS = 300;

/** Only the first line is reported; the rest of stderr is not kept. */
const MAX_STDERR_BYTES = 4096;

interface RegisterCommandDeps {
  /** Environment the hook inherits before the RELAY_SELECT_* variables. @default process.env */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** The variables a hook receives (DESIGN §8). Unknown distance and address are empty strings. */
export function buildCommandEnvironment(
  candidate: RegistrationCandidate,
  facts: RegistrationFacts,
): Record<string, string> {
  return {
    RELAY_SELECT_HOST: stripBrackets(candidate.relay.host),
    RELAY_SELECT_PORT: String(candidate.relay.port),
    RELAY_SELECT_ADDRESS: candidate.address ?? '',
    RELAY_SELECT_DISTANCE: candidate.distance === null ? '' : String(candidate.distance),
    RELAY_SELECT_RTT_MS: candidate.rttMs === null ? '' : String(candidate.rttMs),
    RELAY_SELECT_POOL: candidate.pool,
    RELAY_SELECT_CLIENT_ID: facts.clientId,
    RELAY_SELECT_HOSTNAME: facts.hostname,
    RELAY_SELECT_VERSION: facts.version,
  };
}

/** `register.command`; throws CONFIG_INVALID when it is missing or blank. */
export function requireRegisterCommand(settings: Pick<RegisterSettings, 'command'>): string {
  const command = settings.command;
  if (command === undefined || command.trim() === '') {
    throw new RelaySelectError('CONFIG_INVALID', 'register.command: required when register.mode is "command"', {
      hint: 'set register.command to a program, or register.mode to "http" or "none"',
    });
  }
  return command;
}

/**
 * Registers by running `register.command` through `/bin/sh -c`. Exit 0 = registered, exit 75 =
 * upstream-down, anything else (another code, a signal, the deadline) = failed with the code and the
 * first line of stderr. stdout is ignored. A missing `register.command` throws CONFIG_INVALID.
 */
export async function registerCommand(
  candidate: RegistrationCandidate,
  facts: RegistrationFacts,
  settings: RegisterSettings,
  deps: RegisterCommandDeps = {},
): Promise<RegisterOutcome> {
  const command = requireRegisterCommand(settings);
  const { signal } = deps;
  throwIfAborted(signal, REGISTRATION_ABORTED);

  return new Promise((resolve, reject) => {
    // Its own process group, so the deadline ends the hook's children too (the shell alone would orphan them).
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...(deps.env ?? process.env), ...buildCommandEnvironment(candidate, facts) },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signalName: NodeJS.Signals, evenAfterExit = false): void => {
      if (child.pid === undefined || (!evenAfterExit && (child.exitCode !== null || child.signalCode !== null))) return;
      try {
        process.kill(-child.pid, signalName);
      } catch {
        // Already gone.
      }
    };
    const stop = (graceMs: number): void => {
      killGroup('SIGTERM');
      clearTimeout(killTimer);
      killTimer = setTimeout(() => killGroup('SIGKILL'), graceMs);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop(COMMAND_KILL_GRACE_MS);
    }, settings.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop(ABORT_KILL_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.slice(0, MAX_STDERR_BYTES - stderr.length);
    });
    let exitTimer: NodeJS.Timeout | undefined;
    let settled = false;
    /** Clears the timers and the abort listener once; false when already settled. */
    const beginSettling = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(killTimer);
      clearTimeout(exitTimer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const settle = (code: number | null, signalName: NodeJS.Signals | null): void => {
      if (!beginSettling()) return;
      // Stopped, the shell may be gone while what it started (ignoring SIGTERM) is not: the group is
      // ended now. A process group outlives its leader's pid, so this reaches only the hook's processes.
      if (aborted || timedOut) killGroup('SIGKILL', true);
      child.stderr.destroy();
      if (aborted) {
        reject(abortedError(signal, REGISTRATION_ABORTED));
        return;
      }
      const firstLine = toDetailLine(stderr.trim());
      const withStderr = (text: string): string => (firstLine === '' ? text : `${text}: ${firstLine}`);
      if (timedOut) resolve({ status: 'failed', detail: `register.command timed out after ${settings.timeoutMs} ms` });
      else if (code === 0) resolve({ status: 'registered', detail: 'register.command exited 0' });
      else if (code === COMMAND_EXIT_UPSTREAM_DOWN) {
        resolve({ status: 'upstream-down', detail: withStderr(`register.command exited ${code} (EX_TEMPFAIL)`) });
      } else if (code !== null) resolve({ status: 'failed', detail: withStderr(`register.command exited ${code}`) });
      else resolve({ status: 'failed', detail: withStderr(`register.command killed by ${signalName ?? 'a signal'}`) });
    };
    child.on('error', (error) => {
      if (!beginSettling()) return;
      resolve({ status: 'failed', detail: `cannot run register.command: ${toDetailLine(error.message)}` });
    });
    // 'close' waits for stderr to drain; a background child of the hook holding stderr open must not
    // stall the run, so the exit status alone settles it shortly after.
    child.on('exit', (code, signalName) => {
      exitTimer = setTimeout(() => settle(code, signalName), 200);
    });
    child.on('close', settle);
  });
}
