export type ProbeStrategy = 'inference' | 'rounds';
export type ProbeTransport = 'auto' | 'ping' | 'raw';
/** How inference verifies the competition: one relay per distinct path, or every relay near the best. */
export type ProbeVerify = 'paths' | 'all';
export type TieBreak = 'hash' | 'random' | 'rtt';
export type IpMode = 'auto' | 'ipv4' | 'ipv6';
type RegisterMode = 'http' | 'command' | 'none';
export type ProfileName = 'default' | 'large';

export interface ProbeSettings {
  /** @default 'inference' */
  strategy: ProbeStrategy;
  /** Per-probe timeout before adaptive shortening. @default 1000 */
  timeoutMs: number;
  /** Extra attempts for a probe that got no answer. @default 1 */
  retries: number;
  /** Sustained send rate, packets per second. @default 1000 */
  ratePps: number;
  /** Token-bucket burst size, packets. @default 50 */
  burst: number;
  /** Relays inferred within this many hops of the best are verified with a TTL-limited echo. @default 2 */
  verifyMargin: number;
  /**
   * `paths`: verify one relay per distinct path (same /24 or /64, same reply-TTL distance, ends expiring
   * in the same router), assuming asymmetry belongs to a path, not to one host in a subnet; `all`: verify
   * every relay within `verifyMargin` of the best. @default 'paths'
   */
  verify: ProbeVerify;
  /** Count a relay that accepts TCP on its port as reachable (distance unknown). @default true */
  tcpFallback: boolean;
  /** @default 1000 */
  tcpTimeoutMs: number;
  /**
   * ICMP sockets: `ping` (no capability; needs net.ipv4.ping_group_range to admit the process's group),
   * `raw` (needs CAP_NET_RAW), `auto` (ping where allowed, else raw). @default 'auto'
   */
  transport: ProbeTransport;
}

export interface TlsSettings {
  /** CA bundle file that signs the relays' certificates. */
  ca?: string;
  /** Client certificate file (PEM) for mutual TLS. */
  cert?: string;
  /** Client private key file (PEM) for mutual TLS. */
  key?: string;
}

export interface RegisterSettings {
  /** @default 'http' */
  mode: RegisterMode;
  /** URL template; `{scheme}`, `{host}`, `{port}` are filled in. @default '{scheme}://{host}:{port}/relay-select/v1/register' */
  url: string;
  /** @default 'http' */
  scheme: 'http' | 'https';
  /** @default 5000 */
  timeoutMs: number;
  tls: TlsSettings;
  /** Program run for `mode: command`; gets RELAY_SELECT_HOST, _PORT, _ADDRESS, _DISTANCE, _POOL. */
  command?: string;
}

/** Subnet cooperation of `relay-select agent` (DESIGN §13). */
export interface PeerSettings {
  /** Cooperate with the agents on the same link: one of them probes, the others adopt its table. @default false */
  enabled: boolean;
  /** The shared secret (HMAC-SHA256 key) of the peers; owned by the effective user, mode 0600. Required when enabled. */
  keyFile?: string;
  /** UDP port of the link-local multicast group. @default 52312 */
  port: number;
  /** How long a leader's claim lasts without a heartbeat; also the longest a follower waits for a table. @default 60 */
  leaseSeconds: number;
}

/**
 * The resolved settings of relay-select (DESIGN §4). The loader (src/config/load.ts) merges
 * defaults < profile < file < clientsettings.cfg < environment < CLI flags and validates the result
 * into this shape; everything downstream takes a `Settings` value and never reads files itself.
 */
export interface Settings {
  /** @default 'default' */
  profile: ProfileName;
  /** Largest TTL + 1: TTLs up to `maximumTtlToPing - 1` are used. @default 255 (range 1..255) */
  maximumTtlToPing: number;
  /** How long the current relay may fail health checks before a new selection. @default 600 */
  resistFailureIntervalSeconds: number;
  /** First retry delay after a failed selection; doubles up to the maximum. @default 60 */
  minRetryIntervalSeconds: number;
  /** @default 7200 */
  maxRetryIntervalSeconds: number;
  /** Periodic re-selection interval. @default 21600 */
  intervalSeconds: number;
  /** Ordered affiliation groups to try; `*` = unaffiliated pool. Empty = one pool of all relays. @default [] */
  seekList: string[];
  /** `host[:port]` tried in order when no pool answers. @default [] */
  failoverRelays: string[];
  /** @default true */
  automatic: boolean;
  /** `host[:port]` used in order when `automatic` is false. @default [] */
  manualRelays: string[];
  /** `host[:port]` of the last resort. @default undefined */
  rootServer?: string;
  /** @default 'auto' */
  ipMode: IpMode;
  /** @default '/etc/relay-select/Relay.dat' */
  relayList: string;
  /** @default '/var/lib/relay-select' as root, else '$XDG_STATE_HOME/relay-select' */
  stateDir: string;
  /** Generated once and kept in `stateDir` when not set. */
  clientId?: string;
  /** @default 'hash' */
  tieBreak: TieBreak;
  /** Fraction of each retry delay added or removed at random. @default 0.1 */
  jitter: number;
  /**
   * Hysteresis of the periodic re-selection: the current relay is kept unless the new best is more than this
   * many hops nearer (or better by priority or seek-list order, or the current one left the list, failed or
   * is full). 0 switches to any nearer relay. @default 1
   */
  switchMarginHops: number;
  /**
   * Prometheus text-format file (for node_exporter's textfile collector), rewritten atomically after every
   * run. @default undefined (no metrics file)
   */
  metricsFile?: string;
  probe: ProbeSettings;
  register: RegisterSettings;
  peer: PeerSettings;
}
