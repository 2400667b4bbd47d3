import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  hashToUnit,
  orderByRendezvous,
  pickByRendezvous,
  scoreRendezvous,
  type RendezvousCandidate,
} from '../../src/select/rendezvous.js';
import { clientIds } from './builders.js';

const CLIENTS = clientIds(10_000);

function assign(candidates: RendezvousCandidate[], clients = CLIENTS): Map<string, string> {
  return new Map(clients.map((clientId) => [clientId, pickByRendezvous(clientId, candidates)!.key]));
}

function shares(assignment: Map<string, string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const key of assignment.values()) counts.set(key, (counts.get(key) ?? 0) + 1);
  return new Map([...counts].map(([key, count]) => [key, count / assignment.size]));
}

describe('hashToUnit', () => {
  it('is strictly inside (0, 1) and identical across calls', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (clientId, key) => {
        const unit = hashToUnit(clientId, key);
        expect(unit).toBeGreaterThan(0);
        expect(unit).toBeLessThan(1);
        expect(hashToUnit(clientId, key)).toBe(unit);
      }),
    );
  });

  it('does not confuse how the two inputs are split', () => {
    expect(hashToUnit('ab', 'c')).not.toBe(hashToUnit('a', 'bc'));
  });

  it('matches a value computed once (guards against a platform- or version-dependent hash)', () => {
    // SHA-256("9:client-42\nrelay-a:52311"): top 53 bits, +0.5, / 2^53, pinned so a change of input
    // format or bit extraction (which would move every endpoint to another relay) fails here.
    expect(hashToUnit('client-42', 'relay-a:52311')).toBe(0.9025122338023719);
  });
});

describe('scoreRendezvous', () => {
  it('is 0 for weight 0 and scales linearly with weight', () => {
    expect(scoreRendezvous('c', 'r', 0)).toBe(0);
    const one = scoreRendezvous('c', 'r', 1);
    expect(one).toBeGreaterThan(0);
    expect(scoreRendezvous('c', 'r', 50)).toBeCloseTo(one * 50, 9);
  });
});

describe('pickByRendezvous', () => {
  const weighted = [
    { key: 'relay-a:52311', weight: 100 },
    { key: 'relay-b:52311', weight: 100 },
    { key: 'relay-c:52311', weight: 50 },
  ];

  it('returns undefined for no candidates', () => {
    expect(pickByRendezvous('c', [])).toBeUndefined();
  });

  it('gives the same client the same relay on every call and in any list order', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.shuffledSubarray(weighted, { minLength: 3, maxLength: 3 }),
        (clientId, shuffled) => {
          const first = pickByRendezvous(clientId, weighted)!.key;
          expect(pickByRendezvous(clientId, weighted)!.key).toBe(first);
          expect(pickByRendezvous(clientId, shuffled)!.key).toBe(first);
        },
      ),
    );
  });

  it('agrees with the head of orderByRendezvous', () => {
    for (const clientId of CLIENTS.slice(0, 500)) {
      expect(pickByRendezvous(clientId, weighted)).toBe(orderByRendezvous(clientId, weighted)[0]);
    }
  });

  it('splits 10,000 clients over weights 100/100/50 within 2 points of 40/40/20', () => {
    const split = shares(assign(weighted));
    expect(Math.abs(split.get('relay-a:52311')! - 0.4)).toBeLessThan(0.02);
    expect(Math.abs(split.get('relay-b:52311')! - 0.4)).toBeLessThan(0.02);
    expect(Math.abs(split.get('relay-c:52311')! - 0.2)).toBeLessThan(0.02);
  });

  it('adding a relay moves only its fair share, and every mover moves to the new relay', () => {
    const before = assign(weighted);
    const after = assign([...weighted, { key: 'relay-d:52311', weight: 100 }]);
    const movers = CLIENTS.filter((clientId) => before.get(clientId) !== after.get(clientId));
    const fairShare = 100 / 350;
    expect(Math.abs(movers.length / CLIENTS.length - fairShare)).toBeLessThan(0.02);
    for (const clientId of movers) expect(after.get(clientId)).toBe('relay-d:52311');
  });

  it('removing a relay moves only the clients it held', () => {
    const before = assign(weighted);
    const after = assign(weighted.filter((candidate) => candidate.key !== 'relay-b:52311'));
    let moved = 0;
    for (const clientId of CLIENTS) {
      if (before.get(clientId) === 'relay-b:52311') {
        moved++;
        expect(after.get(clientId)).not.toBe('relay-b:52311');
      } else {
        expect(after.get(clientId)).toBe(before.get(clientId));
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('picks weight 0 only when every candidate has weight 0, then splits evenly', () => {
    const mixed = [
      { key: 'zero:1', weight: 0 },
      { key: 'one:1', weight: 1 },
    ];
    for (const clientId of CLIENTS.slice(0, 2000)) expect(pickByRendezvous(clientId, mixed)!.key).toBe('one:1');

    const allZero = [
      { key: 'z1:1', weight: 0 },
      { key: 'z2:1', weight: 0 },
      { key: 'z3:1', weight: 0 },
    ];
    const split = shares(assign(allZero));
    for (const key of ['z1:1', 'z2:1', 'z3:1']) expect(Math.abs(split.get(key)! - 1 / 3)).toBeLessThan(0.02);
  });
});

describe('orderByRendezvous', () => {
  it('orders by descending score, zero weights last', () => {
    const candidates = [
      { key: 'a', weight: 0 },
      { key: 'b', weight: 10 },
      { key: 'c', weight: 30 },
      { key: 'd', weight: 20 },
    ];
    for (const clientId of CLIENTS.slice(0, 200)) {
      const order = orderByRendezvous(clientId, candidates);
      expect(order.at(-1)!.key).toBe('a');
      const scores = order.slice(0, 3).map((candidate) => scoreRendezvous(clientId, candidate.key, candidate.weight));
      expect(scores).toEqual([...scores].sort((left, right) => right - left));
    }
  });
});
