/**
 * One probe of one subnet, run by the real probe engine (src/probe/strategies.ts) over the in-memory
 * transport on simulated time, and what it cost the network: echo requests, TTL expiries and Time
 * Exceeded messages, per second after the start and per router. Every endpoint of a subnet sees the
 * same network, and a cron-driven endpoint probes at most once every few minutes while a router's
 * Time Exceeded budget for it refills in seconds, so one measured footprint stands for every endpoint
 * of the subnet that probes the same network state.
 */
import { createMemoryTransport, type TimeExceededLimit } from '../probe/memory-transport.js';
import { probeTargets } from '../probe/strategies.js';
import type { ProbeOptions, ProbeReport, ProbeTarget } from '../probe/types.js';
import { createVirtualTime, runOnVirtualTime } from './virtual-time.js';

export interface ProbeFootprint {
  /** What the engine reported; the selection ranks from it. */
  report: ProbeReport;
  echoRequests: number;
  /** Echo requests whose TTL ran out at a router (the router's CPU work). */
  ttlExpired: number;
  /** Time Exceeded messages routers sent back (after their rate limit). */
  timeExceeded: number;
  durationSeconds: number;
  /** Per whole second after the start: echo requests, TTL expiries, Time Exceeded sent. */
  echoBySecond: Float64Array;
  expiredBySecond: Float64Array;
  timeExceededBySecond: Float64Array;
  /** Routers (fleet indices) that saw an expiry, with their counts. */
  routers: Int32Array;
  routerExpired: Float64Array;
  routerTimeExceeded: Float64Array;
}

/** One relay as the probing subnet sees it. */
interface ProbedRelay {
  target: ProbeTarget;
  /** Router indices from the subnet's gateway to the relay's router. */
  path: Int32Array;
  /** Answers ICMP echo. */
  answersIcmp: boolean;
  /** Accepts TCP on its port. */
  acceptsTcp: boolean;
}

interface MeasureFootprintInput {
  relays: ProbedRelay[];
  /** False while the subnet's own link is down: nothing leaves, nothing comes back. */
  linkUp: boolean;
  options: Omit<ProbeOptions, 'signal' | 'onProbeSent' | 'onReply' | 'onRoundDone'>;
  /** Source address of each router's Time Exceeded, by fleet router index. */
  routerAddresses: readonly string[];
  /** @default Linux's: burst 6, then 1 per second */
  timeExceededLimit?: TimeExceededLimit | null;
}

/** Round trip of an echo over `hops` routers: LAN-fast at the edge, a few ms per router on the way. */
export function simulatedRttMs(hops: number): number {
  return 0.3 + 2 * hops;
}

export async function measureProbeFootprint(input: MeasureFootprintInput): Promise<ProbeFootprint> {
  const time = createVirtualTime(0);
  const byAddress = new Map(input.relays.map((relay) => [relay.target.address, relay]));
  const routerIndexByAddress = new Map(input.routerAddresses.map((address, index) => [address, index]));
  const perSecond = { echo: [] as number[], expired: [] as number[], timeExceeded: [] as number[] };
  const bump = (series: number[]): void => {
    const second = Math.floor(time.nowMs() / 1000);
    series[second] = (series[second] ?? 0) + 1;
  };
  const routerCounts = new Map<number, { expired: number; timeExceeded: number }>();
  const transport = createMemoryTransport({
    hosts: input.linkUp
      ? input.relays.map((relay) => ({
          address: relay.target.address,
          forwardHops: relay.path.length,
          rttMs: simulatedRttMs(relay.path.length),
          dropIcmp: !relay.answersIcmp,
        }))
      : [],
    timeExceededLimit: input.timeExceededLimit,
    clock: time,
    timers: time,
    routerOf: (destination, hop) => input.routerAddresses[byAddress.get(destination)!.path[hop - 1]!]!,
    onTtlExpired: ({ router, timeExceededSent }) => {
      const index = routerIndexByAddress.get(router)!;
      const counts = routerCounts.get(index) ?? { expired: 0, timeExceeded: 0 };
      counts.expired += 1;
      bump(perSecond.expired);
      if (timeExceededSent) {
        counts.timeExceeded += 1;
        bump(perSecond.timeExceeded);
      }
      routerCounts.set(index, counts);
    },
  });
  const report = await runOnVirtualTime(time, () =>
    probeTargets(
      input.relays.map((relay) => relay.target),
      { ...input.options, onProbeSent: () => bump(perSecond.echo) },
      {
        transport,
        clock: time,
        timers: time,
        identifier: 1,
        tcpConnect: ({ address, timeoutMs }) =>
          new Promise((resolve) => {
            const relay = byAddress.get(address);
            const accepts = input.linkUp && relay !== undefined && relay.acceptsTcp;
            time.setTimeout(() => resolve(accepts), accepts ? simulatedRttMs(relay.path.length) : timeoutMs);
          }),
      },
    ),
  );
  transport.close();
  const seconds = Math.max(perSecond.echo.length, perSecond.expired.length, perSecond.timeExceeded.length);
  const dense = (series: number[]): Float64Array =>
    Float64Array.from({ length: seconds }, (_, second) => series[second] ?? 0);
  const routers = Int32Array.from([...routerCounts.keys()].sort((a, b) => a - b));
  const sum = (series: number[]): number => series.reduce((total, value) => total + (value ?? 0), 0);
  return {
    report,
    echoRequests: report.packetsSent,
    ttlExpired: sum(perSecond.expired),
    timeExceeded: sum(perSecond.timeExceeded),
    durationSeconds: report.wallMs / 1000,
    echoBySecond: dense(perSecond.echo),
    expiredBySecond: dense(perSecond.expired),
    timeExceededBySecond: dense(perSecond.timeExceeded),
    routers,
    routerExpired: Float64Array.from(routers, (router) => routerCounts.get(router)!.expired),
    routerTimeExceeded: Float64Array.from(routers, (router) => routerCounts.get(router)!.timeExceeded),
  };
}
