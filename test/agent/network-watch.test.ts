import { afterEach, describe, expect, it, vi } from 'vitest';
import { NETWORK_POLL_DEFAULT_MS, watchNetwork } from '../../src/agent/network-watch.js';
import type { NetworkFingerprint } from '../../src/cycle/state.js';

function network(gateway: string, iface = 'eth0', source: NetworkFingerprint['source'] = null): NetworkFingerprint {
  return { ipv4: { gateway, interface: iface }, ipv6: null, source };
}

describe('watchNetwork', () => {
  afterEach(() => {
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });

  it('reports a change in words at the next poll (within 10 s), not the first reading, and stops when told', async () => {
    vi.useFakeTimers();
    let fingerprint = network('198.18.0.1');
    const changes: string[] = [];
    const stop = watchNetwork({
      readFingerprint: () => Promise.resolve(fingerprint),
      onChange: (change) => changes.push(change),
    });
    await vi.advanceTimersByTimeAsync(NETWORK_POLL_DEFAULT_MS * 2);
    expect(changes).toEqual([]);
    fingerprint = network('198.18.0.5', 'wlan0');
    await vi.advanceTimersByTimeAsync(NETWORK_POLL_DEFAULT_MS);
    expect(changes).toEqual(['the IPv4 default route moved from via 198.18.0.1 on eth0 to via 198.18.0.5 on wlan0']);
    expect(NETWORK_POLL_DEFAULT_MS).toBeLessThan(10_000);
    stop();
  });

  it('skips a reading that fails and one with nothing to read (null), and goes on polling', async () => {
    vi.useFakeTimers();
    const readings: Array<NetworkFingerprint | null | Error> = [
      network('198.18.0.1'),
      new Error('EIO'),
      null,
      network('198.18.0.1'),
      network('198.18.0.9'),
    ];
    const changes: string[] = [];
    const errors: unknown[] = [];
    const stop = watchNetwork({
      readFingerprint: () => {
        const next = readings.length > 0 ? readings.shift()! : network('198.18.0.9');
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      },
      intervalMs: 100,
      onChange: (change) => changes.push(change),
      onError: (error) => errors.push(error),
    });
    await vi.advanceTimersByTimeAsync(600);
    expect(errors).toHaveLength(1);
    expect(changes).toEqual(['the IPv4 default route moved from via 198.18.0.1 on eth0 to via 198.18.0.9 on eth0']);
    stop();
  });

  it('a new source address toward the same relay is a change; toward another relay (a new selection) is not', async () => {
    vi.useFakeTimers();
    const readings = [
      network('198.18.0.1', 'eth0', { toward: '198.18.9.1', address: '198.18.0.10' }),
      network('198.18.0.1', 'eth0', { toward: '198.18.9.2', address: '198.18.0.10' }),
      network('198.18.0.1', 'eth0', { toward: '198.18.9.2', address: '10.8.0.2' }),
    ];
    const changes: string[] = [];
    let reading = 0;
    const stop = watchNetwork({
      readFingerprint: () => Promise.resolve(readings[Math.min(reading++, readings.length - 1)]!),
      intervalMs: 100,
      onChange: (change) => changes.push(change),
    });
    await vi.advanceTimersByTimeAsync(450);
    expect(changes).toEqual(['the source address toward 198.18.9.2 changed from 198.18.0.10 to 10.8.0.2']);
    stop();
  });
});
