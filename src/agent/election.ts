/**
 * The leader election of the peers of one link (DESIGN §13): a pure function of the members heard, their
 * leases and the time, so every peer that has heard the same announcements computes the same leader.
 *
 * The rule:
 * 1. A member is alive while its last message is at most one lease old.
 * 2. A living member whose announced lease has not run out holds the lead: the incumbent stays leader, so
 *    an agent that starts later (or returns) does not take over and make everyone wait for a new table.
 * 3. Of several lease holders (two sides of a healed partition), the smallest member id leads; the other
 *    steps down at its next announcement.
 * 4. Without any lease, the smallest member id among the living (ourselves included) leads — unless we
 *    are still discovering, when nobody is chosen yet.
 *
 * A dead leader stops renewing: its lease and its liveness both lapse one lease after its last
 * heartbeat, and rule 4 names the successor at once — well within the two leases DESIGN allows.
 */

/** Another agent of our group, as we last heard it. */
export interface PeerMember {
  id: string;
  /** Where its datagrams come from (status shows the leader by this address). */
  address: string;
  lastHeardMs: number;
  /** Its claim to lead, while it holds one. */
  leaseUntilMs: number | null;
}

export interface ElectionInput {
  selfId: string;
  /** Our own claim, when we lead. */
  selfLeaseUntilMs: number | null;
  /** The other members of our group (members of other groups are not passed in). */
  members: readonly PeerMember[];
  nowMs: number;
  leaseMs: number;
  /** Just started: we have not yet listened long enough to know whether someone leads. */
  discovering: boolean;
}

export type PeerRole = 'leader' | 'follower' | 'alone';

export interface Election {
  /** The leader's member id; null while discovering without a lease holder in sight. */
  leaderId: string | null;
  /** `alone` when we lead nobody (no living member besides us). */
  role: PeerRole;
  /** Living members of the group, ourselves included. */
  members: number;
}

function isAlive(member: PeerMember, nowMs: number, leaseMs: number): boolean {
  return nowMs - member.lastHeardMs <= leaseMs;
}

export function electLeader(input: ElectionInput): Election {
  const { selfId, nowMs, leaseMs } = input;
  const living = input.members.filter((member) => member.id !== selfId && isAlive(member, nowMs, leaseMs));
  const candidates = [{ id: selfId, leaseUntilMs: input.selfLeaseUntilMs }, ...living];
  const holders = candidates.filter((candidate) => candidate.leaseUntilMs !== null && candidate.leaseUntilMs > nowMs);
  let leaderId: string | null;
  if (holders.length > 0) leaderId = smallestId(holders);
  else leaderId = input.discovering ? null : smallestId(candidates);
  const members = living.length + 1;
  const role: PeerRole = living.length === 0 ? 'alone' : leaderId === selfId ? 'leader' : 'follower';
  return { leaderId, role, members };
}

function smallestId(candidates: ReadonlyArray<{ id: string }>): string {
  let best = candidates[0]!.id;
  for (const candidate of candidates) if (candidate.id < best) best = candidate.id;
  return best;
}
