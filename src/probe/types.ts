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
  /** Why the result is what it is, when not obvious (e.g. "IPv6 reply hop limit unreadable: ladder used"). */
  note?: string;
}

export interface ProbeProgress {
  /** An echo request left; ttl is the IP TTL / hop limit it was sent with. */
  onProbeSent?: (event: { key: string; address: string; ttl: number; sequence: number }) => void;
  /** A matching reply arrived (echo reply, time exceeded or unreachable). */
  onReply?: (event: { key: string; address: string; kind: 'echo-reply' | 'time-exceeded' | 'unreachable'; ttl: number; rttMs: number }) => void;
  /** A round (one TTL of the ladder, or one phase of inference) ended. */
  onRoundDone?: (event: { round: number; ttl: number | null; answered: number; pending: number }) => void;
}

export interface ProbeOptions extends ProbeProgress {
  strategy: 'inference' | 'rounds';
  /** TTLs up to maximumTtlToPing - 1 are used. */
  maximumTtlToPing: number;
  timeoutMs: number;
  retries: number;
  ratePps: number;
  burst: number;
  verifyMargin: number;
  tcpFallback: boolean;
  tcpTimeoutMs: number;
  signal?: AbortSignal;
}

export interface ProbeReport {
  results: ProbeResult[];
  /** ICMP echo requests sent (retries included). */
  packetsSent: number;
  /** TCP connection attempts made by the fallback. */
  tcpAttempts: number;
  wallMs: number;
}
