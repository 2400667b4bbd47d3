import type { TransportDescription } from './transport.js';

/** How a distance was measured (DESIGN §9 `probe --json`). */
export type ProbeMethod = 'echo-ttl' | 'ladder' | 'tcp' | 'unreachable';

/** One host to probe, already resolved to an address. */
export interface ProbeTarget {
  /** Stable identity of the target, e.g. relayKey(relay). Results carry it back. */
  key: string;
  /** Host as the user wrote it. */
  host: string;
  /** The IP address probed. */
  address: string;
  family: 4 | 6;
  /** TCP port for the fallback check. */
  port: number;
  /** Lower is preferred; the inference strategy verifies only the best reachable priority class. @default 0 */
  priority?: number;
}

export interface ProbeResult {
  key: string;
  host: string;
  address: string | null;
  /** Routers between endpoint and host (0 = same subnet); null when unknown. */
  distance: number | null;
  /** Best observed echo round trip (or TCP connect time), ms. */
  rttMs: number | null;
  method: ProbeMethod;
  /** Why the result is what it is, when not obvious (e.g. "no ICMP answer; TCP connection accepted"). */
  note?: string;
}

/** The result for a host no probe reached: `address` null when it did not even resolve; `note` says why. */
export function unreachableResult(
  target: { key: string; host: string; address: string | null },
  note?: string,
): ProbeResult {
  return {
    key: target.key,
    host: target.host,
    address: target.address,
    distance: null,
    rttMs: null,
    method: 'unreachable',
    ...(note === undefined ? {} : { note }),
  };
}

export interface ProbeProgress {
  /** An echo request left; ttl is the IP TTL / hop limit it was sent with. */
  onProbeSent?: (event: { key: string; address: string; ttl: number; sequence: number }) => void;
  /** A matching reply arrived (echo reply, time exceeded or unreachable). */
  onReply?: (event: {
    key: string;
    address: string;
    kind: 'echo-reply' | 'time-exceeded' | 'unreachable';
    ttl: number;
    rttMs: number;
  }) => void;
  /**
   * A round (one TTL of the ladder, or one phase of inference) ended. The grouping of candidates into
   * paths (`verify: 'paths'`) reports ttl null and the paths found as `answered`.
   */
  onRoundDone?: (event: { round: number; ttl: number | null; answered: number; pending: number }) => void;
}

/** How inference verifies the competition (ProbeOptions.verify). */
export type VerifyMode = 'paths' | 'all' | 'none';

/** A target in a tie, as ProbeOptions.preferAmong sees it. */
export interface TieCandidate {
  key: string;
  /** Best echo round trip so far, ms. */
  rttMs: number | null;
}

export interface ProbeOptions extends ProbeProgress {
  /** @default 'inference' (see Settings.probe) */
  strategy: 'inference' | 'rounds';
  /**
   * Which ICMP sockets to open when no transport is passed in: `ping` sockets (no capability; allowed by
   * net.ipv4.ping_group_range), `raw` sockets (CAP_NET_RAW), or `auto`: ping where allowed, else raw.
   * @default 'auto'
   */
  transport?: 'auto' | 'ping' | 'raw';
  /** TTLs up to maximumTtlToPing - 1 are used. @default 255 */
  maximumTtlToPing: number;
  /**
   * Wait for an answer, per probe, counted from when it left. Once a target's echo round trip is known,
   * its later probes wait `min(timeoutMs, max(50, 3 × largest RTT seen for that target + 20))` ms
   * (computeAdaptiveTimeoutMs in pacer.ts). @default 1000
   */
  timeoutMs: number;
  /**
   * Extra echoes at the largest TTL for a target that stayed silent (inference). With `verify: 'paths'`
   * only where its answer could matter: not for a target whose /24 (/64) answered through a target of the
   * same or a better priority (that path works: the target drops ICMP itself), and in a prefix where
   * nobody answered first for one target, then for the rest only if it answers. @default 1
   */
  retries: number;
  /** Token-bucket rate of echo requests, packets per second. @default 1000 */
  ratePps: number;
  /** Token-bucket burst, packets. @default 50 */
  burst: number;
  /** Inference: targets inferred within this many hops of the best get TTL-limited verification. @default 2 */
  verifyMargin: number;
  /**
   * Inference: how the competition is verified with TTL-limited echoes (DESIGN §6). `paths`: one target
   * per distinct path (same /24 or /64 and reply-TTL distance, ends expiring at the same router), see
   * strategies.ts; `all`: every target inferred within `verifyMargin` of the best; `none`: no
   * verification, for manual relays, which get one echo at the maximum TTL each (DESIGN §5).
   * @default 'paths'
   */
  verify?: VerifyMode;
  /**
   * The selection's tie-break: of targets equally near and of equal priority, the key of the one it
   * would take (undefined: no preference). With `verify: 'paths'` that target is the one verified for
   * its path, so the relay chosen is one whose own TTL-limited echo was answered.
   * @default the first in list order
   */
  preferAmong?: (candidates: ReadonlyArray<TieCandidate>) => string | undefined;
  /** Targets that never answered ICMP get a TCP connect to their port. @default true */
  tcpFallback: boolean;
  /** @default 1000 */
  tcpTimeoutMs: number;
  /** Aborting stops probing, clears every timer and rejects with code ABORTED. */
  signal?: AbortSignal;
}

export interface ProbeReport {
  results: ProbeResult[];
  /** ICMP echo requests sent (retries included). */
  packetsSent: number;
  /** TCP connection attempts made by the fallback. */
  tcpAttempts: number;
  /** The kind of ICMP socket used and the privilege it relied on (absent when nothing was probed over ICMP). */
  transport?: TransportDescription;
  wallMs: number;
}
