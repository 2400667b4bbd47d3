import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryTransport, type SimulatedHost } from '../../src/probe/memory-transport.js';
import { probeTargets } from '../../src/probe/strategies.js';
import type { ProbeResult } from '../../src/probe/types.js';
import { options, target, targetsOf } from './builders.js';

function byKey(results: ProbeResult[]): Record<string, ProbeResult> {
  return Object.fromEntries(results.map((result) => [result.key, result]));
}

const DISTANCES = [0, 1, 2, 3, 5, 8, 12];
const chain: SimulatedHost[] = DISTANCES.map((hops) => ({
  address: `198.18.1.${hops}`,
  forwardHops: hops,
  rttMs: 1 + hops / 4,
}));

afterEach(() => {
  vi.useRealTimers();
});

describe('probeTargets — inference', () => {
  it('infers every distance from one echo each and verifies the competition with two more', async () => {
    const transport = createMemoryTransport({ hosts: chain });
    const report = await probeTargets(targetsOf(chain), options(), { transport });
    const results = byKey(report.results);
    for (const hops of DISTANCES)
      expect(results[`198.18.1.${hops}`]).toMatchObject({ distance: hops, method: 'echo-ttl' });
    // 7 echoes at TTL 254; candidates within 2 of the best (0, 1, 2) at TTL 1; nobody needs TTL 0.
    expect(report.packetsSent).toBe(7 + 3);
    expect(transport.sent.filter((echo) => echo.ttl === 254)).toHaveLength(7);
    expect(results['198.18.1.12']!.rttMs).toBeGreaterThan(0);
  });

  it('reads the initial TTL of 128- and 255-based hosts', async () => {
    const hosts: SimulatedHost[] = [
      { address: '198.18.2.1', forwardHops: 4, initialTtl: 128 },
      { address: '198.18.2.2', forwardHops: 6, initialTtl: 255 },
    ];
    const report = await probeTargets(targetsOf(hosts), options(), { transport: createMemoryTransport({ hosts }) });
    expect(report.results.map((result) => result.distance)).toEqual([4, 6]);
  });

  it('finds the truly nearest relay when its return path is longer than its forward path', async () => {
    const hosts: SimulatedHost[] = [
      { address: '198.18.3.1', forwardHops: 1, returnHops: 3 },
      { address: '198.18.3.2', forwardHops: 2 },
    ];
    const report = await probeTargets(targetsOf(hosts), options(), { transport: createMemoryTransport({ hosts }) });
    const results = byKey(report.results);
    expect(results['198.18.3.1']!.distance).toBe(1);
    expect(results['198.18.3.2']!.distance).toBe(2);
  });

  it('finds the truly nearest relay when the best-looking one has a longer forward path', async () => {
    const hosts: SimulatedHost[] = [
      { address: '198.18.4.1', forwardHops: 4, returnHops: 2 },
      { address: '198.18.4.2', forwardHops: 3 },
    ];
    const report = await probeTargets(targetsOf(hosts), options(), { transport: createMemoryTransport({ hosts }) });
    const results = byKey(report.results);
    expect(results['198.18.4.2']!.distance).toBe(3);
    expect(results['198.18.4.1']!.distance).toBeGreaterThan(3);
    expect(results['198.18.4.1']!.note).toMatch(/reply TTL suggests 2/);
  });

  it('does not need Time Exceeded messages (routers that never send them)', async () => {
    const report = await probeTargets(targetsOf(chain), options({ timeoutMs: 200 }), {
      transport: createMemoryTransport({ hosts: chain, timeExceededLimit: null }),
    });
    expect(report.results.map((result) => result.distance)).toEqual(DISTANCES);
  });

  it('verifies only the best reachable priority class', async () => {
    const hosts: SimulatedHost[] = [
      { address: '198.18.5.1', forwardHops: 1 },
      { address: '198.18.5.2', forwardHops: 6, returnHops: 7 },
      { address: '198.18.5.3', forwardHops: 7 },
    ];
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(
      [target('198.18.5.1', { priority: 1 }), target('198.18.5.2'), target('198.18.5.3')],
      options(),
      { transport },
    );
    const results = byKey(report.results);
    expect(results['198.18.5.2']!.distance).toBe(6);
    expect(results['198.18.5.3']!.distance).toBe(7);
    expect(results['198.18.5.1']!.distance).toBe(1);
    expect(transport.sent.filter((echo) => echo.address === '198.18.5.1' && echo.ttl < 254)).toEqual([]);
  });

  it('retries a silent relay and counts every echo', async () => {
    const hosts: SimulatedHost[] = [{ address: '198.18.6.1', forwardHops: 2, loseFirst: 1 }];
    const sent: number[] = [];
    const report = await probeTargets(
      [target('198.18.6.1')],
      options({ onProbeSent: (event) => sent.push(event.ttl) }),
      { transport: createMemoryTransport({ hosts }) },
    );
    expect(report.results[0]).toMatchObject({ distance: 2, method: 'echo-ttl' });
    expect(sent.slice(0, 2)).toEqual([254, 254]);
    expect(report.packetsSent).toBe(sent.length);
  });
});

describe('probeTargets — rounds', () => {
  it('stops at the first answering rung and leaves farther relays unmeasured', async () => {
    const transport = createMemoryTransport({ hosts: chain });
    const report = await probeTargets(targetsOf(chain), options({ strategy: 'rounds' }), { transport });
    const results = byKey(report.results);
    expect(results['198.18.1.0']).toMatchObject({ distance: 0, method: 'ladder' });
    expect(results['198.18.1.12']).toMatchObject({ distance: null, method: 'ladder' });
    expect(results['198.18.1.12']!.note).toMatch(/ladder stopped/);
    expect(report.packetsSent).toBe(7);
  });

  it.each(DISTANCES)('measures a relay %i routers away exactly, refining the skipped gap', async (hops) => {
    const hosts: SimulatedHost[] = [{ address: '198.18.7.1', forwardHops: hops }];
    const rounds: Array<number | null> = [];
    const report = await probeTargets(
      [target('198.18.7.1')],
      options({ strategy: 'rounds', onRoundDone: (event) => rounds.push(event.ttl) }),
      {
        transport: createMemoryTransport({ hosts }),
      },
    );
    expect(report.results[0]).toMatchObject({ distance: hops, method: 'ladder' });
    expect(rounds.length).toBe(report.packetsSent);
  });

  it('honours maximumTtlToPing: a relay beyond it is unreachable', async () => {
    const hosts: SimulatedHost[] = [{ address: '198.18.8.1', forwardHops: 12 }];
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets(
      [target('198.18.8.1')],
      options({ strategy: 'rounds', maximumTtlToPing: 10, timeoutMs: 30 }),
      { transport },
    );
    expect(report.results[0]).toMatchObject({ distance: null, method: 'unreachable' });
    expect(Math.max(...transport.sent.map((echo) => echo.ttl))).toBe(9);
  });

  it('keeps climbing for a preferred priority after a less preferred relay answered', async () => {
    const hosts: SimulatedHost[] = [
      { address: '198.18.9.1', forwardHops: 1 },
      { address: '198.18.9.2', forwardHops: 7 },
    ];
    const report = await probeTargets(
      [target('198.18.9.1', { priority: 1 }), target('198.18.9.2')],
      options({ strategy: 'rounds' }),
      {
        transport: createMemoryTransport({ hosts }),
      },
    );
    expect(report.results.map((result) => result.distance)).toEqual([1, 7]);
  });

  it('infers IPv6 distances from the reply hop limit like IPv4 ones, in one competition', async () => {
    const hosts: SimulatedHost[] = [
      { address: '2001:db8::5', forwardHops: 5 },
      { address: '2001:db8::2', forwardHops: 2, returnHops: 4 },
      { address: '198.18.5.3', forwardHops: 3 },
    ];
    const transport = createMemoryTransport({ hosts });
    const report = await probeTargets([target('2001:DB8::5'), target('2001:db8::2'), target('198.18.5.3')], options(), {
      transport,
    });
    expect(report.results.map((result) => [result.distance, result.method])).toEqual([
      [5, 'echo-ttl'],
      [2, 'echo-ttl'],
      [3, 'echo-ttl'],
    ]);
    // One echo each at the largest TTL, then TTL-limited checks of the competition only: no ladder rung to all.
    expect(transport.sent.filter((echo) => echo.ttl === 254)).toHaveLength(3);
    expect(transport.sent.filter((echo) => echo.ttl === 1).map((echo) => echo.address)).toEqual(['2001:db8::2']);
    expect(report.transport).toEqual({ kind: 'memory', privilege: 'none' });
  });
});

describe('probeTargets — TCP fallback', () => {
  const hosts: SimulatedHost[] = [
    { address: '198.18.10.1', forwardHops: 2 },
    { address: '198.18.10.2', forwardHops: 2, dropIcmp: true },
    { address: '198.18.10.3', forwardHops: 2, dropIcmp: true },
  ];
  const targets = targetsOf(hosts);
  const tcpConnect = ({ address }: { address: string }): Promise<boolean> => Promise.resolve(address === '198.18.10.2');

  it('counts a relay that accepts TCP as reachable with unknown distance', async () => {
    const report = await probeTargets(targets, options({ tcpFallback: true, timeoutMs: 50 }), {
      transport: createMemoryTransport({ hosts }),
      tcpConnect,
    });
    const results = byKey(report.results);
    expect(results['198.18.10.1']).toMatchObject({ distance: 2, method: 'echo-ttl' });
    expect(results['198.18.10.2']).toMatchObject({ distance: null, method: 'tcp' });
    expect(results['198.18.10.2']!.rttMs).not.toBeNull();
    expect(results['198.18.10.3']).toMatchObject({ distance: null, method: 'unreachable', rttMs: null });
    expect(report.tcpAttempts).toBe(2);
  });

  it('reports the relay unreachable when the fallback is off', async () => {
    const report = await probeTargets(targets, options({ tcpFallback: false, timeoutMs: 50 }), {
      transport: createMemoryTransport({ hosts }),
      tcpConnect,
    });
    expect(byKey(report.results)['198.18.10.2']).toMatchObject({ method: 'unreachable' });
    expect(report.tcpAttempts).toBe(0);
  });
});

describe('probeTargets — sharing the ICMP medium', () => {
  it('two concurrent runs on one transport each take only their own replies', async () => {
    const hosts: SimulatedHost[] = [
      { address: '198.18.11.1', forwardHops: 1 },
      { address: '198.18.11.2', forwardHops: 4 },
    ];
    const transport = createMemoryTransport({ hosts });
    const seen: Record<string, string[]> = { a: [], b: [] };
    const [first, second] = await Promise.all(
      (['a', 'b'] as const).map((name, index) =>
        probeTargets(
          [target(hosts[index]!.address)],
          options({ onReply: (event) => seen[name]!.push(event.address) }),
          {
            transport,
            identifier: 4242,
          },
        ),
      ),
    );
    expect(first!.results[0]!.distance).toBe(1);
    expect(second!.results[0]!.distance).toBe(4);
    expect(new Set(seen.a)).toEqual(new Set(['198.18.11.1']));
    expect(new Set(seen.b)).toEqual(new Set(['198.18.11.2']));
  });
});

describe('probeTargets — abort', () => {
  it('rejects with ABORTED and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const hosts: SimulatedHost[] = Array.from({ length: 20 }, (_, index) => ({
      address: `198.18.12.${index + 1}`,
      forwardHops: 3,
      dropIcmp: true,
    }));
    const controller = new AbortController();
    const transport = createMemoryTransport({ hosts });
    const running = probeTargets(
      targetsOf(hosts),
      options({ ratePps: 10, burst: 2, timeoutMs: 5000, signal: controller.signal }),
      { transport },
    );
    const outcome = running.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(150);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    controller.abort();
    const error = await outcome;
    expect(error).toMatchObject({ name: 'RelaySelectError', code: 'ABORTED' });
    expect(vi.getTimerCount()).toBe(0);
    expect(transport.sent.length).toBeLessThan(20);
  });

  it('rejects at once when the signal is already aborted', async () => {
    await expect(
      probeTargets([target('198.18.13.1')], options({ signal: AbortSignal.abort() }), {
        transport: createMemoryTransport({ hosts: [] }),
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
