/**
 * `inference` with `verify: 'paths'` over the in-memory transport: verification that grows with distinct
 * paths (same /24 and reply-TTL distance, ends expiring in the same router), the representative the
 * tie-break prefers, the winner check, retries where an answer could matter, and ECMP-stable probes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { createMemoryTransport, type SimulatedHost } from '../../src/probe/memory-transport.js';
import { probeTargets } from '../../src/probe/strategies.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { options, target, targetsOf } from './builders.js';

/** Routers of a path `hops` long: a shared core of two, then routers of the branch (198.18.<branch>.<hop>). */
function routersOf(hops: number, branch: number): string[] {
  return Array.from({ length: hops }, (_, index) =>
    index < 2 ? `198.18.255.${index + 1}` : `198.18.${branch}.${index + 1}`,
  );
}

/** `count` relays 198.19.<third>.1.. behind one last router, `forwardHops` away (return `returnHops`). */
function subnet(
  third: number,
  count: number,
  forwardHops: number,
  extra: Partial<SimulatedHost> = {},
): SimulatedHost[] {
  return Array.from({ length: count }, (_, index) => ({
    address: `198.19.${third}.${index + 1}`,
    forwardHops,
    routers: routersOf(forwardHops, third),
    ...extra,
  }));
}

/** Where a host truly is: the forward hops of the path its echoes take. */
function truthOf(hosts: SimulatedHost[]): Map<string, number> {
  return new Map(hosts.map((host) => [host.address, host.forwardHops]));
}

function nearestReported(results: ProbeResult[]): string[] {
  const measured = results.filter((result) => result.distance !== null);
  const best = Math.min(...measured.map((result) => result.distance!));
  return measured.filter((result) => result.distance === best).map((result) => result.address!);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('verify: paths — one relay per distinct path', () => {
  // A data centre: 6 subnets of 50 relays, two tied at the nearest distance.
  const dataCentre = [3, 3, 4, 4, 5, 6].flatMap((hops, index) => subnet(index + 1, 50, hops));
  const truth = truthOf(dataCentre);
  const nearest = dataCentre.filter((host) => host.forwardHops === 3).map((host) => host.address);

  it('gets the nearest relays and every distance right with a few TTL-limited echoes, not one per relay', async () => {
    const transport = createMemoryTransport({ hosts: dataCentre });
    const report = await probeTargets(targetsOf(dataCentre), options(), { transport });
    expect(report.results.filter((result) => result.distance !== truth.get(result.address!))).toEqual([]);
    expect(nearestReported(report.results).sort()).toEqual([...nearest].sort());
    const limited = transport.sent.filter((echo) => echo.ttl < 254);
    // Five groups within the margin (distances 3, 4, 5): two ends each, plus the two nearest paths' representatives at TTL 4.
    expect(limited).toHaveLength(5 * 2 + 2);
    expect(report.packetsSent).toBe(dataCentre.length + limited.length);
    // No router is asked for more Time Exceeded than Linux sends at once (a burst of 6).
    const perRouter = new Map<string, number>();
    for (const echo of limited) {
      const host = dataCentre.find((entry) => entry.address === echo.address)!;
      if (echo.ttl <= host.forwardHops)
        perRouter.set(host.routers![echo.ttl - 1]!, (perRouter.get(host.routers![echo.ttl - 1]!) ?? 0) + 1);
    }
    expect(Math.max(...perRouter.values())).toBeLessThanOrEqual(6);
  });

  it('verify: all still checks every relay near the best (and agrees)', async () => {
    const transport = createMemoryTransport({ hosts: dataCentre, timeExceededLimit: null });
    const report = await probeTargets(targetsOf(dataCentre), options({ verify: 'all', timeoutMs: 100 }), { transport });
    expect(report.results.filter((result) => result.distance !== truth.get(result.address!))).toEqual([]);
    // 250 relays inferred within 2 of the best at TTL 4, the 100 that answered there again at TTL 3.
    expect(transport.sent.filter((echo) => echo.ttl < 254)).toHaveLength(250 + 100);
  });

  it('verifies the relay the tie-break prefers, with its own echo at distance + 1', async () => {
    const transport = createMemoryTransport({ hosts: dataCentre });
    // Any per-relay score (rendezvous, lowest RTT) behaves like this: the largest address wins.
    const preferAmong = (candidates: ReadonlyArray<{ key: string }>) =>
      candidates
        .map((candidate) => candidate.key)
        .sort((left, right) => right.localeCompare(left, 'en', { numeric: true }))[0];
    const report = await probeTargets(targetsOf(dataCentre), options({ preferAmong }), { transport });
    const winner = preferAmong(nearest.map((key) => ({ key })))!;
    expect(winner).toBe('198.19.2.50');
    expect(transport.sent.some((echo) => echo.address === winner && echo.ttl === 4)).toBe(true);
    expect(report.results.find((result) => result.key === winner)).toMatchObject({ distance: 3 });
    expect(report.results.find((result) => result.key === '198.19.2.7')!.note).toBe(
      'path verified through 198.19.2.50',
    );
  });

  it('finds a subnet behind a longer return route, and is not fooled by one behind a shorter one', async () => {
    const hosts = [
      ...subnet(1, 30, 2, { returnHops: 4 }), // truly nearest, looks 4 away
      ...subnet(2, 30, 3),
      ...subnet(3, 30, 4, { returnHops: 2 }), // looks nearest, truly 4 away
    ];
    const report = await probeTargets(targetsOf(hosts), options(), { transport: createMemoryTransport({ hosts }) });
    const byAddress = new Map(report.results.map((result) => [result.address, result]));
    for (const host of hosts.slice(0, 60)) expect(byAddress.get(host.address)!.distance).toBe(host.forwardHops);
    for (const host of hosts.slice(60)) expect(byAddress.get(host.address)!.distance).toBeGreaterThan(2);
    expect(nearestReported(report.results)).toEqual(hosts.slice(0, 30).map((host) => host.address));
    expect(report.packetsSent).toBeLessThan(hosts.length + 12);
  });

  it('splits a /24 whose halves sit behind different routers at the same reply-TTL distance', async () => {
    const near = subnet(7, 20, 3);
    // The second half of 198.19.7.0/24 is one router further on the way there, and one shorter back.
    const far = Array.from({ length: 20 }, (_, index): SimulatedHost => ({
      address: `198.19.7.${index + 101}`,
      forwardHops: 4,
      returnHops: 3,
      routers: routersOf(4, 8),
    }));
    const hosts = [...far, ...near];
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(targetsOf(hosts), options(), { transport });
    const byAddress = new Map(report.results.map((result) => [result.address, result]));
    for (const host of hosts) expect(byAddress.get(host.address)!.distance).toBe(host.forwardHops);
    expect(nearestReported(report.results).sort()).toEqual(near.map((host) => host.address).sort());
    // Ends, one bisection step (the middle pair), the far half's representative at TTL 4 and the near half's at TTL 4.
    expect(transport.sent.filter((echo) => echo.ttl < 254).length).toBeLessThanOrEqual(8);
  });

  it('checks a winner that is not its path representative, and verifies its path relay by relay when it disagrees', async () => {
    // Two subnets at distance 2; one host of the first is a router further away (a host-level asymmetry,
    // which the path assumption excludes), and the tie-break below picks it.
    const first = subnet(1, 5, 2);
    first[4] = { ...first[4]!, forwardHops: 3, returnHops: 2, routers: routersOf(3, 1) };
    const hosts = [...first, ...subnet(2, 5, 2)];
    // The median by list order: not a per-relay score, so the winner of the union need not be a representative.
    const median = (candidates: ReadonlyArray<{ key: string }>) =>
      candidates[Math.floor((candidates.length - 1) / 2)]!.key;
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(targetsOf(hosts), options({ preferAmong: median }), { transport });
    const byAddress = new Map(report.results.map((result) => [result.address, result]));
    for (const host of hosts) expect(byAddress.get(host.address)!.distance).toBe(host.forwardHops);
    const tied = hosts.filter((host) => host.forwardHops === 2).map((host) => host.address);
    const winner = median(tied.map((key) => ({ key })));
    expect(transport.sent.some((echo) => echo.address === winner && echo.ttl === 3)).toBe(true);
    // The first subnet, once dissolved, was verified host by host.
    for (const host of first)
      expect(transport.sent.some((echo) => echo.address === host.address && echo.ttl === 3)).toBe(true);
  });

  it('takes distance 0 (same subnet) without a TTL-0 echo', async () => {
    const hosts = [...subnet(1, 10, 0), ...subnet(2, 10, 1)];
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(targetsOf(hosts), options(), { transport });
    expect(report.results.map((result) => result.distance)).toEqual(hosts.map((host) => host.forwardHops));
    expect(transport.sent.every((echo) => echo.ttl >= 1)).toBe(true);
  });

  it('verifies only the best priority class, path by path', async () => {
    const hosts = [...subnet(1, 20, 5), ...subnet(2, 20, 2)];
    const targets = hosts.map((host, index) => target(host.address, { priority: index < 20 ? 0 : 1 }));
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(targets, options(), { transport });
    expect(report.results.map((result) => result.distance)).toEqual(hosts.map((host) => host.forwardHops));
    expect(transport.sent.filter((echo) => echo.ttl < 254).every((echo) => echo.address.startsWith('198.19.1.'))).toBe(
      true,
    );
  });
});

describe('verify: paths — retries where an answer could matter', () => {
  it('does not retry a relay that stays silent while its /24 answers (it drops ICMP itself)', async () => {
    const hosts = subnet(1, 10, 3).map((host, index) => ({ ...host, dropIcmp: index % 5 === 0 }));
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(targetsOf(hosts), options(), { transport });
    for (const host of hosts.filter((entry) => entry.dropIcmp)) {
      expect(transport.sent.filter((echo) => echo.address === host.address)).toHaveLength(1);
      expect(report.results.find((result) => result.address === host.address)).toMatchObject({ method: 'unreachable' });
    }
  });

  it('retries one relay of a silent /24, and the rest only when it answers', async () => {
    const dark = subnet(1, 6, 3, { dropIcmp: true });
    const lossy = subnet(2, 6, 4, { loseFirst: 1 });
    const hosts = [...dark, ...lossy, ...subnet(3, 6, 5)];
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(targetsOf(hosts), options(), { transport });
    const echoesAtLargestTtl = (address: string) =>
      transport.sent.filter((echo) => echo.address === address && echo.ttl === 254).length;
    expect(dark.map((host) => echoesAtLargestTtl(host.address))).toEqual([2, 1, 1, 1, 1, 1]);
    expect(lossy.map((host) => echoesAtLargestTtl(host.address))).toEqual([2, 2, 2, 2, 2, 2]);
    expect(
      report.results.filter((result) => result.address!.startsWith('198.19.2.')).map((result) => result.distance),
    ).toEqual([4, 4, 4, 4, 4, 4]);
  });

  it('retries a silent relay whose /24 answered only through relays of a worse priority', async () => {
    const hosts = subnet(1, 4, 3).map((host, index) => ({ ...host, loseFirst: index === 0 ? 1 : 0 }));
    const targets = hosts.map((host, index) => target(host.address, { priority: index === 0 ? 0 : 1 }));
    const report = await probeTargets(targets, options(), { transport: createMemoryTransport({ hosts }) });
    expect(report.results[0]).toMatchObject({ distance: 3, method: 'echo-ttl' });
  });

  it('verify: all retries every silent relay', async () => {
    const hosts = subnet(1, 10, 3).map((host, index) => ({ ...host, dropIcmp: index % 5 === 0 }));
    const transport = createMemoryTransport({ hosts });
    await probeTargets(targetsOf(hosts), options({ verify: 'all' }), { transport });
    for (const host of hosts.filter((entry) => entry.dropIcmp))
      expect(transport.sent.filter((echo) => echo.address === host.address)).toHaveLength(2);
  });

  it('waits for relays not heard from yet max(250 ms, timeoutMs / 4, 3 × the slowest answer + 20 ms), not the whole timeoutMs', async () => {
    vi.useFakeTimers();
    const clock: Clock = { now: () => new Date(), nowMs: () => Date.now() };
    const hosts = subnet(1, 20, 3, { rttMs: 2 }).map((host, index) => ({ ...host, dropIcmp: index >= 16 }));
    const transport = createMemoryTransport({ hosts, clock });
    let finished = false;
    const running = probeTargets(targetsOf(hosts), options({ timeoutMs: 4000 }), { transport, clock }).then(
      (report) => {
        finished = true;
        return report;
      },
    );
    await vi.advanceTimersByTimeAsync(990);
    expect(finished).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(finished).toBe(true);
    const report = await running;
    expect(report.results.filter((result) => result.distance === 3)).toHaveLength(16);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits longer when a slower relay has answered', async () => {
    vi.useFakeTimers();
    const clock: Clock = { now: () => new Date(), nowMs: () => Date.now() };
    // One relay answers after 600 ms: the silent ones then wait 3 × 600 + 20 ms (at most timeoutMs).
    const hosts = [
      ...subnet(1, 4, 3, { rttMs: 2 }),
      { ...subnet(2, 1, 9)[0]!, rttMs: 600 },
      ...subnet(3, 2, 3, { dropIcmp: true }),
    ];
    const transport = createMemoryTransport({ hosts, clock });
    let finished = false;
    const running = probeTargets(targetsOf(hosts), options({ timeoutMs: 4000, retries: 0 }), { transport, clock }).then(
      () => (finished = true),
    );
    await vi.advanceTimersByTimeAsync(1500);
    expect(finished).toBe(false);
    await vi.advanceTimersByTimeAsync(400);
    expect(finished).toBe(true);
    await running;
  });
});

describe('ECMP: one flow identity per run', () => {
  it('keeps every echo to a relay on one of two equal-cost paths, so TTL-limited echoes expire on the path measured', async () => {
    const paths = new Set<number>();
    for (let identifier = 1; identifier <= 24; identifier += 1) {
      const host: SimulatedHost = {
        address: '198.19.9.9',
        forwardHops: 3,
        routers: routersOf(3, 9),
        alternatePath: { forwardHops: 5, routers: routersOf(5, 10) },
      };
      const hosts = [host, ...subnet(11, 3, 4)];
      const transport = createMemoryTransport({ hosts });
      const report = await probeTargets(targetsOf(hosts), options(), { transport, identifier });
      const taken = new Set(transport.sent.filter((echo) => echo.address === host.address).map((echo) => echo.path));
      expect(taken.size).toBe(1);
      const path = [...taken][0]!;
      paths.add(path);
      expect(report.results[0]!.distance).toBe(path === 0 ? 3 : 5);
      expect(transport.sent.filter((echo) => echo.address === host.address).length).toBeGreaterThan(1);
    }
    // The balancer does use both paths: across runs (identifiers) the flows differ.
    expect(paths).toEqual(new Set([0, 1]));
  });
});

describe('verify: paths — limits', () => {
  it('never sends a TTL above maximumTtlToPing − 1, even for a return path longer than that', async () => {
    const hosts = subnet(1, 6, 8, { returnHops: 30 });
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(targetsOf(hosts), options({ maximumTtlToPing: 20 }), { transport });
    expect(Math.max(...transport.sent.map((echo) => echo.ttl))).toBe(19);
    expect(report.results.map((result) => result.distance)).toEqual([8, 8, 8, 8, 8, 8]);
  });
});

describe('verify: paths — TCP fallback', () => {
  it('connects to a relay whose silence is final while the echoes to the others still go out', async () => {
    const hosts = [
      subnet(1, 1, 3, { dropIcmp: true })[0]!,
      ...Array.from({ length: 60 }, (_, index): SimulatedHost => ({
        address: `198.19.1.${index + 10}`,
        forwardHops: 3,
        routers: routersOf(3, 1),
      })),
    ];
    const events: string[] = [];
    const tcpConnect = ({ address }: { address: string }) => {
      events.push(`tcp ${address}`);
      return Promise.resolve(true);
    };
    const report = await probeTargets(
      targetsOf(hosts),
      options({ ratePps: 100, burst: 1, tcpFallback: true, onProbeSent: (event) => events.push(`echo ${event.ttl}`) }),
      {
        transport: createMemoryTransport({ hosts }),
        tcpConnect,
      },
    );
    expect(report.results[0]).toMatchObject({ method: 'tcp', distance: null });
    expect(report.tcpAttempts).toBe(1);
    const tcpAt = events.indexOf('tcp 198.19.1.1');
    expect(tcpAt).toBeGreaterThan(0);
    expect(tcpAt).toBeLessThan(events.lastIndexOf('echo 254'));
  });
});
