import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLIENT_SETTING_NAMES,
  parseClientSettings,
  suggestClientSettingName,
} from '../../src/config/client-settings.js';
import { formatDiagnostic } from '../../src/relays/relay.js';

const file = 'clientsettings.cfg';
const messages = (text: string) => parseClientSettings(text, { file }).diagnostics.map(formatDiagnostic);

describe('parseClientSettings', () => {
  it('maps every BigFix name to its setting', () => {
    const text = [
      '# exported from the console',
      '_BESClient_RelaySelect_MaximumTTLToPing=20',
      '_besclient_relayselect_resistfailureintervalseconds = 1800',
      '_BESClient_RelaySelect_MinRetryIntervalSeconds=120',
      '_BESClient_RelaySelect_MaxRetryIntervalSeconds=3600',
      '_BESClient_RelaySelect_IntervalSeconds=0',
      '_BESClient_Register_Affiliation_SeekList=Branch-Lyon;HQ;*',
      '_BESClient_RelaySelect_FailoverRelay=http://failover.corp.example:52311/bfmirror/downloads/',
      '_BESClient_RelaySelect_FailoverRelayList=failover2.corp.example;198.18.100.9:52311',
      '__RelaySelect_Automatic=0',
      '__RelayServer1=http://relay1.corp.example:52311/bfmirror/downloads/',
      '__RelayServer2="relay2.corp.example"',
      '_BESClient_RelaySelect_TertiaryRelayList=relay3.corp.example;[2001:db8::3]:52311',
      '_BESClient_Comm_IPCommunicationsMode=OnlyIpv6',
      '',
      '; a comment in the other style',
    ].join('\r\n');
    const result = parseClientSettings(text, { file });
    expect(result.diagnostics).toEqual([]);
    expect(result.values).toEqual({
      maximumTtlToPing: 20,
      resistFailureIntervalSeconds: 1800,
      minRetryIntervalSeconds: 120,
      maxRetryIntervalSeconds: 3600,
      intervalSeconds: 0,
      seekList: ['branch-lyon', 'hq', '*'],
      failoverRelays: ['failover.corp.example:52311', 'failover2.corp.example:52311', '198.18.100.9:52311'],
      automatic: false,
      manualRelays: [
        'relay1.corp.example:52311',
        'relay2.corp.example:52311',
        'relay3.corp.example:52311',
        '[2001:db8::3]:52311',
      ],
      ipMode: 'ipv6',
    });
  });

  it('combines manual relays in table order whatever the line order', () => {
    const result = parseClientSettings('__RelayServer2=b.example\n__RelayServer1=a.example\n', { file });
    expect(result.values.manualRelays).toEqual(['a.example:52311', 'b.example:52311']);
  });

  it('reports a non-numeric MaximumTTLToPing at file:line:column with the range', () => {
    const text = '# relay selection\n\n_BESClient_RelaySelect_MaximumTTLToPing=abc\n';
    expect(messages(text)).toEqual([
      'clientsettings.cfg:3:41: error: _BESClient_RelaySelect_MaximumTTLToPing: "abc" is not a whole number; expected 1..255',
    ]);
    expect(parseClientSettings(text, { file }).values).toEqual({});
  });

  it('reports out-of-range numbers, a bad mode and a bad Automatic flag', () => {
    expect(messages('_BESClient_RelaySelect_MaximumTTLToPing=256')).toEqual([
      'clientsettings.cfg:1:41: error: _BESClient_RelaySelect_MaximumTTLToPing: 256 is out of range; expected 1..255',
    ]);
    expect(messages('  _BESClient_Comm_IPCommunicationsMode = Ipv4Only')).toEqual([
      'clientsettings.cfg:1:42: error: _BESClient_Comm_IPCommunicationsMode: "Ipv4Only" is not a mode; expected OnlyIpv4, OnlyIpv6 or Auto',
    ]);
    expect(messages('__RelaySelect_Automatic=2')).toEqual([
      'clientsettings.cfg:1:25: error: __RelaySelect_Automatic: "2" is not 0 or 1; expected 1 (automatic selection) or 0 (manual relays)',
    ]);
    expect(messages('_BESClient_Register_Affiliation_SeekList=HQ;Lyon Branch')).toEqual([
      'clientsettings.cfg:1:42: error: _BESClient_Register_Affiliation_SeekList: affiliation group "Lyon Branch" is not valid; expected letters, digits, "_" and "-" (at most 64 characters), or *',
    ]);
  });

  it("passes over the vendor's other names quietly, warns on near misses and on a repeated name", () => {
    const text = [
      '_BESClient_Download_RetryMinutes=5',
      '_BESClient_RelaySelect_MaximumTTLToPin=20',
      '_BESClient_RelaySelect_IntervalSeconds=100',
      '_BESClient_RelaySelect_IntervalSeconds=200',
    ].join('\n');
    const result = parseClientSettings(text, { file });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'clientsettings.cfg:2:1: warning: unknown setting "_BESClient_RelaySelect_MaximumTTLToPin" is ignored (did you mean "_BESClient_RelaySelect_MaximumTTLToPing"?)',
      'clientsettings.cfg:4:1: warning: _BESClient_RelaySelect_IntervalSeconds is set again; the value of line 3 is replaced',
    ]);
    expect(result.values).toEqual({ intervalSeconds: 200 });
    expect(result).toMatchObject({ ignored: 1, read: 1, form: 'clientsettings.cfg' });
  });

  it('reports a line that is not name=value', () => {
    expect(messages('# exported\nWorkIdle 20\n=5')).toEqual([
      'clientsettings.cfg:2:1: error: "WorkIdle 20" is not a setting; expected name=value',
      'clientsettings.cfg:3:1: error: the setting name is empty; expected name=value',
    ]);
  });

  it('exports the name table with unique names', () => {
    const names = CLIENT_SETTING_NAMES.map((entry) => entry.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('_besclient_relayselect_maximumttltoping');
  });
});

describe('parseClientSettings properties', () => {
  const numericNames = CLIENT_SETTING_NAMES.filter((entry) => entry.kind === 'whole-number').map((entry) => entry.name);
  const validLine = fc.oneof(
    fc
      .tuple(fc.constantFrom(...numericNames), fc.integer({ min: 1, max: 254 }))
      .map(([name, value]) => `${name}=${value}`),
    fc.constant('_BESClient_Register_Affiliation_SeekList=HQ;Branch-Lyon;*'),
    fc.constant('__RelayServer1=http://relay1.corp.example:52311/bfmirror/downloads/'),
    fc.constant('_BESClient_Comm_IPCommunicationsMode=Auto'),
    fc.constant('# comment'),
    fc.constant(''),
  );

  it('never throws on random text, and every diagnostic points inside the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        const result = parseClientSettings(text, { file });
        const lineCount = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).length;
        for (const diagnostic of result.diagnostics) {
          expect(diagnostic.line).toBeGreaterThanOrEqual(1);
          expect(diagnostic.line).toBeLessThanOrEqual(lineCount);
          expect(diagnostic.column).toBeGreaterThanOrEqual(1);
          expect(diagnostic.file).toBe(file);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('gives an error for every non-blank, non-comment line without "="', () => {
    const line = fc.oneof(fc.string({ maxLength: 40 }), validLine);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const clean = lines.map((text) => text.replace(/[\r\n\uFEFF]/g, ''));
        const result = parseClientSettings(clean.join('\n'), { file });
        clean.forEach((text, index) => {
          const trimmed = text.trim();
          if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';') || text.includes('=')) return;
          const errors = result.diagnostics.filter(
            (diagnostic) => diagnostic.line === index + 1 && diagnostic.severity === 'error',
          );
          expect(errors).toHaveLength(1);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('turns a valid file with one number mutated into non-digits into exactly that error', () => {
    const garbage = fc
      .string({ minLength: 1, maxLength: 8 })
      .filter((text) => !/^\s*[+-]?\d+\s*$/.test(text) && !/[\r\n"]/.test(text));
    fc.assert(
      fc.property(fc.array(validLine, { minLength: 1, maxLength: 10 }), fc.nat(), garbage, (lines, pick, bad) => {
        const numericIndexes = lines.flatMap((text, index) =>
          numericNames.some((name) => text.startsWith(`${name}=`)) ? [index] : [],
        );
        fc.pre(numericIndexes.length > 0);
        const target = numericIndexes[pick % numericIndexes.length]!;
        const name = lines[target]!.slice(0, lines[target]!.indexOf('='));
        // Keep only the mutated line for its name so a later valid duplicate cannot replace it.
        const mutated = lines
          .map((text, index) => (index === target ? `${name}=${bad}` : text))
          .filter((text, index) => index === target || !text.startsWith(`${name}=`));
        const result = parseClientSettings(mutated.join('\n'), { file });
        const line = mutated.indexOf(`${name}=${bad}`) + 1;
        const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
        expect(errors).toHaveLength(1);
        expect(errors[0]!.line).toBe(line);
        expect(errors[0]!.message.startsWith(`${name}: `)).toBe(true);
        expect(errors[0]!.message).toMatch(/is not a whole number; expected \d+\.\.\d+$/);
      }),
      { numRuns: 500 },
    );
  });
});

describe("a real client's settings: relay settings among the vendor's other settings", () => {
  const samples = new URL('../../relay-samples/', import.meta.url);
  const cfg = readFileSync(new URL('clientsettings.cfg', samples), 'utf8');
  const ini = readFileSync(new URL('besclient.config', samples), 'utf8');

  it('imports a full clientsettings.cfg (20+ unrelated vendor settings) without a single warning', () => {
    const result = parseClientSettings(cfg, { file: 'clientsettings.cfg' });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(result.form).toBe('clientsettings.cfg');
    expect(result.read).toBe(13);
    expect(result.ignored).toBeGreaterThanOrEqual(20);
    expect(result.values).toMatchObject({
      maximumTtlToPing: 16,
      seekList: ['branch-lyon', 'hq', '*'],
      intervalSeconds: 43_200,
    });
  });

  it('reads the same settings from besclient.config, detected by its first line, with the same result', () => {
    const fromIni = parseClientSettings(ini, { file: 'besclient.config' });
    const fromCfg = parseClientSettings(cfg, { file: 'clientsettings.cfg' });
    expect(fromIni.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(fromIni.form).toBe('besclient.config');
    expect(fromIni.values).toEqual(fromCfg.values);
    expect(fromIni.ignored).toBe(fromCfg.ignored);
    expect(fromIni.read).toBe(fromCfg.read);
  });

  it('points at the value line of a bad besclient.config value, and decodes percent escapes', () => {
    const text = [
      '[Software\\BigFix\\EnterpriseClient\\Settings\\Client\\_BESClient_RelaySelect_MaximumTTLToPing]',
      'effective date = Tue,%2014%20May%202024',
      'value = 300',
      '[Software\\BigFix\\EnterpriseClient\\Settings\\Client\\_BESClient_Register_Affiliation_SeekList]',
      'value = Branch%2DLyon;HQ',
    ].join('\n');
    const result = parseClientSettings(text, { file: 'besclient.config' });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'besclient.config:3:9: error: _BESClient_RelaySelect_MaximumTTLToPing: 300 is out of range; expected 1..255',
    ]);
    expect(result.values).toEqual({ seekList: ['branch-lyon', 'hq'] });
  });

  it('warns at the section name for a misspelt setting in besclient.config', () => {
    const text =
      '[Software\\BigFix\\EnterpriseClient\\Settings\\Client\\_BESClient_RelaySelect_IntervalSecnds]\nvalue = 60\n';
    expect(parseClientSettings(text, { file: 'besclient.config' }).diagnostics.map(formatDiagnostic)).toEqual([
      'besclient.config:1:51: warning: unknown setting "_BESClient_RelaySelect_IntervalSecnds" is ignored (did you mean "_BESClient_RelaySelect_IntervalSeconds"?)',
    ]);
  });

  it('suggests only near misses: a typo within a few edits, never another vendor setting', () => {
    expect(suggestClientSettingName('_BESClient_RelaySelect_MaximumTTLToPng')).toBe(
      '_BESClient_RelaySelect_MaximumTTLToPing',
    );
    expect(suggestClientSettingName('_BESClient_RelaySelect_MinRetryIntervalSecs')).toBe(
      '_BESClient_RelaySelect_MinRetryIntervalSeconds',
    );
    expect(suggestClientSettingName('__RelayServr1')).toBe('__RelayServer1');
    for (const line of cfg
      .split('\n')
      .filter((entry) => entry.startsWith('_') && !/RelaySelect|Affiliation|__Relay|IPCommunications/.test(entry))) {
      expect(suggestClientSettingName(line.split('=')[0]!)).toBeUndefined();
    }
    expect(suggestClientSettingName('_BESClient_Register_IntervalSeconds')).toBeUndefined();
  });
});
