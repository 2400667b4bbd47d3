/**
 * Shapes of registration (DESIGN §8). `RegisterOutcome` is defined here and imported by the selection
 * (src/select/types.ts) so both sides speak one type.
 */

/** What a registration attempt returned. */
export type RegisterOutcome =
  | { status: 'registered'; detail?: string }
  /** The relay answered 503 (or the hook exited 75): alive, but its upstream server is down; kept (DESIGN §7). */
  | { status: 'upstream-down'; detail: string }
  /**
   * The relay answered 429: alive but full. The selection goes on with the next-ranked relay in the same run,
   * starts no failure clock and schedules no retry; the relay is avoided until `retryAfterSeconds` (its
   * Retry-After) or, without one, `intervalSeconds` have passed (DESIGN §7).
   */
  | { status: 'full'; detail: string; retryAfterSeconds?: number }
  | { status: 'failed'; detail: string };

/** Where to register: the relay as the user named it, and optionally the address to connect to. */
export interface RegisterTarget {
  /** Host as written in the relay list: a DNS name or an IP literal (IPv6 with or without brackets). */
  host: string;
  port: number;
  /** Address to connect to instead of resolving `host`; Host header and TLS name stay `host`. */
  address?: string | null;
}

/** The JSON body of `POST /relay-select/v1/register`. Field order is the wire order. */
export interface RegistrationBody {
  clientId: string;
  hostname: string;
  /** Routers between endpoint and relay; null when unknown (TCP fallback, failover, root). */
  distance: number | null;
  rttMs: number | null;
  /** The pool the relay was chosen from: a seek-list entry, `failover`, `root` or `manual`. */
  pool: string;
  /** relay-select version of the endpoint. */
  version: string;
}

/** Facts about this endpoint that are the same for every registration of a run. */
export interface RegistrationFacts {
  clientId: string;
  hostname: string;
  version: string;
}

/**
 * A relay chosen by the selection. Structurally a subset of `Candidate` in src/select/types.ts, so
 * the selection passes its candidates as they are.
 */
export interface RegistrationCandidate {
  relay: { host: string; port: number };
  address: string | null;
  distance: number | null;
  rttMs: number | null;
  pool: string;
}

/** Result of the cheap health check of the current relay (DESIGN §7). */
export type RelayHealth = 'healthy' | 'failing' | 'upstream-down';

/** Reads a file; injectable so tests can count reads or fail them. */
export type ReadFile = (path: string) => Promise<Buffer | string>;
