import { describe, expect, it } from 'vitest';
import {
  checkSettingValue,
  normalizeRelayAddress,
  suggestSettingName,
  validateSettingsInput,
} from '../../src/config/schema.js';

function problemsOf(input: unknown, label = 'config.json'): string[] {
  const result = validateSettingsInput(input, label);
  return result.ok ? [] : result.problems.map((problem) => problem.message);
}

describe('validateSettingsInput', () => {
  it('accepts an empty object and leaves every setting unset', () => {
    const result = validateSettingsInput({}, 'x');
    expect(result).toEqual({ ok: true, value: {} });
  });

  it('names the setting, the value and the range for maximumTtlToPing 0 and 256', () => {
    expect(problemsOf({ maximumTtlToPing: 0 })).toEqual([
      'config.json: maximumTtlToPing: 0 is out of range; allowed 1..255',
    ]);
    expect(problemsOf({ maximumTtlToPing: 256 })).toEqual([
      'config.json: maximumTtlToPing: 256 is out of range; allowed 1..255',
    ]);
    expect(problemsOf({ maximumTtlToPing: 255 })).toEqual([]);
    expect(problemsOf({ maximumTtlToPing: 1 })).toEqual([]);
  });

  it('tells a string and a fraction from an out-of-range number', () => {
    expect(problemsOf({ maximumTtlToPing: '20' })).toEqual([
      'config.json: maximumTtlToPing: "20" is not a number; allowed 1..255',
    ]);
    expect(problemsOf({ probe: { timeoutMs: 1.5 } })).toEqual([
      'config.json: probe.timeoutMs: 1.5 is not a whole number; allowed 1..60000',
    ]);
    expect(problemsOf({ jitter: 1.5 })).toEqual(['config.json: jitter: 1.5 is out of range; allowed 0..1']);
    expect(problemsOf({ jitter: 0.25 })).toEqual([]);
  });

  it('rejects a typo in a setting name and suggests the right one', () => {
    expect(problemsOf({ maximumTTLToPing: 20 })).toEqual([
      'config.json: unknown setting "maximumTTLToPing" (did you mean "maximumTtlToPing"?)',
    ]);
    expect(problemsOf({ probe: { ratepps: 5 } })).toEqual([
      'config.json: unknown setting "probe.ratepps" (did you mean "probe.ratePps"?)',
    ]);
    expect(problemsOf({ ratePps: 5 })).toEqual([
      'config.json: unknown setting "ratePps" (did you mean "probe.ratePps"?)',
    ]);
    expect(problemsOf({ register: { tls: { certificate: 'a' } } })[0]).toMatch(
      /^config.json: unknown setting "register.tls.certificate"/,
    );
    expect(problemsOf({ 'probe.strategy': 'rounds' })[0]).toContain('write it nested');
  });

  it('gives no suggestion for a name far from every setting', () => {
    expect(suggestSettingName('colour')).toBeUndefined();
    expect(problemsOf({ colour: 'red' })).toEqual([
      'config.json: unknown setting "colour"; see relay-select.conf(5) for the settings',
    ]);
  });

  it('checks choices and booleans', () => {
    expect(problemsOf({ probe: { strategy: 'fast' } })).toEqual([
      'config.json: probe.strategy: "fast" is not allowed; allowed inference, rounds',
    ]);
    expect(problemsOf({ automatic: 'yes' })).toEqual([
      'config.json: automatic: "yes" is not true or false; allowed true, false',
    ]);
    expect(problemsOf({ profile: 'huge' })).toEqual([
      'config.json: profile: "huge" is not allowed; allowed default, large',
    ]);
  });

  it('enforces each numeric range at both ends', () => {
    const cases: Array<[string, number, number]> = [
      ['probe.ratePps', 1, 100_000],
      ['probe.burst', 1, 10_000],
      ['probe.timeoutMs', 1, 60_000],
      ['probe.retries', 0, 10],
      ['probe.verifyMargin', 0, 254],
      ['resistFailureIntervalSeconds', 0, 2_592_000],
      ['minRetryIntervalSeconds', 0, 604_800],
    ];
    for (const [path, min, max] of cases) {
      expect(checkSettingValue(path, min)).toEqual({ value: min });
      expect(checkSettingValue(path, max)).toEqual({ value: max });
      expect(checkSettingValue(path, min - 1)).toEqual({ error: `${min - 1} is out of range; allowed ${min}..${max}` });
      expect(checkSettingValue(path, max + 1)).toEqual({ error: `${max + 1} is out of range; allowed ${min}..${max}` });
    }
  });

  it('rejects minRetryIntervalSeconds greater than maxRetryIntervalSeconds in one source', () => {
    expect(problemsOf({ minRetryIntervalSeconds: 9000, maxRetryIntervalSeconds: 7200 })).toEqual([
      'config.json: minRetryIntervalSeconds: 9000 is greater than maxRetryIntervalSeconds 7200; allowed minRetryIntervalSeconds <= maxRetryIntervalSeconds',
    ]);
    expect(problemsOf({ minRetryIntervalSeconds: 7200, maxRetryIntervalSeconds: 7200 })).toEqual([]);
  });

  it('splits seek lists from a string or takes an array, in canonical lower case', () => {
    expect(validateSettingsInput({ seekList: 'Branch-Lyon; HQ;*;' }, 'x')).toEqual({
      ok: true,
      value: { seekList: ['branch-lyon', 'hq', '*'] },
    });
    expect(validateSettingsInput({ seekList: ['Branch-Lyon', 'hq', 'HQ', '*'] }, 'x')).toEqual({
      ok: true,
      value: { seekList: ['branch-lyon', 'hq', '*'] },
    });
    expect(problemsOf({ seekList: 'HQ;Br anch' })).toEqual([
      'config.json: seekList: affiliation group "Br anch" is not valid; expected letters, digits, "_" and "-" (at most 64 characters), or *',
    ]);
    expect(problemsOf({ seekList: 'x'.repeat(65) })[0]).toContain('is 65 characters long; expected at most 64');
    expect(problemsOf({ seekList: 5 })).toEqual([
      'config.json: seekList: 5 is not a list; allowed affiliation group names ([A-Za-z0-9_-], at most 64 characters, case-insensitive) or *, separated by ";" or ","',
    ]);
  });

  it('normalises relays to host:port, accepting the URL form', () => {
    const result = validateSettingsInput(
      {
        failoverRelays: 'http://relay1.corp.example:52311/bfmirror/downloads/;relay2.corp.example, [2001:db8::5]:8080',
        rootServer: 'root.corp.example:52311',
      },
      'x',
    );
    expect(result).toEqual({
      ok: true,
      value: {
        failoverRelays: ['relay1.corp.example:52311', 'relay2.corp.example:52311', '[2001:db8::5]:8080'],
        rootServer: 'root.corp.example:52311',
      },
    });
    expect(normalizeRelayAddress('2001:db8::7')).toBe('[2001:db8::7]:52311');
    expect(problemsOf({ manualRelays: ['relay:99999'] })).toEqual([
      'config.json: manualRelays: "relay:99999": port 99999 is out of range; expected 1..65535',
    ]);
  });

  it('checks the registration URL template', () => {
    expect(problemsOf({ register: { url: 'https://{host}:{port}/register' } })).toEqual([]);
    expect(problemsOf({ register: { url: '{scheme}://{hots}/x' } })[0]).toBe(
      'config.json: register.url: "{scheme}://{hots}/x" has the unknown placeholder {hots}; allowed an http(s) URL; {scheme}, {host} and {port} are filled in',
    );
    expect(problemsOf({ register: { url: 'ftp://{host}/' } })[0]).toContain('is not an http(s) URL template');
  });

  it('rejects empty paths and a non-object', () => {
    expect(problemsOf({ relayList: '' })).toEqual(['config.json: relayList: "" is empty; allowed a file path']);
    expect(problemsOf([1, 2])).toEqual([
      'config.json: settings: [1,2] is not an object; expected an object of settings',
    ]);
    expect(problemsOf({ probe: 3 })).toEqual([
      'config.json: probe: 3 is not an object; expected an object of settings',
    ]);
  });

  it('labels each problem by setting when the label is a function', () => {
    const result = validateSettingsInput({ probe: { burst: 0 } }, (path) => `--set ${path}`);
    expect(result.ok ? [] : result.problems.map((problem) => problem.message)).toEqual([
      '--set probe.burst: probe.burst: 0 is out of range; allowed 1..10000',
    ]);
  });
});
