/**
 * The state file's check without zod, for the common case: a state this version of relay-select
 * wrote itself. `acceptState` takes a decoded state file when it is valid in every field and uses
 * only fields it knows; anything else (an invalid or unknown field, a timestamp not in the form
 * `Date.prototype.toISOString` writes) it leaves to the zod schema of state.ts, which then explains
 * the problem or strips what it does not know. So `status` and a `run` that is not due never load zod.
 * test/cycle/state-check.test.ts checks that whatever this accepts, the schema accepts with the same
 * result, and that it knows every field of the schema.
 */
import { isPlainObject } from '../plain-object.js';

/** The version of the state file format (state.ts): bump it on any incompatible change. */
export const STATE_VERSION = 1;

/**
 * Counters of a state that has counted nothing yet (state.ts' `Counters`, which this shape is; the type is
 * inferred, as state.ts imports this module): here, without zod, because a run that is not due needs
 * them when the state has none yet.
 */
export function zeroCounters() {
  return {
    selections: { selected: 0, kept: 0, failed: 0 },
    echoRequests: 0,
    tcpChecks: 0,
    distanceJumps: 0,
    stateFilesMovedAside: 0,
  };
}

const REFUSED = Symbol('refused');
type Refused = typeof REFUSED;
type Check = (value: unknown) => unknown;

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A timestamp as toISOString writes it, of a real date and time (the round trip rules out 02-30 and 24:00). */
const isoTimestamp: Check = (value) =>
  typeof value === 'string' && ISO_TIMESTAMP.test(value) && new Date(value).toISOString() === value ? value : REFUSED;
const text =
  (minLength = 0): Check =>
  (value) =>
    typeof value === 'string' && value.length >= minLength ? value : REFUSED;
const integer =
  (min: number, max = Number.POSITIVE_INFINITY): Check =>
  (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? value : REFUSED;
const nonNegative: Check = (value) => (typeof value === 'number' && value >= 0 ? value : REFUSED);
const positive: Check = (value) => (typeof value === 'number' && value > 0 ? value : REFUSED);
const flag: Check = (value) => (typeof value === 'boolean' ? value : REFUSED);
const oneOf =
  (choices: readonly unknown[]): Check =>
  (value) =>
    choices.includes(value) ? value : REFUSED;
const nullable =
  (check: Check): Check =>
  (value) =>
    value === null ? null : check(value);

/** A field of an object: its check, and whether it may be left out (then `undefined` is allowed too). */
interface Field {
  check: Check;
  optional?: boolean;
}
type Shape = Readonly<Record<string, Field>>;

/** The object with its fields in the shape's order, as zod builds it; REFUSED on an unknown or invalid field. */
function acceptObject(shape: Shape, value: unknown): Record<string, unknown> | Refused {
  if (!isPlainObject(value)) return REFUSED;
  for (const key of Object.keys(value)) if (!Object.hasOwn(shape, key)) return REFUSED;
  const result: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(shape)) {
    const present = key in value;
    const item = value[key];
    if (item === undefined) {
      if (field.optional !== true) return REFUSED;
      if (present) result[key] = undefined;
      continue;
    }
    const accepted = field.check(item);
    if (accepted === REFUSED) return REFUSED;
    result[key] = accepted;
  }
  return result;
}

const object =
  (shape: Shape): Check =>
  (value) =>
    acceptObject(shape, value);
/** A list of at most `maxItems`, each checked. */
const list =
  (check: Check, maxItems: number): Check =>
  (value) => {
    if (!Array.isArray(value) || value.length > maxItems) return REFUSED;
    const result: unknown[] = [];
    for (const item of value) {
      const accepted = check(item);
      if (accepted === REFUSED) return REFUSED;
      result.push(accepted);
    }
    return result;
  };

const CURRENT_RELAY_SHAPE = {
  host: { check: text(1) },
  port: { check: integer(1, 65535) },
  address: { check: nullable(text(1)) },
  distance: { check: nullable(integer(0)) },
  rttMs: { check: nullable(nonNegative) },
  pool: { check: text() },
  method: { check: text(1) },
  registeredAt: { check: isoTimestamp },
  upstreamDown: { check: flag, optional: true },
} as const satisfies Shape;
const RETRY_SHAPE = {
  attempt: { check: integer(1) },
  nextAt: { check: isoTimestamp },
  delaySeconds: { check: positive },
  reason: { check: text() },
} as const satisfies Shape;
const UPSTREAM_BACKOFF_SHAPE = {
  attempt: { check: integer(1) },
  nextAt: { check: isoTimestamp },
  delaySeconds: { check: positive },
} as const satisfies Shape;
const HEALTH_CHECK_SHAPE = {
  at: { check: isoTimestamp },
  result: { check: oneOf(['healthy', 'failing', 'upstream-down']) },
  detail: { check: text(), optional: true },
} as const satisfies Shape;

const DEFAULT_ROUTE_SHAPE = {
  gateway: { check: nullable(text()) },
  interface: { check: text() },
} as const satisfies Shape;
const NETWORK_SOURCE_SHAPE = {
  toward: { check: text() },
  address: { check: nullable(text()) },
} as const satisfies Shape;
const NETWORK_SHAPE = {
  ipv4: { check: nullable(object(DEFAULT_ROUTE_SHAPE)) },
  ipv6: { check: nullable(object(DEFAULT_ROUTE_SHAPE)) },
  source: { check: nullable(object(NETWORK_SOURCE_SHAPE)) },
} as const satisfies Shape;
const AVOIDED_RELAY_SHAPE = {
  host: { check: text(1) },
  port: { check: integer(1, 65535) },
  until: { check: isoTimestamp },
  reason: { check: text() },
} as const satisfies Shape;
/** state.ts' MAX_AVOIDED_RELAYS. */
const MAX_AVOIDED_RELAYS = 1000;
const DISTANCE_JUMP_SHAPE = {
  at: { check: isoTimestamp },
  fromHops: { check: integer(0) },
  toHops: { check: integer(0) },
  from: { check: text() },
  to: { check: text() },
} as const satisfies Shape;
const SELECTIONS_SHAPE = {
  selected: { check: integer(0) },
  kept: { check: integer(0) },
  failed: { check: integer(0) },
} as const satisfies Shape;
const COUNTERS_SHAPE = {
  selections: { check: object(SELECTIONS_SHAPE) },
  echoRequests: { check: integer(0) },
  tcpChecks: { check: integer(0) },
  distanceJumps: { check: integer(0) },
  stateFilesMovedAside: { check: integer(0) },
} as const satisfies Shape;

const REFUSED_LINES_SHAPE = { digest: { check: text() }, count: { check: integer(0) } } as const satisfies Shape;

const STATE_SHAPE = {
  version: { check: oneOf([STATE_VERSION]) },
  clientId: { check: text(1) },
  current: { check: nullable(object(CURRENT_RELAY_SHAPE)) },
  lastSelectionAt: { check: nullable(isoTimestamp) },
  lastAttemptAt: { check: nullable(isoTimestamp) },
  failingSince: { check: nullable(isoTimestamp) },
  failureReportedAt: { check: nullable(isoTimestamp), optional: true },
  retry: { check: nullable(object(RETRY_SHAPE)) },
  upstreamBackoff: { check: nullable(object(UPSTREAM_BACKOFF_SHAPE)), optional: true },
  lastHealthCheck: { check: object(HEALTH_CHECK_SHAPE), optional: true },
  relayListDigest: { check: text(), optional: true },
  network: { check: object(NETWORK_SHAPE), optional: true },
  avoidedRelays: { check: list(object(AVOIDED_RELAY_SHAPE), MAX_AVOIDED_RELAYS), optional: true },
  lastDistanceJump: { check: object(DISTANCE_JUMP_SHAPE), optional: true },
  counters: { check: object(COUNTERS_SHAPE), optional: true },
  relayListRefusedLines: { check: object(REFUSED_LINES_SHAPE), optional: true },
} as const satisfies Shape;

/** The fields this check knows, per object of the state (`''` is the state itself), in the schema's order. */
export const KNOWN_STATE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(STATE_SHAPE),
  current: Object.keys(CURRENT_RELAY_SHAPE),
  retry: Object.keys(RETRY_SHAPE),
  upstreamBackoff: Object.keys(UPSTREAM_BACKOFF_SHAPE),
  lastHealthCheck: Object.keys(HEALTH_CHECK_SHAPE),
  network: Object.keys(NETWORK_SHAPE),
  'network.ipv4': Object.keys(DEFAULT_ROUTE_SHAPE),
  'network.ipv6': Object.keys(DEFAULT_ROUTE_SHAPE),
  'network.source': Object.keys(NETWORK_SOURCE_SHAPE),
  'avoidedRelays[]': Object.keys(AVOIDED_RELAY_SHAPE),
  lastDistanceJump: Object.keys(DISTANCE_JUMP_SHAPE),
  counters: Object.keys(COUNTERS_SHAPE),
  'counters.selections': Object.keys(SELECTIONS_SHAPE),
  relayListRefusedLines: Object.keys(REFUSED_LINES_SHAPE),
};

/**
 * A decoded state file (or a state about to be written) when every field is valid and known, built as
 * the schema of state.ts builds it; undefined means "ask the schema" (which explains what is wrong).
 */
export function acceptState(value: unknown): Record<string, unknown> | undefined {
  const accepted = acceptObject(STATE_SHAPE, value);
  return accepted === REFUSED ? undefined : accepted;
}
