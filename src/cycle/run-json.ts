/**
 * The `run --json` object (DESIGN §9): what `relay-select run --json` prints and what scripts, the lab
 * and tests read. One type for the writer (the `run` command) and the readers; fields may be added,
 * never removed.
 */
import type { Attempt, PoolSummary } from '../select/types.js';
import type { RunReport } from './run-cycle.js';

/** One registration attempt of the selection. */
interface RunJsonAttempt {
  host: string;
  port: number;
  pool: string;
  reason: string;
  outcome: Attempt['outcome']['status'];
  detail: string | undefined;
}

/** The fields of a run's report that `run --json` prints as they are (their meaning is documented on {@link RunReport}). */
type RunReportFields =
  | 'action'
  | 'reason'
  | 'relay'
  | 'nextDueAt'
  | 'probes'
  | 'rule'
  | 'registration'
  | 'packetsSent'
  | 'tcpChecks'
  | 'peerTable'
  | 'peerNotes'
  | 'warnings'
  | 'dryRun'
  | 'networkChange'
  | 'switchMargin'
  | 'distanceJump';

export interface RunJson extends Pick<RunReport, RunReportFields> {
  attempts: RunJsonAttempt[];
  pools: PoolSummary[];
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
