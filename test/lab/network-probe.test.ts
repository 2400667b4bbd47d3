/**
 * The probe engine against real namespaces: one lab shared by the whole file. The endpoint `p` sits at
 * the end of a chain of 12 routers; relays hang off the chain at known router counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, type LabNetwork } from '../../src/lab/netns/network.js';
import type { ProbeResult, ProbeTarget } from '../../src/probe/types.js';
import {
  createReadableEngine,
  missingEngineReason,
  runProbeJobs,
  type ProbeJobResult,
} from '../helpers/probe-engine.js';
import { LAB_PROBE_OPTIONS } from '../helpers/lab-probe-options.js';
import { isRoot, NOT_ROOT_REASON } from '../helpers/root.js';

const DISTANCES = [0, 1, 2, 3, 5, 8, 12];
const MANY_PER_HOST = 200;
const MANY_DISTANCES = [1, 2, 3, 5, 8];
const routers = Array.from({ length: 12 }, (_, index) => `r${index + 1}`);

function probeResults(outcome: ProbeJobResult | undefined): {
  results: ProbeResult[];
  packetsSent: number;
  wallMs: number;
  replies: Array<{ address: string }>;
} {
  if (outcome?.kind !== 'probe') throw new Error(`probe job failed: ${JSON.stringify(outcome)}`);
  return { ...outcome.report, replies: outcome.replies };
}

const skipReason = isRoot ? missingEngineReason() : NOT_ROOT_REASON;

describe.skipIf(skipReason !== undefined)(
  `probing a namespace lab${skipReason === undefined ? '' : ` — skipped: ${skipReason}`}`,
  () => {
    let lab: LabNetwork;
    const target = (host: string, family: 4 | 6 = 4, overrides: Partial<ProbeTarget> = {}): ProbeTarget => ({
      key: `${host}/${family}`,
      host,
      address: lab.addressOf(host, family),
      family,
      port: 52311,
      ...overrides,
    });

    beforeAll(async () => {
      lab = await buildNetwork({
        ipv6: true,
        routers: [...routers, 'a1', 'a2'],
        hosts: [
          { name: 'p', attach: 'r1' },
          ...DISTANCES.filter((hops) => hops > 0).map((hops) => ({
            name: `d${hops}`,
            attach: `r${hops}`,
            extraAddresses: MANY_DISTANCES.includes(hops) ? MANY_PER_HOST : 0,
          })),
          { name: 'd0' },
          // One router away by hops, but behind a slow link: nearest by hops, not by round trip.
          { name: 'slow', attach: 'r1', delayMs: 60 },
          // One router away forward, three back (x → a1 → a2 → r1 → p).
          { name: 'x', attach: 'r1' },
          { name: 'quiet', attach: 'r2', dropsIcmp: true, tcpListen: [52311] },
        ],
        links: [
          ...routers.slice(1).map((router, index) => ({ from: routers[index]!, to: router })),
          { from: 'p', to: 'd0' },
          { from: 'x', to: 'a1' },
          { from: 'a1', to: 'a2' },
          { from: 'a2', to: 'r1' },
        ],
        routes: [{ from: 'x', to: 'p', via: ['a1', 'a2'] }],
      });
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
    });

    it('measures exact distances with inference and the ladder (IPv4 and IPv6)', async () => {
      const hosts = DISTANCES.map((hops) => `d${hops}`);
      const [inference, inference6, ...ladders] = await runProbeJobs(lab, 'p', [
        {
          kind: 'probe',
          targets: hosts.map((host) => target(host)),
          options: { ...LAB_PROBE_OPTIONS, strategy: 'inference' },
        },
        {
          kind: 'probe',
          targets: hosts.map((host) => target(host, 6)),
          options: { ...LAB_PROBE_OPTIONS, strategy: 'inference' },
        },
        ...hosts.flatMap((host) =>
          [4, 6].map((family) => ({
            kind: 'probe' as const,
            targets: [target(host, family as 4 | 6)],
            options: { ...LAB_PROBE_OPTIONS, strategy: 'rounds' as const, timeoutMs: 300 },
          })),
        ),
      ]);
      const inferred = probeResults(inference);
      expect(inferred.results.map((result) => [result.host, result.distance, result.method])).toEqual(
        hosts.map((host, index) => [host, DISTANCES[index], 'echo-ttl']),
      );
      expect(inferred.packetsSent).toBeLessThanOrEqual(DISTANCES.length + 6);
      const inferred6 = probeResults(inference6);
      expect(inferred6.results.map((result) => [result.host, result.distance, result.method])).toEqual(
        hosts.map((host, index) => [host, DISTANCES[index], 'echo-ttl']),
      );
      expect(inferred6.packetsSent).toBeLessThanOrEqual(DISTANCES.length + 6);
      const laddered = ladders.map((outcome) => probeResults(outcome).results[0]!);
      expect(laddered.map((result) => [result.host, result.distance, result.method])).toEqual(
        hosts.flatMap((host, index) => [
          [host, DISTANCES[index], 'ladder'],
          [host, DISTANCES[index], 'ladder'],
        ]),
      );
    });

    it('infers IPv6 and IPv4 distances in one competition from the reply TTL and hop limit', async () => {
      const [outcome] = await runProbeJobs(lab, 'p', [
        {
          kind: 'probe',
          targets: [target('d3', 6), target('d5', 6), target('d2', 4)],
          options: { ...LAB_PROBE_OPTIONS, strategy: 'inference', timeoutMs: 300 },
        },
      ]);
      const { results } = probeResults(outcome);
      expect(results.map((result) => [result.distance, result.method])).toEqual([
        [3, 'echo-ttl'],
        [5, 'echo-ttl'],
        [2, 'echo-ttl'],
      ]);
    });

    it('ranks by hops, not round trip: the slow relay one router away beats the fast one three away', async () => {
      const outcomes = await runProbeJobs(
        lab,
        'p',
        (['inference', 'rounds'] as const).map((strategy) => ({
          kind: 'probe' as const,
          targets: [target('slow'), target('d3')],
          options: { ...LAB_PROBE_OPTIONS, strategy },
        })),
      );
      const [inferred, rounds] = outcomes.map((outcome) => probeResults(outcome).results);
      const [slow, fast] = inferred!;
      expect([slow!.distance, fast!.distance]).toEqual([1, 3]);
      expect(slow!.rttMs!).toBeGreaterThan(100);
      expect(slow!.rttMs!).toBeGreaterThan(fast!.rttMs! * 5);
      expect(rounds![0]).toMatchObject({ distance: 1, method: 'ladder' });
    });

    it('finds the nearest by forward hops when the return path is longer', async () => {
      const [echo, inference, rounds] = await runProbeJobs(lab, 'p', [
        { kind: 'echo', address: lab.addressOf('x'), family: 4, ttl: 64 },
        {
          kind: 'probe',
          targets: [target('x'), target('d2')],
          options: { ...LAB_PROBE_OPTIONS, strategy: 'inference' },
        },
        { kind: 'probe', targets: [target('x'), target('d2')], options: { ...LAB_PROBE_OPTIONS, strategy: 'rounds' } },
      ]);
      // The reply crossed three routers (a1, a2, r1): inference alone would say 3.
      expect(echo).toMatchObject({ kind: 'echo', replyTtl: 61 });
      expect(probeResults(inference).results.map((result) => result.distance)).toEqual([1, 2]);
      expect(probeResults(rounds).results[0]!.distance).toBe(1);
    });

    it('reaches a relay that drops ICMP through the TCP fallback, and only with it', async () => {
      const targets = [target('quiet'), target('d2')];
      const [withFallback, without] = await runProbeJobs(lab, 'p', [
        { kind: 'probe', targets, options: { ...LAB_PROBE_OPTIONS, strategy: 'inference', tcpFallback: true } },
        { kind: 'probe', targets, options: { ...LAB_PROBE_OPTIONS, strategy: 'inference', tcpFallback: false } },
      ]);
      const fallback = probeResults(withFallback);
      expect(fallback.results[0]).toMatchObject({ distance: null, method: 'tcp' });
      expect(fallback.results[0]!.rttMs).toBeGreaterThan(0);
      expect(fallback.results[1]).toMatchObject({ distance: 2, method: 'echo-ttl' });
      expect(probeResults(without).results[0]).toMatchObject({ distance: null, method: 'unreachable' });
    });

    it('two probe processes in one namespace each take only their own replies', async () => {
      const groups = [
        ['d1', 'd2', 'd3'],
        ['d5', 'd8', 'd12'],
      ];
      const runs = groups.map((hosts) =>
        runProbeJobs(lab, 'p', [
          // The same identifier in both: only sequence numbers and addresses tell the replies apart.
          {
            kind: 'probe',
            targets: hosts.map((host) => target(host)),
            options: { ...LAB_PROBE_OPTIONS, strategy: 'rounds', timeoutMs: 300 },
            identifier: 0x1234,
          },
          {
            kind: 'probe',
            targets: hosts.map((host) => target(host)),
            options: { ...LAB_PROBE_OPTIONS, strategy: 'inference' },
            identifier: 0x1234,
          },
        ]),
      );
      const outcomes = await Promise.all(runs);
      outcomes.forEach((jobs, index) => {
        const own = new Set(groups[index]!.map((host) => lab.addressOf(host)));
        for (const job of jobs) {
          const { replies } = probeResults(job);
          expect(replies.length).toBeGreaterThan(0);
          for (const reply of replies) expect(own.has(reply.address)).toBe(true);
        }
        const inferred = probeResults(jobs[1]).results.map((result) => result.distance);
        expect(inferred).toEqual(groups[index]!.map((host) => Number(host.slice(1))));
      });
    });

    it('gets every distance right for 1000 relay addresses at 5 distances (inference), and measures rounds', async () => {
      const targets = MANY_DISTANCES.flatMap((hops) =>
        lab
          .extraAddressesOf(`d${hops}`)
          .map((address): ProbeTarget => ({ key: address, host: address, address, family: 4, port: 52311 })),
      );
      expect(targets).toHaveLength(1000);
      const expected = new Map(
        MANY_DISTANCES.flatMap((hops) => lab.extraAddressesOf(`d${hops}`).map((address) => [address, hops] as const)),
      );
      const [inference, rounds] = await runProbeJobs(lab, 'p', [
        { kind: 'probe', targets, options: { ...LAB_PROBE_OPTIONS, strategy: 'inference', timeoutMs: 1000 } },
        { kind: 'probe', targets, options: { ...LAB_PROBE_OPTIONS, strategy: 'rounds', timeoutMs: 1000 } },
      ]);
      const inferred = probeResults(inference);
      const wrong = inferred.results.filter((result) => result.distance !== expected.get(result.address!));
      expect(wrong).toEqual([]);
      const laddered = probeResults(rounds);
      const nearest = laddered.results.filter((result) => result.distance !== null);
      expect(nearest.every((result) => result.distance === 1)).toBe(true);
      expect(nearest).toHaveLength(MANY_PER_HOST);
      console.info(
        `1000 relays: inference ${inferred.packetsSent} packets in ${Math.round(inferred.wallMs)} ms; ` +
          `rounds ${laddered.packetsSent} packets in ${Math.round(laddered.wallMs)} ms`,
      );
    });

    it('refuses a raw socket without CAP_NET_RAW with a hint-carrying error', async (context) => {
      // No packet is sent: the child only tries to open the socket, as an unprivileged user, from a copy
      // of the build that user can read wherever the checkout lives.
      const copy = createReadableEngine();
      if ('reason' in copy) return context.skip(copy.reason);
      try {
        // runProbeJobs fails the test unless the child exits 0.
        const opened = await runProbeJobs(lab, 'p', [{ kind: 'open-socket', transport: 'raw' }], {
          root: copy.root,
          user: 'nobody',
        });
        expect(opened).toEqual([
          {
            kind: 'open-socket',
            code: 'RAW_SOCKET_PERMISSION',
            message: expect.stringMatching(/CAP_NET_RAW.*setcap cap_net_raw\+ep/),
          },
        ]);
      } finally {
        copy.remove();
      }
    });
  },
);
