import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultRoutesIpv4, defaultRoutesIpv6, NETWORK_POLL_DEFAULT_MS, watchNetwork } from '../../src/agent/network-watch.js';

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
`;
const IPV6_ROUTE = `00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlan0
20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 wlan0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo
`;

describe('default route fingerprint', () => {
  it('keeps only the default routes, with interface, gateway and metric', () => {
    expect(defaultRoutesIpv4(ROUTE)).toEqual(['4 eth0 via 0100A8C0 metric 100']);
    expect(defaultRoutesIpv6(IPV6_ROUTE)).toEqual(['6 wlan0 via fe800000000000000000000000000001 metric 00000400']);
  });
});

describe('watchNetwork', () => {
  afterEach(() => {
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });

  it('reports a change at the next poll (within 10 s), not the first reading, and stops when told', async () => {
    vi.useFakeTimers();
    let fingerprint = 'eth0 via A';
    const changes: Array<[string, string]> = [];
    const stop = watchNetwork({ readFingerprint: async () => fingerprint, onChange: (now, before) => changes.push([now, before]) });
    await vi.advanceTimersByTimeAsync(NETWORK_POLL_DEFAULT_MS * 2);
    expect(changes).toEqual([]);
    fingerprint = 'wlan0 via B';
    await vi.advanceTimersByTimeAsync(NETWORK_POLL_DEFAULT_MS);
    expect(changes).toEqual([['wlan0 via B', 'eth0 via A']]);
    expect(NETWORK_POLL_DEFAULT_MS).toBeLessThan(10_000);
    stop();
  });

  it('skips a reading that fails and goes on polling', async () => {
    vi.useFakeTimers();
    const readings = ['a', new Error('EIO'), 'a', 'b'];
    const changes: string[] = [];
    const errors: unknown[] = [];
    const stop = watchNetwork({
      readFingerprint: async () => {
        const next = readings.shift() ?? 'b';
        if (next instanceof Error) throw next;
        return next;
      },
      intervalMs: 100,
      onChange: (now) => changes.push(now),
      onError: (error) => errors.push(error),
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(errors).toHaveLength(1);
    expect(changes).toEqual(['b']);
    stop();
  });
});
