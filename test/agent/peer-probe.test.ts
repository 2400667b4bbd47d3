/**
 * The selection's probe when agents cooperate (src/agent/peer-probe.ts): which answers of the peer
 * service lead to adopting the leader's table with one confirming echo, and which to probing the pool.
 * The peer service is scripted here; the real one runs between real processes in test/lab/.
 */
import { describe, expect, it } from 'vitest';
import { createPeerProbe } from '../../src/agent/peer-probe.js';
import type { LeaderTableAnswer, PeerService } from '../../src/agent/peer-service.js';
import type { PeerTable, PeerTablePool } from '../../src/agent/peer-message.js';
import type { RejectReason } from '../../src/agent/peer-core.js';
import type { ProbeReport, ProbeTarget } from '../../src/probe/types.js';
import type { ProbeContext } from '../../src/select/types.js';
import type { Pool } from '../../src/relays/relay.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import { settings } from '../helpers/settings.js';
import { DIGEST, pool, result, table, targets } from './builders.js';

const clock = createFakeClock('2024-01-01T00:00:00Z');
const relays = pool(['198.19.0.1', '198.19.0.2', '198.19.0.3']);
const truth: Record<string, number> = { '198.19.0.1': 2, '198.19.0.2': 1, '198.19.0.3': 1 };

/** A peer service that answers the wait with `answer` and records what it is told. */
function scriptedPeer(answer: LeaderTableAnswer, ownTable: PeerTable | null = null) {
  const published: PeerTablePool[] = [];
  const rejected: Array<{ reason: RejectReason; detail: string }> = [];
  const groups: string[] = [];
  const peer: PeerService = {
    memberId: 'self',
    endpoint: 'memory',
    tableValidityMs: 15_000,
    discoveryEndsAtMs: 0,
    view: () => ({
      role: answer.kind === 'lead' ? 'leader' : 'follower',
      leader: null,
      members: 2,
      rejected: rejected.length,
      rejectedBy: {},
    }),
    setGroup: (group) => groups.push(group),
    awaitLeaderTable: () => Promise.resolve(answer),
    publishPool: (entry) => published.push(entry),
    hasFreshPool: () => false,
    ownTableWith: () => ownTable,
    countRejected: (reason, _from, detail) => rejected.push({ reason, detail }),
    close: () => undefined,
  };
  return { peer, published, rejected, groups };
}

/** The cycle's own probe, over the `truth` network: records each call's purpose and target count. */
function ownProbe(network: Record<string, number> = truth) {
  const calls: Array<{ purpose: ProbeContext['purpose']; targets: number }> = [];
  const probe = (probed: ProbeTarget[], _pool: Pool, context: ProbeContext): Promise<ProbeReport> => {
    calls.push({ purpose: context.purpose, targets: probed.length });
    return Promise.resolve({
      results: probed.map((target) =>
        result(
          target.host,
          network[target.host] ?? null,
          network[target.host] === undefined ? 'unreachable' : 'echo-ttl',
        ),
      ),
      packetsSent: probed.length,
      tcpAttempts: 0,
      wallMs: 1,
    });
  };
  return { probe, calls };
}

function run(answer: LeaderTableAnswer, network?: Record<string, number>, ownTable: PeerTable | null = null) {
  const scripted = scriptedPeer(answer, ownTable);
  const own = ownProbe(network);
  const override = createPeerProbe({
    peer: scripted.peer,
    settings: settings({ peer: { enabled: true, keyFile: '/k', port: 52312, leaseSeconds: 3 } }),
    clock,
    mode: 'cycle',
  })(own.probe, {
    relays: relays.relays,
    relayListDigest: DIGEST,
    clientId: 'client-1',
  });
  const report = override.probe(targets(relays), relays, { purpose: 'pool' });
  return { ...scripted, own, override, report };
}

const leaderTable = table(relays, { '198.19.0.1': 2, '198.19.0.2': 1, '198.19.0.3': 1 }, {}, clock.now().getTime());

describe('createPeerProbe', () => {
  it("a follower adopts the leader's table and sends exactly one confirming echo, to the relay it would choose", async () => {
    const { report, own, override, groups } = run({ kind: 'table', table: leaderTable, from: '198.18.255.2' });
    const results = (await report).results;
    expect(own.calls).toEqual([{ purpose: 'confirm', targets: 1 }]);
    expect(results.map((entry) => entry.distance)).toEqual([2, 1, 1]);
    expect(override.peerTable()).toEqual({
      from: '198.18.255.2',
      measuredAt: '2024-01-01T00:00:00.000Z',
      pools: ['all'],
      confirmEchoes: 1,
    });
    expect(override.peerNotes()).toEqual([]);
    expect(groups).toHaveLength(1);
  });

  it('probes the pool itself when the one echo answers at another distance', async () => {
    const { report, own, override } = run(
      { kind: 'table', table: leaderTable, from: '198.18.255.2' },
      { '198.19.0.1': 2, '198.19.0.2': 3, '198.19.0.3': 3 },
    );
    await report;
    expect(own.calls).toEqual([
      { purpose: 'confirm', targets: 1 },
      { purpose: 'pool', targets: 3 },
    ]);
    expect(override.peerTable()).toBeNull();
    expect(override.peerNotes()[0]).toMatch(
      /was not confirmed \(198\.19\.0\.[23]:52311 answered at 3 hops here, 1 at the leader\)/,
    );
  });

  it('probes the pool itself, and counts the table, when it names a relay we do not know', async () => {
    const foreign = table(relays, { '198.19.0.1': 2, '203.0.113.7': 0 }, {}, clock.now().getTime());
    const { report, own, rejected, override } = run({ kind: 'table', table: foreign, from: '198.18.255.2' });
    await report;
    expect(own.calls).toEqual([{ purpose: 'pool', targets: 3 }]);
    expect(rejected).toEqual([
      { reason: 'bad-table', detail: 'the table names relay 203.0.113.7:52311, which is not in our pool all' },
    ]);
    expect(override.peerTable()).toBeNull();
  });

  it('probes the pool itself after waiting one lease in vain, and says so', async () => {
    const { report, own, override } = run({ kind: 'timeout' });
    await report;
    expect(own.calls).toEqual([{ purpose: 'pool', targets: 3 }]);
    expect(override.peerNotes()).toEqual(['no table from a leader within one lease (3 s): probed pool all itself']);
  });

  it('the leader probes the pool and shares what it measured', async () => {
    const { report, own, published, override } = run({ kind: 'lead' });
    await report;
    expect(own.calls).toEqual([{ purpose: 'pool', targets: 3 }]);
    expect(published).toEqual([
      expect.objectContaining({
        name: 'all',
        relayCount: 3,
        validUntilMs: clock.now().getTime() + 15_000,
        entries: expect.arrayContaining([expect.objectContaining({ key: '198.19.0.2:52311', distance: 1 })]),
      }),
    ]);
    expect(override.peerTable()).toBeNull();
  });

  it('the leader uses the measurement it made for its peers moments ago instead of probing again', async () => {
    const { report, own, published, override } = run({ kind: 'lead' }, undefined, leaderTable);
    expect((await report).results.map((entry) => entry.distance)).toEqual([2, 1, 1]);
    expect(own.calls).toEqual([]);
    expect(published).toEqual([]);
    expect(override.peerNotes()).toEqual([
      'pool all: used the measurement this agent made for its peers at 2024-01-01T00:00:00.000Z',
    ]);
  });

  it("leaves manual relays alone: they get the cycle's own probe", async () => {
    const scripted = scriptedPeer({ kind: 'timeout' });
    const own = ownProbe();
    const override = createPeerProbe({ peer: scripted.peer, settings: settings(), clock, mode: 'cycle' })(own.probe, {
      relays: relays.relays,
      relayListDigest: DIGEST,
      clientId: 'c',
    });
    await override.probe(targets(relays).slice(0, 1), relays, { purpose: 'manual' });
    expect(own.calls).toEqual([{ purpose: 'manual', targets: 1 }]);
  });
});
