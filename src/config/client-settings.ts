import type { Diagnostic } from '../relays/relay.js';
import { checkSettingValue, type SettingsInput } from './schema.js';
import { findSettingDoc, type SettingPath } from './setting-docs.js';

/** How a clientsettings.cfg value becomes a setting value. */
type ClientValueKind = 'whole-number' | 'list' | 'relay' | 'automatic' | 'ip-mode';

/** One BigFix client setting relay-select understands. */
interface ClientSettingName {
  /** The name as BigFix spells it; matched case-insensitively. */
  name: string;
  /** The relay-select setting it feeds. */
  setting: SettingPath;
  kind: ClientValueKind;
}

/**
 * The clientsettings.cfg names relay-select reads (DESIGN §4). Several names feeding one list setting
 * are combined in table order: `__RelayServer1`, `__RelayServer2`, then the tertiary list.
 */
export const CLIENT_SETTING_NAMES: readonly ClientSettingName[] = Object.freeze([
  { name: '_BESClient_RelaySelect_MaximumTTLToPing', setting: 'maximumTtlToPing', kind: 'whole-number' },
  { name: '_BESClient_RelaySelect_ResistFailureIntervalSeconds', setting: 'resistFailureIntervalSeconds', kind: 'whole-number' },
  { name: '_BESClient_RelaySelect_MinRetryIntervalSeconds', setting: 'minRetryIntervalSeconds', kind: 'whole-number' },
  { name: '_BESClient_RelaySelect_MaxRetryIntervalSeconds', setting: 'maxRetryIntervalSeconds', kind: 'whole-number' },
  { name: '_BESClient_RelaySelect_IntervalSeconds', setting: 'intervalSeconds', kind: 'whole-number' },
  { name: '_BESClient_Register_Affiliation_SeekList', setting: 'seekList', kind: 'list' },
  { name: '_BESClient_RelaySelect_FailoverRelay', setting: 'failoverRelays', kind: 'relay' },
  { name: '_BESClient_RelaySelect_FailoverRelayList', setting: 'failoverRelays', kind: 'list' },
  { name: '__RelaySelect_Automatic', setting: 'automatic', kind: 'automatic' },
  { name: '__RelayServer1', setting: 'manualRelays', kind: 'relay' },
  { name: '__RelayServer2', setting: 'manualRelays', kind: 'relay' },
  { name: '_BESClient_RelaySelect_TertiaryRelayList', setting: 'manualRelays', kind: 'list' },
  { name: '_BESClient_Comm_IPCommunicationsMode', setting: 'ipMode', kind: 'ip-mode' },
] satisfies ClientSettingName[]);

const NAMES_BY_KEY = new Map(CLIENT_SETTING_NAMES.map((entry, order) => [entry.name.toLowerCase(), { ...entry, order }]));

const IP_MODES: Readonly<Record<string, 'ipv4' | 'ipv6' | 'auto'>> = { onlyipv4: 'ipv4', onlyipv6: 'ipv6', auto: 'auto' };

export interface ParseClientSettingsOptions {
  /** Name used in diagnostics. @default 'clientsettings.cfg' */
  file?: string;
}

export interface ClientSettingsResult {
  values: SettingsInput;
  diagnostics: Diagnostic[];
}

interface Assignment {
  entry: ClientSettingName & { order: number };
  raw: string;
  line: number;
  valueColumn: number;
}

function closeKnownName(name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const entry of CLIENT_SETTING_NAMES) {
    const known = entry.name.toLowerCase();
    if (Math.abs(known.length - lower.length) > 2) continue;
    let differences = 0;
    // Cheap near-miss test: a typo in a long BigFix name changes few positions and keeps the prefix.
    const shorter = Math.min(known.length, lower.length);
    for (let index = 0; index < shorter && differences <= 2; index++) if (known[index] !== lower[index]) differences++;
    if (differences + Math.abs(known.length - lower.length) <= 2) return entry.name;
  }
  return undefined;
}

function unquote(text: string): { value: string; offset: number } {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return { value: text.slice(1, -1), offset: 1 };
  return { value: text, offset: 0 };
}

/**
 * Reads BigFix-style `name=value` lines. Names are case-insensitive; lines starting with `#` or `;` and
 * blank lines are ignored; a value may be in double quotes. Unknown names (a real file holds many
 * other client settings) are warnings; a bad value or a line that is not `name=value` is an error.
 * Never throws.
 */
export function parseClientSettings(text: string, options: ParseClientSettingsOptions = {}): ClientSettingsResult {
  const file = options.file ?? 'clientsettings.cfg';
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic['severity'], line: number, column: number, message: string) =>
    diagnostics.push({ severity, file, line, column, message });
  const assignments = new Map<string, Assignment>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((lineText, index) => {
    const line = index + 1;
    const trimmed = lineText.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const nameColumn = lineText.length - lineText.trimStart().length + 1;
    const equals = lineText.indexOf('=');
    if (equals === -1) {
      report('error', line, nameColumn, `"${trimmed.slice(0, 60)}" is not a setting; expected name=value`);
      return;
    }
    const name = lineText.slice(0, equals).trim();
    if (name === '') {
      report('error', line, nameColumn, 'the setting name is empty; expected name=value');
      return;
    }
    const entry = NAMES_BY_KEY.get(name.toLowerCase());
    if (entry === undefined) {
      const suggestion = closeKnownName(name);
      if (suggestion !== undefined) report('warning', line, nameColumn, `unknown setting "${name}" is ignored (did you mean "${suggestion}"?)`);
      else report('warning', line, nameColumn, `unknown setting "${name}" is ignored`);
      return;
    }
    const afterEquals = lineText.slice(equals + 1);
    const { value: raw, offset } = unquote(afterEquals.trim());
    const valueColumn = equals + 2 + (afterEquals.length - afterEquals.trimStart().length) + offset;
    const previous = assignments.get(entry.name);
    if (previous !== undefined) {
      report('warning', line, nameColumn, `${entry.name} is set again; the value of line ${previous.line} is replaced`);
    }
    assignments.set(entry.name, { entry, raw, line, valueColumn });
  });

  const values: Record<string, unknown> = {};
  const ordered = [...assignments.values()].sort((a, b) => a.entry.order - b.entry.order);
  for (const assignment of ordered) {
    const converted = convertValue(assignment);
    if ('error' in converted) {
      report('error', assignment.line, assignment.valueColumn, `${assignment.entry.name}: ${converted.error}`);
      continue;
    }
    const { setting } = assignment.entry;
    if (assignment.entry.kind === 'list' || assignment.entry.kind === 'relay') {
      const list = (values[setting] as string[] | undefined) ?? [];
      for (const item of converted.value as string[]) if (!list.includes(item)) list.push(item);
      values[setting] = list;
    } else {
      values[setting] = converted.value;
    }
  }
  diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return { values: values as SettingsInput, diagnostics };
}

function convertValue({ entry, raw }: Assignment): { value: unknown } | { error: string } {
  switch (entry.kind) {
    case 'whole-number': {
      const range = findSettingDoc(entry.setting)?.range ?? '';
      if (!/^[+-]?\d{1,15}$/.test(raw)) return { error: `"${raw}" is not a whole number; expected ${range}` };
      const number = Number(raw);
      const checked = checkSettingValue(entry.setting, number);
      return 'error' in checked ? { error: `${number} is out of range; expected ${range}` } : checked;
    }
    case 'automatic': {
      const lower = raw.toLowerCase();
      if (lower === '1' || lower === 'true') return { value: true };
      if (lower === '0' || lower === 'false') return { value: false };
      return { error: `"${raw}" is not 0 or 1; expected 1 (automatic selection) or 0 (manual relays)` };
    }
    case 'ip-mode': {
      const mode = IP_MODES[raw.toLowerCase()];
      return mode === undefined ? { error: `"${raw}" is not a mode; expected OnlyIpv4, OnlyIpv6 or Auto` } : { value: mode };
    }
    case 'relay':
      // One relay per name: a `;` inside would be a list in a single-relay setting.
      if (raw === '') return { value: [] };
      return checkSettingValue(entry.setting, [raw]);
    case 'list':
      return checkSettingValue(entry.setting, raw);
  }
}
