import { z } from 'zod';
import { isObject } from '../plain-object.js';
import { STATE_VERSION } from './state-check.js';

/**
 * The state file of the run cycle (DESIGN §7), `stateDir/state.json`. It is a contract between
 * versions of relay-select: bump `STATE_VERSION` (state-check.ts) on any incompatible change; a file of
 * another version is moved aside on read, never half-understood. A field added here must be added to
 * state-check.ts too (a test fails until it is), or every run pays for loading zod.
 */

const isoTimestamp = z.string().datetime({ offset: true });

/** Health of the current relay as the last check saw it. */
const HEALTH_RESULTS = ['healthy', 'failing', 'upstream-down'] as const;
export type HealthResult = (typeof HEALTH_RESULTS)[number];

const currentRelaySchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** The IP address registered with; null when it was never resolved (e.g. `register.mode: none`). */
  address: z.string().min(1).nullable(),
  /** Routers between endpoint and relay; null when unknown (TCP fallback, failover, root server). */
  distance: z.number().int().min(0).nullable(),
  rttMs: z.number().min(0).nullable(),
  /** Pool name the relay was chosen from (`*`, a group, or e.g. `failover` / `root`). */
  pool: z.string(),
  /** How the relay was found: a ProbeMethod (`echo-ttl`, `ladder`, `tcp`) or e.g. `failover`, `manual`. */
  method: z.string().min(1),
  registeredAt: isoTimestamp,
  /** The relay answered but reported its upstream server down (HTTP 503). */
  upstreamDown: z.boolean().optional(),
});
export type CurrentRelay = z.infer<typeof currentRelaySchema>;

const retrySchema = z.object({
  /** Retry number; 1 after the first failed selection. */
  attempt: z.number().int().min(1),
  nextAt: isoTimestamp,
  delaySeconds: z.number().positive(),
  reason: z.string(),
});

/** The back-off of health checks while the relay reports its upstream down (no re-selection). */
const upstreamBackoffSchema = z.object({
  attempt: z.number().int().min(1),
  nextAt: isoTimestamp,
  delaySeconds: z.number().positive(),
});

const healthCheckSchema = z.object({
  at: isoTimestamp,
  result: z.enum(HEALTH_RESULTS),
  /** What the check saw, for `status` (e.g. "connect ECONNREFUSED 198.18.0.2:52311"). */
  detail: z.string().optional(),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;

/** A default route as the fingerprint keeps it: the gateway (null for a route straight onto a device) and the interface. */
const defaultRouteSchema = z.object({ gateway: z.string().nullable(), interface: z.string() }).nullable();

/**
 * What the endpoint's network looked like (DESIGN §7 `network-changed`): the IPv4 and IPv6 default routes and
 * the source address the kernel picks toward the current relay. See cycle/network-fingerprint.ts.
 */
const networkFingerprintSchema = z.object({
  ipv4: defaultRouteSchema,
  ipv6: defaultRouteSchema,
  /** Null when there was no relay address to aim at; `address` null when there was no route to it. */
  source: z.object({ toward: z.string(), address: z.string().nullable() }).nullable(),
});
export type NetworkFingerprint = z.infer<typeof networkFingerprintSchema>;

/** A relay that answered 429 (full): passed over by selections until `until` (DESIGN §7). */
const avoidedRelaySchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  until: isoTimestamp,
  reason: z.string(),
});
export type AvoidedRelay = z.infer<typeof avoidedRelaySchema>;

const count = z.number().int().min(0);

/**
 * Totals since the state file was created, for the metrics file (Prometheus counters must only grow; a state
 * file moved aside starts them again, which Prometheus reads as a counter reset).
 */
const countersSchema = z.object({
  selections: z.object({ selected: count, kept: count, failed: count }),
  /** ICMP echo requests sent. */
  echoRequests: count,
  /** TCP connects and HTTP health checks made (health checks, TCP fallback, failover liveness). */
  tcpChecks: count,
  /** Selections whose relay was more than 2 hops further than the previous one. */
  distanceJumps: count,
  /** State files refused (corrupt or of another version) and moved aside. */
  stateFilesMovedAside: count,
});
export type Counters = z.infer<typeof countersSchema>;

/** The longest list of avoided relays kept: a relay list where every relay is full needs no more. */
const MAX_AVOIDED_RELAYS = 1000;

export const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  clientId: z.string().min(1),
  current: currentRelaySchema.nullable(),
  /** Last successful selection (registration). */
  lastSelectionAt: isoTimestamp.nullable(),
  /** Last selection attempt, successful or not. */
  lastAttemptAt: isoTimestamp.nullable(),
  /** Start of the failure clock of the current relay; null while it is healthy. */
  failingSince: isoTimestamp.nullable(),
  /**
   * Set by `report-failure`: the endpoint's agent saw the relay fail where a cheap health check cannot
   * (a download, an upload), so a passing health check does not stop the failure clock. Cleared by the
   * next successful selection.
   */
  failureReportedAt: isoTimestamp.nullable().optional(),
  /** Pending retry after a failed selection. */
  retry: retrySchema.nullable(),
  /** Added for the upstream-down rule of DESIGN §7; absent in files that never saw a 503. */
  upstreamBackoff: upstreamBackoffSchema.nullable().optional(),
  lastHealthCheck: healthCheckSchema.optional(),
  /** sha256 (hex) of the relay list the current relay was selected from. */
  relayListDigest: z.string().optional(),
  /** The endpoint's network when last looked at; a change makes the next run select (`network-changed`). */
  network: networkFingerprintSchema.optional(),
  /** Full relays (HTTP 429) and until when selections pass them over. */
  avoidedRelays: z.array(avoidedRelaySchema).max(MAX_AVOIDED_RELAYS).optional(),
  /** The last selection whose relay was more than 2 hops further than the one before (DESIGN, issue 12). */
  lastDistanceJump: z
    .object({ at: isoTimestamp, fromHops: count, toHops: count, from: z.string(), to: z.string() })
    .optional(),
  counters: countersSchema.optional(),
  /**
   * How many lines (JSON elements, dump blocks) of the relay list with this sha256 were refused, counted
   * when it was last parsed: a run that takes that list unchanged reports it in the metrics file without
   * parsing the list again.
   */
  relayListRefusedLines: z.object({ digest: z.string(), count }).optional(),
});
export type State = z.infer<typeof stateSchema>;

/** The state of an endpoint that has never run. */
export function emptyState(clientId: string): State {
  return {
    version: STATE_VERSION,
    clientId,
    current: null,
    lastSelectionAt: null,
    lastAttemptAt: null,
    failingSince: null,
    retry: null,
  };
}

type ParseStateResult = { ok: true; state: State } | { ok: false; reason: string };

/** Validates a decoded state file; the reason names the first problems found. */
export function parseState(value: unknown): ParseStateResult {
  if (isObject(value) && 'version' in value) {
    const version = value.version;
    if (version !== STATE_VERSION) {
      return { ok: false, reason: `unsupported state version ${JSON.stringify(version)} (expected ${STATE_VERSION})` };
    }
  }
  const parsed = stateSchema.safeParse(value);
  if (parsed.success) return { ok: true, state: parsed.data };
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  return { ok: false, reason: `invalid state: ${problems.join('; ')}` };
}
