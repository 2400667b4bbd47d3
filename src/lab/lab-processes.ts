/**
 * The processes a lab starts inside its namespaces — the stub relays and `relay-select run` — with the
 * PIDs it must kill on teardown. Everything here runs through `ip netns exec`.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { abortedError, throwIfAborted } from '../abort.js';
import { RelaySelectError } from '../errors.js';
import type { Pki } from './stub-relay/pki.js';
import { STUB_RELAY_PROGRAM, stubRelayArgs } from './stub-relay/stub-server.js';
import type { TopologyRelay } from './topology.js';

/** Why a lab stopped on Ctrl-C; by then the teardown has removed what it started. */
export const LAB_INTERRUPTED = 'lab interrupted; its namespaces and stub relays were removed';

/** What the lab's processes share: where the programs are, the stop signal, the PIDs still running. */
export interface LabProcesses {
  packageRoot: string;
  signal: AbortSignal;
  /** PIDs of processes the lab started that are still running, killed on teardown. */
  children: Set<number>;
}

interface ProcessResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  wallMs: number;
}

/** Runs argv inside a namespace and collects its output; killed on abort or timeout. */
export function runInNamespace(
  namespace: string,
  argv: string[],
  options: LabProcesses & { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('ip', ['netns', 'exec', namespace, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const pid = child.pid;
    if (pid !== undefined) options.children.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const stop = (): void => {
      child.kill('SIGKILL');
    };
    const timer = setTimeout(stop, options.timeoutMs);
    options.signal.addEventListener('abort', stop, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      if (pid !== undefined) options.children.delete(pid);
      reject(
        new RelaySelectError('LAB_FAILED', `cannot run ${argv[0]} in namespace ${namespace}: ${error.message}`, {
          cause: error,
        }),
      );
    });
    child.on('close', (code, signalName) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', stop);
      if (pid !== undefined) options.children.delete(pid);
      if (options.signal.aborted) {
        reject(abortedError(options.signal, LAB_INTERRUPTED));
        return;
      }
      const wallMs = Math.round(performance.now() - started);
      if (signalName === 'SIGKILL') stderr += `\n(killed after ${options.timeoutMs} ms)`;
      resolve({ exitCode: code ?? 128, stdout, stderr, wallMs });
    });
  });
}

export interface StubProcess {
  relay: string;
  pid: number;
  logFile: string;
}

async function waitForFileText(
  file: string,
  text: string,
  timeoutMs: number,
  signal: AbortSignal,
  isAlive: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    throwIfAborted(signal, LAB_INTERRUPTED);
    if (existsSync(file) && readFileSync(file, 'utf8').includes(text)) return true;
    if (!isAlive()) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

/**
 * Starts one stub relay in a namespace, detached (so a kept lab outlives us) with its output in a
 * file, and waits until it listens.
 */
export async function startStub(
  namespace: string,
  relay: TopologyRelay,
  directory: string,
  options: LabProcesses,
  tls: Pki | undefined,
): Promise<StubProcess> {
  const logFile = join(directory, `stub-${relay.name}.log`);
  const outputFile = join(directory, `stub-${relay.name}.out`);
  const stubMain = join(options.packageRoot, STUB_RELAY_PROGRAM);
  const args = [
    process.execPath,
    stubMain,
    ...stubRelayArgs({
      port: relay.port,
      mode: relay.registration === 'client-cert-required' ? 'ok' : relay.registration,
      name: relay.name,
      logFile,
      capacity: relay.capacity,
      retryAfterSeconds: relay.retryAfterSeconds,
      tls: tls && {
        certFile: tls.server.certFile,
        keyFile: tls.server.keyFile,
        clientCaFile: relay.registration === 'client-cert-required' ? tls.ca.certFile : undefined,
      },
    }),
  ];
  const outputFd = openSync(outputFile, 'a');
  const child = spawn('ip', ['netns', 'exec', namespace, ...args], {
    detached: true,
    stdio: ['ignore', outputFd, outputFd],
  });
  closeSync(outputFd);
  const pid = child.pid;
  if (pid === undefined) throw new RelaySelectError('LAB_FAILED', `cannot start the stub relay of ${relay.name}`);
  options.children.add(pid);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    options.children.delete(pid);
  });
  child.unref();
  const ready = await waitForFileText(outputFile, 'stub listening on', 10_000, options.signal, () => !exited);
  if (!ready) {
    const said = existsSync(outputFile)
      ? readFileSync(outputFile, 'utf8').trim().split('\n').slice(-3).join(' / ')
      : '';
    throw new RelaySelectError(
      'LAB_FAILED',
      `the stub relay of ${relay.name} did not start${said !== '' ? `: ${said}` : ''}`,
      {
        hint: `build first (npm run build) so ${STUB_RELAY_PROGRAM} exists`,
      },
    );
  }
  return { relay: relay.name, pid, logFile };
}

/** SIGKILL; false when the process was already gone. */
export function killProcess(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}
