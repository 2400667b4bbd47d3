/**
 * `relay-select agent` (DESIGN §9, §13): the cron cycle of `run` (runCycle: the same decision, state
 * directory and lock) on the agent's own schedule, in one long-running process that holds the run lock
 * for its whole life — so a cron `run` meanwhile exits 75 while `status` still reads the state. SIGHUP
 * reloads the settings and the relay list, a changed network wakes a cycle (whose network-changed rule
 * selects), the metrics file is written after each cycle as after each run (runCycle), and with
 * `peer.enabled` the agents of one link cooperate: one probes, the others adopt its table.
 */
import { randomBytes } from 'node:crypto';
import { RelaySelectError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import type { Settings } from '../config/settings.js';
import { acquireRunLock } from '../cycle/lock.js';
import { loadRelayListWithCache, runCycle, type RunReport } from '../cycle/run-cycle.js';
import { readNetworkFingerprint } from '../cycle/read-network-fingerprint.js';
import type { NetworkFingerprint } from '../cycle/state.js';
import { removePeerViewFile, writePeerViewFile } from '../cycle/state-store.js';
import { resolveTargets } from '../probe/index.js';
import { buildPools } from '../relays/pools.js';
import { watchNetwork } from './network-watch.js';
import { loadPeerKey } from './peer-key.js';
import { findPeerLink, type PeerLink } from './peer-link.js';
import { createPeerProbe } from './peer-probe.js';
import { startPeerService, type PeerEvent, type PeerService } from './peer-service.js';
import { peerGroupOf } from './peer-table.js';
import { renderPeerViewFile } from './peer-view-file.js';

/** What made a cycle run. */
type AgentTrigger = 'start' | 'schedule' | 'reload' | 'network';

export type AgentEvent =
  | { type: 'started'; stateDir: string; checkIntervalSeconds: number }
  /** Peer cooperation started: the group address, the link and our member id. */
  | { type: 'peer-started'; endpoint: string; link: PeerLink; memberId: string; leaseSeconds: number }
  /** Peer cooperation is enabled but cannot start now (retried before each cycle). */
  | { type: 'peer-unavailable'; reason: string }
  | { type: 'peer'; event: PeerEvent }
  | { type: 'cycle'; trigger: AgentTrigger; report: RunReport }
  | { type: 'cycle-failed'; trigger: AgentTrigger; error: unknown }
  | { type: 'reloaded' }
  /** The new settings were refused; the agent goes on with the old ones. */
  | { type: 'reload-failed'; error: unknown }
  /** How the network changed (describeNetworkChange); the cycle it wakes decides whether to select. */
  | { type: 'network-changed'; change: string }
  | { type: 'stopped' };

interface AgentOptions {
  /** Reads the settings; called at start and on every SIGHUP. */
  loadSettings: () => Promise<Settings>;
  /** Sent in registrations. */
  version: string;
  /** The longest time between two cycles (each checks the current relay's health). */
  checkIntervalSeconds: number;
  /** The effective uid: the owner the key file must have. */
  effectiveUid: number;
  /** Aborted on SIGTERM/SIGINT: the agent finishes at a safe point, releases the lock and returns. */
  signal: AbortSignal;
  /** Subscribes to SIGHUP; returns the unsubscription. */
  subscribeReload: (listener: () => void) => () => void;
  onEvent: (event: AgentEvent) => void;
  /** @default systemClock */
  clock?: Clock;
  /**
   * The network fingerprint toward a relay address, polled between cycles (a change wakes a cycle) and read
   * by each cycle (whose `network-changed` rule decides). @default readNetworkFingerprint (the kernel's)
   */
  readFingerprint?: (toward: string | null) => Promise<NetworkFingerprint | null>;
  /** @default NETWORK_POLL_DEFAULT_MS (3 s) */
  networkPollMs?: number;
}

/** Cycles never follow each other faster than this, whatever the state says is due. */
const MIN_CYCLE_GAP_MS = 1000;

export async function runAgent(options: AgentOptions): Promise<void> {
  const agent = new Agent(options);
  await agent.run();
}

interface RunningPeer {
  service: PeerService;
  link: PeerLink;
}

class Agent {
  private readonly clock: Clock;
  private settings!: Settings;
  private key: Buffer | null = null;
  private peer: RunningPeer | null = null;
  private peerUnavailable: string | null = null;
  /** Cycles and the leader's measurements run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly measuring = new Set<string>();
  /** The current relay's address after the last cycle: the source address toward it is part of the network fingerprint. */
  private relayAddress: string | null = null;
  private viewWrites: Promise<void> = Promise.resolve();
  private readonly wake: Wake;
  /** Ours for the life of the process: a peer service restarted (new network, reload) is the same member. */
  private readonly memberId = randomBytes(16).toString('hex');

  private readonly readNetwork: (toward: string | null) => Promise<NetworkFingerprint | null>;

  constructor(private readonly options: AgentOptions) {
    this.clock = options.clock ?? systemClock;
    this.readNetwork = options.readFingerprint ?? ((toward) => readNetworkFingerprint({ toward }));
    this.wake = new Wake(options.signal);
  }

  async run(): Promise<void> {
    const { options } = this;
    this.settings = await options.loadSettings();
    this.key = await this.loadKey(this.settings);
    let lock = await acquireRunLock(this.settings.stateDir);
    const unsubscribeReload = options.subscribeReload(() => this.wake.trigger('reload'));
    const stopWatching = watchNetwork({
      readFingerprint: () => this.readNetwork(this.relayAddress),
      ...(options.networkPollMs === undefined ? {} : { intervalMs: options.networkPollMs }),
      onChange: (change) => {
        options.onEvent({ type: 'network-changed', change });
        this.wake.trigger('network');
      },
    });
    try {
      options.onEvent({
        type: 'started',
        stateDir: this.settings.stateDir,
        checkIntervalSeconds: options.checkIntervalSeconds,
      });
      let trigger: AgentTrigger = 'start';
      while (!options.signal.aborted) {
        const nextDueMs = await this.serially(() => this.cycle(trigger));
        const woken = await this.wake.until(nextDueMs, this.clock);
        if (woken === 'stop') break;
        if (woken === 'reload') lock = await this.reload(lock);
        if (woken === 'network') this.stopPeer();
        trigger = woken;
      }
    } finally {
      unsubscribeReload();
      stopWatching();
      this.stopPeer();
      await this.viewWrites;
      await removePeerViewFile(this.settings.stateDir).catch(() => undefined);
      await lock.release();
      options.onEvent({ type: 'stopped' });
    }
  }

  /** One cycle; returns when the next one is due (wall-clock ms). */
  private async cycle(trigger: AgentTrigger): Promise<number> {
    const { options, settings } = this;
    const checkAtMs = this.clock.now().getTime() + options.checkIntervalSeconds * 1000;
    try {
      await this.ensurePeer().catch((error: unknown) =>
        this.reportPeerUnavailable(error instanceof Error ? error.message : String(error)),
      );
      const peer = this.peer;
      const report = await runCycle({
        settings,
        version: options.version,
        signal: options.signal,
        clock: this.clock,
        holdsLock: true,
        readNetwork: this.readNetwork,
        ...(peer === null
          ? {}
          : {
              overrideProbe: createPeerProbe({
                peer: peer.service,
                settings,
                clock: this.clock,
                mode: 'cycle',
                signal: options.signal,
              }),
            }),
      });
      this.relayAddress = report.state.current?.address ?? null;
      options.onEvent({ type: 'cycle', trigger, report });
      const nowMs = this.clock.now().getTime();
      return Math.max(nowMs + MIN_CYCLE_GAP_MS, Math.min(Date.parse(report.nextDueAt), checkAtMs));
    } catch (error) {
      if (options.signal.aborted) return checkAtMs;
      options.onEvent({ type: 'cycle-failed', trigger, error });
      return checkAtMs;
    }
  }

  /**
   * Starts the peer service when peer.enabled and it is not running (the relay list and routes may have
   * appeared since), or moves it to the group of the relay list as it is now (a new list pushed without
   * SIGHUP): before every cycle, not only before selections, so heartbeats always name the right group.
   */
  private async ensurePeer(): Promise<void> {
    const { settings, key } = this;
    if (!settings.peer.enabled || key === null) return;
    const warnings: string[] = [];
    const list = await loadRelayListWithCache(settings, true, warnings);
    if (this.peer !== null) {
      this.peer.service.setGroup(peerGroupOf(list.digest, settings));
      return;
    }
    const [firstPool] = buildPools(await list.relays(), settings.seekList);
    const hosts = [...new Set((firstPool?.relays ?? []).map((relay) => relay.host))];
    const { targets } = await resolveTargets(
      hosts.map((host) => ({ key: host, host, port: 0 })),
      settings.ipMode,
    );
    const link = await findPeerLink(targets.map((target) => target.address));
    if (link === null) {
      this.reportPeerUnavailable(
        'no relay of the first pool is routed from here, so there is no link to meet peers on',
      );
      return;
    }
    const service = await startPeerService(
      {
        key,
        link,
        port: settings.peer.port,
        leaseMs: settings.peer.leaseSeconds * 1000,
        group: peerGroupOf(list.digest, settings),
        memberId: this.memberId,
        onTableNeeded: (pool) => this.measure(pool),
        onEvent: (event) => this.onPeerEvent(event),
      },
      { clock: this.clock },
    );
    this.peer = { service, link };
    this.peerUnavailable = null;
    this.options.onEvent({
      type: 'peer-started',
      endpoint: service.endpoint,
      link,
      memberId: service.memberId,
      leaseSeconds: settings.peer.leaseSeconds,
    });
    this.writePeerView();
  }

  private reportPeerUnavailable(reason: string): void {
    if (this.peerUnavailable === reason) return;
    this.peerUnavailable = reason;
    this.options.onEvent({ type: 'peer-unavailable', reason });
  }

  private stopPeer(): void {
    this.peer?.service.close();
    this.peer = null;
  }

  private onPeerEvent(event: PeerEvent): void {
    this.options.onEvent({ type: 'peer', event });
    if (event.type === 'view') this.writePeerView();
  }

  /** A follower asked us, the leader, for a pool: measure it (probe only, no registration) and share it. */
  private measure(pool: string): void {
    const peer = this.peer;
    if (peer === null || this.measuring.has(pool) || peer.service.hasFreshPool(pool)) return;
    this.measuring.add(pool);
    void this.serially(async () => {
      try {
        if (this.peer !== peer || peer.service.hasFreshPool(pool) || this.options.signal.aborted) return;
        await runCycle({
          settings: this.settings,
          version: this.options.version,
          signal: this.options.signal,
          clock: this.clock,
          holdsLock: true,
          dryRun: true,
          force: true,
          overrideProbe: createPeerProbe({
            peer: peer.service,
            settings: this.settings,
            clock: this.clock,
            mode: 'measure',
            signal: this.options.signal,
          }),
        });
      } catch (error) {
        if (!this.options.signal.aborted) this.options.onEvent({ type: 'cycle-failed', trigger: 'schedule', error });
      } finally {
        this.measuring.delete(pool);
      }
    });
  }

  /** SIGHUP: new settings (and key, and state directory) or, when they are refused, the old ones. */
  private async reload(
    lock: Awaited<ReturnType<typeof acquireRunLock>>,
  ): Promise<Awaited<ReturnType<typeof acquireRunLock>>> {
    try {
      const next = await this.options.loadSettings();
      const key = await this.loadKey(next);
      let held = lock;
      if (next.stateDir !== this.settings.stateDir) {
        held = await acquireRunLock(next.stateDir);
        await removePeerViewFile(this.settings.stateDir).catch(() => undefined);
        await lock.release();
      }
      const before = this.settings.peer;
      const peerChanged =
        next.peer.enabled !== before.enabled ||
        next.peer.port !== before.port ||
        next.peer.leaseSeconds !== before.leaseSeconds ||
        !sameKey(key, this.key) ||
        next.stateDir !== this.settings.stateDir;
      this.settings = next;
      this.key = key;
      if (peerChanged) this.stopPeer();
      this.options.onEvent({ type: 'reloaded' });
      return held;
    } catch (error) {
      this.options.onEvent({ type: 'reload-failed', error });
      return lock;
    }
  }

  private async loadKey(settings: Settings): Promise<Buffer | null> {
    if (!settings.peer.enabled) return null;
    if (settings.peer.keyFile === undefined)
      throw new RelaySelectError('CONFIG_INVALID', 'peer.enabled is true but peer.keyFile is not set');
    return loadPeerKey(settings.peer.keyFile, this.options.effectiveUid);
  }

  /** Keeps `stateDir/peer.json` in step with the peers for `status`; writes one after another. */
  private writePeerView(): void {
    const peer = this.peer;
    if (peer === null) return;
    const stateDir = this.settings.stateDir;
    const view = peer.service.view();
    const text = renderPeerViewFile(
      {
        ...view,
        interface: peer.link.interfaceName,
        address: peer.link.address,
        updatedAt: this.clock.now().toISOString(),
      },
      process.pid,
    );
    this.viewWrites = this.viewWrites
      .then(() => writePeerViewFile(stateDir, text))
      .catch((error: unknown) => this.options.onEvent({ type: 'cycle-failed', trigger: 'schedule', error }));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function sameKey(left: Buffer | null, right: Buffer | null): boolean {
  return left === null || right === null ? left === right : left.equals(right);
}

/** What ended a wait between cycles: the schedule, SIGHUP, a changed network or the stop signal. */
class Wake {
  private pending: Exclude<AgentTrigger, 'start'> | null = null;
  private wakeUp: (() => void) | null = null;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.wakeUp?.(), { once: true });
  }

  /** A reload outranks a network change (it also restarts the peers), which outranks the schedule. */
  trigger(reason: 'reload' | 'network'): void {
    if (this.pending !== 'reload') this.pending = reason;
    this.wakeUp?.();
  }

  async until(atMs: number, clock: Clock): Promise<Exclude<AgentTrigger, 'start'> | 'stop'> {
    if (!this.signal.aborted && this.pending === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, atMs - clock.now().getTime()));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = null;
    }
    if (this.signal.aborted) return 'stop';
    const reason = this.pending ?? 'schedule';
    this.pending = null;
    return reason;
  }
}
