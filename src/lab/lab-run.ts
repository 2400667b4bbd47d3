/**
 * Runs a lab: builds the topology's namespaces, starts a stub relay per relay, runs the real
 * `relay-select run --force --json` inside the endpoint namespace, collects what happened, and tears
 * everything down (unless kept). The edge of the lab: processes, files and namespaces live here.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ProbeStrategy } from '../config/settings.js';
import { abortedError, throwIfAborted } from '../abort.js';
import { RelaySelectError } from '../errors.js';
import { onTeardown } from '../teardown.js';
import { renderLabRelayList, renderLabSettings } from './lab-files.js';
import { removeLabRecord, writeLabRecord, type LabRecord } from './lab-record.js';
import {
  buildRelayViews,
  chosenRelayName,
  parseRunJson,
  parseStubLog,
  toRegistration,
  type LabPackets,
  type LabRegistration,
  type LabReport,
  type LabRunResult,
} from './lab-report.js';
import { createPki, type Pki } from './stub-relay/pki.js';
import { STUB_RELAY_PROGRAM } from './stub-relay/stub-server.js';
import { networkOf, withoutLinkShaping, type Topology } from './topology.js';
import { buildNetwork, type LabNetwork } from './netns/network.js';

const execFileAsync = promisify(execFile);

const COMPARED_STRATEGIES: readonly ProbeStrategy[] = ['inference', 'rounds'];

interface LabRunOptions {
  topology: Topology;
  /** The topology file as shown to the user. */
  file: string;
  keep: boolean;
  compare: boolean;
  /** Where bin/relay-select.js and the stub relay program (STUB_RELAY_PROGRAM) live. */
  packageRoot: string;
  /** Stops the lab (Ctrl-C): what it started is killed and removed by the process teardown first. */
  signal: AbortSignal;
  onProgress?: (text: string) => void;
  /** Time allowed for one `relay-select run`. @default 60000 */
  runTimeoutMs?: number;
}

/** A namespace prefix unique to this run, short enough to leave room for node names. */
function makeLabPrefix(): string {
  return `rslab_${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
}

interface ProcessResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  wallMs: number;
}

const INTERRUPTED = 'lab interrupted; its namespaces and stub relays were removed';

/** Runs argv inside a namespace and collects its output; killed on abort or timeout. */
/** What the lab's processes share: where the programs are, the stop signal, the PIDs still running. */
interface LabProcesses {
  packageRoot: string;
  signal: AbortSignal;
  /** PIDs of processes the lab started that are still running, killed on teardown. */
  children: Set<number>;
}

function runInNamespace(namespace: string, argv: string[], options: LabProcesses & { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('ip', ['netns', 'exec', namespace, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
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
      reject(new RelaySelectError('LAB_FAILED', `cannot run ${argv[0]} in namespace ${namespace}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signalName) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', stop);
      if (pid !== undefined) options.children.delete(pid);
      if (options.signal.aborted) {
        reject(abortedError(options.signal, INTERRUPTED));
        return;
      }
      const wallMs = Math.round(performance.now() - started);
      if (signalName === 'SIGKILL') stderr += `\n(killed after ${options.timeoutMs} ms)`;
      resolve({ exitCode: code ?? 128, stdout, stderr, wallMs });
    });
  });
}

interface StubProcess {
  relay: string;
  pid: number;
  logFile: string;
}

async function waitForFileText(file: string, text: string, timeoutMs: number, signal: AbortSignal, isAlive: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    throwIfAborted(signal, INTERRUPTED);
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
async function startStub(
  namespace: string,
  relay: Topology['relays'][number],
  directory: string,
  options: LabProcesses,
  tls: Pki | undefined,
): Promise<StubProcess> {
  const logFile = join(directory, `stub-${relay.name}.log`);
  const outputFile = join(directory, `stub-${relay.name}.out`);
  const stubMain = join(options.packageRoot, STUB_RELAY_PROGRAM);
  const mode = relay.registration === 'client-cert-required' ? 'ok' : relay.registration;
  const args = [process.execPath, stubMain, '--port', String(relay.port), '--mode', mode, '--name', relay.name, '--log', logFile];
  if (tls !== undefined) {
    args.push('--https', '--cert', tls.server.certFile, '--key', tls.server.keyFile);
    if (relay.registration === 'client-cert-required') args.push('--ca', tls.ca.certFile, '--require-client-cert');
  }
  const outputFd = openSync(outputFile, 'a');
  const child = spawn('ip', ['netns', 'exec', namespace, ...args], { detached: true, stdio: ['ignore', outputFd, outputFd] });
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
    const said = existsSync(outputFile) ? readFileSync(outputFile, 'utf8').trim().split('\n').slice(-3).join(' / ') : '';
    throw new RelaySelectError('LAB_FAILED', `the stub relay of ${relay.name} did not start${said !== '' ? `: ${said}` : ''}`, {
      hint: `build first (npm run build) so ${STUB_RELAY_PROGRAM} exists`,
    });
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

/** Certificates for an https lab: the stubs' server certificate names every relay address. */
function createLabPki(directory: string, addresses: string[]): Pki {
  const pki = join(directory, 'pki');
  mkdirSync(pki, { recursive: true });
  return createPki(pki, { serverNames: addresses, namePrefix: 'relay-select-lab-' });
}

interface Counters {
  icmpEchoRequests: number;
  tcpConnects: number;
}

/** The endpoint namespace's own counters: what left it, whatever the CLI reports. */
async function readCounters(namespace: string): Promise<Counters | undefined> {
  try {
    const { stdout } = await execFileAsync('ip', ['netns', 'exec', namespace, 'sh', '-c', 'cat /proc/net/snmp; cat /proc/net/snmp6 2>/dev/null; true']);
    return parseSnmpCounters(stdout);
  } catch {
    return undefined;
  }
}

/** Reads OutEchos (ICMP and ICMPv6) and TCP ActiveOpens from /proc/net/snmp and snmp6 text. */
export function parseSnmpCounters(text: string): Counters | undefined {
  const lines = text.split('\n');
  const field = (protocol: string, name: string): number | undefined => {
    for (let index = 0; index + 1 < lines.length; index += 1) {
      const header = lines[index]!.split(/\s+/);
      const values = lines[index + 1]!.split(/\s+/);
      if (header[0] !== `${protocol}:` || values[0] !== `${protocol}:`) continue;
      const column = header.indexOf(name);
      return column > 0 ? Number(values[column]) : undefined;
    }
    return undefined;
  };
  const icmp = field('Icmp', 'OutEchos');
  const tcp = field('Tcp', 'ActiveOpens');
  if (icmp === undefined || tcp === undefined) return undefined;
  const icmp6Line = lines.find((line) => line.startsWith('Icmp6OutEchos '));
  const icmp6 = icmp6Line === undefined ? 0 : Number(icmp6Line.trim().split(/\s+/)[1]);
  return { icmpEchoRequests: icmp + icmp6, tcpConnects: tcp };
}

function packetsBetween(before: Counters | undefined, after: Counters | undefined, reported: number | undefined): LabPackets {
  if (before !== undefined && after !== undefined) {
    return { icmpEchoRequests: after.icmpEchoRequests - before.icmpEchoRequests, tcpConnects: after.tcpConnects - before.tcpConnects, source: 'namespace-counters' };
  }
  if (typeof reported === 'number') return { icmpEchoRequests: reported, tcpConnects: null, source: 'run-report' };
  return { icmpEchoRequests: null, tcpConnects: null, source: 'none' };
}

function stderrMessages(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .filter((line) => line !== '');
}

/** Builds, runs, reports and (unless kept) removes one lab. */
export async function runLab(options: LabRunOptions): Promise<LabReport> {
  const { topology, signal } = options;
  const children = new Set<number>();
  const processes: LabProcesses = { packageRoot: options.packageRoot, signal, children };
  // Live stubs are in `children` until they exit; a stub PID no longer there may have been reused.
  const killChildren = (): void => {
    for (const pid of children) killProcess(pid);
  };
  const forgetChildren = onTeardown(killChildren);
  const progress = options.onProgress ?? (() => undefined);
  const labStarted = performance.now();
  const prefix = makeLabPrefix();
  const directory = mkdtempSync(join(tmpdir(), `relay-select-lab-${prefix}-`));
  const record: LabRecord = { prefix, topology: topology.name, namespaces: [], pids: [], directory, createdAt: new Date().toISOString(), kept: false };
  writeLabRecord(record);
  const stubs: StubProcess[] = [];
  let network: LabNetwork | undefined;
  let shapingDropped = false;
  const warnings: string[] = [];
  try {
    progress(`building ${topology.routers.length + topology.relays.length + 1} namespaces (prefix ${prefix})…`);
    network = await buildNetwork(networkOf(topology), { prefix });
    if (options.keep && network.delayMode === 'userspace') {
      await network.destroy();
      network = undefined;
      shapingDropped = true;
      warnings.push(
        '--keep: this kernel has no sch_netem and the userspace link delay ends with this command, so the kept lab is built without link delay and loss (hop distances are the same, RTTs are not); run without --keep to see the delay',
      );
      network = await buildNetwork(networkOf(withoutLinkShaping(topology)), { prefix });
    }
    record.namespaces = [...network.namespaces];
    writeLabRecord(record);
    throwIfAborted(signal, INTERRUPTED);

    const endpointNamespace = network.namespaceOf(topology.endpoint.name);
    const addresses = new Map(topology.relays.map((relay) => [relay.name, network!.addressOf(relay.name)]));

    const needsTls = topology.relays.some((relay) => relay.registration === 'client-cert-required');
    const pki = needsTls ? createLabPki(directory, [...addresses.values()]) : undefined;
    const live = topology.relays.filter((relay) => relay.registration !== 'down');
    progress(`starting ${live.length} stub relay${live.length === 1 ? '' : 's'}…`);
    for (const relay of live) {
      const stub = await startStub(network.namespaceOf(relay.name), relay, directory, processes, pki);
      stubs.push(stub);
      record.pids.push(stub.pid);
      writeLabRecord(record);
    }

    const relaysFile = join(directory, 'relays.dat');
    writeFileSync(relaysFile, renderLabRelayList(topology, addresses));
    const configFor = (strategy: ProbeStrategy | undefined): string => {
      const file = join(directory, `settings${strategy === undefined ? '' : `-${strategy}`}.json`);
      writeFileSync(file, `${JSON.stringify(renderLabSettings(topology, addresses, { strategy, tlsCaFile: pki?.ca.certFile }), null, 2)}\n`);
      return file;
    };
    const cli = join(options.packageRoot, 'bin', 'relay-select.js');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
    const logLengths = new Map<string, number>();
    const newRegistrations = (): LabRegistration[] => {
      const entries: LabRegistration[] = [];
      for (const stub of stubs) {
        const all = existsSync(stub.logFile) ? parseStubLog(readFileSync(stub.logFile, 'utf8')) : [];
        const seen = logLengths.get(stub.relay) ?? 0;
        for (const entry of all.slice(seen)) entries.push(toRegistration(stub.relay, entry));
        logLengths.set(stub.relay, all.length);
      }
      return entries.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
    };

    const runOnce = async (label: string, strategy: ProbeStrategy | undefined, stateDir: string, force: boolean): Promise<LabRunResult> => {
      const configFile = configFor(strategy);
      const before = await readCounters(endpointNamespace);
      const args = [process.execPath, cli, 'run', '--json', '--relays', relaysFile, '--config', configFile, '--state-dir', stateDir];
      if (force) args.splice(3, 0, '--force');
      const result = await runInNamespace(endpointNamespace, args, { ...processes, timeoutMs: options.runTimeoutMs ?? 60_000, env });
      const after = await readCounters(endpointNamespace);
      const json = parseRunJson(result.stdout);
      const chosen = chosenRelayName(topology, addresses, json);
      const messages = stderrMessages(result.stderr);
      if (json === undefined && result.stdout.trim() !== '') messages.push(`stdout: ${result.stdout.trim().slice(0, 300)}`);
      return {
        strategy: label,
        exitCode: result.exitCode,
        action: json?.action ?? null,
        reason: json?.reason ?? null,
        chosen,
        relays: buildRelayViews(topology, addresses, json, chosen),
        registrations: newRegistrations(),
        packets: packetsBetween(before, after, json?.packetsSent),
        wallMs: result.wallMs,
        messages,
      };
    };

    progress('probing…');
    const stateDir = join(directory, 'state');
    const main = await runOnce(String((topology.settings.probe as { strategy?: unknown } | undefined)?.strategy ?? 'inference'), undefined, stateDir, true);
    throwIfAborted(signal, INTERRUPTED);
    progress('next cron run…');
    const next = await runOnce(main.strategy, undefined, stateDir, false);
    throwIfAborted(signal, INTERRUPTED);

    let compare: LabRunResult[] | null = null;
    if (options.compare) {
      compare = [];
      for (const strategy of COMPARED_STRATEGIES) {
        progress(`comparing: ${strategy}…`);
        compare.push(await runOnce(strategy, strategy, join(directory, `state-${strategy}`), true));
        throwIfAborted(signal, INTERRUPTED);
      }
    }

    const registration = [...main.registrations].reverse().find((entry) => entry.relay === main.chosen) ?? null;
    if (options.keep) {
      network.release();
      record.kept = true;
      writeLabRecord(record);
    }
    return {
      topology: topology.name,
      file: options.file,
      description: topology.description,
      prefix,
      namespaces: network.namespaces.length,
      endpoint: { name: topology.endpoint.name, namespace: endpointNamespace, address: network.addressOf(topology.endpoint.name) },
      relays: main.relays,
      chosen: main.chosen,
      expected: topology.expect,
      matchesExpectation: topology.expect === null ? true : main.chosen === topology.expect,
      action: main.action,
      reason: main.reason,
      registration,
      registrations: main.registrations,
      packets: main.packets,
      wallMs: main.wallMs,
      labWallMs: Math.round(performance.now() - labStarted),
      exitCode: main.exitCode,
      nextRun: { action: next.action, reason: next.reason, exitCode: next.exitCode, packets: next.packets },
      compare,
      kept: record.kept ? { prefix, enter: `ip netns exec ${endpointNamespace} bash`, down: 'relay-select lab down' } : null,
      messages: main.messages,
      warnings,
      linkShapingDropped: shapingDropped,
    };
  } finally {
    forgetChildren();
    if (!record.kept) {
      killChildren();
      try {
        await network?.destroy();
      } finally {
        rmSync(directory, { recursive: true, force: true });
        removeLabRecord(prefix);
      }
    }
  }
}
