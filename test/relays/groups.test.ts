import { describe, expect, it } from 'vitest';
import {
  canonicalGroups,
  isUnaffiliated,
  mergeGroups,
  parseAffiliation,
  parseGroupName,
} from '../../src/relays/groups.js';

describe('parseGroupName', () => {
  it('trims, lower-cases and keeps *', () => {
    expect(parseGroupName('  Branch-Lyon ')).toBe('branch-lyon');
    expect(parseGroupName('DMZ_2')).toBe('dmz_2');
    expect(parseGroupName(' * ')).toBe('*');
  });

  it('refuses empty, too long and bad characters with what was expected', () => {
    expect(parseGroupName('')).toEqual({ error: 'affiliation group is empty; expected a group name or *' });
    expect(parseGroupName('a'.repeat(65))).toEqual({
      error: `affiliation group "${'a'.repeat(65)}" is 65 characters long; expected at most 64`,
    });
    for (const bad of ['a.b', 'a b', 'é', 'a*', '**']) {
      expect(parseGroupName(bad)).toEqual({
        error: `affiliation group "${bad}" is not valid; expected letters, digits, "_" and "-" (at most 64 characters), or *`,
      });
    }
  });
});

describe('parseAffiliation', () => {
  it('splits on ; and , and drops empty parts and repeats', () => {
    expect(parseAffiliation('HQ;;dmz,Hq;')).toEqual(['hq', 'dmz']);
    expect(parseAffiliation('*')).toEqual([]);
    expect(parseAffiliation('*;HQ')).toEqual(['*', 'hq']);
  });

  it('gives the offset of the bad group', () => {
    expect(parseAffiliation('HQ; a.b')).toEqual({
      error:
        'affiliation group "a.b" is not valid; expected letters, digits, "_" and "-" (at most 64 characters), or *',
      offset: 4,
    });
    expect(parseAffiliation(';;')).toEqual({
      error: 'affiliation is empty; expected group names separated by ";" or ",", or *',
      offset: 0,
    });
  });
});

describe('mergeGroups / isUnaffiliated / canonicalGroups', () => {
  it('unions groups and keeps * for an unaffiliated side', () => {
    expect(mergeGroups(['hq'], ['dmz', 'hq'])).toEqual(['hq', 'dmz']);
    expect(mergeGroups([], ['hq'])).toEqual(['*', 'hq']);
    expect(mergeGroups(['hq'], [])).toEqual(['hq', '*']);
    expect(mergeGroups([], [])).toEqual([]);
  });

  it('treats [] and any list holding * as unaffiliated', () => {
    expect([[], ['*'], ['hq', '*'], ['hq']].map(isUnaffiliated)).toEqual([true, true, true, false]);
    expect(canonicalGroups(['*'])).toEqual([]);
    expect(canonicalGroups(['*', 'hq'])).toEqual(['*', 'hq']);
  });
});
