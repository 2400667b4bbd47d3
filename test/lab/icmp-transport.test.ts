/**
 * Our ICMP transport (the addon's ping and raw sockets) against real namespaces, as root and as uid 65534:
 * exact distances 0–12 by inference for IPv4 and IPv6, the asymmetric path, the ICMP-dropping relay,
 * round trips from kernel timestamps under a busy event loop, probers sharing a namespace, and the
 * exit-77 message when neither kind of socket is allowed. net.ipv4.ping_group_range is opened only inside
 * this file's endpoint namespace `p` (the sysctl is per network namespace); `q` keeps it closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, type LabNetwork } from '../../src/lab/netns/network.js';
import type { ProbeOptions, ProbeResult, ProbeTarget } from '../../src/probe/types.js';
import type { TransportDescription } from '../../src/probe/transport.js';
import {
  createReadableEngine,
  runProbeJobs,
  type ProbeJob,
  type ProbeJobResult,
  type ProbeUser,
} from '../helpers/probe-engine.js';
import { cliEnvironment } from '../helpers/cli.js';
import { AS_NOBODY, type ReadableCopy } from '../helpers/readable-copy.js';
import { LAB_PROBE_OPTIONS } from '../helpers/lab-probe-options.js';
import { isRoot, NOT_ROOT_REASON } from '../helpers/root.js';

const DISTANCES = Array.from({ length: 13 }, (_, hops) => hops);
const routers = Array.from({ length: 12 }, (_, index) => `r${index + 1}`);
const FAMILIES = [4, 6] as const;
const OPEN_PING_GROUP_RANGE = 'net.ipv4.ping_group_range=0 2147483647';
const CLOSED_PING_GROUP_RANGE = 'net.ipv4.ping_group_range=1 0';
const BUSY_MS = 100;

interface Runner {
  name: string;
  user: ProbeUser;
  transport: 'auto' | 'ping' | 'raw';
  expected: TransportDescription;
}

const RUNNERS: Runner[] = [
  { name: 'root, raw sockets', user: 'root', transport: 'raw', expected: { kind: 'raw', privilege: 'CAP_NET_RAW' } },
  {
    name: 'root, ping sockets',
    user: 'root',
    transport: 'ping',
    expected: { kind: 'ping', privilege: 'ping_group_range' },
  },
  {
    name: 'uid 65534, auto (ping sockets, no capability)',
    user: 'nobody',
    transport: 'auto',
    expected: { kind: 'ping', privilege: 'ping_group_range' },
  },
];

function probeOutcome(outcome: ProbeJobResult | undefined): Extract<ProbeJobResult, { kind: 'probe' }> {
  if (outcome?.kind !== 'probe') throw new Error(`probe job failed: ${JSON.stringify(outcome)}`);
  return outcome;
}

function distancesOf(outcome: ProbeJobResult | undefined): Array<[string, number | null, string]> {
  return probeOutcome(outcome).report.results.map((result: ProbeResult) => [
    result.key,
    result.distance,
    result.method,
  ]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe.skipIf(!isRoot)(
  `ICMP ping and raw sockets in a namespace lab ${isRoot ? '' : `— skipped: ${NOT_ROOT_REASON}`}`,
  () => {
    let lab: LabNetwork;
    // A readable copy of the built package (with the addon and the child script) that uid 65534 can run.
    let engine: ReadableCopy;
    const target = (host: string, family: 4 | 6, overrides: Partial<ProbeTarget> = {}): ProbeTarget => ({
      key: `${host}/${family}`,
      host,
      address: lab.addressOf(host, family),
      family,
      port: 52311,
      ...overrides,
    });

    beforeAll(async () => {
      const copy = createReadableEngine();
      if ('reason' in copy) throw new Error(copy.reason);
      engine = copy;
      [lab] = await Promise.all([
        buildNetwork({
          ipv6: true,
          routers: [...routers, 'a1', 'a2'],
          hosts: [
            { name: 'p', attach: 'r1' },
            { name: 'q', attach: 'r1' },
            { name: 'd0' },
            ...DISTANCES.filter((hops) => hops > 0).map((hops) => ({ name: `d${hops}`, attach: `r${hops}` })),
            // One router away forward, three back (x → a1 → a2 → r1 → p), in both families.
            { name: 'x' },
            { name: 'quiet', attach: 'r2', dropsIcmp: true, tcpListen: [52311] },
          ],
          links: [
            ...routers.slice(1).map((router, index) => ({ from: routers[index]!, to: router })),
            { from: 'p', to: 'd0' },
            { from: 'x', to: 'r1' },
            { from: 'x', to: 'a1' },
            { from: 'a1', to: 'a2' },
            { from: 'a2', to: 'r1' },
          ],
          routes: [{ from: 'x', to: 'p', via: ['a1', 'a2'] }],
        }),
      ]);
      for (const [node, setting] of [
        ['p', OPEN_PING_GROUP_RANGE],
        ['q', CLOSED_PING_GROUP_RANGE],
      ] as const) {
        const result = await lab.exec(node, ['sysctl', '-w', setting]);
        if (result.code !== 0) throw new Error(`sysctl -w ${setting} in ${node}: ${result.stderr}`);
      }
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
      engine?.remove();
    });

    describe.each(RUNNERS)('$name', (runner) => {
      const run = (jobs: ProbeJob[]): Promise<ProbeJobResult[]> =>
        runProbeJobs(lab, 'p', jobs, { root: engine.root, user: runner.user });
      const options = (
        overrides: Partial<ProbeOptions> = {},
      ): Omit<ProbeOptions, 'signal' | 'onProbeSent' | 'onReply' | 'onRoundDone'> => ({
        ...LAB_PROBE_OPTIONS,
        strategy: 'inference',
        transport: runner.transport,
        ...overrides,
      });

      it('measures every distance 0–12 exactly by inference, IPv4 and IPv6 (echo-ttl)', async () => {
        const outcomes = await run(
          FAMILIES.map((family) => ({
            kind: 'probe',
            targets: DISTANCES.map((hops) => target(`d${hops}`, family)),
            options: options(),
          })),
        );
        outcomes.forEach((outcome, index) => {
          const family = FAMILIES[index]!;
          expect(distancesOf(outcome)).toEqual(DISTANCES.map((hops) => [`d${hops}/${family}`, hops, 'echo-ttl']));
          const { report } = probeOutcome(outcome);
          expect(report.transport).toEqual(runner.expected);
          // One echo each at the largest TTL, then a few TTL-limited ones for the competition (0, 1, 2).
          expect(report.packetsSent).toBeLessThanOrEqual(DISTANCES.length + 6);
        });
      });

      it('finds the nearest by forward hops when the return path is longer, IPv4 and IPv6', async () => {
        const outcomes = await run(
          FAMILIES.flatMap((family): ProbeJob[] => [
            { kind: 'echo', address: lab.addressOf('x', family), family, ttl: 64, transport: runner.transport },
            { kind: 'probe', targets: [target('x', family), target('d2', family)], options: options() },
          ]),
        );
        FAMILIES.forEach((family, index) => {
          // The reply crossed three routers (a1, a2, r1): the reply TTL alone would say 3.
          expect(outcomes[2 * index]).toMatchObject({ kind: 'echo', replyTtl: 61, source: lab.addressOf('x', family) });
          expect(distancesOf(outcomes[2 * index + 1])).toEqual([
            [`x/${family}`, 1, 'echo-ttl'],
            [`d2/${family}`, 2, 'echo-ttl'],
          ]);
        });
      });

      it('reaches a relay that drops ICMP only through the TCP fallback, IPv4 and IPv6', async () => {
        const outcomes = await run(
          FAMILIES.flatMap((family): ProbeJob[] =>
            [true, false].map((tcpFallback) => ({
              kind: 'probe',
              targets: [target('quiet', family), target('d2', family)],
              options: options({ tcpFallback }),
            })),
          ),
        );
        FAMILIES.forEach((family, index) => {
          expect(distancesOf(outcomes[2 * index])).toEqual([
            [`quiet/${family}`, null, 'tcp'],
            [`d2/${family}`, 2, 'echo-ttl'],
          ]);
          expect(distancesOf(outcomes[2 * index + 1])).toEqual([
            [`quiet/${family}`, null, 'unreachable'],
            [`d2/${family}`, 2, 'echo-ttl'],
          ]);
        });
      });

      it(`takes round trips from kernel timestamps: ${BUSY_MS} ms of synchronous work during a probe adds less than 1 ms`, async () => {
        const single = options({ verify: 'none', retries: 0 });
        const jobs = FAMILIES.flatMap((family): ProbeJob[] => [
          ...Array.from({ length: 5 }, (): ProbeJob => ({
            kind: 'probe',
            targets: [target('d3', family)],
            options: single,
          })),
          { kind: 'probe', targets: [target('d3', family)], options: single, busyMs: BUSY_MS },
        ]);
        const outcomes = await run(jobs);
        FAMILIES.forEach((_family, index) => {
          const own = outcomes.slice(6 * index, 6 * index + 6).map(probeOutcome);
          const quietRttMs = median(own.slice(0, 5).map((outcome) => outcome.report.results[0]!.rttMs!));
          const busy = own[5]!;
          // The event loop really was blocked between the send and hearing the answer…
          expect(busy.heardAfterMs!).toBeGreaterThanOrEqual(BUSY_MS);
          // …yet the reported round trip is the kernel's.
          expect(busy.report.results[0]).toMatchObject({ distance: 3, method: 'echo-ttl' });
          expect(busy.report.results[0]!.rttMs! - quietRttMs).toBeLessThan(1);
          console.info(
            `${runner.name}, IPv${FAMILIES[index]}: round trip ${quietRttMs} ms quiet, ${busy.report.results[0]!.rttMs} ms with the loop blocked ${BUSY_MS} ms ` +
              `(JavaScript heard the answer after ${busy.heardAfterMs!.toFixed(1)} ms)`,
          );
        });
      });
    });

    it('probers of both kinds, as root and as uid 65534, share one namespace and each takes only its own replies', async () => {
      const groups: Array<{
        user: ProbeUser;
        transport: 'ping' | 'raw' | 'auto';
        hosts: string[];
        kind: 'ping' | 'raw';
      }> = [
        { user: 'root', transport: 'ping', hosts: ['d1', 'd2', 'd3'], kind: 'ping' },
        { user: 'root', transport: 'raw', hosts: ['d5', 'd8', 'd12'], kind: 'raw' },
        { user: 'nobody', transport: 'auto', hosts: ['d4', 'd6', 'd7'], kind: 'ping' },
        { user: 'root', transport: 'raw', hosts: ['d9', 'd10', 'd11'], kind: 'raw' },
      ];
      const outcomes = await Promise.all(
        groups.map((group) =>
          runProbeJobs(
            lab,
            'p',
            (['rounds', 'inference'] as const).map((strategy) => ({
              kind: 'probe',
              targets: FAMILIES.flatMap((family) => group.hosts.map((host) => target(host, family))),
              options: { ...LAB_PROBE_OPTIONS, strategy, timeoutMs: 300, transport: group.transport },
              // The same identifier for every raw prober: only sequence numbers and addresses tell them apart.
              identifier: 0x1234,
            })),
            { root: engine.root, user: group.user },
          ),
        ),
      );
      outcomes.forEach((jobs, index) => {
        const group = groups[index]!;
        const own = new Set(FAMILIES.flatMap((family) => group.hosts.map((host) => lab.addressOf(host, family))));
        for (const job of jobs) {
          const { replies, report } = probeOutcome(job);
          expect(report.transport?.kind).toBe(group.kind);
          expect(replies.length).toBeGreaterThan(0);
          expect(replies.filter((reply) => !own.has(reply.address))).toEqual([]);
        }
        expect(distancesOf(jobs[1])).toEqual(
          FAMILIES.flatMap((family) =>
            group.hosts.map((host) => [`${host}/${family}`, Number(host.slice(1)), 'echo-ttl']),
          ),
        );
      });
    });

    describe('the CLI', () => {
      const cli = async (node: string, user: ProbeUser, args: string[]) => {
        return lab.exec(
          node,
          [...(user === 'nobody' ? AS_NOBODY : []), process.execPath, engine.cli, ...args, '--state-dir', '/tmp'],
          { env: cliEnvironment() },
        );
      };

      it(`exits 77 naming both fixes when neither ping nor raw sockets are allowed`, async () => {
        // q: ping_group_range "1 0" in its namespace, and uid 65534 has no CAP_NET_RAW. Nothing is sent.
        const result = await cli('q', 'nobody', ['probe', lab.addressOf('d1')]);
        expect(result.code).toBe(77);
        const lines = result.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          /cannot open an ICMP socket: ping sockets are not allowed for this process's groups \(65534\): net\.ipv4\.ping_group_range is "1 0"/,
        );
        expect(lines[0]).toMatch(/sysctl -w net\.ipv4\.ping_group_range="0 2147483647"/);
        expect(lines[0]).toMatch(/60-relay-select-ping\.conf/);
        expect(lines[0]).toMatch(/CAP_NET_RAW/);
        expect(lines[0]).toMatch(/setcap cap_net_raw\+ep/);
      });

      it(`a forced kind that is refused names its own fix`, async () => {
        const [raw, ping] = await Promise.all([
          cli('p', 'nobody', ['probe', lab.addressOf('d1'), '--set', 'probe.transport=raw']),
          cli('q', 'root', ['probe', lab.addressOf('d1'), '--set', 'probe.transport=ping']),
        ]);
        expect([raw.code, ping.code]).toEqual([77, 77]);
        expect(raw.stderr).toMatch(/cannot open a raw ICMP socket \(probe\.transport is raw\).*setcap cap_net_raw\+ep/);
        expect(ping.stderr).toMatch(
          /cannot open an ICMP ping socket \(probe\.transport is ping\).*"1 0".*sysctl -w net\.ipv4\.ping_group_range/,
        );
      });

      it(`probe --json says which transport and privilege it used`, async () => {
        const args = [
          'probe',
          lab.addressOf('d3'),
          `[${lab.addressOf('d3', 6)}]`,
          '--json',
          '--set',
          'probe.tcpFallback=false',
        ];
        const [asNobody, asRoot] = await Promise.all([cli('p', 'nobody', args), cli('q', 'root', args)]);
        for (const [result, transport, privilege] of [
          [asNobody, 'ping', 'ping_group_range'],
          [asRoot, 'raw', 'CAP_NET_RAW'],
        ] as const) {
          expect(result.code, result.stderr).toBe(0);
          const view = JSON.parse(result.stdout) as {
            transport: string;
            privilege: string;
            results: Array<{ distance: number; method: string }>;
          };
          expect([view.transport, view.privilege]).toEqual([transport, privilege]);
          expect(view.results.map((entry) => [entry.distance, entry.method])).toEqual([
            [3, 'echo-ttl'],
            [3, 'echo-ttl'],
          ]);
        }
      });
    });
  },
);
