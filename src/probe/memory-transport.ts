/**
 * A simulated network behind the IcmpTransport interface, for tests and library users without raw
 * sockets: each host sits a number of routers away, possibly with a longer or shorter way back, may drop
 * ICMP, and routers rate-limit Time Exceeded the way Linux does. Hosts may name the routers of their path
 * (so subnets behind different routers answer from different addresses) and may sit behind a router that
 * balances load per flow (ECMP) by hashing the echo's identifier and checksum as icmp-codec.ts encodes it.
 * Every listener hears every packet, like raw sockets on one host.
 */
import { createHash } from 'node:crypto';
import { systemClock, systemTimers, type Clock, type Timers } from '../clock.js';
import { canonicalAddress, computeInternetChecksum, encodeEchoRequest, type IcmpMessage } from './icmp-codec.js';
import type { IcmpTransport, ReceivedIcmp } from './transport.js';

export interface SimulatedHost {
  address: string;
  /** Routers an echo request crosses to reach the host (0 = same subnet). */
  forwardHops: number;
  /** Routers the reply crosses on the way back. @default forwardHops */
  returnHops?: number;
  /** TTL / hop limit the host's replies start with. @default 64 */
  initialTtl?: number;
  /** Round trip of an echo, ms. @default 1 */
  rttMs?: number;
  /** Never answers ICMP (a firewall drops it). @default false */
  dropIcmp?: boolean;
  /** Number of echo requests that reach the host and are lost before it answers one. @default 0 */
  loseFirst?: number;
  /**
   * Addresses of the routers an echo crosses, nearest first: the source of the Time Exceeded when it
   * expires at hop t is `routers[t - 1]`. @default the transport's `routerOf`
   */
  routers?: string[];
  /**
   * A second way to the host, with its own length and routers. Echoes take it when the hash of their flow
   * (destination, identifier, ICMP checksum) is odd, as a router balancing per flow would. @default none
   */
  alternatePath?: SimulatedPath;
}

export interface SimulatedPath {
  forwardHops: number;
  /** @default forwardHops */
  returnHops?: number;
  /** @default the transport's `routerOf` */
  routers?: string[];
}

/**
 * Linux's defaults (`icmp_ratelimit` 1000 ms, `icmp_msgs_burst`): a burst of about 6 Time Exceeded to
 * one source, then about 1 per second.
 */
const LINUX_TIME_EXCEEDED_LIMIT: Readonly<TimeExceededLimit> = Object.freeze({ burst: 6, perSecond: 1 });

export interface TimeExceededLimit {
  /** Messages a router sends at once to one source. */
  burst: number;
  /** Sustained rate afterwards. */
  perSecond: number;
}

export interface MemoryTransportOptions {
  hosts: SimulatedHost[];
  /** Rate limit of each router's Time Exceeded; null = routers never send one. @default { burst: 6, perSecond: 1 } */
  timeExceededLimit?: TimeExceededLimit | null;
  /** Its monotonic time drives the routers' rate limit. @default systemClock */
  clock?: Clock;
  /** Where reply deliveries are scheduled. @default systemTimers */
  timers?: Timers;
  /**
   * The router `hop` routers along the way to `destination` (1 = the first), as the address its Time
   * Exceeded comes from. Routers are rate-limited each on their own, per source: this transport is one
   * source. A host's own `routers` win over this. @default every path shares its routers:
   * `198.18.255.{hop}` (IPv6 `2001:db8:ffff::{hop}`)
   */
  routerOf?: (destination: string, hop: number, family: 4 | 6) => string;
  /** Called for every echo whose TTL ran out at a router, whether the rate limit let a Time Exceeded out or not. */
  onTtlExpired?: (event: { router: string; timeExceededSent: boolean }) => void;
}

export interface SentEcho {
  address: string;
  family: 4 | 6;
  ttl: number;
  identifier: number;
  sequence: number;
  /** Which way it took: 0 the host's own path, 1 its alternatePath. */
  path: 0 | 1;
}

export interface MemoryTransport extends IcmpTransport {
  /** Every echo request sent, in order. */
  readonly sent: SentEcho[];
  /** Whether close() was called. */
  readonly closed: boolean;
}

export function createMemoryTransport(options: MemoryTransportOptions): MemoryTransport {
  const hosts = new Map(options.hosts.map((host) => [canonicalAddress(host.address), { ...host, lost: 0 }]));
  const limit = options.timeExceededLimit === undefined ? LINUX_TIME_EXCEEDED_LIMIT : options.timeExceededLimit;
  const clock = options.clock ?? systemClock;
  const scheduler = options.timers ?? systemTimers;
  const routerOf = options.routerOf ?? defaultRouterOf;
  const routerBuckets = new Map<string, { tokens: number; atMs: number }>();
  const listeners = new Set<(packet: ReceivedIcmp) => void>();
  const timers = new Set<unknown>();
  const sent: SentEcho[] = [];
  let closed = false;

  const deliver = (afterMs: number, packet: ReceivedIcmp): void => {
    const timer = scheduler.setTimeout(() => {
      timers.delete(timer);
      for (const listener of listeners) listener(packet);
    }, afterMs);
    timers.add(timer);
  };

  const takeRouterToken = (router: string): boolean => {
    if (limit === null) return false;
    const now = clock.nowMs();
    const bucket = routerBuckets.get(router) ?? { tokens: limit.burst, atMs: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.atMs) / 1000) * limit.perSecond);
    bucket.atMs = now;
    routerBuckets.set(router, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  const simulateEcho = (address: string, family: 4 | 6, ttl: number, identifier: number, sequence: number): void => {
    const destination = canonicalAddress(address);
    const host = hosts.get(destination);
    const pathIndex =
      host?.alternatePath !== undefined && hashFlow(destination, family, identifier, sequence) % 2 === 1 ? 1 : 0;
    sent.push({ address: destination, family, ttl, identifier, sequence, path: pathIndex });
    if (host === undefined) return;
    const path: SimulatedPath = pathIndex === 1 ? host.alternatePath! : host;
    const rttMs = host.rttMs ?? 1;
    if (ttl <= path.forwardHops) {
      const routerAddress = path.routers?.[ttl - 1] ?? routerOf(destination, ttl, family);
      const timeExceededSent = takeRouterToken(routerAddress);
      options.onTtlExpired?.({ router: routerAddress, timeExceededSent });
      if (!timeExceededSent) return;
      const message: IcmpMessage = {
        kind: 'time-exceeded',
        code: 0,
        identifier,
        sequence,
        originalDestination: destination,
        replyTtl: 64 - (ttl - 1),
      };
      deliver((rttMs * ttl) / (path.forwardHops + 1), { family, source: routerAddress, message });
      return;
    }
    if (host.dropIcmp) return;
    if (host.lost < (host.loseFirst ?? 0)) {
      host.lost += 1;
      return;
    }
    const initialTtl = host.initialTtl ?? 64;
    const returnHops = path.returnHops ?? path.forwardHops;
    const message: IcmpMessage = {
      kind: 'echo-reply',
      identifier,
      sequence,
      replyTtl: initialTtl - returnHops,
      timestampNs: null,
    };
    deliver(rttMs, { family, source: destination, message });
  };

  const transport: MemoryTransport = {
    description: { kind: 'memory', privilege: 'none' },
    sent,
    get closed() {
      return closed;
    },
    send(address, family, ttl, identifier, sequence) {
      if (closed) return Promise.reject(new Error('memory transport closed'));
      simulateEcho(address, family, ttl, identifier, sequence);
      return Promise.resolve();
    },
    onPacket(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      for (const timer of timers) scheduler.clearTimeout(timer);
      timers.clear();
      listeners.clear();
    },
  };
  return transport;
}

function defaultRouterOf(_destination: string, hop: number, family: 4 | 6): string {
  return family === 4 ? `198.18.255.${hop}` : `2001:db8:ffff::${hop.toString(16)}`;
}

/**
 * The flow hash of a per-flow load balancer: destination, identifier and the ICMP checksum of the echo
 * exactly as the transports encode it (the send timestamp varies like a real one). Echoes whose checksum
 * changed from probe to probe would scatter over both paths.
 */
function hashFlow(destination: string, family: 4 | 6, identifier: number, sequence: number): number {
  const packet = encodeEchoRequest({ family, identifier, sequence, timestampNs: process.hrtime.bigint() });
  // ICMPv6 leaves the checksum field to the kernel, which sums the message: hash that sum instead.
  const checksum = family === 4 ? packet.readUInt16BE(2) : computeInternetChecksum(packet);
  return createHash('sha256').update(`${destination}|${identifier}|${checksum}`).digest().readUInt32BE(0);
}
