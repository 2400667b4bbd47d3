import type { Settings } from '../config/settings.js';
import type { ProbeReport, ProbeResult, ProbeTarget, TieCandidate } from '../probe/types.js';
import type { RegisterOutcome } from '../register/types.js';
import type { Pool, Relay } from '../relays/relay.js';

/** How a candidate was found (DESIGN §9 `run --json` `relay.method`). */
export type CandidateMethod = 'echo-ttl' | 'ladder' | 'tcp' | 'failover' | 'root' | 'manual';

/** A relay the selection tries to register with. */
export interface Candidate {
  /** A relay of the relay list, or a bare host and port (failover relays, root server, manual relays). */
  relay: Relay | { host: string; port: number };
  /** The address probed or resolved; null when it was not resolved. */
  address: string | null;
  /** Routers between endpoint and relay; null when unknown. */
  distance: number | null;
  rttMs: number | null;
  /** The pool the candidate came from: a seek-list entry, `failover`, `root` or `manual`. */
  pool: string;
  method: CandidateMethod;
}

export type { RegisterOutcome };

/** Why a candidate was passed over without a registration attempt. */
interface SkippedOutcome {
  status: 'skipped';
  detail: string;
}

/** One step of the selection: a candidate and what happened to it. */
export interface Attempt {
  candidate: Candidate;
  /** Why this candidate was tried, e.g. "priority 0, 2 hops, won weighted rendezvous among 3". */
  reason: string;
  outcome: RegisterOutcome | SkippedOutcome;
}

/** What happened to one pool of the seek list. */
export interface PoolSummary {
  name: string;
  /** Whether the pool's relays were probed; pools after a successful registration are not. */
  probed: boolean;
  /** Reachable relays found; 0 when not probed. */
  reachable: number;
  /** Relays in the pool. */
  relayCount: number;
}

/** One relay of a pool, ranked (see `rankPool`). */
export interface RankedRelay {
  relay: Relay;
  result: ProbeResult;
  /** Why it sits where it does, e.g. "priority 0, 2 hops, won weighted rendezvous among 3". */
  reason: string;
  /** Relays sharing its priority and distance (1 = no competition). */
  competitionSize: number;
  /** 1-based position inside its competition. */
  competitionRank: number;
}

export type SelectionOutcome =
  | {
      status: 'selected';
      chosen: Candidate;
      /** `registered`, or `upstream-down` (alive relay, kept; the caller records it and backs off). */
      registration: Exclude<RegisterOutcome, { status: 'failed' } | { status: 'full' }>;
      /**
       * Set when the current relay was weighed against the best of its pool (`SelectRelayInput.stickTo`):
       * whether it was kept, and why.
       */
      switchMargin?: { kept: boolean; reason: string };
      attempts: Attempt[];
      probes: ProbeResult[];
      pools: PoolSummary[];
    }
  | {
      status: 'failed';
      attempts: Attempt[];
      probes: ProbeResult[];
      pools: PoolSummary[];
    };

/** A host name resolved (or not) to one address, according to `ipMode`. */
export type HostResolution =
  { host: string; address: string; family: 4 | 6 } | { host: string; address: null; error: string };

/** Progress of a selection, for the CLI to draw. The library never prints. */
export type SelectionEvent =
  | { type: 'pool-start'; pool: string; relayCount: number }
  | { type: 'pool-probed'; pool: string; reachable: number; ranked: RankedRelay[] }
  | { type: 'register-start'; candidate: Candidate; reason: string }
  | { type: 'register-done'; candidate: Candidate; outcome: RegisterOutcome }
  | { type: 'skipped'; candidate: Candidate; detail: string }
  | { type: 'stage'; stage: 'pools' | 'manual' | 'failover' | 'root' };

/**
 * Why `probe` is called: a seek-list pool; one manual relay (one echo at the maximum TTL); or, from a
 * probe that adopted a peer's measurements (src/agent), the confirmation of the relay it would choose —
 * one echo at the maximum TTL, without retry.
 */
export interface ProbeContext {
  purpose: 'pool' | 'manual' | 'confirm';
  /**
   * The competition's tie-break as the probe sees it (ProbeOptions.preferAmong): so that the relay the
   * ranking will pick is one the probe verified itself. Undefined when the tie-break is random.
   */
  preferAmong?: (candidates: ReadonlyArray<TieCandidate>) => string | undefined;
}

export interface SelectRelayInput {
  relays: Relay[];
  settings: Settings;
  clientId: string;
  /**
   * The current relay, for the hysteresis of a periodic re-selection: it stays unless the best relay of the
   * pool beats it by `settings.switchMarginHops` (see applySwitchMargin). Absent: the best relay wins.
   */
  stickTo?: { host: string; port: number };
  /**
   * Relays not to register with in this selection, by relayKey, with why (a full relay until its
   * Retry-After). They are still probed, so the ranking is complete; registration passes them over.
   */
  avoid?: ReadonlyMap<string, string>;
}

/** The edges `selectRelay` talks to; tests pass in-memory versions. */
export interface SelectRelayDeps {
  /** Probes the targets of one pool (DESIGN §6). A thrown error (e.g. no raw-socket permission) ends the selection. */
  probe: (targets: ProbeTarget[], pool: Pool, context: ProbeContext) => Promise<ProbeReport>;
  /** Resolves host names (IP literals too) according to `settings.ipMode`; one entry per host. */
  resolve: (hosts: string[]) => Promise<HostResolution[]>;
  /** Registers with a candidate (DESIGN §8). A thrown error counts as a failed registration. */
  register: (candidate: Candidate) => Promise<RegisterOutcome>;
  /**
   * Cheap liveness check (TCP connect) before registering with a failover relay or the root server;
   * when absent, registration is tried directly. `address` is the host already resolved by `resolve`.
   */
  checkAlive?: (target: { host: string; port: number; address: string }) => Promise<boolean>;
  onEvent?: (event: SelectionEvent) => void;
  /** Uniform [0, 1) source for `tieBreak: 'random'`. @default Math.random */
  random?: () => number;
}
