import { describe, expect, it } from 'vitest';
import { rankPool } from '../../src/select/rank.js';
import { applySwitchMargin } from '../../src/select/switch-margin.js';
import { relay, result, resultsOf, tcpResult } from './builders.js';

const current = relay({ host: '198.18.60.1' });
const other = relay({ host: '198.18.60.2' });
const rank = (...results: Parameters<typeof resultsOf>) =>
  rankPool({ name: '*', relays: [current, other] }, resultsOf(...results), { clientId: 'c', tieBreak: 'hash' });
const held = { host: current.host, port: 52311 };

describe('applySwitchMargin', () => {
  it.each([
    // [current hops, other hops, margin, kept]
    [3, 2, 1, true],
    [3, 1, 1, false],
    [3, 1, 2, true],
    [4, 1, 2, false],
    [3, 2, 0, false],
    [4, 1, 3, true],
  ])('current at %i hops, best at %i hops, margin %i: kept %s', (currentHops, otherHops, margin, kept) => {
    const ranked = rank(result(current, { distance: currentHops }), result(other, { distance: otherHops }));
    const decision = applySwitchMargin(ranked, held, margin);
    expect(decision.kept).toBe(kept);
    expect(decision.ranked[0]!.relay.host).toBe(kept || currentHops <= otherHops ? current.host : other.host);
  });

  it('keeps a relay as near as the best whose rendezvous place changed (no flip between equals)', () => {
    const ranked = rank(result(current, { distance: 2 }), result(other, { distance: 2 }));
    const decision = applySwitchMargin(ranked, held, 1);
    expect(decision.ranked[0]!.relay.host).toBe(current.host);
    if (ranked[0]!.relay.host !== current.host)
      expect(decision.reason).toBe(`kept ${current.host}:52311: ${other.host}:52311 is no nearer (switchMarginHops 1)`);
  });

  it('switches to a relay of better priority whatever the hops', () => {
    const betterPriority = relay({ host: '198.18.60.3', priority: 0 });
    const worse = { ...current, priority: 1 };
    const ranked = rankPool(
      { name: '*', relays: [worse, betterPriority] },
      resultsOf(result(worse, { distance: 1 }), result(betterPriority, { distance: 5 })),
      { clientId: 'c', tieBreak: 'hash' },
    );
    const decision = applySwitchMargin(ranked, held, 10);
    expect(decision).toMatchObject({
      kept: false,
      reason: `switched from ${current.host}:52311: 198.18.60.3:52311 has a better priority (0 against 1)`,
    });
  });

  it('switches from a relay reachable only over TCP to a measured one', () => {
    const ranked = rank(tcpResult(current), result(other, { distance: 9 }));
    expect(applySwitchMargin(ranked, held, 5)).toMatchObject({
      kept: false,
      reason: expect.stringContaining('only over TCP'),
    });
  });

  it('leaves the ranking alone when the current relay is best or absent', () => {
    const best = rank(result(current, { distance: 1 }), result(other, { distance: 2 }));
    expect(applySwitchMargin(best, held, 1)).toEqual({ ranked: best, kept: false, reason: null });
    const absent = rank(result(other, { distance: 2 }));
    expect(applySwitchMargin(absent, held, 1)).toEqual({ ranked: absent, kept: false, reason: null });
  });
});
