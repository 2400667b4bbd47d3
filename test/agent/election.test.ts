import { describe, expect, it } from 'vitest';
import { electLeader, type ElectionInput, type PeerMember } from '../../src/agent/election.js';

const LEASE_MS = 3000;
const member = (id: string, lastHeardMs: number, leaseUntilMs: number | null = null): PeerMember => ({
  id,
  address: `198.18.255.${id.length}`,
  lastHeardMs,
  leaseUntilMs,
});
const elect = (overrides: Partial<ElectionInput>) =>
  electLeader({
    selfId: 'm5',
    selfLeaseUntilMs: null,
    members: [],
    nowMs: 10_000,
    leaseMs: LEASE_MS,
    discovering: false,
    ...overrides,
  });

describe('electLeader', () => {
  it('without leases, names the smallest member id among the living, ourselves included', () => {
    expect(elect({ members: [member('m7', 9000), member('m3', 9500)] })).toEqual({
      leaderId: 'm3',
      role: 'follower',
      members: 3,
    });
    expect(elect({ selfId: 'm1', members: [member('m7', 9000), member('m3', 9500)] })).toEqual({
      leaderId: 'm1',
      role: 'leader',
      members: 3,
    });
  });

  it('is alone without a living member', () => {
    expect(elect({ members: [member('m1', 6000)] })).toEqual({ leaderId: 'm5', role: 'alone', members: 1 });
  });

  it('counts a member alive for exactly one lease after its last message', () => {
    expect(elect({ members: [member('m1', 7000)] }).leaderId).toBe('m1');
    expect(elect({ members: [member('m1', 6999)] }).leaderId).toBe('m5');
  });

  it('keeps the incumbent: a lease holder leads even when a smaller id is alive', () => {
    const members = [member('m9', 9900, 12_000), member('m1', 9900)];
    expect(elect({ members })).toEqual({ leaderId: 'm9', role: 'follower', members: 3 });
    expect(elect({ selfId: 'm0', members })).toEqual({ leaderId: 'm9', role: 'follower', members: 3 });
  });

  it('of two lease holders (a healed partition) names the smaller id, so the other steps down', () => {
    expect(
      elect({
        selfId: 'm8',
        selfLeaseUntilMs: 12_000,
        members: [member('m9', 9900, 12_000), member('m2', 9900, 11_000)],
      }).leaderId,
    ).toBe('m2');
  });

  it('lets a lease lapse: an expired claim counts no more than none', () => {
    expect(elect({ members: [member('m9', 9900, 10_000), member('m1', 9900)] }).leaderId).toBe('m1');
  });

  it('replaces a dead leader once its heartbeats are a lease old, even if its claim ran longer', () => {
    const dead = member('m2', 6000, 20_000);
    expect(elect({ members: [dead, member('m7', 9900)] })).toEqual({ leaderId: 'm5', role: 'leader', members: 2 });
  });

  it('names nobody while discovering without a lease holder in sight, but follows one it already hears', () => {
    expect(elect({ discovering: true, members: [member('m1', 9900)] })).toEqual({
      leaderId: null,
      role: 'follower',
      members: 2,
    });
    expect(elect({ discovering: true })).toEqual({ leaderId: null, role: 'alone', members: 1 });
    expect(elect({ discovering: true, members: [member('m9', 9900, 12_000)] }).leaderId).toBe('m9');
  });

  it('gives every member the same leader from the same announcements, whoever computes it', () => {
    const ids = ['c4', 'a7', 'f1', 'b2', 'e9'];
    const heard = ids.map((id) => member(id, 9800));
    const leaders = ids.map(
      (selfId) => elect({ selfId, members: heard.filter((entry) => entry.id !== selfId) }).leaderId,
    );
    expect(new Set(leaders)).toEqual(new Set(['a7']));
  });
});
