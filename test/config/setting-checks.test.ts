/**
 * `acceptSettingsInput` lets a run with valid settings skip zod. It must never accept what the schema
 * refuses, must give exactly what the schema gives (lists normalised, key order), and should accept
 * every valid input, or the fast path is lost.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateSettingsInput } from '../../src/config/schema.js';
import { acceptSettingsInput } from '../../src/config/setting-checks.js';
import { SETTING_DOCS, assignAtPath, type SettingDoc } from '../../src/config/setting-docs.js';

/** Values for a setting of `doc`'s kind: mostly valid ones, and near misses. */
function valueOf(doc: SettingDoc): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...validValues(doc)), weight: 4 },
    { arbitrary: anyValueOf(doc), weight: 1 },
  );
}

function validValues(doc: SettingDoc): unknown[] {
  switch (doc.kind) {
    case 'integer':
    case 'number':
      return [doc.min ?? 0, doc.max ?? 1e9, Math.floor(((doc.min ?? 0) + (doc.max ?? 1e9)) / 2)];
    case 'boolean':
      return [true, false];
    case 'choice':
      return [...(doc.choices ?? [])];
    case 'group-list':
      return [['HQ', '*'], 'Branch-Lyon;DMZ', []];
    case 'relay-list':
      return [['relay.example', '[2001:db8::1]:52311'], 'a.example;b.example:1', []];
    case 'relay':
      return ['relay.example', 'http://root.example:52311/'];
    case 'path':
    case 'command':
      return ['/etc/relay-select/Relay.dat', 'relative/file'];
    case 'client-id':
      return ['endpoint-1'];
    case 'url-template':
      return ['{scheme}://{host}:{port}/relay-select/v1/register'];
    default:
      return [undefined];
  }
}

function anyValueOf(doc: SettingDoc): fc.Arbitrary<unknown> {
  const odd = fc.constantFrom<unknown>(
    null,
    undefined,
    '',
    ' ',
    'x',
    true,
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    [],
    {},
    ['a'],
    'a\u0000b',
  );
  switch (doc.kind) {
    case 'integer':
    case 'number': {
      const min = doc.min ?? 0;
      const max = doc.max ?? 1e9;
      return fc.oneof(
        fc.integer({ min, max }),
        fc.constantFrom(min, max, min - 1, max + 1, (min + max) / 2 + 0.5),
        fc.double({ min: min - 1, max: max + 1, noNaN: true }),
        fc.integer().map(String),
        odd,
      );
    }
    case 'boolean':
      return fc.oneof(fc.boolean(), fc.constantFrom('true', 1), odd);
    case 'choice':
      return fc.oneof(fc.constantFrom(...(doc.choices ?? [])), fc.constantFrom('Rounds', 'nope'), odd);
    case 'group-list':
      return fc.oneof(
        fc.array(fc.constantFrom('HQ', 'Branch-Lyon', '*', 'dmz', ' DMZ ', 'bad group', 'x'.repeat(65), ''), {
          maxLength: 4,
        }),
        fc.constantFrom('HQ;DMZ', 'Branch-Lyon,*', 'HQ;;', 'a b', ';'),
        odd,
      );
    case 'relay-list':
      return fc.oneof(
        fc.array(
          fc.constantFrom(
            'relay.example',
            'relay.example:52312',
            '[2001:db8::1]:52311',
            '198.18.0.1',
            'http://relay.example:52311/x',
            'bad host:x',
            '',
            '[::1',
          ),
          { maxLength: 4 },
        ),
        fc.constantFrom('a.example;b.example:1', 'a.example,a.example', 'host:99999'),
        odd,
      );
    case 'relay':
      return fc.oneof(
        fc.constantFrom('relay.example', '[2001:db8::1]:52311', 'http://root.example:52311/', 'host:0', '', 'a b'),
        odd,
      );
    case 'path':
    case 'command':
      return fc.oneof(
        fc.constantFrom('/etc/relay-select/Relay.dat', 'relative/file', 'C:\\x', '   ', 'a\u0000b', '/bin/true --flag'),
        fc.string(),
        odd,
      );
    case 'client-id':
      return fc.oneof(
        fc.constantFrom('endpoint-1', 'a.b:c_d-e', 'has space', 'x'.repeat(128), 'x'.repeat(129), 'é'),
        fc.string(),
        odd,
      );
    case 'url-template':
      return fc.oneof(
        fc.constantFrom(
          '{scheme}://{host}:{port}/relay-select/v1/register',
          'https://{host}/x',
          'ftp://{host}/',
          '{scheme}://{nope}/',
          'not a url',
        ),
        odd,
      );
    default:
      return odd;
  }
}

/** Inputs of one source: some settings (nested by their paths), sometimes a wrong shape or an unknown name. */
const settingsInput: fc.Arbitrary<unknown> = fc
  .tuple(
    fc
      .subarray([...SETTING_DOCS], { maxLength: 8 })
      .chain((docs) => fc.tuple(...docs.map((doc) => valueOf(doc).map((value) => [doc.path, value] as const)))),
    fc.constantFrom<unknown>(
      undefined,
      undefined,
      undefined,
      { probe: 5 },
      { register: { tls: null } },
      { colour: 'red' },
      { probe: { ratepps: 5 } },
      null,
      [],
      'text',
    ),
  )
  .map(([entries, oddity]) => {
    const input: Record<string, unknown> = {};
    for (const [path, value] of entries) assignAtPath(input, path, value);
    if (oddity === undefined) return input;
    return typeof oddity === 'object' && oddity !== null && !Array.isArray(oddity) ? { ...input, ...oddity } : oddity;
  });

describe('acceptSettingsInput', () => {
  it('accepts only what the schema accepts, and gives what it gives', () => {
    let accepted = 0;
    fc.assert(
      fc.property(settingsInput, (input) => {
        const quick = acceptSettingsInput(input);
        const checked = validateSettingsInput(input, 'config.json');
        // Every valid input is taken on the fast path; anything else goes to the schema.
        expect(quick !== undefined).toBe(checked.ok);
        if (quick === undefined || !checked.ok) return;
        accepted++;
        expect(quick).toEqual(checked.value);
        expect(JSON.stringify(quick)).toBe(JSON.stringify(checked.value));
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });

  it('normalises lists and hosts as the schema does', () => {
    const input = {
      seekList: 'HQ; Branch-Lyon ;*;hq',
      failoverRelays: ['relay.example', 'http://relay.example:52311/x', '[2001:db8::1]'],
      rootServer: 'root.example:1',
      probe: { timeoutMs: 500 },
    };
    const checked = validateSettingsInput(input, 'x');
    expect(checked.ok).toBe(true);
    expect(acceptSettingsInput(input)).toEqual(checked.ok ? checked.value : undefined);
    expect(acceptSettingsInput(input)).toEqual({
      seekList: ['hq', 'branch-lyon', '*'],
      failoverRelays: ['relay.example:52311', '[2001:db8::1]:52311'],
      rootServer: 'root.example:1',
      probe: { timeoutMs: 500 },
    });
  });

  it('leaves every problem to the schema: a bad value, an unknown name, min above max', () => {
    expect(acceptSettingsInput({ maximumTtlToPing: 256 })).toBeUndefined();
    expect(acceptSettingsInput({ probe: { ratepps: 5 } })).toBeUndefined();
    expect(acceptSettingsInput({ minRetryIntervalSeconds: 600, maxRetryIntervalSeconds: 60 })).toBeUndefined();
    expect(
      acceptSettingsInput(Object.assign(Object.create({ inherited: true }) as object, { jitter: 0.1 })),
    ).toBeUndefined();
  });
});
