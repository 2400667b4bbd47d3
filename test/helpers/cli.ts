import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { renderStatusJson } from '../../src/cli/commands/status.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/relay-select.js', import.meta.url));
/** The same CLI unbundled (dist/cli/main.js and its modules), for module load hooks and recorders. */
export const UNBUNDLED_CLI = fileURLToPath(new URL('./unbundled-cli.mjs', import.meta.url));

/** What `status --json` prints. */
export type StatusJson = ReturnType<typeof renderStatusJson>;

/** `Json`: what the caller expects the command to print with `--json` (not checked here). */
export interface CliRun<Json = unknown> {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON; undefined when it is not JSON (a test checks `code` before reading it). */
  json: Json;
  /** The signal that ended the process, when one did. */
  signal: NodeJS.Signals | null;
  /** From spawn to exit, in milliseconds. */
  wallMs: number;
}

export interface RunCliOptions {
  /** @default the repository root */
  cwd?: string;
  /** Added to the environment; RELAY_SELECT_* variables of the caller are dropped unless given here. */
  env?: NodeJS.ProcessEnv;
  /** Runs the CLI through these, e.g. `ip netns exec NS` or setpriv (AS_NOBODY). */
  prefix?: readonly string[];
  /** @default bin/relay-select.js of this checkout */
  cli?: string;
  /** Options for node itself, before the CLI's path (e.g. `--import` of a test hook). */
  nodeArgs?: readonly string[];
  /** Killed (SIGKILL) after this long. @default 120000 */
  timeoutMs?: number;
  /** Called once the process is started, e.g. to signal it on an event or close its stdout. */
  onSpawn?: (child: ChildProcessByStdio<null, Readable, Readable>) => void;
}

/**
 * The CLI's environment: no RELAY_SELECT_* settings of the caller, no colour; `extra` on top. For a CLI process a
 * test starts itself rather than through {@link runCli}.
 */
export function cliEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('RELAY_SELECT_')) env[name] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs the real CLI (bin/relay-select.js over dist/, built by `npm test`) and collects what it printed. */
export function runCli<Json = unknown>(args: readonly string[], options: RunCliOptions = {}): Promise<CliRun<Json>> {
  const [command, ...rest] = [
    ...(options.prefix ?? []),
    process.execPath,
    ...(options.nodeArgs ?? []),
    options.cli ?? CLI,
    ...args,
  ];
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    const child = spawn(command!, rest, {
      cwd: options.cwd ?? REPO_ROOT,
      env: cliEnvironment(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - startedMs;
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json: json as Json, signal, wallMs });
    });
  });
}

/**
 * A `prefix` that runs the CLI in a network namespace of its own with only loopback up: whatever a test
 * makes it do, no packet leaves the machine. undefined when unshare(1) is refused (not root, no user
 * namespaces).
 */
export function privateNetworkPrefix(): string[] | undefined {
  for (const unshare of [
    ['unshare', '-n'],
    ['unshare', '-rn'],
  ]) {
    if (spawnSync(unshare[0]!, [...unshare.slice(1), 'true']).status === 0)
      return [...unshare, 'sh', '-c', 'ip link set lo up 2>/dev/null; exec "$@"', 'sh'];
  }
  return undefined;
}
