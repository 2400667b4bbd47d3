/**
 * The `run --json` object (DESIGN §9): what `relay-select run --json` prints and what scripts, the lab
 * and tests read. One type for the writer (the `run` command) and the readers; fields may be added,
 * never removed.
 */
import type { ProbeResult } from '../probe/types.js';
import type { Attempt, PoolSummary } from '../select/types.js';
import type { PeerTableUse, RunAction, RunRelayView, RunReport } from './run-cycle.js';

/** One registration attempt of the selection. */
interface RunJsonAttempt {
  host: string;
  port: number;
  pool: string;
  reason: string;
  outcome: Attempt['outcome']['status'];
  detail: string | undefined;
}

export interface RunJson {
  action: RunAction;
  reason: string;
  relay: RunRelayView | null;
  /** ISO-8601. */
  nextDueAt: string;
  probes: ProbeResult[];
  rule: RunReport['rule'];
  registration: RunReport['registration'];
  attempts: RunJsonAttempt[];
  pools: PoolSummary[];
  /** ICMP echo requests sent by this run. */
  packetsSent: number;
  /** TCP connects and HTTP health checks made by this run. */
  tcpChecks: number;
  /** The leader's table the selection adopted instead of probing (`relay-select agent` with peer.enabled); null otherwise. */
  peerTable: PeerTableUse | null;
  /** Why a cooperating agent's selection probed itself after all. */
  peerNotes: string[];
  warnings: string[];
  dryRun: boolean;
  /** How the network changed (rule `network-changed`), else null. */
  networkChange: string | null;
  /** The periodic re-selection weighed the current relay against the best: kept or not, and why. */
  switchMargin: RunReport['switchMargin'];
  /** The new relay is more than 2 hops further than the previous one. */
  distanceJump: RunReport['distanceJump'];
  /** Full relays (HTTP 429) passed over until the time given. */
  avoidedRelays: Array<{ host: string; port: number; until: string; reason: string }>;
}

/** The `run --json` object of a run; more fields than the DESIGN contract, never fewer. */
export function renderRunJson(report: RunReport): RunJson {
  return {
    action: report.action,
    reason: report.reason,
    relay: report.relay,
    nextDueAt: report.nextDueAt,
    probes: report.probes,
    rule: report.rule,
    registration: report.registration,
    attempts:
      report.selection?.attempts.map((attempt) => ({
        host: attempt.candidate.relay.host,
        port: attempt.candidate.relay.port,
        pool: attempt.candidate.pool,
        reason: attempt.reason,
        outcome: attempt.outcome.status,
        detail: 'detail' in attempt.outcome ? attempt.outcome.detail : undefined,
      })) ?? [],
    pools: report.selection?.pools ?? [],
    packetsSent: report.packetsSent,
    tcpChecks: report.tcpChecks,
    peerTable: report.peerTable,
    peerNotes: report.peerNotes,
    warnings: report.warnings,
    dryRun: report.dryRun,
    networkChange: report.networkChange,
    switchMargin: report.switchMargin,
    distanceJump: report.distanceJump,
    avoidedRelays: report.state.avoidedRelays ?? [],
  };
}
