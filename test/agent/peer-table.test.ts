import { describe, expect, it } from 'vitest';
import { adoptPeerTable, checkConfirmation, peerGroupOf } from '../../src/agent/peer-table.js';
import { settings } from '../helpers/settings.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import { DIGEST, pool, result, table, targets } from './builders.js';

const clock = createFakeClock('2024-01-01T00:00:00Z');
const ours = pool(['198.19.0.1', '198.19.0.2', '198.19.0.3']);
const adopt = (overrides: Partial<Parameters<typeof adoptPeerTable>[0]> = {}) =>
  adoptPeerTable({
    table: table(ours, { '198.19.0.1': 1, '198.19.0.3': 2 }),
    from: '198.18.255.2',
    relayListDigest: DIGEST,
    seekList: [],
    pool: ours,
    targets: targets(ours),
    nowMs: clock.now().getTime(),
    ...overrides,
  });

describe('adoptPeerTable', () => {
  it('gives the pool results in our target order, the relays the leader left out as unreachable', () => {
    const adopted = adopt();
    expect(adopted.ok).toBe(true);
    if (!adopted.ok) return;
    expect(adopted.results.map((entry) => [entry.key, entry.distance, entry.method])).toEqual([
      ['198.19.0.1:52311', 1, 'echo-ttl'],
      ['198.19.0.2:52311', null, 'unreachable'],
      ['198.19.0.3:52311', 2, 'echo-ttl'],
    ]);
    expect(adopted.results[0]!.note).toBe('measured by the leader 198.18.255.2');
  });

  it('rejects (and counts) a table of another relay list or seek list', () => {
    expect(adopt({ relayListDigest: 'b'.repeat(64) })).toMatchObject({ ok: false, rejected: true });
    expect(adopt({ seekList: ['lyon'] })).toMatchObject({
      ok: false,
      rejected: true,
      reason: 'the table was made for seek list ""',
    });
  });

  it('rejects (and counts) a table that names a relay we do not know, or counts the pool differently', () => {
    const foreign = table(ours, { '198.19.0.1': 1, '203.0.113.9': 0 });
    expect(adopt({ table: foreign })).toEqual({
      ok: false,
      rejected: true,
      reason: 'the table names relay 203.0.113.9:52311, which is not in our pool all',
    });
    const miscounted = table(ours, { '198.19.0.1': 1 }, { relayCount: 4 });
    expect(adopt({ table: miscounted })).toMatchObject({ ok: false, rejected: true });
  });

  it('does not adopt an expired measurement or one without our pool, but does not count them', () => {
    clock.advanceSeconds(61);
    expect(adopt({ nowMs: clock.now().getTime() })).toMatchObject({ ok: false, rejected: false });
    expect(adopt({ pool: { ...ours, name: 'lyon' } })).toEqual({
      ok: false,
      rejected: false,
      reason: 'the table has no measurement of pool lyon',
    });
  });

  it('does not adopt a relay that resolves to another address here', () => {
    const moved = targets(ours).map((target) =>
      target.host === '198.19.0.3' ? { ...target, address: '198.19.9.9' } : target,
    );
    expect(adopt({ targets: moved, nowMs: Date.parse('2024-01-01T00:00:00Z') })).toMatchObject({
      ok: false,
      rejected: false,
    });
  });
});

describe('checkConfirmation', () => {
  it('confirms only an answer at the same distance by the same means', () => {
    expect(checkConfirmation(result('198.19.0.1', 2), result('198.19.0.1', 2))).toEqual({ ok: true });
    expect(checkConfirmation(result('198.19.0.1', 2), result('198.19.0.1', 3))).toEqual({
      ok: false,
      reason: '198.19.0.1:52311 answered at 3 hops here, 2 at the leader',
    });
    expect(checkConfirmation(result('198.19.0.1', 2), result('198.19.0.1', null, 'unreachable'))).toMatchObject({
      ok: false,
    });
    expect(checkConfirmation(result('198.19.0.1', 2), undefined)).toMatchObject({ ok: false });
    expect(checkConfirmation(result('198.19.0.1', null, 'tcp'), result('198.19.0.1', null, 'tcp'))).toEqual({
      ok: true,
    });
    expect(checkConfirmation(result('198.19.0.1', null, 'tcp'), result('198.19.0.1', 1))).toMatchObject({ ok: false });
    expect(checkConfirmation(result('198.19.0.1', 1), result('198.19.0.1', null, 'tcp'))).toMatchObject({ ok: false });
  });
});

describe('peerGroupOf', () => {
  it('separates agents that would measure differently, and only those', () => {
    const base = peerGroupOf(DIGEST, settings());
    expect(peerGroupOf(DIGEST, settings({ tieBreak: 'random' }))).toBe(base);
    expect(peerGroupOf('b'.repeat(64), settings())).not.toBe(base);
    expect(peerGroupOf(DIGEST, settings({ seekList: ['lyon'] }))).not.toBe(base);
    expect(peerGroupOf(DIGEST, settings({ ipMode: 'ipv6' }))).not.toBe(base);
    expect(peerGroupOf(DIGEST, settings({ maximumTtlToPing: 20 }))).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{32}$/);
  });
});
