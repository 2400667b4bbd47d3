/** The default port of a relay (BigFix-compatible). */
export const DEFAULT_RELAY_PORT = 52311;
/** The default weight of a relay. */
export const DEFAULT_RELAY_WEIGHT = 100;
/** The name of the pool of unaffiliated relays. */
export const UNAFFILIATED_POOL = '*';
/** Pool names of the stages after the seek-list pools, as they appear in `Candidate.pool`. */
export const MANUAL_POOL = 'manual';
export const FAILOVER_POOL = 'failover';
export const ROOT_POOL = 'root';

/** One relay of the relay list. */
export interface Relay {
  /** Host as written: a DNS name or an IP literal (IPv6 without brackets). */
  host: string;
  /** @default 52311 */
  port: number;
  /** Affiliation groups in canonical form (lower-case, trimmed). Empty = unaffiliated (`*`). */
  groups: string[];
  /** Lower is preferred. @default 0 */
  priority: number;
  /** Share of the competition. @default 100 */
  weight: number;
  /** Display label. */
  name?: string;
  /**
   * `false`: never chosen by automatic selection (the suites' "auto selectable relay" switch off); still
   * usable as a manual, failover or root relay named in the settings. Absent means true.
   */
  autoselect?: false;
  /** Where the relay was defined, for messages. */
  source?: { file: string; line: number };
}

/** A problem found in a user file, pointing at file:line:column. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  column: number;
  message: string;
}

/** The relays of one seek-list entry, in relay-list order. */
export interface Pool {
  name: string;
  relays: Relay[];
}

/** Whether automatic selection may choose the relay (relay-list key `autoselect`). */
export function isAutoSelectable(relay: Pick<Relay, 'autoselect'>): boolean {
  return relay.autoselect !== false;
}

/** A stable key for a relay: `host:port` (IPv6 hosts bracketed). */
export function relayKey(relay: { host: string; port: number }): string {
  return relay.host.includes(':') ? `[${relay.host}]:${relay.port}` : `${relay.host}:${relay.port}`;
}

export function formatDiagnostic(diagnostic: Diagnostic): string {
  return `${diagnostic.file}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.severity}: ${diagnostic.message}`;
}
