import { DEFAULT_SETTINGS, PROFILES } from './defaults.js';
import type { Settings } from './settings.js';

/**
 * How a setting's value is read and checked. `group-list` and `relay-list` accept a JSON array or one
 * string separated by `;` or `,`; `path` values in a config file resolve against that file's directory.
 */
type SettingKind =
  | 'integer'
  | 'number'
  | 'boolean'
  | 'choice'
  | 'group-list'
  | 'relay-list'
  | 'relay'
  | 'path'
  | 'url-template'
  | 'client-id'
  | 'command';

/** One setting, as the schema, the help, the environment mapping and the man page describe it. */
export interface SettingDoc {
  /** Dotted path in a config file, e.g. `probe.timeoutMs`. */
  path: SettingPath;
  kind: SettingKind;
  /** Type as a person reads it: `integer`, `list of host[:port]`, ... */
  type: string;
  /** The default, as text. */
  default: string;
  /** The allowed values, as text: `1..255`, `inference, rounds`. */
  range: string;
  /** Inclusive bounds of numeric settings. */
  min?: number;
  max?: number;
  /** Allowed values of `choice` settings. */
  choices?: readonly string[];
  /** The BigFix `clientsettings.cfg` names that set it, in the order they are combined. */
  clientSettings: readonly string[];
  /** The `RELAY_SELECT_*` environment variable. */
  environment: string;
  /** The value `profile: large` gives it, when it changes it. */
  largeProfile?: string;
  description: string;
}

const SECONDS_PER_DAY = 86_400;
/** Upper bounds keep a typo (an extra zero or two) from disabling a safety mechanism for years. */
const MAX_INTERVAL_SECONDS = 30 * SECONDS_PER_DAY;
const MAX_RETRY_INTERVAL_SECONDS = 7 * SECONDS_PER_DAY;
const MAX_PROBE_RATE_PPS = 100_000;
const MAX_PROBE_BURST_PACKETS = 10_000;
const MAX_TIMEOUT_MS = 60_000;
const MAX_REGISTER_TIMEOUT_MS = 300_000;
const MAX_PROBE_RETRIES = 10;
const MAX_TTL = 255;
const MAX_PORT = 65_535;
/** Below 2 s a heartbeat (a third of the lease) would be sent several times a second. */
const MIN_PEER_LEASE_SECONDS = 2;
const MAX_PEER_LEASE_SECONDS = 3600;
export const MAX_CLIENT_ID_CHARS = 128;

const GROUP_RANGE =
  'affiliation group names ([A-Za-z0-9_-], at most 64 characters, case-insensitive) or *, separated by ";" or ","';
const RELAYS_RANGE = 'host[:port], [IPv6]:port or http://host:port/..., separated by ";" or ","';

export const ENVIRONMENT_PREFIX = 'RELAY_SELECT_';

/** `probe.tcpTimeoutMs` → `RELAY_SELECT_PROBE_TCP_TIMEOUT_MS`. */
export function environmentVariableOf(path: string): string {
  const suffix = path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_');
  return `${ENVIRONMENT_PREFIX}${suffix}`;
}

/** The value at a dotted path of a nested object; own properties only (`constructor` is no setting). */
export function valueAtPath(root: unknown, path: string | readonly (string | number)[]): unknown {
  const parts = typeof path === 'string' ? path.split('.') : path;
  let node: unknown = root;
  for (const part of parts) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string | number, unknown>)[part];
  }
  return node;
}

/**
 * Sets the value at a dotted path of a nested object, creating the objects on the way. Every key
 * becomes an own property, so `__proto__`, `constructor` or `prototype` in a path is just a key — to
 * be reported as an unknown setting — and never reaches a prototype.
 * @returns undefined when set; else the leading part of `path` that already holds a value that is not
 *   an object (`--set a=5 --set a.b=1`: `a`)
 */
export function assignAtPath(root: Record<string, unknown>, path: string, value: unknown): string | undefined {
  const parts = path.split('.');
  let node = root;
  for (const [index, part] of parts.slice(0, -1).entries()) {
    const existing = Object.hasOwn(node, part) ? node[part] : undefined;
    if (existing === undefined) defineOwn(node, part, {});
    else if (typeof existing !== 'object' || existing === null || Array.isArray(existing))
      return parts.slice(0, index + 1).join('.');
    node = node[part] as Record<string, unknown>;
  }
  defineOwn(node, parts[parts.length - 1]!, value);
  return undefined;
}

function defineOwn(node: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A setting's value in its documentation: a number, a word or a flag as written, anything else as JSON. */
function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

function defaultText(path: string): string {
  const value = valueAtPath(DEFAULT_SETTINGS, path);
  if (value === undefined) return 'none';
  if (Array.isArray(value)) return value.length === 0 ? '[] (empty)' : value.join(';');
  return scalarText(value);
}

function integer(
  path: SettingPath,
  min: number,
  max: number,
  description: string,
  clientSettings: readonly string[] = [],
): SettingDoc {
  return entry(path, 'integer', 'integer', `${min}..${max}`, description, clientSettings, { min, max });
}

function choice(
  path: SettingPath,
  choices: readonly string[],
  description: string,
  clientSettings: readonly string[] = [],
): SettingDoc {
  return entry(path, 'choice', 'string', choices.join(', '), description, clientSettings, { choices });
}

function entry(
  path: SettingPath,
  kind: SettingKind,
  type: string,
  range: string,
  description: string,
  clientSettings: readonly string[] = [],
  extra: Partial<SettingDoc> = {},
): SettingDoc {
  const large = (PROFILES.large as Record<string, unknown>)[path];
  return {
    path,
    kind,
    type,
    default: defaultText(path),
    range,
    clientSettings,
    environment: environmentVariableOf(path),
    ...(large === undefined ? {} : { largeProfile: scalarText(large) }),
    description,
    ...extra,
  };
}

/**
 * Every setting of relay-select (DESIGN §4), in the order the man page lists them. The schema, the
 * environment mapping, the clientsettings.cfg import, the CLI help and the man-page test read this list.
 */
export const SETTING_DOCS: readonly SettingDoc[] = Object.freeze([
  choice(
    'profile',
    ['default', 'large'],
    'Seed values for the fleet size: large (over 10,000 clients or over 50 relays) probes fewer hops and retries and re-selects less often. Any layer may set it; explicit settings still win over the profile.',
  ),
  integer(
    'maximumTtlToPing',
    1,
    MAX_TTL,
    'Largest TTL + 1: probes use TTLs up to maximumTtlToPing - 1, so relays further away than that many routers are never found by ICMP.',
    ['_BESClient_RelaySelect_MaximumTTLToPing'],
  ),
  integer(
    'resistFailureIntervalSeconds',
    0,
    MAX_INTERVAL_SECONDS,
    'How long the current relay may fail health checks before a new selection; 0 re-selects at the first failed check.',
    ['_BESClient_RelaySelect_ResistFailureIntervalSeconds'],
  ),
  integer(
    'minRetryIntervalSeconds',
    0,
    MAX_RETRY_INTERVAL_SECONDS,
    'First retry delay after a failed selection; each further failure doubles it up to maxRetryIntervalSeconds. Must not exceed maxRetryIntervalSeconds.',
    ['_BESClient_RelaySelect_MinRetryIntervalSeconds'],
  ),
  integer(
    'maxRetryIntervalSeconds',
    0,
    MAX_RETRY_INTERVAL_SECONDS,
    'Longest retry delay after repeated failed selections.',
    ['_BESClient_RelaySelect_MaxRetryIntervalSeconds'],
  ),
  integer(
    'intervalSeconds',
    0,
    MAX_INTERVAL_SECONDS,
    'Periodic re-selection: a new selection once this many seconds have passed since the last one; 0 turns periodic re-selection off.',
    ['_BESClient_RelaySelect_IntervalSeconds'],
  ),
  entry(
    'seekList',
    'group-list',
    'list of group names',
    GROUP_RANGE,
    'Ordered affiliation groups to try, one pool each; * is the pool of unaffiliated relays. Empty: all relays form one pool. Names are stored in lower case.',
    ['_BESClient_Register_Affiliation_SeekList'],
  ),
  entry(
    'failoverRelays',
    'relay-list',
    'list of host[:port]',
    RELAYS_RANGE,
    'Relays tried in order, without ICMP, when no relay of any seek-list pool could be registered. Stored as host:port (default port 52311).',
    ['_BESClient_RelaySelect_FailoverRelay', '_BESClient_RelaySelect_FailoverRelayList'],
  ),
  entry(
    'automatic',
    'boolean',
    'boolean',
    'true, false',
    'Select automatically by distance; false uses manualRelays in order.',
    ['__RelaySelect_Automatic'],
  ),
  entry(
    'manualRelays',
    'relay-list',
    'list of host[:port]',
    RELAYS_RANGE,
    'Relays used in order when automatic is false; each must answer one echo at the maximum TTL.',
    ['__RelayServer1', '__RelayServer2', '_BESClient_RelaySelect_TertiaryRelayList'],
  ),
  entry(
    'rootServer',
    'relay',
    'host[:port]',
    'host[:port], [IPv6]:port or http://host:port/...',
    'Last resort after the failover relays.',
  ),
  choice('ipMode', ['auto', 'ipv4', 'ipv6'], 'Address family used to resolve and probe relays named by DNS.', [
    '_BESClient_Comm_IPCommunicationsMode',
  ]),
  entry(
    'relayList',
    'path',
    'path',
    'a file path',
    'The relay list file (relay-select.dat(5)). The command line sets it with --relays.',
  ),
  entry(
    'stateDir',
    'path',
    'path',
    'a directory path',
    'Directory of the state file, its lock and the cached relay list. Default: /var/lib/relay-select as root, else $XDG_STATE_HOME/relay-select (~/.local/state/relay-select).',
    [],
    { default: '/var/lib/relay-select as root, else $XDG_STATE_HOME/relay-select' },
  ),
  entry(
    'clientId',
    'client-id',
    'string',
    `1..${MAX_CLIENT_ID_CHARS} characters of [A-Za-z0-9._:-]`,
    'Identity of this endpoint in the rendezvous hash; generated once and kept in stateDir when not set.',
  ),
  choice(
    'tieBreak',
    ['hash', 'random', 'rtt'],
    'How the competition (equal priority and distance) is decided: weighted rendezvous hash of clientId (stable), random by weight, or lowest round-trip time.',
  ),
  entry(
    'jitter',
    'number',
    'number',
    '0..1',
    'Fraction of each retry delay added or removed at random so a fleet does not retry in step.',
    [],
    { min: 0, max: 1 },
  ),
  integer(
    'switchMarginHops',
    0,
    MAX_TTL - 1,
    'Hysteresis of the periodic re-selection: the current relay is kept unless the new best is more than this many hops nearer (with 1: a relay 1 hop nearer is not enough, 2 hops nearer is), better by priority, in an earlier pool of the seek list, or the current relay left the list, failed or is full. Stops endpoints flipping between two equally near relays; 0 switches to any nearer relay. Selections for other reasons (network changed, relay removed or failing, --force) take the best relay.',
  ),
  entry(
    'metricsFile',
    'path',
    'path',
    'a file path',
    "Where to write the Prometheus text format for node_exporter's textfile collector (e.g. /var/lib/node_exporter/textfile_collector/relay_select.prom), atomically, after every run and every agent cycle (as root, in a directory no other user can change): the current relay, its distance and RTT, selections by result, echo requests, TCP checks, the failure clock, the last success, the retry due time, distance jumps and refused inputs. Not set: no metrics file.",
  ),
  choice(
    'probe.strategy',
    ['inference', 'rounds'],
    'inference: one echo at the maximum TTL per relay, distances inferred from reply TTLs, then verified; rounds: the classic TTL ladder.',
  ),
  integer('probe.timeoutMs', 1, MAX_TIMEOUT_MS, 'Per-probe timeout before adaptive shortening, in milliseconds.'),
  integer('probe.retries', 0, MAX_PROBE_RETRIES, 'Extra attempts for a probe that got no answer.'),
  integer('probe.ratePps', 1, MAX_PROBE_RATE_PPS, 'Sustained probe send rate, in packets per second.'),
  integer('probe.burst', 1, MAX_PROBE_BURST_PACKETS, 'Token-bucket burst size, in packets.'),
  integer(
    'probe.verifyMargin',
    0,
    MAX_TTL - 1,
    'Relays inferred within this many hops of the best are verified with a TTL-limited echo.',
  ),
  choice(
    'probe.verify',
    ['paths', 'all'],
    'paths: verify one relay per distinct path: relays of one /24 (IPv4) or /64 (IPv6) with the same reply-TTL distance, between two relays whose echoes expire in the same router, are taken to share their forward path (asymmetric routing belongs to a subnet, not to one host in it); the relay chosen is always verified itself. all: verify every relay within probe.verifyMargin of the best.',
  ),
  entry(
    'probe.tcpFallback',
    'boolean',
    'boolean',
    'true, false',
    'Count a relay that accepts a TCP connection on its port as reachable (distance unknown, ranked last in its pool).',
  ),
  integer('probe.tcpTimeoutMs', 1, MAX_TIMEOUT_MS, 'Timeout of the TCP fallback connection, in milliseconds.'),
  choice(
    'probe.transport',
    ['auto', 'ping', 'raw'],
    "Which ICMP sockets probe. ping: unprivileged ICMP ping sockets, allowed where the sysctl net.ipv4.ping_group_range (per network namespace; it covers IPv4 and IPv6) admits one of the process's groups, and needing no capability. raw: raw ICMP sockets, which need root or CAP_NET_RAW. auto: ping sockets where allowed, else raw sockets; when neither is allowed, exit status 77 names both fixes.",
  ),
  choice(
    'register.mode',
    ['http', 'command', 'none'],
    'http: POST to register.url; command: run register.command; none: only record the choice.',
  ),
  entry(
    'register.url',
    'url-template',
    'URL template',
    'an http(s) URL; {scheme}, {host} and {port} are filled in',
    'Registration endpoint.',
  ),
  choice('register.scheme', ['http', 'https'], 'Scheme put into {scheme} of register.url.'),
  integer('register.timeoutMs', 1, MAX_REGISTER_TIMEOUT_MS, 'Timeout of one registration request, in milliseconds.'),
  entry('register.tls.ca', 'path', 'path', 'a file path', "CA bundle (PEM) that signs the relays' certificates."),
  entry('register.tls.cert', 'path', 'path', 'a file path', 'Client certificate (PEM) for mutual TLS.'),
  entry('register.tls.key', 'path', 'path', 'a file path', 'Client private key (PEM) for mutual TLS.'),
  entry(
    'register.command',
    'command',
    'string',
    'a command line',
    'Program run for register.mode command, with RELAY_SELECT_HOST, _PORT, _ADDRESS, _DISTANCE and _POOL in its environment; exit status 0 means registered.',
  ),
  entry(
    'peer.enabled',
    'boolean',
    'boolean',
    'true, false',
    'Subnet cooperation of relay-select agent: the agents of one link with the same relay list and seek list elect a leader that probes and shares its measurements; the others adopt them and confirm their choice with one echo. Needs peer.keyFile.',
  ),
  entry(
    'peer.keyFile',
    'path',
    'path',
    'a file path',
    "The peers' shared secret (at least 16 bytes; every message is authenticated with HMAC-SHA256 under it). Must be owned by the user relay-select runs as and have mode 0600. Required when peer.enabled is true.",
  ),
  integer(
    'peer.port',
    1,
    MAX_PORT,
    "UDP port of the peers' link-local multicast group (239.255.52.31 for IPv4, ff02::114 for IPv6; TTL and hop limit 1).",
  ),
  integer(
    'peer.leaseSeconds',
    MIN_PEER_LEASE_SECONDS,
    MAX_PEER_LEASE_SECONDS,
    "How long a leader's claim lasts without a heartbeat (heartbeats go every third of it): a lost leader is replaced within two leases, and a follower waits at most one lease for a table before probing itself.",
  ),
]);

const DOCS_BY_PATH = new Map<string, SettingDoc>(SETTING_DOCS.map((doc) => [doc.path, doc]));

export function findSettingDoc(path: string): SettingDoc | undefined {
  return DOCS_BY_PATH.get(path);
}

/** Settings whose value in a config file is a path resolved against the file's directory. */
export const PATH_SETTINGS: readonly SettingPath[] = SETTING_DOCS.filter((doc) => doc.kind === 'path').map(
  (doc) => doc.path,
);

/** Dotted paths of the leaves of `Settings`: a misspelt path in SETTING_DOCS does not compile. */
type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]-?: NonNullable<T[K]> extends readonly unknown[] | string | number | boolean
    ? `${Prefix}${K}`
    : LeafPaths<NonNullable<T[K]>, `${Prefix}${K}.`>;
}[keyof T & string];
export type SettingPath = LeafPaths<Settings>;
