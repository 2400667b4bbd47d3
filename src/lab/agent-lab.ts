/**
 * A branch office in namespaces for `relay-select agent` (issue 11): endpoints on one shared link (a
 * bridge) with their gateway, two routers behind it and 60 relays at three distances, and the agents
 * running as real processes in the endpoint namespaces. The namespace test (test/lab/agent-peers.test.ts)
 * and the benchmark (bench/agent-bench.mjs) both build it from here.
 *
 *   ep01 … epNN ── [lan bridge] ── gw ── r1 ── r2
 *                                  │     │     │
 *                                near   mid   far       distances 1, 2, 3 (routers in between)
 */
import type { ChildProcess } from 'node:child_process';
import type { LabNetwork } from './netns/network.js';
import type { NetworkSpec } from './netns/network-plan.js';
import { shuffle } from '../fleet/random.js';
import type { ProbeResult } from '../probe/types.js';
import { relayKey, type Relay } from '../relays/relay.js';
import { rankPool } from '../select/rank.js';

/** Relays per relay host, and the routers between the endpoints and it. */
const AGENT_LAB_RELAY_HOSTS = [
  { node: 'near', attach: 'gw', distance: 1, relays: 4 },
  { node: 'mid', attach: 'r1', distance: 2, relays: 26 },
  { node: 'far', attach: 'r2', distance: 3, relays: 30 },
] as const;

export const AGENT_LAB_RELAY_PORT = 52311;

/** The lab's spec: `endpoints` (and any extra endpoint names) on the shared link `lan`. */
export function createAgentLabSpec(endpoints: readonly string[]): NetworkSpec {
  return {
    ipv6: true,
    routers: ['gw', 'r1', 'r2'],
    hosts: [
      ...endpoints.map((name) => ({ name })),
      ...AGENT_LAB_RELAY_HOSTS.map((host) => ({
        name: host.node,
        attach: host.attach,
        extraAddresses: host.relays,
        extraIpv6Addresses: host.relays,
      })),
    ],
    links: [
      { from: 'gw', to: 'r1' },
      { from: 'r1', to: 'r2' },
    ],
    segments: [{ name: 'lan', members: ['gw', ...endpoints] }],
  };
}

/** One relay of the lab and its true distance from every endpoint. */
export interface AgentLabRelay {
  relay: Relay;
  address: string;
  distance: number;
  /** The relay host that holds its address. */
  node: string;
}

/** The 60 relays of one address family, in a fixed shuffled order (the nearest are not first). */
export function listAgentLabRelays(lab: LabNetwork, family: 4 | 6): AgentLabRelay[] {
  const relays = AGENT_LAB_RELAY_HOSTS.flatMap((host) =>
    lab.extraAddressesOf(host.node, family).map((address) => ({
      relay: { host: address, port: AGENT_LAB_RELAY_PORT, groups: [], priority: 0, weight: 100 },
      address,
      distance: host.distance,
      node: host.node,
    })),
  );
  return shuffle(relays, 11);
}

/** The relay list file's lines. */
export function renderAgentLabRelayList(relays: readonly AgentLabRelay[]): string[] {
  return relays.map((entry) => relayKey(entry.relay));
}

/**
 * The relay an endpoint with `clientId` must register with: the best of the pool by the true distances
 * (the selection's own ranking), passing over the relays in `unavailable`.
 */
export function expectedAgentLabRelay(
  relays: readonly AgentLabRelay[],
  clientId: string,
  unavailable: ReadonlySet<string> = new Set(),
): string {
  const results = new Map<string, ProbeResult>(
    relays.map((entry) => {
      const key = relayKey(entry.relay);
      return [
        key,
        {
          key,
          host: entry.relay.host,
          address: entry.address,
          distance: entry.distance,
          rttMs: 1,
          method: 'echo-ttl' as const,
        },
      ];
    }),
  );
  const ranked = rankPool({ name: 'all', relays: relays.map((entry) => entry.relay) }, results, {
    clientId,
    tieBreak: 'hash',
  });
  return relayKey(ranked.find((entry) => !unavailable.has(relayKey(entry.relay)))!.relay);
}

/** One line of `relay-select agent --json`, and when it arrived (performance.now() of this process). */
export interface AgentJsonEvent {
  event: string;
  receivedAtMs: number;
  [field: string]: unknown;
}

/** A `relay-select agent --json` process in a lab namespace, and the events it printed so far. */
export interface LabAgent {
  readonly node: string;
  readonly pid: number;
  readonly events: readonly AgentJsonEvent[];
  /** Lines on stderr, for failure messages. */
  stderr(): string;
  /**
   * The first event from index `from` on (default 0) that matches; rejects with what the agent printed when
   * it exits or `timeoutMs` passes first.
   */
  waitFor(
    predicate: (event: AgentJsonEvent) => boolean,
    what: string,
    options?: { from?: number; timeoutMs?: number },
  ): Promise<AgentJsonEvent>;
  /** The last event of a kind, if any. */
  last(event: string): AgentJsonEvent | undefined;
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (null after a signal) once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `argv` (node, the CLI, `agent --json`, …) in the node's namespace. */
export function startLabAgent(
  lab: LabNetwork,
  node: string,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): LabAgent {
  return watchAgentProcess(lab.spawn(node, argv, { stdio: ['ignore', 'pipe', 'pipe'], env }), node);
}

/** Reads the events of an agent process started elsewhere (stdout and stderr piped); `node` names it in messages. */
export function watchAgentProcess(child: ChildProcess, node: string): LabAgent {
  const events: AgentJsonEvent[] = [];
  const listeners = new Set<() => void>();
  let pending = '';
  let stderr = '';
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = true;
      resolve({ code, signal });
      for (const listener of [...listeners]) listener();
    }),
  );
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        const parsed = JSON.parse(line) as { event: string };
        events.push({ ...parsed, receivedAtMs: performance.now() });
      } catch {
        stderr += `(stdout) ${line}\n`;
      }
    }
    for (const listener of [...listeners]) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return {
    node,
    // `ip netns exec` execs the program, so this PID is the agent's own there too.
    pid: child.pid!,
    events,
    stderr: () => stderr,
    last: (event) => [...events].reverse().find((entry) => entry.event === event),
    kill: (signal) => child.kill(signal),
    exited,
    waitFor(predicate, what, options = {}) {
      const from = options.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.slice(from).find(predicate);
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (ended) {
            finish();
            reject(new Error(`agent in ${node}: exited before ${what}; stderr: ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `agent in ${node}: no ${what} within ${options.timeoutMs ?? 30_000} ms; events: ${events.map((entry) => entry.event).join(' ')}; stderr: ${stderr}`,
            ),
          );
        }, options.timeoutMs ?? 30_000);
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
