import { describe, expect, it } from 'vitest';
import { MAX_CONFIG_DEPTH, MAX_CONFIG_VALUES, mergeConfigData, toConfigData } from '../../src/config/config-data.js';

describe('toConfigData', () => {
  it('copies plain data, drops undefined, turns a Date into its ISO text', () => {
    const when = new Date('2024-03-01T12:00:00.000Z');
    expect(
      toConfigData({
        probe: { strategy: 'rounds', timeoutMs: 5, unset: undefined },
        seekList: ['a', 'b'],
        flag: true,
        none: null,
        when,
      }),
    ).toEqual({
      ok: true,
      value: {
        probe: { strategy: 'rounds', timeoutMs: 5 },
        seekList: ['a', 'b'],
        flag: true,
        none: null,
        when: '2024-03-01T12:00:00.000Z',
      },
    });
  });

  it('keeps __proto__, constructor and prototype as own keys, never as a prototype', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}');
    const result = toConfigData(parsed);
    expect(result.ok).toBe(true);
    const value = (result as { value: Record<string, unknown> }).value;
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stops an expansion that never ends: a DAG whose paths exceed the value budget', () => {
    let level: unknown = ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'];
    for (let depth = 0; depth < 12; depth++) level = Array.from({ length: 9 }, () => level);
    const started = performance.now();
    expect(toConfigData({ seekList: level })).toEqual({
      ok: false,
      reason: `holds more than ${MAX_CONFIG_VALUES} values (YAML aliases that expand without end?)`,
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('names a value that contains itself', () => {
    const probe: Record<string, unknown> = {};
    probe.strategy = probe;
    expect(toConfigData({ probe })).toEqual({
      ok: false,
      reason: '"probe.strategy" contains itself (a YAML anchor used inside itself?)',
    });
    const list: unknown[] = [];
    list.push(list);
    expect(toConfigData({ seekList: list })).toEqual({
      ok: false,
      reason: '"seekList[0]" contains itself (a YAML anchor used inside itself?)',
    });
  });

  it('refuses nesting deeper than settings ever go, without recursing that deep', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    const result = toConfigData(deep);
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringMatching(new RegExp(`^nests deeper than ${MAX_CONFIG_DEPTH} levels`)),
    });
  });

  it('reports getters and proxies that throw, and what is not data', () => {
    expect(
      toConfigData({
        get probe() {
          throw new Error('boom');
        },
      }),
    ).toEqual({ ok: false, reason: 'reading "probe" threw: boom' });
    expect(
      toConfigData(
        new Proxy(
          {},
          {
            ownKeys: () => {
              throw new RangeError('trap');
            },
          },
        ),
      ),
    ).toEqual({ ok: false, reason: 'listing the keys of the top level threw: trap' });
    expect(toConfigData({ register: { command: () => 'x' } })).toEqual({
      ok: false,
      reason: '"register.command" is a function; a config file holds settings data only',
    });
    expect(toConfigData({ probe: new Map() })).toEqual({
      ok: false,
      reason: '"probe" is a Map, not plain settings data',
    });
    expect(toConfigData({ jitter: 10n })).toEqual({
      ok: false,
      reason: '"jitter" is a bigint; a config file holds settings data only',
    });
  });
});

describe('mergeConfigData', () => {
  it('merges objects key by key, the file over what it imports; lists and values are replaced whole', () => {
    const imported = { probe: { strategy: 'rounds', timeoutMs: 500 }, seekList: ['a', 'b'], jitter: 0.2 };
    const own = { probe: { timeoutMs: 900 }, seekList: ['c'] };
    expect(mergeConfigData(imported, own)).toEqual({
      probe: { strategy: 'rounds', timeoutMs: 900 },
      seekList: ['c'],
      jitter: 0.2,
    });
  });

  it('keeps a __proto__ key a key', () => {
    const merged = mergeConfigData({}, JSON.parse('{"__proto__": {"x": 1}}')) as Record<string, unknown>;
    expect(Object.keys(merged)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
  });
});
