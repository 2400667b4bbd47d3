/**
 * Path verification (`probe.verify: paths`) against real Linux routers in namespaces, at their default
 * ICMP rate limits: a data centre of 600 relays in 6 subnets with two subnets tied at the nearest
 * distance, and subnets behind a different return route. Packets are counted twice: by the probe report
 * and by the kernel (OutEchos of the endpoint namespace, OutTimeExcds of every router namespace). And
 * ECMP-stable echoes as a relay receives them from our addon's raw and ping sockets, IPv4 and IPv6.
 * net.ipv4.ping_group_range is opened only inside this file's endpoint namespace (the sysctl is per
 * network namespace).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, type LabNetwork } from '../../src/lab/netns/network.js';
import type { NetworkSpec } from '../../src/lab/netns/network-plan.js';
import type { ProbeOptions, ProbeResult, ProbeTarget } from '../../src/probe/types.js';
import { missingEngineReason, runProbeJobs, type ProbeJobResult } from '../helpers/probe-engine.js';
import { LAB_PROBE_OPTIONS } from '../helpers/lab-probe-options.js';
import { isRoot, NOT_ROOT_REASON } from '../helpers/root.js';

const CAPTURE_SCRIPT = fileURLToPath(new URL('../helpers/capture-echo-requests.mjs', import.meta.url));
const RELAYS_PER_SUBNET = 100;
/** Subnet host → the router it hangs off; its distance is that router's depth (r1, r2, then a3.. / b3..). */
const DATA_CENTRE = { s3a: 'a3', s3b: 'b3', s4a: 'a4', s4b: 'b4', s5: 'a5', s6: 'a6' } as const;
const ROUTERS = ['r1', 'r2', 'a3', 'a4', 'a5', 'a6', 'b3', 'b4', 'x1', 'x2', 'x3', 'x4', 'y1', 'y2'];

const options: Omit<ProbeOptions, 'verify'> = {
  ...LAB_PROBE_OPTIONS,
  strategy: 'inference',
  transport: 'raw',
  timeoutMs: 1000,
};

/**
 * One lab for the file. Endpoint `ep` on r1; r2 behind it; two branches a3–a6 and b3–b4 after r2. The
 * data-centre subnets hang off the branch routers. Subnet `hx` is 3 routers away (via a3) but answers
 * over a detour x1–x4–r1 (5 routers back); subnet `hy` is 5 routers away (a3–a5) but answers over
 * y1–y2–r1 (3 back). The detour routers carry nothing else. s3a and s4a also carry IPv6 relays (s3a
 * one, so that the echoes its namespace captures are all for one relay).
 */
function createSpec(): NetworkSpec {
  const chain = (names: string[]) => names.slice(1).map((name, index) => ({ from: names[index]!, to: name }));
  const ipv6Relays: Partial<Record<string, number>> = { s3a: 1, s4a: 10 };
  return {
    ipv6: true,
    routers: ROUTERS,
    hosts: [
      { name: 'ep', attach: 'r1' },
      ...Object.entries(DATA_CENTRE).map(([name, attach]) => ({
        name,
        attach,
        extraAddresses: RELAYS_PER_SUBNET,
        extraIpv6Addresses: ipv6Relays[name] ?? 0,
      })),
      { name: 'hx', attach: 'a3', extraAddresses: 40 },
      { name: 'hy', attach: 'a5', extraAddresses: 40 },
    ],
    links: [
      ...chain(['r1', 'r2', 'a3', 'a4', 'a5', 'a6']),
      ...chain(['r2', 'b3', 'b4']),
      ...chain(['hx', 'x1', 'x2', 'x3', 'x4', 'r1']),
      ...chain(['hy', 'y1', 'y2', 'r1']),
    ],
    routes: [
      { from: 'hx', to: 'ep', via: ['x1', 'x2', 'x3', 'x4', 'r1'] },
      { from: 'hy', to: 'ep', via: ['y1', 'y2', 'r1'] },
      { from: 'ep', to: 'hy', via: ['r1', 'r2', 'a3', 'a4', 'a5'] },
    ],
  };
}

/** Icmp counters of a namespace (/proc/net/snmp). */
async function readIcmpCounters(lab: LabNetwork, node: string): Promise<{ outEchos: number; outTimeExcds: number }> {
  const { stdout } = await lab.exec(node, ['cat', '/proc/net/snmp']);
  const lines = stdout.split('\n').filter((line) => line.startsWith('Icmp: '));
  const header = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/).map(Number);
  return { outEchos: values[header.indexOf('OutEchos')]!, outTimeExcds: values[header.indexOf('OutTimeExcds')]! };
}

async function sumTimeExceeded(lab: LabNetwork): Promise<number> {
  const counts = await Promise.all(ROUTERS.map(async (router) => (await readIcmpCounters(lab, router)).outTimeExcds));
  return counts.reduce((sum, count) => sum + count, 0);
}

function reportOf(outcome: ProbeJobResult | undefined): { results: ProbeResult[]; packetsSent: number } {
  if (outcome?.kind !== 'probe') throw new Error(`probe job failed: ${JSON.stringify(outcome)}`);
  return outcome.report;
}

function nearestOf(results: ProbeResult[]): Set<string> {
  const best = Math.min(...results.filter((result) => result.distance !== null).map((result) => result.distance!));
  return new Set(results.filter((result) => result.distance === best).map((result) => result.address!));
}

const skipReason = !isRoot ? NOT_ROOT_REASON : missingEngineReason();

describe.skipIf(skipReason !== undefined)(
  `path verification in a namespace lab ${skipReason === undefined ? '' : `— skipped: ${skipReason}`}`,
  () => {
    let lab: LabNetwork;
    const truth = new Map<string, number>();
    const targetsOf = (hosts: string[], family: 4 | 6 = 4): ProbeTarget[] =>
      hosts.flatMap((host) =>
        lab
          .extraAddressesOf(host, family)
          .map((address): ProbeTarget => ({ key: address, host: address, address, family, port: 52311 })),
      );

    /** Runs one probe in the endpoint namespace; kernel counters are read before and after. */
    async function probe(targets: ProbeTarget[], verify: 'paths' | 'all', transport: 'raw' | 'ping' = 'raw') {
      const echosBefore = (await readIcmpCounters(lab, 'ep')).outEchos;
      const timeExceededBefore = await sumTimeExceeded(lab);
      const [outcome] = await runProbeJobs(lab, 'ep', [
        { kind: 'probe', targets, options: { ...options, verify, transport } },
      ]);
      const report = reportOf(outcome);
      return {
        ...report,
        kernelEchoRequests: (await readIcmpCounters(lab, 'ep')).outEchos - echosBefore,
        timeExceededGenerated: (await sumTimeExceeded(lab)) - timeExceededBefore,
        wrong: report.results.filter((result) => result.distance !== truth.get(result.address!)),
      };
    }

    beforeAll(async () => {
      lab = await buildNetwork(createSpec());
      for (const [host, router] of Object.entries(DATA_CENTRE))
        for (const family of [4, 6] as const)
          for (const address of lab.extraAddressesOf(host, family)) truth.set(address, Number(router.slice(1)));
      for (const address of lab.extraAddressesOf('hx')) truth.set(address, 3);
      for (const address of lab.extraAddressesOf('hy')) truth.set(address, 5);
    }, 120_000);

    afterAll(async () => {
      await lab?.destroy();
    });

    it('data centre: the right relays and every distance with at most 1.1 × N echo requests (verify: paths), and verify: all agrees', async () => {
      const targets = targetsOf(Object.keys(DATA_CENTRE));
      expect(targets).toHaveLength(600);
      const nearest = new Set([...lab.extraAddressesOf('s3a'), ...lab.extraAddressesOf('s3b')]);
      const paths = await probe(targets, 'paths');
      expect(paths.wrong).toEqual([]);
      expect(nearestOf(paths.results)).toEqual(nearest);
      expect(paths.kernelEchoRequests).toBe(paths.packetsSent);
      expect(paths.kernelEchoRequests).toBeLessThanOrEqual(1.1 * targets.length);

      const all = await probe(targets, 'all');
      expect(all.wrong).toEqual([]);
      expect(nearestOf(all.results)).toEqual(nearest);
      expect(all.kernelEchoRequests).toBe(all.packetsSent);
      // Every relay inferred within 2 hops of the best (500) at TTL 4, and the 200 nearest again at TTL 3.
      expect(all.kernelEchoRequests).toBe(600 + 500 + 200);
      expect(paths.timeExceededGenerated).toBeLessThan(all.timeExceededGenerated);
      console.info(
        `data centre, 600 relays: paths ${paths.kernelEchoRequests} echo requests, ${paths.timeExceededGenerated} Time Exceeded; ` +
          `all ${all.kernelEchoRequests} echo requests, ${all.timeExceededGenerated} Time Exceeded`,
      );
    });

    it('finds the subnet behind a longer return route, and ranks the one behind a shorter return route by its forward path', async () => {
      // The lab is what it claims: replies from hx cross 5 routers, from hy 3.
      const echoes = await runProbeJobs(
        lab,
        'ep',
        ['hx', 'hy'].map((host) => ({
          kind: 'echo' as const,
          address: lab.extraAddressesOf(host)[0]!,
          family: 4 as const,
          ttl: 64,
        })),
      );
      expect(echoes).toEqual([
        expect.objectContaining({ replyTtl: 64 - 5 }),
        expect.objectContaining({ replyTtl: 64 - 3 }),
      ]);
      const targets = targetsOf(['hx', 'hy', 's4a', 's4b']);
      const outcome = await probe(targets, 'paths');
      const byAddress = new Map(outcome.results.map((result) => [result.address!, result]));
      for (const address of [
        ...lab.extraAddressesOf('hx'),
        ...lab.extraAddressesOf('s4a'),
        ...lab.extraAddressesOf('s4b'),
      ]) {
        expect(byAddress.get(address)!.distance, address).toBe(truth.get(address));
      }
      for (const address of lab.extraAddressesOf('hy')) expect(byAddress.get(address)!.distance).toBeGreaterThan(3);
      expect(nearestOf(outcome.results)).toEqual(new Set(lab.extraAddressesOf('hx')));
      expect(outcome.kernelEchoRequests).toBeLessThanOrEqual(1.1 * targets.length);
    });

    interface CapturedEcho {
      family: 4 | 6;
      destination: string | null;
      ttl: number;
      checksum: number;
      identifier: number;
      sequence: number;
    }

    /** Probes `targets` from the endpoint while a raw-socket capture runs in `node`; returns what `node` received. */
    async function captureWhileProbing(
      node: string,
      targets: ProbeTarget[],
      transport: 'raw' | 'ping',
    ): Promise<CapturedEcho[]> {
      const capture = lab.spawn(node, [process.execPath, CAPTURE_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
      let captured = '';
      let errors = '';
      capture.stdout!.on('data', (chunk: Buffer) => (captured += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        capture.stderr!.on('data', (chunk: Buffer) => {
          errors += chunk.toString();
          if (errors.includes('ready')) resolve();
        });
        capture.once('exit', (code) => reject(new Error(`capture exited with ${code}: ${errors}`)));
      });
      await probe(targets, 'paths', transport);
      const finished = new Promise((resolve) => capture.once('close', resolve));
      capture.stdin!.end();
      await finished;
      return JSON.parse(captured) as CapturedEcho[];
    }

    it.each(['raw', 'ping'] as const)(
      'keeps one ICMP identifier and checksum on every echo to a relay, whatever its TTL and sequence, as the relay receives them (%s sockets, IPv4 and IPv6)',
      async (transport) => {
        if (transport === 'ping') {
          const opened = await lab.exec('ep', ['sysctl', '-w', 'net.ipv4.ping_group_range=0 2147483647']);
          expect(opened.code, opened.stderr).toBe(0);
        }
        const targets = [...targetsOf(['s3a', 's4a']), ...targetsOf(['s3a', 's4a'], 6)];
        const echoes = await captureWhileProbing('s3a', targets, transport);
        const ipv4 = echoes.filter(
          (echo) => echo.family === 4 && echo.destination !== null && truth.has(echo.destination),
        );
        // 100 echoes at the largest TTL, and the path representative's echo at TTL 4, which arrives with TTL 1.
        expect(ipv4.length).toBeGreaterThanOrEqual(101);
        expect(new Set(ipv4.map((echo) => echo.ttl)).size).toBeGreaterThanOrEqual(2);
        expect(new Set(ipv4.map((echo) => echo.sequence)).size).toBe(ipv4.length);
        expect(new Set(ipv4.map((echo) => echo.identifier)).size).toBe(1);
        // The IPv4 checksum leaves out the addresses: one value for every relay of the run.
        expect(new Set(ipv4.map((echo) => echo.checksum)).size).toBe(1);
        // s3a's one IPv6 relay: the echo at the largest hop limit and the winner's check at hop limit 4 (arriving with 1).
        const ipv6 = echoes.filter((echo) => echo.family === 6);
        expect(ipv6.length).toBeGreaterThanOrEqual(2);
        expect(new Set(ipv6.map((echo) => echo.ttl)).size).toBeGreaterThanOrEqual(2);
        expect(new Set(ipv6.map((echo) => echo.sequence)).size).toBe(ipv6.length);
        expect(new Set(ipv6.map((echo) => echo.identifier)).size).toBe(1);
        // The kernel fills in the ICMPv6 checksum (pseudo-header included): constant per relay all the same.
        expect(new Set(ipv6.map((echo) => echo.checksum)).size).toBe(1);
      },
    );
  },
);
