import { describe, expect, it } from 'vitest';
import { estimateProbeBudget } from '../../src/probe/budget.js';
import { computeLadderTtls, inferDistanceFromReplyTtl, LADDER_TTLS } from '../../src/probe/ttl-ladder.js';

describe('computeLadderTtls', () => {
  it('uses the whole ladder up to TTL 254 by default', () => {
    expect(computeLadderTtls(255)).toEqual([...LADDER_TTLS]);
  });
  it('caps the ladder at maximumTtlToPing - 1', () => {
    expect(computeLadderTtls(20)).toEqual([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 19]);
    expect(computeLadderTtls(2)).toEqual([1]);
  });
});

describe('inferDistanceFromReplyTtl', () => {
  it.each([
    [64, 0],
    [61, 3],
    [65, 63],
    [120, 8],
    [250, 5],
  ])('reply TTL %i → %i hops', (replyTtl, hops) => {
    expect(inferDistanceFromReplyTtl(replyTtl)).toBe(hops);
  });
});

describe('estimateProbeBudget', () => {
  it('counts N + 2 for inference and N per rung for the ladder', () => {
    const budget = estimateProbeBudget(1000, 'inference', 20, 2);
    expect(budget.strategy).toBe('inference');
    expect(budget.inference.packets).toBe(1002);
    expect(budget.inference.note).toMatch(/TTL 19/);
    expect(budget.rounds.ttls).toEqual([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 19]);
    expect(budget.rounds.worstCasePackets).toBe(1000 * 11);
  });
  it('costs nothing for no relay', () => {
    expect(estimateProbeBudget(0, 'rounds', 255, 2)).toMatchObject({
      inference: { packets: 0 },
      rounds: { worstCasePackets: 0 },
    });
  });
});
