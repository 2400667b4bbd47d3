import { describe, expect, it } from 'vitest';
import { describeUnresolved, resolveTargets, type LookupAddress } from '../../src/probe/resolve.js';

const lookup: LookupAddress = (hostname, { family }) => {
  const table: Record<string, { 4?: string; 6?: string }> = {
    'dual.example': { 4: '198.18.0.10', 6: '2001:db8::10' },
    'v4only.example': { 4: '198.18.0.11' },
  };
  const entry = table[hostname];
  const chosen = family === 6 ? entry?.[6] : family === 4 ? entry?.[4] : (entry?.[4] ?? entry?.[6]);
  if (chosen === undefined)
    return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
  return Promise.resolve({ address: chosen, family: chosen.includes(':') ? 6 : 4 });
};

const host = (name: string, priority?: number) => ({
  key: `${name}:52311`,
  host: name,
  port: 52311,
  ...(priority === undefined ? {} : { priority }),
});

describe('resolveTargets', () => {
  it('keeps literals, resolves names, and reports the unresolvable without throwing', async () => {
    const { targets, unresolved } = await resolveTargets(
      [host('198.18.0.1'), host('dual.example', 1), host('missing.example'), host('2001:db8::1')],
      'auto',
      lookup,
    );
    expect(targets).toEqual([
      { key: '198.18.0.1:52311', host: '198.18.0.1', port: 52311, address: '198.18.0.1', family: 4 },
      { key: 'dual.example:52311', host: 'dual.example', port: 52311, address: '198.18.0.10', family: 4, priority: 1 },
      { key: '2001:db8::1:52311', host: '2001:db8::1', port: 52311, address: '2001:db8::1', family: 6 },
    ]);
    expect(unresolved).toEqual([
      { key: 'missing.example:52311', host: 'missing.example', port: 52311, reason: 'does not resolve (ENOTFOUND)' },
    ]);
  });

  it('asks for the family of ipMode and rejects literals of the other one', async () => {
    const { targets, unresolved } = await resolveTargets(
      [host('dual.example'), host('v4only.example'), host('198.18.0.1')],
      'ipv6',
      lookup,
    );
    expect(targets.map((target) => target.address)).toEqual(['2001:db8::10']);
    expect(unresolved.map((entry) => entry.reason)).toEqual([
      'does not resolve to IPv6 (ENOTFOUND)',
      'an IPv4 address, but ipMode allows IPv6 only',
    ]);
  });

  it('turns an unresolved host into an unreachable result', () => {
    expect(describeUnresolved({ key: 'k', host: 'h', port: 1, reason: 'nope' })).toEqual({
      key: 'k',
      host: 'h',
      address: null,
      distance: null,
      rttMs: null,
      method: 'unreachable',
      note: 'nope',
    });
  });
});
