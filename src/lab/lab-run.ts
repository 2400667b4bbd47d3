/**
 * Runs a lab: builds the topology's namespaces, starts a stub relay per relay, runs the real
 * `relay-select run --force --json` inside the endpoint namespace, collects what happened, and tears
 * everything down (unless kept). The edge of the lab: processes, files and namespaces live here.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { throwIfAborted } from '../abort.js';
import { RelaySelectError } from '../errors.js';
import type { ProbeStrategy } from '../config/settings.js';
import { onTeardown } from '../teardown.js';
import { packetsBetween, readCounters } from './lab-counters.js';
import { renderLabRelayList, renderLabSettings } from './lab-files.js';
import {
  killProcess,
  LAB_INTERRUPTED,
  runInNamespace,
  startStub,
  type LabProcesses,
  type StubProcess,
} from './lab-processes.js';
import { readLabRecords, removeLabRecord, writeLabRecord, type LabRecord } from './lab-record.js';
import {
  buildRelayViews,
  chosenRelayName,
  parseRunJson,
  parseStubLog,
  toRegistration,
  type LabRegistration,
  type LabReport,
  type LabRunResult,
} from './lab-report.js';
import { buildNetwork, listNamespaces, type LabNetwork } from './netns/network.js';
import { createPki, type Pki } from './stub-relay/pki.js';
import { networkOf, withoutLinkShaping, type Topology } from './topology.js';

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
  /** Namespace prefix (checked by the CLI); a lab already up with it is an error. @default rslab_ and a random suffix */
  prefix?: string;
}

/** A lab that is up: what every `relay-select run` in it needs. */
interface LiveLab {
  topology: Topology;
  directory: string;
  network: LabNetwork;
  endpointNamespace: string;
  /** Relay name → its address in the lab. */
  addresses: Map<string, string>;
  relaysFile: string;
  pki: Pki | undefined;
  processes: LabProcesses;
  stubs: StubProcess[];
  /** Log lines of each stub already turned into registrations: a log grows with every run. */
  logLengths: Map<string, number>;
  runTimeoutMs: number;
}

/** A namespace prefix unique to this run, short enough to leave room for node names. */
function makeLabPrefix(): string {
  return `rslab_${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
}

/**
 * The topology's network. A kept lab on a kernel without netem is built without delay and loss: the
 * userspace forwarder ends with this process, so the kept lab would lose its links.
 */
async function buildLabNetwork(
  topology: Topology,
  prefix: string,
  keep: boolean,
  warnings: string[],
): Promise<{ network: LabNetwork; shapingDropped: boolean }> {
  const network = await buildNetwork(networkOf(topology), { prefix });
  if (!keep || network.delayMode !== 'userspace') return { network, shapingDropped: false };
  await network.destroy();
  warnings.push(
    '--keep: this kernel has no sch_netem and the userspace link delay ends with this command, so the kept lab is built without link delay and loss (hop distances are the same, RTTs are not); run without --keep to see the delay',
  );
  return { network: await buildNetwork(networkOf(withoutLinkShaping(topology)), { prefix }), shapingDropped: true };
}

/** Certificates for an https lab: the stubs' server certificate names every relay address. */
function createLabPki(directory: string, addresses: string[]): Pki {
  const pki = join(directory, 'pki');
  mkdirSync(pki, { recursive: true });
  return createPki(pki, { serverNames: addresses, namePrefix: 'relay-select-lab-' });
}

/** The settings file of one run; `strategy` overrides the topology's (the `--compare` runs). */
function writeSettingsFile(lab: LiveLab, strategy: ProbeStrategy | undefined): string {
  const file = join(lab.directory, `settings${strategy === undefined ? '' : `-${strategy}`}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(renderLabSettings(lab.topology, lab.addresses, { strategy, tlsCaFile: lab.pki?.ca.certFile }), null, 2)}\n`,
  );
  return file;
}

/** Registrations the stubs logged since the last call, oldest first. */
function newRegistrations(lab: LiveLab): LabRegistration[] {
  const entries: LabRegistration[] = [];
  for (const stub of lab.stubs) {
    const all = existsSync(stub.logFile) ? parseStubLog(readFileSync(stub.logFile, 'utf8')) : [];
    const seen = lab.logLengths.get(stub.relay) ?? 0;
    for (const entry of all.slice(seen)) entries.push(toRegistration(stub.relay, entry));
    lab.logLengths.set(stub.relay, all.length);
  }
  return entries.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
}

function stderrMessages(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => stripVTControlCharacters(line).trim())
    .filter((line) => line !== '');
}

/** One real `relay-select run --json` in the endpoint's namespace, and what it did. */
async function runRelaySelect(
  lab: LiveLab,
  label: string,
  strategy: ProbeStrategy | undefined,
  stateDir: string,
  force: boolean,
): Promise<LabRunResult> {
  const cli = join(lab.processes.packageRoot, 'bin', 'relay-select.js');
  const args = [
    process.execPath,
    cli,
    'run',
    ...(force ? ['--force'] : []),
    '--json',
    '--relays',
    lab.relaysFile,
    '--config',
    writeSettingsFile(lab, strategy),
    '--state-dir',
    stateDir,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  const before = await readCounters(lab.endpointNamespace);
  const result = await runInNamespace(lab.endpointNamespace, args, {
    ...lab.processes,
    timeoutMs: lab.runTimeoutMs,
    env,
  });
  const after = await readCounters(lab.endpointNamespace);
  const json = parseRunJson(result.stdout);
  const chosen = chosenRelayName(lab.topology, lab.addresses, json);
  const messages = stderrMessages(result.stderr);
  if (json === undefined && result.stdout.trim() !== '') messages.push(`stdout: ${result.stdout.trim().slice(0, 300)}`);
  return {
    strategy: label,
    exitCode: result.exitCode,
    action: json?.action ?? null,
    reason: json?.reason ?? null,
    chosen,
    relays: buildRelayViews(lab.topology, lab.addresses, json, chosen),
    registrations: newRegistrations(lab),
    packets: packetsBetween(before, after, json?.packetsSent),
    wallMs: result.wallMs,
    messages,
  };
}

/** Builds, runs, reports and (unless kept) removes one lab. */
export async function runLab(options: LabRunOptions): Promise<LabReport> {
  const { topology, signal } = options;
  const progress = options.onProgress ?? (() => undefined);
  const processes: LabProcesses = { packageRoot: options.packageRoot, signal, children: new Set() };
  // Live stubs are in `children` until they exit; a stub PID no longer there may have been reused.
  const killChildren = (): void => {
    for (const pid of processes.children) killProcess(pid);
  };
  const forgetChildren = onTeardown(killChildren);
  const labStarted = performance.now();
  const prefix = options.prefix ?? makeLabPrefix();
  if (readLabRecords().some((record) => record.prefix === prefix) || listNamespaces(prefix).length > 0) {
    forgetChildren();
    throw new RelaySelectError('USAGE', `--prefix ${prefix}: a lab with this prefix is up`, {
      hint: `remove it first: relay-select lab down --prefix ${prefix}`,
    });
  }
  const directory = mkdtempSync(join(tmpdir(), `relay-select-lab-${prefix}-`));
  const record: LabRecord = {
    prefix,
    topology: topology.name,
    namespaces: [],
    pids: [],
    directory,
    createdAt: new Date().toISOString(),
    kept: false,
  };
  writeLabRecord(record);
  let network: LabNetwork | undefined;
  const warnings: string[] = [];
  try {
    progress(`building ${topology.routers.length + topology.relays.length + 1} namespaces (prefix ${prefix})…`);
    const built = await buildLabNetwork(topology, prefix, options.keep, warnings);
    network = built.network;
    record.namespaces = [...network.namespaces];
    writeLabRecord(record);
    throwIfAborted(signal, LAB_INTERRUPTED);

    const addresses = new Map(topology.relays.map((relay) => [relay.name, built.network.addressOf(relay.name)]));
    const needsTls = topology.relays.some((relay) => relay.registration === 'client-cert-required');
    const lab: LiveLab = {
      topology,
      directory,
      network,
      endpointNamespace: network.namespaceOf(topology.endpoint.name),
      addresses,
      relaysFile: join(directory, 'relays.dat'),
      pki: needsTls ? createLabPki(directory, [...addresses.values()]) : undefined,
      processes,
      stubs: [],
      logLengths: new Map(),
      runTimeoutMs: options.runTimeoutMs ?? 60_000,
    };
    const live = topology.relays.filter((relay) => relay.registration !== 'down');
    progress(`starting ${live.length} stub relay${live.length === 1 ? '' : 's'}…`);
    for (const relay of live) {
      const stub = await startStub(network.namespaceOf(relay.name), relay, directory, processes, lab.pki);
      lab.stubs.push(stub);
      record.pids.push(stub.pid);
      writeLabRecord(record);
    }
    writeFileSync(lab.relaysFile, renderLabRelayList(topology, addresses));

    progress('probing…');
    const stateDir = join(directory, 'state');
    const configuredStrategy = (topology.settings.probe as { strategy?: unknown } | undefined)?.strategy;
    const main = await runRelaySelect(
      lab,
      typeof configuredStrategy === 'string' ? configuredStrategy : 'inference',
      undefined,
      stateDir,
      true,
    );
    throwIfAborted(signal, LAB_INTERRUPTED);
    progress('next cron run…');
    const next = await runRelaySelect(lab, main.strategy, undefined, stateDir, false);
    throwIfAborted(signal, LAB_INTERRUPTED);

    let compare: LabRunResult[] | null = null;
    if (options.compare) {
      compare = [];
      for (const strategy of COMPARED_STRATEGIES) {
        progress(`comparing: ${strategy}…`);
        compare.push(await runRelaySelect(lab, strategy, strategy, join(directory, `state-${strategy}`), true));
        throwIfAborted(signal, LAB_INTERRUPTED);
      }
    }

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
      endpoint: {
        name: topology.endpoint.name,
        namespace: lab.endpointNamespace,
        address: network.addressOf(topology.endpoint.name),
      },
      relays: main.relays,
      chosen: main.chosen,
      expected: topology.expect,
      matchesExpectation: topology.expect === null ? true : main.chosen === topology.expect,
      action: main.action,
      reason: main.reason,
      registration: [...main.registrations].reverse().find((entry) => entry.relay === main.chosen) ?? null,
      registrations: main.registrations,
      packets: main.packets,
      wallMs: main.wallMs,
      labWallMs: Math.round(performance.now() - labStarted),
      exitCode: main.exitCode,
      nextRun: { action: next.action, reason: next.reason, exitCode: next.exitCode, packets: next.packets },
      compare,
      kept: record.kept
        ? {
            prefix,
            enter: `ip netns exec ${lab.endpointNamespace} bash`,
            down: `relay-select lab down --prefix ${prefix}`,
          }
        : null,
      messages: main.messages,
      warnings,
      linkShapingDropped: built.shapingDropped,
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
