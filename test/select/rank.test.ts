import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { relayKey, type Pool, type Relay } from '../../src/relays/relay.js';
import { createTiePreference, rankPool, type RankPoolOptions } from '../../src/select/rank.js';
import { orderByRendezvous } from '../../src/select/rendezvous.js';
import { clientIds, relay, result, resultsOf, seededRandom, tcpResult } from './builders.js';

const HASH: RankPoolOptions = { clientId: 'client-1', tieBreak: 'hash' };

function pool(...relays: Relay[]): Pool {
  return { name: '*', relays };
}

function hosts(ranked: { relay: Relay }[]): string[] {
  return ranked.map((entry) => entry.relay.host);
}

describe('rankPool ordering', () => {
  it('prefers lower priority over shorter distance', () => {
    const near = relay({ host: 'near', priority: 1 });
    const far = relay({ host: 'far', priority: 0 });
    const ranked = rankPool(
      pool(near, far),
      resultsOf(result(near, { distance: 1 }), result(far, { distance: 9 })),
      HASH,
    );
    expect(hosts(ranked)).toEqual(['far', 'near']);
  });

  it('prefers shorter distance over higher weight', () => {
    const light = relay({ host: 'light', weight: 1 });
    const heavy = relay({ host: 'heavy', weight: 1000 });
    const ranked = rankPool(
      pool(heavy, light),
      resultsOf(result(light, { distance: 2 }), result(heavy, { distance: 3 })),
      HASH,
    );
    expect(hosts(ranked)).toEqual(['light', 'heavy']);
    expect(ranked.map((entry) => entry.competitionSize)).toEqual([1, 1]);
    expect(ranked[0]!.reason).toBe('priority 0, 2 hops, no competition');
  });

  it('puts relays of unknown distance (TCP fallback) after every measured relay, whatever their priority', () => {
    const tcpBest = relay({ host: 'tcp-p0', priority: 0 });
    const measuredWorse = relay({ host: 'measured-p3', priority: 3 });
    const tcpLater = relay({ host: 'tcp-p1', priority: 1 });
    const ranked = rankPool(
      pool(tcpLater, tcpBest, measuredWorse),
      resultsOf(tcpResult(tcpBest), tcpResult(tcpLater), result(measuredWorse, { distance: 30 })),
      HASH,
    );
    expect(hosts(ranked)).toEqual(['measured-p3', 'tcp-p0', 'tcp-p1']);
    expect(ranked[1]!.reason).toContain('distance unknown (TCP fallback)');
  });

  it('leaves out unreachable relays and relays without a result', () => {
    const up = relay({ host: 'up' });
    const down = relay({ host: 'down' });
    const unprobed = relay({ host: 'unprobed' });
    const ranked = rankPool(
      pool(up, down, unprobed),
      resultsOf(result(up), result(down, { method: 'unreachable', distance: null, rttMs: null })),
      HASH,
    );
    expect(hosts(ranked)).toEqual(['up']);
  });

  it('treats distance 0 (same subnet) as the nearest', () => {
    const local = relay({ host: 'local' });
    const remote = relay({ host: 'remote' });
    const ranked = rankPool(
      pool(remote, local),
      resultsOf(result(local, { distance: 0 }), result(remote, { distance: 1 })),
      HASH,
    );
    expect(hosts(ranked)).toEqual(['local', 'remote']);
    expect(ranked[0]!.reason).toContain('0 hops (same subnet)');
  });
});

describe('rankPool competition, tieBreak hash', () => {
  const a = relay({ host: 'a', weight: 100 });
  const b = relay({ host: 'b', weight: 100 });
  const c = relay({ host: 'c', weight: 50 });
  const results = resultsOf(result(a, { distance: 2 }), result(b, { distance: 2 }), result(c, { distance: 2 }));

  it('orders the competition in weighted rendezvous order and explains it', () => {
    for (const clientId of clientIds(100)) {
      const ranked = rankPool(pool(a, b, c), results, { clientId, tieBreak: 'hash' });
      const expected = orderByRendezvous(
        clientId,
        [a, b, c].map((entry) => ({ key: relayKey(entry), weight: entry.weight, host: entry.host })),
      );
      expect(hosts(ranked)).toEqual(expected.map((entry) => entry.host));
      expect(ranked[0]!.reason).toBe('priority 0, 2 hops, won weighted rendezvous among 3');
      expect(ranked[2]!.reason).toBe('priority 0, 2 hops, weighted rendezvous place 3 of 3');
      expect(ranked.map((entry) => entry.competitionRank)).toEqual([1, 2, 3]);
      expect(ranked.every((entry) => entry.competitionSize === 3)).toBe(true);
    }
  });

  it('does not depend on the order of the relay list', () => {
    fc.assert(
      fc.property(fc.string(), fc.shuffledSubarray([a, b, c], { minLength: 3, maxLength: 3 }), (clientId, shuffled) => {
        const options = { clientId, tieBreak: 'hash' } as const;
        expect(hosts(rankPool(pool(...shuffled), results, options))).toEqual(
          hosts(rankPool(pool(a, b, c), results, options)),
        );
      }),
    );
  });

  it('spreads winners in proportion to weight', () => {
    const wins = new Map<string, number>();
    const clients = clientIds(6000, 'spread');
    for (const clientId of clients) {
      const winner = rankPool(pool(a, b, c), results, { clientId, tieBreak: 'hash' })[0]!.relay.host;
      wins.set(winner, (wins.get(winner) ?? 0) + 1);
    }
    expect(Math.abs(wins.get('a')! / clients.length - 0.4)).toBeLessThan(0.025);
    expect(Math.abs(wins.get('c')! / clients.length - 0.2)).toBeLessThan(0.025);
  });

  it('ranks weight 0 after every weighted competitor', () => {
    const zero = relay({ host: 'zero', weight: 0 });
    const withZero = new Map(results).set(relayKey(zero), result(zero, { distance: 2 }));
    for (const clientId of clientIds(300)) {
      const ranked = rankPool(pool(zero, a, b, c), withZero, { clientId, tieBreak: 'hash' });
      expect(ranked.at(-1)!.relay.host).toBe('zero');
      expect(ranked.at(-1)!.reason).toContain('weight 0 (after every weighted competitor)');
    }
  });

  it('picks among weight-0 relays evenly when all competitors have weight 0', () => {
    const zeros = [relay({ host: 'z1', weight: 0 }), relay({ host: 'z2', weight: 0 })];
    const zeroResults = resultsOf(...zeros.map((entry) => result(entry)));
    const wins = new Map<string, number>();
    const clients = clientIds(4000, 'zero');
    for (const clientId of clients) {
      const ranked = rankPool(pool(...zeros), zeroResults, { clientId, tieBreak: 'hash' });
      expect(ranked[0]!.reason).toContain('all competitors have weight 0');
      wins.set(ranked[0]!.relay.host, (wins.get(ranked[0]!.relay.host) ?? 0) + 1);
    }
    expect(Math.abs(wins.get('z1')! / clients.length - 0.5)).toBeLessThan(0.03);
  });
});

describe('rankPool competition, tieBreak rtt', () => {
  it('puts the lowest RTT first and unknown RTT last', () => {
    const slow = relay({ host: 'slow' });
    const fast = relay({ host: 'fast' });
    const unknown = relay({ host: 'unknown' });
    const zeroFast = relay({ host: 'zero-fast', weight: 0 });
    const ranked = rankPool(
      pool(slow, unknown, fast, zeroFast),
      resultsOf(
        result(slow, { rttMs: 9.5 }),
        result(fast, { rttMs: 0.25 }),
        result(unknown, { rttMs: null }),
        result(zeroFast, { rttMs: 0.1 }),
      ),
      { clientId: 'c', tieBreak: 'rtt' },
    );
    expect(hosts(ranked)).toEqual(['fast', 'slow', 'unknown', 'zero-fast']);
    expect(ranked[0]!.reason).toBe('priority 0, 1 hop, lowest RTT among 4 (RTT 0.25 ms)');
  });

  it('still ranks priority and distance before RTT', () => {
    const nearSlow = relay({ host: 'near-slow' });
    const farFast = relay({ host: 'far-fast' });
    const ranked = rankPool(
      pool(farFast, nearSlow),
      resultsOf(result(nearSlow, { distance: 1, rttMs: 50 }), result(farFast, { distance: 2, rttMs: 1 })),
      { clientId: 'c', tieBreak: 'rtt' },
    );
    expect(hosts(ranked)).toEqual(['near-slow', 'far-fast']);
  });
});

describe('rankPool competition, tieBreak random', () => {
  const light = relay({ host: 'light', weight: 100 });
  const heavy = relay({ host: 'heavy', weight: 300 });
  const results = resultsOf(result(light), result(heavy));

  it('draws with the injected random source, proportionally to weight', () => {
    // Total weight 400 in list order light(100), heavy(300): a draw below 0.25 lands on light.
    const low = rankPool(pool(light, heavy), results, { clientId: 'c', tieBreak: 'random', random: () => 0.1 });
    expect(hosts(low)).toEqual(['light', 'heavy']);
    expect(low[0]!.reason).toBe('priority 0, 1 hop, won weighted random draw among 2');
    const high = rankPool(pool(light, heavy), results, { clientId: 'c', tieBreak: 'random', random: () => 0.3 });
    expect(hosts(high)).toEqual(['heavy', 'light']);
  });

  it('matches the weights over many draws', () => {
    const random = seededRandom(7);
    let heavyWins = 0;
    const draws = 20_000;
    for (let index = 0; index < draws; index++) {
      if (
        rankPool(pool(light, heavy), results, { clientId: 'c', tieBreak: 'random', random })[0]!.relay.host === 'heavy'
      )
        heavyWins++;
    }
    expect(Math.abs(heavyWins / draws - 0.75)).toBeLessThan(0.015);
  });

  it('never draws weight 0 before a weighted relay', () => {
    const zero = relay({ host: 'zero', weight: 0 });
    const random = seededRandom(11);
    const withZero = new Map(results).set(relayKey(zero), result(zero));
    for (let index = 0; index < 500; index++) {
      expect(
        rankPool(pool(zero, light, heavy), withZero, { clientId: 'c', tieBreak: 'random', random }).at(-1)!.relay.host,
      ).toBe('zero');
    }
  });
});

describe('createTiePreference (the probe verifies the relay the ranking will pick)', () => {
  const relays = Array.from({ length: 12 }, (_, index) =>
    relay({ host: `198.19.0.${index + 1}`, weight: [100, 50, 0, 200][index % 4]! }),
  );
  const candidatesOf = (chosen: Relay[], rttOf: (index: number) => number | null = () => 1) =>
    chosen.map((entry, index) => ({ key: relayKey(entry), rttMs: rttOf(index) }));

  it('names the relay rankPool puts first in the same competition (hash and rtt)', () => {
    for (const tieBreak of ['hash', 'rtt'] as const) {
      for (const clientId of clientIds(30)) {
        const options: RankPoolOptions = { clientId, tieBreak };
        const rtts = relays.map((_, index) => (index * 7919) % 5);
        const ranked = rankPool(
          pool(...relays),
          resultsOf(...relays.map((entry, index) => result(entry, { distance: 3, rttMs: rtts[index]! }))),
          options,
        );
        expect(createTiePreference(relays, options)!(candidatesOf(relays, (index) => rtts[index]!))).toBe(
          relayKey(ranked[0]!.relay),
        );
      }
    }
  });

  it('picks the winner of a union among the winners of its parts, so one representative per path suffices', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom('hash' as const, 'rtt' as const),
        fc.shuffledSubarray(relays, { minLength: 2 }),
        fc.integer({ min: 1, max: 11 }),
        (clientId, tieBreak, chosen, cut) => {
          const prefer = createTiePreference(relays, { clientId, tieBreak })!;
          const parts = [chosen.slice(0, cut % chosen.length || 1), chosen.slice(cut % chosen.length || 1)].filter(
            (part) => part.length > 0,
          );
          const byKey = new Map(relays.map((entry) => [relayKey(entry), entry]));
          const partWinners = parts.map((part) => byKey.get(prefer(candidatesOf(part))!)!);
          expect(prefer(candidatesOf(partWinners))).toBe(prefer(candidatesOf(chosen)));
        },
      ),
    );
  });

  it('has no preference for a random tie-break, which the probe cannot know in advance', () => {
    expect(createTiePreference(relays, { clientId: 'c', tieBreak: 'random' })).toBeUndefined();
  });
});
