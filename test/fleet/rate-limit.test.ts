/**
 * The simulated routers' Time Exceeded limit (DESIGN §6, Linux's icmp_ratelimit): per router and per
 * source, a burst of 6 and then 1 per second, configurable.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryTransport, type TimeExceededLimit } from '../../src/probe/memory-transport.js';
import type { ReceivedIcmp } from '../../src/probe/transport.js';
import { measureProbeFootprint } from '../../src/fleet/probe-footprint.js';
import { createVirtualTime, runOnVirtualTime } from '../../src/fleet/virtual-time.js';
import { settings } from '../helpers/settings.js';

const ROUTERS = ['198.19.0.1', '198.19.0.2', '198.19.0.3'];

/** One source (one transport) sending echoes that expire at the first router, at chosen moments. */
function source(limit?: TimeExceededLimit | null) {
  const time = createVirtualTime(0);
  const heard: ReceivedIcmp[] = [];
  const transport = createMemoryTransport({
    hosts: [
      { address: '198.18.0.1', forwardHops: 3 },
      { address: '198.18.0.2', forwardHops: 3 },
    ],
    clock: time,
    timers: time,
    // Both relays' paths share their first router; the second routers differ.
    routerOf: (destination, hop) =>
      hop === 1 ? ROUTERS[0]! : destination === '198.18.0.1' ? ROUTERS[1]! : ROUTERS[2]!,
    ...(limit === undefined ? {} : { timeExceededLimit: limit }),
  });
  transport.onPacket((packet) => heard.push(packet));
  let sequence = 0;
  const sendAt = async (atMs: number, count: number, ttl: number, address = '198.18.0.1'): Promise<number> => {
    const before = heard.length;
    await runOnVirtualTime(time, async () => {
      await new Promise<void>((resolve) => time.setTimeout(resolve, atMs - time.nowMs()));
      for (let index = 0; index < count; index += 1) await transport.send(address, 4, ttl, 7, sequence++);
      // Let every reply arrive.
      await new Promise<void>((resolve) => time.setTimeout(resolve, 100));
    });
    return heard.slice(before).filter((packet) => packet.message.kind === 'time-exceeded').length;
  };
  return { sendAt, transport };
}

describe('routers rate-limit Time Exceeded like Linux', () => {
  it('a burst of 6, then 1 per second, per router and per source', async () => {
    const one = source();
    expect(await one.sendAt(0, 20, 1)).toBe(6);
    // 1 s later one token has come back; 2.5 s after that, two and a half.
    expect(await one.sendAt(1100, 5, 1)).toBe(1);
    expect(await one.sendAt(3600, 5, 1)).toBe(2);
    // After a long quiet spell the bucket is full again, never more than the burst.
    expect(await one.sendAt(60_000, 20, 1)).toBe(6);
    // The second router of each path has its own budget.
    expect(await one.sendAt(60_000, 8, 2, '198.18.0.1')).toBe(6);
    expect(await one.sendAt(60_000, 8, 2, '198.18.0.2')).toBe(6);
    // A second source behind the same router has its own budget too.
    const other = source();
    expect(await other.sendAt(60_000, 20, 1)).toBe(6);
  });

  it('is configurable, and can be switched off', async () => {
    expect(await source({ burst: 2, perSecond: 10 }).sendAt(0, 20, 1)).toBe(2);
    const fast = source({ burst: 2, perSecond: 10 });
    await fast.sendAt(0, 20, 1);
    expect(await fast.sendAt(1000, 20, 1)).toBe(2);
    expect(await source(null).sendAt(0, 20, 1)).toBe(0);
  });

  it("bounds what a probe costs the routers: the ladder to 10 relays 3 routers away gets 6 Time Exceeded per rung's router", async () => {
    const path = Int32Array.from([0, 1, 2]);
    const base = settings();
    const footprint = await measureProbeFootprint({
      relays: Array.from({ length: 10 }, (_, index) => ({
        target: {
          key: `r${index}`,
          host: `198.18.1.${index + 1}`,
          address: `198.18.1.${index + 1}`,
          family: 4 as const,
          port: 52311,
        },
        path,
        answersIcmp: true,
        acceptsTcp: true,
      })),
      linkUp: true,
      options: { ...base.probe, strategy: 'rounds', maximumTtlToPing: base.maximumTtlToPing },
      routerAddresses: ROUTERS,
    });
    // Rungs TTL 1, 2, 3 expire all 10 echoes at routers 0, 1, 2: 30 expiries, 6 Time Exceeded each;
    // TTL 4 reaches every relay and the ladder stops.
    expect(footprint.echoRequests).toBe(40);
    expect(footprint.ttlExpired).toBe(30);
    expect(footprint.timeExceeded).toBe(18);
    expect(Array.from(footprint.routerTimeExceeded)).toEqual([6, 6, 6]);
    // Each rung waits out the timeouts of the 4 echoes the limit silenced: about 1 s per rung.
    expect(footprint.durationSeconds).toBeGreaterThanOrEqual(3);
  });
});
