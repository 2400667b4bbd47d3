/**
 * Helpers for the end-to-end tests of `relay-select run` in a namespace lab: stub relays started as
 * real processes in relay namespaces, the real CLI (bin/relay-select.js over dist/) run in the
 * endpoint namespace (test/helpers/cli.ts), per-scenario config and relay-list files.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCounters } from '../../src/lab/lab-counters.js';
import type { State } from '../../src/cycle/state.js';
import type { LabNetwork } from '../../src/lab/netns/network.js';
import {
  STUB_RELAY_PROGRAM,
  stubRelayArgs,
  type RegistrationLogEntry,
  type StubMode,
} from '../../src/lab/stub-relay/stub-server.js';
import { REPO_ROOT } from './cli.js';

const STUB_MAIN = join(REPO_ROOT, STUB_RELAY_PROGRAM);

/** Why the file skips when the compiled CLI is missing (the tests run what bin/relay-select.js runs). */
export function missingBuildReason(): string | undefined {
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')) || !existsSync(STUB_MAIN)) {
    return 'dist/ is missing: run `npm run build` first';
  }
  return undefined;
}

interface StubTlsFiles {
  cert: string;
  key: string;
  /** CA of acceptable client certificates; with it the stub requires one. */
  clientCa?: string;
}

export interface E2eStub {
  node: string;
  address: string;
  port: number;
  /** `ADDRESS:PORT`, as in the relay list and the failover setting. */
  spec: string;
  pid: number;
  logFile: string;
  /** Writes the mode file, signals the stub and waits until it reports the new mode. */
  setMode(mode: StubMode): Promise<void>;
  /** Registrations the stub logged so far (optionally only those of one client id). */
  registrations(clientId?: string): RegistrationLogEntry[];
  /** Sends SIGTERM to the stub's PID and waits for it to exit. */
  stop(): Promise<void>;
}

/** Waits for a line of a child's output that matches, or fails with what it printed. */
function waitForOutput(
  child: ChildProcess,
  stream: 'stdout' | 'stderr',
  pattern: RegExp,
  what: string,
  timeoutMs = 10_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const source = child[stream]!;
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const match = seen.match(pattern);
      if (match) {
        cleanup();
        resolvePromise(match);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${what}: exited (${code}) before printing ${pattern}; output: ${seen}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no ${pattern} within ${timeoutMs} ms; output: ${seen}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      source.off('data', onData);
      child.off('exit', onExit);
    };
    source.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Starts the stub relay program (dist/lab/stub-relay/main.js) in the node's namespace, listening on the node's first
 * address (or, with `allAddresses`, on every address of the node: one stub for all the relays of a host with extra
 * addresses), with a mode file and a registration log in `directory`.
 */
export async function startE2eStub(
  lab: LabNetwork,
  node: string,
  options: {
    directory: string;
    port: number;
    mode?: StubMode;
    tls?: StubTlsFiles;
    family?: 4 | 6;
    capacity?: number;
    retryAfterSeconds?: number;
    allAddresses?: boolean;
  },
): Promise<E2eStub> {
  const family = options.family ?? 4;
  const address = lab.addressOf(node, family);
  const base = join(options.directory, `stub-${node}-v${family}-${options.port}`);
  const logFile = `${base}.log`;
  const modeFile = `${base}.mode`;
  writeFileSync(logFile, '');
  writeFileSync(modeFile, options.mode ?? 'ok');
  const argv = [
    process.execPath,
    STUB_MAIN,
    ...stubRelayArgs({
      port: options.port,
      host: options.allAddresses === true ? undefined : address,
      mode: options.mode ?? 'ok',
      name: node,
      logFile,
      modeFile,
      capacity: options.capacity,
      retryAfterSeconds: options.retryAfterSeconds,
      tls: options.tls && { certFile: options.tls.cert, keyFile: options.tls.key, clientCaFile: options.tls.clientCa },
    }),
  ];
  const child = lab.spawn(node, argv);
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  await waitForOutput(child, 'stdout', /stub listening on (\d+)/, `stub in ${node}`);
  // `ip netns exec` execs the program, so this PID is the stub's own.
  const pid = child.pid!;
  let changes = Promise.resolve();
  return {
    node,
    address,
    port: options.port,
    spec: family === 6 ? `[${address}]:${options.port}` : `${address}:${options.port}`,
    pid,
    logFile,
    setMode(mode) {
      changes = changes.then(async () => {
        writeFileSync(modeFile, mode);
        const reported = waitForOutput(child, 'stderr', new RegExp(`stub mode ${mode}\\b`), `stub in ${node}`);
        process.kill(pid, 'SIGUSR1');
        await reported;
      });
      return changes;
    },
    registrations(clientId) {
      const entries = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as RegistrationLogEntry);
      return clientId === undefined
        ? entries
        : entries.filter((entry) => (entry.body as { clientId?: string } | null)?.clientId === clientId);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()));
      process.kill(pid, 'SIGTERM');
      await exited;
    },
  };
}

export interface E2eScenario {
  directory: string;
  relaysFile: string;
  configFile: string;
  stateDir: string;
  /** `--relays F --config F --state-dir D`, the arguments every command of the scenario needs. */
  fileArgs: string[];
}

/** Writes a scenario's relay list (one line per entry) and JSON config into a new directory under `root`. */
export function writeE2eScenario(
  root: string,
  name: string,
  relayLines: string[],
  config: Record<string, unknown>,
): E2eScenario {
  const directory = join(root, name);
  mkdirSync(directory, { recursive: true });
  const relaysFile = join(directory, 'Relay.dat');
  const configFile = join(directory, 'config.json');
  const stateDir = join(directory, 'state');
  writeFileSync(relaysFile, `${relayLines.join('\n')}\n`);
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return {
    directory,
    relaysFile,
    configFile,
    stateDir,
    fileArgs: ['--relays', relaysFile, '--config', configFile, '--state-dir', stateDir],
  };
}

/** Reads the scenario's state.json (null when there is none). */
export function readE2eState(scenario: E2eScenario): State | null {
  const file = join(scenario.stateDir, 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as State) : null;
}

/** ICMP and ICMPv6 echo requests the node's namespace has sent (the lab's own counters: /proc/net/snmp and snmp6). */
export async function readOutEchos(lab: LabNetwork, node: string): Promise<number> {
  const counters = await readCounters(lab.namespaceOf(node));
  if (counters === undefined) throw new Error(`no ICMP counters in the namespace of ${node}`);
  return counters.icmpEchoRequests;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
