/**
 * Builds a real network of Linux network namespaces from a NetworkSpec (DESIGN §10): one namespace per
 * router and host, named `${prefix}-${node}` with a prefix unique to the run, veth pairs created directly
 * inside their namespaces (the root namespace is never touched), addresses from 198.18.0.0/15 and
 * 2001:db8::/32, static shortest-path routes. Everything is removed by destroy(), and on exit and on
 * SIGINT/SIGTERM by the process teardown (src/teardown.ts).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { RelaySelectError } from '../../errors.js';
import { onTeardown } from '../../teardown.js';
import { startLinkDelayForwarder, type DelayedLink } from './link-delay.js';
import {
  planNetwork,
  type NetworkPlan,
  type NetworkSpec,
  type PlannedNode,
  type PlannedSegment,
} from './network-plan.js';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the program's stdin. */
  input?: string;
  /** Kill the program (SIGKILL) after this long. @default 60000 */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface LabNetwork {
  /** Prefix of every namespace of this lab. */
  readonly prefix: string;
  /** Every namespace of this lab: one per node in the plan's order, then one per segment (its bridge). */
  readonly namespaces: readonly string[];
  readonly plan: NetworkPlan;
  /** How link delay/loss is made: kernel netem, our userspace forwarder, or not needed. */
  readonly delayMode: 'none' | 'netem' | 'userspace';
  namespaceOf(node: string): string;
  /** The node's address on its first link (its segment, when it has only segments). */
  addressOf(node: string, family?: 4 | 6): string;
  /** The host's extra (loopback) IPv4 addresses, or with family 6 its extra IPv6 addresses. */
  extraAddressesOf(host: string, family?: 4 | 6): string[];
  /** Runs a program inside the node's namespace to completion. */
  exec(node: string, argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running program inside the node's namespace; killed by PID on destroy(). */
  spawn(node: string, argv: string[], options?: SpawnOptions): ChildProcess;
  /** Kills what the lab started and deletes its namespaces. Safe to call twice. */
  destroy(): Promise<void>;
  /**
   * Leaves the lab up when this process exits (`lab --keep`): it is no longer torn down on exit or
   * signals, and its namespaces are then removed with destroyNamespacesWithPrefix(prefix).
   */
  release(): void;
}

export interface BuildNetworkOptions {
  /** Namespace prefix. @default `rs<pid><random>`, unique to the run */
  prefix?: string;
}

const PREFIX_PATTERN = /^[A-Za-z0-9_]{3,24}$/;

/** The TCP listener program, shipped next to this module (the build copies it into dist/). */
const TCP_LISTENER = fileURLToPath(new URL('./tcp-listener.mjs', import.meta.url));

interface LiveLab {
  namespaces: string[];
  children: Set<ChildProcess>;
}

export async function buildNetwork(spec: NetworkSpec, options: BuildNetworkOptions = {}): Promise<LabNetwork> {
  const plan = planNetwork(spec);
  const prefix = options.prefix ?? `rs${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;
  if (!PREFIX_PATTERN.test(prefix))
    throw new RelaySelectError('LAB_FAILED', `namespace prefix "${prefix}": expected 3–24 letters, digits or _`);
  if (process.getuid?.() !== 0)
    throw new RelaySelectError('NOT_ROOT', 'building namespaces needs root', { hint: 'run as root (sudo)' });
  const namespaceName = (node: string): string => `${prefix}-${node}`;
  const namespaceOf = (node: string): string => {
    if (!plan.nodes.some((candidate) => candidate.name === node))
      throw new RelaySelectError('LAB_FAILED', `no node "${node}" in this lab`);
    return namespaceName(node);
  };
  const live: LiveLab = {
    namespaces: [
      ...plan.nodes.map((node) => namespaceName(node.name)),
      ...plan.segments.map((segment) => namespaceName(segment.name)),
    ],
    children: new Set(),
  };
  const forget = onTeardown(() => teardownNow(live));
  let destroyed: Promise<void> | undefined;
  const destroy = (): Promise<void> => {
    forget();
    return (destroyed ??= destroyLab(live));
  };

  const track = (child: ChildProcess): ChildProcess => {
    live.children.add(child);
    child.once('exit', () => live.children.delete(child));
    child.on('error', () => live.children.delete(child));
    return child;
  };
  const startInNamespace = (node: string, argv: string[], spawnOptions: SpawnOptions = {}): ChildProcess =>
    track(spawn('ip', ['netns', 'exec', namespaceOf(node), ...argv], { stdio: 'pipe', ...spawnOptions }));

  let delayMode: LabNetwork['delayMode'] = 'none';
  try {
    await runIp(['-batch', '-'], live.namespaces.map((namespace) => `netns add ${namespace}\n`).join(''));
    await Promise.all(
      plan.nodes.map((node) =>
        runChecked('ip', [
          'netns',
          'exec',
          namespaceName(node.name),
          'sysctl',
          '-q',
          '-w',
          ...sysctlsFor(node, plan.ipv6),
        ]),
      ),
    );

    const shaped = plan.links.filter((link) => link.delayMs > 0 || link.lossPercent > 0);
    if (shaped.length > 0) delayMode = (await detectNetem(live.namespaces[0]!)) ? 'netem' : 'userspace';
    const tapLinks = delayMode === 'userspace' ? shaped : [];
    const vethLines = plan.links
      .filter((link) => !tapLinks.includes(link))
      .map(
        (link) =>
          `link add ${link.device} netns ${namespaceName(link.a)} type veth peer name ${link.device} netns ${namespaceName(link.b)}\n`,
      );
    for (const segment of plan.segments) {
      for (const member of segment.members)
        vethLines.push(
          `link add ${member.device} netns ${namespaceName(member.node)} type veth peer name ${member.bridgePort} netns ${namespaceName(segment.name)}\n`,
        );
    }
    if (vethLines.length > 0) await runIp(['-batch', '-'], vethLines.join(''));
    if (tapLinks.length > 0) {
      const tapLines = new Map<string, string>();
      for (const link of tapLinks) {
        for (const node of [link.a, link.b])
          tapLines.set(node, `${tapLines.get(node) ?? ''}tuntap add dev ${link.device} mode tap\n`);
      }
      await Promise.all([...tapLines].map(([node, lines]) => runIp(['-n', namespaceName(node), '-batch', '-'], lines)));
      const delayed: DelayedLink[] = tapLinks.map((link) => ({
        namespaceA: namespaceName(link.a),
        deviceA: link.device,
        namespaceB: namespaceName(link.b),
        deviceB: link.device,
        delayMs: link.delayMs,
        lossPercent: link.lossPercent,
      }));
      await awaitReady(track(startLinkDelayForwarder(delayed)), 'userspace link delay forwarder');
    }

    await Promise.all([
      ...plan.nodes.map((node) => runIp(['-n', namespaceName(node.name), '-batch', '-'], configurationFor(node))),
      ...plan.segments.map((segment) =>
        runIp(['-n', namespaceName(segment.name), '-batch', '-'], bridgeConfigurationFor(segment)),
      ),
    ]);
    if (delayMode === 'netem') {
      await Promise.all(
        shaped.flatMap((link) =>
          [link.a, link.b].map((node) =>
            runChecked('ip', [
              'netns',
              'exec',
              namespaceName(node),
              'tc',
              'qdisc',
              'add',
              'dev',
              link.device,
              'root',
              'netem',
              'delay',
              `${link.delayMs}ms`,
              'loss',
              `${link.lossPercent}%`,
            ]),
          ),
        ),
      );
    }
    await Promise.all(
      plan.nodes
        .filter((node) => node.tcpListen.length > 0)
        .map((node) =>
          awaitReady(
            startInNamespace(node.name, [process.execPath, TCP_LISTENER, ...node.tcpListen.map(String)]),
            `TCP listener in ${node.name}`,
          ),
        ),
    );
  } catch (error) {
    await destroy();
    if (error instanceof RelaySelectError) throw error;
    throw new RelaySelectError('LAB_FAILED', `building the namespace lab failed: ${(error as Error).message}`, {
      cause: error,
    });
  }

  return {
    prefix,
    namespaces: live.namespaces,
    plan,
    delayMode,
    namespaceOf,
    addressOf(node, family = 4) {
      const planned = plan.nodes.find((candidate) => candidate.name === node);
      const first = planned?.interfaces[0] ?? planned?.segmentInterfaces[0];
      if (first === undefined) throw new RelaySelectError('LAB_FAILED', `no node "${node}" in this lab`);
      const address = family === 4 ? first.ipv4 : first.ipv6;
      if (address === null) throw new RelaySelectError('LAB_FAILED', `the lab has no IPv6 (spec.ipv6 is off)`);
      return address;
    },
    extraAddressesOf(host, family = 4) {
      const node = plan.nodes.find((candidate) => candidate.name === host);
      return (family === 4 ? node?.extraAddresses : node?.extraIpv6Addresses) ?? [];
    },
    exec(node, argv, execOptions = {}) {
      const child = startInNamespace(node, argv, execOptions.env === undefined ? {} : { env: execOptions.env });
      return collect(child, execOptions);
    },
    spawn: startInNamespace,
    destroy,
    release: forget,
  };
}

/** Namespaces whose name starts with `${prefix}-`. */
export function listNamespaces(prefix: string): string[] {
  return listAllNamespaces().filter((name) => name.startsWith(`${prefix}-`));
}

function listAllNamespaces(): string[] {
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (listed.stdout ?? '').split('\n').map((line) => line.split(' ')[0]!);
}

/** Kills every process inside and deletes every namespace named `${prefix}-…` (leftovers of a crash). */
export function destroyNamespacesWithPrefix(prefix: string): Promise<string[]> {
  if (!PREFIX_PATTERN.test(prefix))
    return Promise.reject(
      new RelaySelectError('USAGE', `namespace prefix "${prefix}": expected 3–24 letters, digits or _`),
    );
  const namespaces = listNamespaces(prefix);
  removeNamespacesNow(namespaces);
  return Promise.resolve(namespaces);
}

function sysctlsFor(node: PlannedNode, ipv6: boolean): string[] {
  // rp_filter off: asymmetric routes are a feature of these labs. No DAD: addresses usable at once.
  const values = ['net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'];
  if (ipv6) values.push('net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_dad=0');
  if (node.kind === 'router') values.push('net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  if (node.dropsIcmp) values.push('net.ipv4.icmp_echo_ignore_all=1', 'net.ipv6.icmp.echo_ignore_all=1');
  return values;
}

function configurationFor(node: PlannedNode): string {
  const lines = ['link set lo up'];
  for (const entry of node.interfaces) {
    lines.push(`link set ${entry.device} up`, `addr add ${entry.ipv4}/30 dev ${entry.device}`);
    if (entry.ipv6 !== null) lines.push(`addr add ${entry.ipv6}/64 dev ${entry.device} nodad`);
  }
  for (const entry of node.segmentInterfaces) {
    lines.push(`link set ${entry.device} up`, `addr add ${entry.ipv4}/24 dev ${entry.device}`);
    if (entry.ipv6 !== null) lines.push(`addr add ${entry.ipv6}/64 dev ${entry.device} nodad`);
  }
  for (const address of node.extraAddresses) lines.push(`addr add ${address}/32 dev lo`);
  for (const address of node.extraIpv6Addresses) lines.push(`addr add ${address}/128 dev lo nodad`);
  for (const route of node.routes) lines.push(`route add ${route.destination} via ${route.via}`);
  return lines.map((line) => `${line}\n`).join('');
}

/** The segment's bridge: multicast snooping off, so multicast reaches every member as on a plain switch. */
function bridgeConfigurationFor(segment: PlannedSegment): string {
  const lines = ['link set lo up', 'link add br0 type bridge mcast_snooping 0', 'link set br0 up'];
  for (const member of segment.members)
    lines.push(`link set ${member.bridgePort} master br0`, `link set ${member.bridgePort} up`);
  return lines.map((line) => `${line}\n`).join('');
}

async function detectNetem(namespace: string): Promise<boolean> {
  const tried = await run('ip', [
    'netns',
    'exec',
    namespace,
    'tc',
    'qdisc',
    'add',
    'dev',
    'lo',
    'root',
    'netem',
    'delay',
    '1ms',
  ]);
  if (tried.code !== 0) return false;
  await run('ip', ['netns', 'exec', namespace, 'tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
  return true;
}

/** Resolves once `child` prints "ready"; kills it and rejects with LAB_FAILED when it exits, fails to start or is late. */
function awaitReady(child: ChildProcess, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new RelaySelectError('LAB_FAILED', `${what} ${why}${stderr ? `: ${stderr.trim()}` : ''}`));
    };
    const onExit = (code: number | null): void => fail(`exited with code ${code}`);
    const onError = (error: Error): void => fail(`did not start: ${error.message}`);
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    child.once('exit', onExit);
    child.once('error', onError);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready')) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      child.removeListener('error', onError);
      resolve();
    });
  });
}

function collect(child: ChildProcess, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + error.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A program that exits without reading its stdin must not turn into an EPIPE crash here.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

function run(command: string, args: string[], input?: string): Promise<ExecResult> {
  return collect(spawn(command, args, { stdio: 'pipe' }), { input });
}

async function runChecked(command: string, args: string[], input?: string): Promise<void> {
  const result = await run(command, args, input);
  if (result.code !== 0)
    throw new RelaySelectError(
      'LAB_FAILED',
      `${command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`,
    );
}

function runIp(args: string[], input: string): Promise<void> {
  return runChecked('ip', args, input);
}

async function destroyLab(live: LiveLab): Promise<void> {
  const exits = [...live.children].map(
    (child) =>
      new Promise<void>((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
      ),
  );
  for (const child of live.children) if (child.pid !== undefined) child.kill('SIGKILL');
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  removeNamespacesNow(live.namespaces);
}

/** Synchronous so that it can run from an 'exit' handler. */
function removeNamespacesNow(namespaces: string[]): void {
  if (namespaces.length === 0) return;
  const existing = new Set(listAllNamespaces());
  const present = namespaces.filter((namespace) => existing.has(namespace));
  // Processes inside a namespace of ours were started by us (directly or by a test through exec/spawn).
  for (const namespace of present) {
    const pids = spawnSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids
      .split('\n')
      .map(Number)
      .filter((value) => Number.isInteger(value) && value > 1)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  if (present.length > 0)
    spawnSync('ip', ['-force', '-batch', '-'], {
      input: present.map((namespace) => `netns del ${namespace}\n`).join(''),
    });
}

/** Synchronous, for the process teardown: kill what the lab started, delete its namespaces. */
function teardownNow(live: LiveLab): void {
  for (const child of live.children) if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
  removeNamespacesNow(live.namespaces);
}
