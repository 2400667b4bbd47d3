import { describe, expect, it } from 'vitest';
import { ALL_RELAYS_POOL, buildPools } from '../../src/relays/pools.js';
import type { Relay } from '../../src/relays/relay.js';

function relay(overrides: Partial<Relay> & { host: string }): Relay {
  return { port: 52311, groups: [], priority: 0, weight: 100, ...overrides };
}

const hq = relay({ host: 'hq', groups: ['hq', 'dmz'] });
const lyon = relay({ host: 'lyon', groups: ['branch-lyon'] });
const legacy = relay({ host: 'legacy' });
const both = relay({ host: 'both', groups: ['branch-lyon', '*'] });
const relays = [hq, lyon, legacy, both];
const summary = (pools: ReturnType<typeof buildPools>) =>
  pools.map((pool) => [pool.name, pool.relays.map((r) => r.host)]);

describe('buildPools', () => {
  it('gives one pool per seek-list entry, in seek-list order, relays in list order', () => {
    expect(summary(buildPools(relays, ['Branch-Lyon', 'DMZ', '*']))).toEqual([
      ['branch-lyon', ['lyon', 'both']],
      ['dmz', ['hq']],
      ['*', ['legacy', 'both']],
    ]);
  });

  it('builds one pool of every relay for an empty seek list', () => {
    const pools = buildPools(relays, []);
    expect(ALL_RELAYS_POOL).toBe('*all*');
    expect(summary(pools)).toEqual([[ALL_RELAYS_POOL, ['hq', 'lyon', 'legacy', 'both']]]);
    expect(pools[0]?.relays).not.toBe(relays);
  });

  it('treats blank entries as absent', () => {
    expect(summary(buildPools(relays, ['  ', '']))).toEqual([[ALL_RELAYS_POOL, ['hq', 'lyon', 'legacy', 'both']]]);
  });

  it('matches entries case-insensitively, trims them and drops repeats', () => {
    expect(summary(buildPools(relays, [' hq ', 'HQ', 'Dmz']))).toEqual([
      ['hq', ['hq']],
      ['dmz', ['hq']],
    ]);
  });

  it('keeps an empty pool for a group no relay advertises', () => {
    expect(summary(buildPools(relays, ['Branch-Paris', 'hq']))).toEqual([
      ['branch-paris', []],
      ['hq', ['hq']],
    ]);
  });

  it('puts a relay in every pool it advertises and lists it once per pool', () => {
    const twice = relay({ host: 'twice', groups: ['hq', 'HQ'] });
    expect(summary(buildPools([twice, hq], ['hq', 'dmz']))).toEqual([
      ['hq', ['twice', 'hq']],
      ['dmz', ['hq']],
    ]);
  });

  it('returns the same relay objects, not copies', () => {
    const [pool] = buildPools(relays, ['hq']);
    expect(pool?.relays[0]).toBe(hq);
  });
});
