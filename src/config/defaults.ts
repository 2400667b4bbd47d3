import { homedir } from 'node:os';
import { posix } from 'node:path';
import type { ProfileName, Settings } from './settings.js';

/** Largest TTL + 1 (TTLs up to 254 are used), as BigFix's `_BESClient_RelaySelect_MaximumTTLToPing`. */
const MAXIMUM_TTL_TO_PING_DEFAULT = 255;
const RESIST_FAILURE_DEFAULT_SECONDS = 600;
const MIN_RETRY_INTERVAL_DEFAULT_SECONDS = 60;
const MAX_RETRY_INTERVAL_DEFAULT_SECONDS = 7200;
/** Six hours: periodic re-selection picks up new relays without probing often. */
const RESELECT_INTERVAL_DEFAULT_SECONDS = 21_600;
/** ±10 % so a fleet that failed together does not retry in step. */
const RETRY_JITTER_DEFAULT_FRACTION = 0.1;
/** One hop: two relays that trade places by a single hop do not make endpoints flip between them. */
const SWITCH_MARGIN_DEFAULT_HOPS = 1;
const PROBE_TIMEOUT_DEFAULT_MS = 1000;
const PROBE_RETRIES_DEFAULT = 1;
const PROBE_RATE_DEFAULT_PPS = 1000;
const PROBE_BURST_DEFAULT_PACKETS = 50;
const PROBE_VERIFY_MARGIN_DEFAULT_HOPS = 2;
const TCP_FALLBACK_TIMEOUT_DEFAULT_MS = 1000;
const REGISTER_TIMEOUT_DEFAULT_MS = 5000;
const REGISTER_URL_DEFAULT = '{scheme}://{host}:{port}/relay-select/v1/register';
const PEER_PORT_DEFAULT = 52312;
/** A minute: a lost leader is replaced within two, and a follower never waits longer than one for a table. */
const PEER_LEASE_DEFAULT_SECONDS = 60;
const RELAY_LIST_DEFAULT_PATH = '/etc/relay-select/Relay.dat';
const ROOT_STATE_DIR = '/var/lib/relay-select';
/** Read when the cosmiconfig search finds nothing (DESIGN §4). */
export const SYSTEM_CONFIG_FILE = '/etc/relay-select/config.json';

/**
 * The settings when nothing is configured. `stateDir` is the root default; the loader replaces it with
 * {@link defaultStateDir} for the user it runs as.
 */
export const DEFAULT_SETTINGS: Readonly<Settings> = freezeDeeply({
  profile: 'default',
  maximumTtlToPing: MAXIMUM_TTL_TO_PING_DEFAULT,
  resistFailureIntervalSeconds: RESIST_FAILURE_DEFAULT_SECONDS,
  minRetryIntervalSeconds: MIN_RETRY_INTERVAL_DEFAULT_SECONDS,
  maxRetryIntervalSeconds: MAX_RETRY_INTERVAL_DEFAULT_SECONDS,
  intervalSeconds: RESELECT_INTERVAL_DEFAULT_SECONDS,
  seekList: [],
  failoverRelays: [],
  automatic: true,
  manualRelays: [],
  rootServer: undefined,
  ipMode: 'auto',
  relayList: RELAY_LIST_DEFAULT_PATH,
  stateDir: ROOT_STATE_DIR,
  clientId: undefined,
  tieBreak: 'hash',
  jitter: RETRY_JITTER_DEFAULT_FRACTION,
  switchMarginHops: SWITCH_MARGIN_DEFAULT_HOPS,
  metricsFile: undefined,
  probe: {
    strategy: 'inference',
    timeoutMs: PROBE_TIMEOUT_DEFAULT_MS,
    retries: PROBE_RETRIES_DEFAULT,
    ratePps: PROBE_RATE_DEFAULT_PPS,
    burst: PROBE_BURST_DEFAULT_PACKETS,
    verifyMargin: PROBE_VERIFY_MARGIN_DEFAULT_HOPS,
    verify: 'paths',
    tcpFallback: true,
    tcpTimeoutMs: TCP_FALLBACK_TIMEOUT_DEFAULT_MS,
    transport: 'auto',
  },
  register: {
    mode: 'http',
    url: REGISTER_URL_DEFAULT,
    scheme: 'http',
    timeoutMs: REGISTER_TIMEOUT_DEFAULT_MS,
    tls: {},
    command: undefined,
  },
  peer: {
    enabled: false,
    keyFile: undefined,
    port: PEER_PORT_DEFAULT,
    leaseSeconds: PEER_LEASE_DEFAULT_SECONDS,
  },
} satisfies Settings);

/** Frozen all the way down: a caller that changed `DEFAULT_SETTINGS.probe` would change every later run. */
function freezeDeeply<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) freezeDeeply(child);
    Object.freeze(value);
  }
  return value;
}

/** The settings a profile changes; everything else keeps its default. */
type ProfileSettings = Partial<
  Pick<
    Settings,
    | 'maximumTtlToPing'
    | 'resistFailureIntervalSeconds'
    | 'minRetryIntervalSeconds'
    | 'maxRetryIntervalSeconds'
    | 'intervalSeconds'
  >
>;

/**
 * Seed guidance for fleets of more than 10,000 clients or more than 50 relays: fewer hops probed,
 * a longer tolerance of a failing relay, slower retries and re-selection, so that a server outage
 * or a routing change does not make the whole fleet probe at once.
 */
export const PROFILES: Readonly<Record<ProfileName, ProfileSettings>> = freezeDeeply({
  default: {},
  large: {
    maximumTtlToPing: 20,
    resistFailureIntervalSeconds: 3600,
    minRetryIntervalSeconds: 600,
    maxRetryIntervalSeconds: 14_400,
    intervalSeconds: 43_200,
  },
});

/**
 * Where state lives for this user: `/var/lib/relay-select` as root, else `$XDG_STATE_HOME/relay-select`,
 * else `~/.local/state/relay-select` (the XDG default; a relative `XDG_STATE_HOME` is ignored as the
 * XDG spec requires).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv, uid: number): string {
  if (uid === 0) return ROOT_STATE_DIR;
  const stateHome = env.XDG_STATE_HOME;
  if (stateHome !== undefined && posix.isAbsolute(stateHome)) return posix.join(stateHome, 'relay-select');
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return posix.join(home, '.local', 'state', 'relay-select');
}
