/**
 * The peer protocol at work (DESIGN §13): the multicast socket, the heartbeats, the election kept up to
 * date, the leader's tables served and a follower's wait for one. The decisions are the pure parts'
 * (peer-core, election, peer-message); this module owns the timers and the socket.
 */
import { randomBytes } from 'node:crypto';
import { abortedError } from '../abort.js';
import type { Clock } from '../clock.js';
import type { PeerRole } from './election.js';
import { PeerCore, type RejectReason } from './peer-core.js';
import {
  decodePeerMessage,
  encodePeerMessage,
  type PeerMessage,
  type PeerMessageBody,
  type PeerTable,
  type PeerTablePool,
} from './peer-message.js';
import type { PeerLink } from './peer-link.js';
import { openPeerSocket, type OpenPeerSocketOptions, type PeerSocket } from './peer-socket.js';

/** How long a leader's measurement of a pool may be adopted, in leases. */
const TABLE_VALIDITY_LEASES = 5;
/** Peers whose clocks differ by more than this cannot talk (their messages look replayed or stale). */
const REPLAY_WINDOW_MS = 30_000;
/** Long enough to hear the answers to our solicitation on a LAN; at most half a lease. */
const MAX_DISCOVERY_MS = 2000;
/** The leader sends a table again for a pool at most this often, however many followers ask at once. */
const RESEND_TABLE_AFTER_MS = 250;
/** A view that differs from the last one only in the count of refused messages is reported at most this often. */
const REPORT_VIEW_EVERY_MS = 1000;
/** A refusal of the same kind from the same address is reported once in this long (the count goes on). */
const REPORT_REJECTION_EVERY_MS = 60_000;

/** What `status` shows of the peers, and what the agent logs when it changes. */
export interface PeerView {
  role: PeerRole;
  /** The leader's address (ours when we lead); null while nobody leads yet. */
  leader: string | null;
  members: number;
  rejected: number;
  rejectedBy: Record<string, number>;
}

export type PeerEvent =
  | { type: 'view'; view: PeerView }
  | { type: 'rejected'; reason: RejectReason; from: string; detail: string }
  | { type: 'table-published'; pools: string[]; bytes: number }
  | { type: 'table-too-large'; pools: string[] }
  | { type: 'socket-error'; message: string };

/** What a follower's wait for the leader's table came to. */
export type LeaderTableAnswer =
  | { kind: 'table'; table: PeerTable; from: string }
  /** We lead (or are alone): measure, and share. */
  | { kind: 'lead' }
  /** The leader answered, but has no measurement of this pool. */
  | { kind: 'lacks-pool'; from: string }
  | { kind: 'timeout' };

interface PeerServiceOptions {
  /** The shared secret of the peers (peer.keyFile). */
  key: Buffer;
  link: PeerLink;
  port: number;
  leaseMs: number;
  /** The election group (peerGroupOf). */
  group: string;
  /** Our member id, kept across restarts of the service by one agent. @default a random one */
  memberId?: string;
  /** A follower asked us, the leader, for a pool we have no fresh measurement of. */
  onTableNeeded: (pool: string) => void;
  onEvent: (event: PeerEvent) => void;
}

interface PeerServiceDeps {
  clock: Clock;
  /** @default openPeerSocket (UDP multicast) */
  openSocket?: (options: OpenPeerSocketOptions) => Promise<PeerSocket>;
  /** 16 random bytes as hex, for the member id and nonces. @default crypto.randomBytes */
  randomId?: () => string;
  /** @default Math.random */
  random?: () => number;
}

export interface PeerService {
  readonly memberId: string;
  /** The group address and port, for logs. */
  readonly endpoint: string;
  view(): PeerView;
  setGroup(group: string): void;
  /**
   * Waits for the leader's measurement of `pool`, asking for it, until `deadlineMs` (wall clock): returns at
   * once when we lead, and gives up when the leader changes its mind or the deadline passes.
   */
  awaitLeaderTable(pool: string, deadlineMs: number, signal?: AbortSignal): Promise<LeaderTableAnswer>;
  /** Shares a measurement (we lead, or we are alone). */
  publishPool(pool: PeerTablePool, relayListDigest: string, seekList: string[]): void;
  /** Whether we published a still-valid measurement of `pool`. */
  hasFreshPool(pool: string): boolean;
  /** What we published, while it holds a still-valid measurement of `pool`. */
  ownTableWith(pool: string): PeerTable | null;
  /** How long a measurement published now stays valid. */
  readonly tableValidityMs: number;
  /** When the current discovery ends (wall-clock ms): from then on the election can name a leader. */
  readonly discoveryEndsAtMs: number;
  countRejected(reason: RejectReason, from: string, detail: string): void;
  close(): void;
}

export async function startPeerService(options: PeerServiceOptions, deps: PeerServiceDeps): Promise<PeerService> {
  const service = new Service(options, deps);
  await service.open();
  return service;
}

interface ReceivedTable {
  table: PeerTable;
  from: string;
  receivedAtMs: number;
}

class Service implements PeerService {
  readonly memberId: string;
  readonly tableValidityMs: number;
  private readonly core: PeerCore;
  private readonly heartbeatMs: number;
  private readonly tickMs: number;
  private readonly randomId: () => string;
  private readonly random: () => number;
  private socket: PeerSocket | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly waiters = new Set<() => void>();
  /** The latest table of the member we follow; a follower needs no other. */
  private leaderTable: (ReceivedTable & { memberId: string }) | null = null;
  private readonly resentAtMs = new Map<string, number>();
  private readonly reportedAtMs = new Map<string, number>();
  private ownTable: PeerTable | null = null;
  private lastView: PeerView | null = null;
  private lastViewAtMs = Number.NEGATIVE_INFINITY;
  private viewDeferred = false;
  private closed = false;

  constructor(
    private readonly options: PeerServiceOptions,
    private readonly deps: PeerServiceDeps,
  ) {
    this.randomId = deps.randomId ?? (() => randomBytes(16).toString('hex'));
    this.random = deps.random ?? Math.random;
    this.memberId = options.memberId ?? this.randomId();
    this.heartbeatMs = options.leaseMs / 3;
    this.tickMs = Math.max(100, Math.min(1000, options.leaseMs / 6));
    this.tableValidityMs = TABLE_VALIDITY_LEASES * options.leaseMs;
    this.core = new PeerCore(
      {
        selfId: this.memberId,
        leaseMs: options.leaseMs,
        discoveryMs: Math.min(MAX_DISCOVERY_MS, options.leaseMs / 2),
        replayWindowMs: REPLAY_WINDOW_MS,
      },
      options.group,
      this.nowMs(),
    );
  }

  get discoveryEndsAtMs(): number {
    return this.core.discoveryEndsAtMs;
  }

  get endpoint(): string {
    return this.socket?.endpoint ?? '';
  }

  async open(): Promise<void> {
    const open = this.deps.openSocket ?? openPeerSocket;
    this.socket = await open({
      link: this.options.link,
      port: this.options.port,
      nowMs: () => this.deps.clock.nowMs(),
      onDatagram: (datagram, from) => this.receive(datagram, from),
      // Off-link sources are not peers at all (a routed packet, or a spoofed one): dropped without counting.
      onOffLink: () => undefined,
      onError: (error) => this.options.onEvent({ type: 'socket-error', message: error.message }),
    });
    this.every(this.heartbeatMs, () => this.announce(false));
    this.every(this.tickMs, () => this.evaluate());
    this.announce(true);
    this.evaluate();
  }

  view(): PeerView {
    const election = this.core.election(this.nowMs());
    const leader = election.leaderId === this.memberId ? this.options.link.address : election.leaderAddress;
    return {
      role: election.role,
      leader,
      members: election.members,
      rejected: this.core.rejected,
      rejectedBy: this.core.rejectedCounts(),
    };
  }

  setGroup(group: string): void {
    if (group === this.core.group) return;
    this.core.changeGroup(group, this.nowMs());
    this.ownTable = null;
    this.leaderTable = null;
    this.announce(true);
    this.evaluate();
  }

  async awaitLeaderTable(pool: string, deadlineMs: number, signal?: AbortSignal): Promise<LeaderTableAnswer> {
    let requestedFrom: string | null = null;
    let requestedAtMs = Number.NEGATIVE_INFINITY;
    for (;;) {
      if (signal?.aborted) throw abortedError(signal, "waiting for the leader's table aborted");
      // Closed (a new network, a reload): no table can come any more.
      if (this.closed) return { kind: 'timeout' };
      const nowMs = this.nowMs();
      const election = this.core.election(nowMs);
      if (!election.discovering && election.leaderId === this.memberId) return { kind: 'lead' };
      const leaderId = election.leaderId;
      if (leaderId !== null && leaderId !== this.memberId) {
        const received = this.leaderTable?.memberId === leaderId ? this.leaderTable : undefined;
        const measured = received?.table.pools.find((entry) => entry.name === pool);
        if (received !== undefined && measured !== undefined && measured.validUntilMs > nowMs)
          return { kind: 'table', table: received.table, from: received.from };
        if (received !== undefined && requestedFrom === leaderId && received.receivedAtMs >= requestedAtMs)
          return { kind: 'lacks-pool', from: received.from };
        if (requestedFrom !== leaderId || nowMs - requestedAtMs >= this.heartbeatMs) {
          this.send({ type: 'request', pool });
          requestedFrom = leaderId;
          requestedAtMs = nowMs;
        }
      }
      if (nowMs >= deadlineMs) return { kind: 'timeout' };
      await this.waitForChange(Math.min(deadlineMs - nowMs, this.tickMs), signal);
    }
  }

  publishPool(pool: PeerTablePool, relayListDigest: string, seekList: string[]): void {
    const nowMs = this.nowMs();
    const sameList =
      this.ownTable !== null &&
      this.ownTable.relayListDigest === relayListDigest &&
      this.ownTable.seekList.join(';') === seekList.join(';');
    const kept = sameList
      ? this.ownTable!.pools.filter((entry) => entry.name !== pool.name && entry.validUntilMs > nowMs)
      : [];
    this.ownTable = { relayListDigest, seekList: [...seekList], pools: [...kept, pool] };
    this.sendTable();
  }

  hasFreshPool(pool: string): boolean {
    const nowMs = this.nowMs();
    return this.ownTable?.pools.some((entry) => entry.name === pool && entry.validUntilMs > nowMs) ?? false;
  }

  ownTableWith(pool: string): PeerTable | null {
    return this.hasFreshPool(pool) ? this.ownTable : null;
  }

  countRejected(reason: RejectReason, from: string, detail: string): void {
    this.core.count(reason);
    this.reportRejection(reason, from, detail);
    this.evaluate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    this.socket?.close();
    this.notify();
  }

  private receive(datagram: Buffer, from: string): void {
    if (this.closed) return;
    const decoded = decodePeerMessage(datagram, this.options.key);
    if (!decoded.ok) {
      this.countRejected(decoded.reason, from, describeDecodeRejection(decoded.reason, datagram.length));
      return;
    }
    const message = decoded.message;
    const nowMs = this.nowMs();
    const accepted = this.core.accept(message, from, nowMs);
    if (!accepted.ok) {
      this.reportRejection(
        accepted.reason,
        from,
        accepted.reason === 'stale'
          ? `sent at ${new Date(message.sentAtMs).toISOString()}, our clock says ${new Date(nowMs).toISOString()}`
          : 'a message seen before',
      );
      this.evaluate();
      return;
    }
    if (accepted.fromSelf || !accepted.ourGroup) return;
    switch (message.type) {
      case 'announce':
        if (message.solicit)
          this.later(this.random() * Math.min(200, this.heartbeatMs / 4), () => this.announce(false));
        break;
      case 'request':
        this.answerRequest(message.pool, nowMs);
        break;
      case 'table':
        if (this.core.election(nowMs).leaderId === message.from) {
          this.leaderTable = {
            memberId: message.from,
            table: message.table,
            from: this.core.addressOf(message.from) ?? from,
            receivedAtMs: nowMs,
          };
        }
        break;
    }
    this.evaluate();
    this.notify();
  }

  private answerRequest(pool: string, nowMs: number): void {
    const election = this.core.election(nowMs);
    if (election.discovering || election.leaderId !== this.memberId) return;
    if (!this.hasFreshPool(pool)) {
      this.options.onTableNeeded(pool);
      return;
    }
    if (nowMs - (this.resentAtMs.get(pool) ?? Number.NEGATIVE_INFINITY) < RESEND_TABLE_AFTER_MS) return;
    this.resentAtMs.set(pool, nowMs);
    this.sendTable();
  }

  private sendTable(): void {
    if (this.ownTable === null) return;
    const table = this.ownTable;
    const bytes = this.send({ type: 'table', table });
    const pools = table.pools.map((pool) => pool.name);
    this.options.onEvent(
      bytes === null ? { type: 'table-too-large', pools } : { type: 'table-published', pools, bytes },
    );
  }

  private announce(solicit: boolean): void {
    if (this.closed) return;
    const { leaseUntilMs } = this.core.announcement(this.nowMs());
    this.send({ type: 'announce', address: this.options.link.address, leaseUntilMs, solicit });
  }

  /** Recomputes the election; on a change, claims the lead at once (or steps down) and tells the agent. */
  private evaluate(): void {
    if (this.closed) return;
    const view = this.view();
    const last = this.lastView;
    const sameElection =
      last !== null && last.role === view.role && last.leader === view.leader && last.members === view.members;
    if (sameElection && last.rejected === view.rejected) return;
    // A flood of refused messages must not become a flood of log lines and file writes.
    const sinceLastMs = this.deps.clock.nowMs() - this.lastViewAtMs;
    if (sameElection && sinceLastMs < REPORT_VIEW_EVERY_MS) {
      if (!this.viewDeferred) {
        this.viewDeferred = true;
        this.later(REPORT_VIEW_EVERY_MS - sinceLastMs, () => {
          this.viewDeferred = false;
          this.evaluate();
        });
      }
      return;
    }
    const leadershipChanged =
      last === null || (last.role === 'follower') !== (view.role === 'follower') || last.leader !== view.leader;
    this.lastView = view;
    this.lastViewAtMs = this.deps.clock.nowMs();
    if (leadershipChanged && view.role !== 'follower') this.announce(false);
    this.options.onEvent({ type: 'view', view });
    this.notify();
  }

  /** @returns the datagram's size, or null when the message was too large to send. */
  private send(body: PeerMessageBody): number | null {
    if (this.closed || this.socket === undefined) return 0;
    const message: PeerMessage = {
      from: this.memberId,
      group: this.core.group,
      sentAtMs: this.nowMs(),
      nonce: this.randomId(),
      ...body,
    };
    const datagram = encodePeerMessage(message, this.options.key);
    if (datagram === null) return null;
    this.socket.send(datagram);
    return datagram.length;
  }

  private reportRejection(reason: RejectReason, from: string, detail: string): void {
    const nowMs = this.deps.clock.nowMs();
    const id = `${reason}/${from}`;
    if (nowMs - (this.reportedAtMs.get(id) ?? Number.NEGATIVE_INFINITY) < REPORT_REJECTION_EVERY_MS) return;
    this.reportedAtMs.set(id, nowMs);
    this.options.onEvent({ type: 'rejected', reason, from, detail });
  }

  private waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      if (this.closed) done();
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private every(intervalMs: number, action: () => void): void {
    this.timers.add(setInterval(action, intervalMs));
  }

  private later(delayMs: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Wall-clock ms: messages carry it, and leases and tables are compared with it. */
  private nowMs(): number {
    return this.deps.clock.now().getTime();
  }
}

function describeDecodeRejection(reason: 'oversized' | 'malformed' | 'bad-mac', bytes: number): string {
  switch (reason) {
    case 'oversized':
      return `a datagram of ${bytes} bytes`;
    case 'malformed':
      return 'not a peer message of this version';
    case 'bad-mac':
      return 'authentication failed: another peer.keyFile';
  }
}
