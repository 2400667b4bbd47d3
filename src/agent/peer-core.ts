/**
 * What one agent knows of its peers, as plain state: the members heard per group, the replay window,
 * the counts of refused messages, and from them the election and our own heartbeat. Pure: every method
 * takes `nowMs`; the service around it (peer-service.ts) owns the socket and the timers, and the tests
 * drive several cores through an in-memory link with a fake clock.
 */
import { electLeader, type Election, type PeerMember } from './election.js';
import type { DecodeRejection, PeerMessage } from './peer-message.js';
import { ReplayWindow } from './replay-window.js';

/** Why a message was refused; `status --json` counts them. */
export type RejectReason = DecodeRejection | 'stale' | 'replay' | 'flood' | 'bad-table';

interface PeerCoreOptions {
  selfId: string;
  leaseMs: number;
  /** How long a started agent listens before it may claim the lead. */
  discoveryMs: number;
  /** Accepted clock difference between peers, either way. */
  replayWindowMs: number;
}

/** Members remembered at most (of every group on the link); past it, new senders are refused as a flood. */
const MAX_MEMBERS = 1024;
/** Nonces remembered at most: far more than the heartbeats and tables of a thousand peers in the window. */
const MAX_NONCES = 65_536;
/** A member silent for this many leases is forgotten (it is long dead for the election already). */
const FORGET_AFTER_LEASES = 3;

interface PeerElection extends Election {
  /** The leader's address as its datagrams come in; null when we lead or nobody does yet. */
  leaderAddress: string | null;
  discovering: boolean;
}

interface KnownMember extends PeerMember {
  group: string;
}

export class PeerCore {
  private readonly members = new Map<string, KnownMember>();
  private readonly replay: ReplayWindow;
  private readonly rejectedBy = new Map<RejectReason, number>();
  private currentGroup: string;
  private discoveryEndsMs: number;
  private selfLeaseUntilMs: number | null = null;

  constructor(
    private readonly options: PeerCoreOptions,
    group: string,
    nowMs: number,
  ) {
    this.replay = new ReplayWindow({ windowMs: options.replayWindowMs, maxEntries: MAX_NONCES });
    this.currentGroup = group;
    this.discoveryEndsMs = nowMs + options.discoveryMs;
  }

  get selfId(): string {
    return this.options.selfId;
  }

  get group(): string {
    return this.currentGroup;
  }

  /** Another relay list or seek list: a new election among the agents that share it, after a new discovery. */
  changeGroup(group: string, nowMs: number): void {
    if (group === this.currentGroup) return;
    this.currentGroup = group;
    this.selfLeaseUntilMs = null;
    this.discoveryEndsMs = nowMs + this.options.discoveryMs;
  }

  isDiscovering(nowMs: number): boolean {
    return nowMs < this.discoveryEndsMs;
  }

  /** When discovery ends (the first election may name a leader then). */
  get discoveryEndsAtMs(): number {
    return this.discoveryEndsMs;
  }

  /**
   * Checks an authenticated message's timestamp and nonce, and takes note of its sender (at the address it
   * announces, else the datagram's source). Messages of other groups are accepted (their senders are peers
   * of the link) but do not concern our election.
   */
  accept(
    message: PeerMessage,
    address: string,
    nowMs: number,
  ): { ok: true; ourGroup: boolean; fromSelf: boolean } | { ok: false; reason: RejectReason } {
    const verdict = this.replay.check(message.from, message.nonce, message.sentAtMs, nowMs);
    if (verdict !== 'ok') {
      this.count(verdict);
      return { ok: false, reason: verdict };
    }
    if (message.from === this.options.selfId) return { ok: true, ourGroup: false, fromSelf: true };
    const known = this.members.get(message.from);
    if (known === undefined && this.members.size >= MAX_MEMBERS) {
      this.forgetSilent(nowMs);
      if (this.members.size >= MAX_MEMBERS) {
        this.count('flood');
        return { ok: false, reason: 'flood' };
      }
    }
    // A lease is kept in our clock (its length after the message was sent), so clock skew between peers cannot stretch or cut it.
    const announcedLeaseUntilMs =
      message.type === 'announce' && message.leaseUntilMs !== null
        ? nowMs + Math.min(message.leaseUntilMs - message.sentAtMs, this.options.leaseMs)
        : null;
    const leaseUntilMs =
      message.type === 'announce' ? announcedLeaseUntilMs : known?.group === message.group ? known.leaseUntilMs : null;
    const memberAddress = message.type === 'announce' ? message.address : (known?.address ?? address);
    this.members.set(message.from, {
      id: message.from,
      address: memberAddress,
      lastHeardMs: nowMs,
      leaseUntilMs,
      group: message.group,
    });
    return { ok: true, ourGroup: message.group === this.currentGroup, fromSelf: false };
  }

  /** Counts a message refused before (bad MAC, oversized) or after (a wrong table) it reached the core. */
  count(reason: RejectReason): void {
    this.rejectedBy.set(reason, (this.rejectedBy.get(reason) ?? 0) + 1);
  }

  get rejected(): number {
    let total = 0;
    for (const count of this.rejectedBy.values()) total += count;
    return total;
  }

  /** Refused messages by reason, for `status --json`. */
  rejectedCounts(): Record<string, number> {
    return Object.fromEntries(this.rejectedBy);
  }

  election(nowMs: number): PeerElection {
    this.forgetSilent(nowMs);
    const members = [...this.members.values()].filter((member) => member.group === this.currentGroup);
    const discovering = this.isDiscovering(nowMs);
    const election = electLeader({
      selfId: this.options.selfId,
      selfLeaseUntilMs: this.selfLeaseUntilMs,
      members,
      nowMs,
      leaseMs: this.options.leaseMs,
      discovering,
    });
    const leader =
      election.leaderId === null || election.leaderId === this.options.selfId
        ? undefined
        : this.members.get(election.leaderId);
    return { ...election, leaderAddress: leader?.address ?? null, discovering };
  }

  /** Our heartbeat's lease: renewed while the election names us, dropped (stepping down) when it does not. */
  announcement(nowMs: number): { leaseUntilMs: number | null } {
    const { leaderId } = this.election(nowMs);
    this.selfLeaseUntilMs = leaderId === this.options.selfId ? nowMs + this.options.leaseMs : null;
    return { leaseUntilMs: this.selfLeaseUntilMs };
  }

  /** The member's address, when we have heard it. */
  addressOf(memberId: string): string | null {
    return this.members.get(memberId)?.address ?? null;
  }

  private forgetSilent(nowMs: number): void {
    const oldestMs = nowMs - FORGET_AFTER_LEASES * this.options.leaseMs;
    for (const [id, member] of this.members) if (member.lastHeardMs < oldestMs) this.members.delete(id);
  }
}
