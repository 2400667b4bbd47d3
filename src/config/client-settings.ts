import type { Diagnostic } from '../relays/relay.js';
import { checkSettingValue, editDistance, type SettingsInput } from './schema.js';
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
  {
    name: '_BESClient_RelaySelect_ResistFailureIntervalSeconds',
    setting: 'resistFailureIntervalSeconds',
    kind: 'whole-number',
  },
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

const NAMES_BY_KEY = new Map(
  CLIENT_SETTING_NAMES.map((entry, order) => [entry.name.toLowerCase(), { ...entry, order }]),
);

const IP_MODES: Readonly<Record<string, 'ipv4' | 'ipv6' | 'auto'>> = {
  onlyipv4: 'ipv4',
  onlyipv6: 'ipv6',
  auto: 'auto',
};

export interface ParseClientSettingsOptions {
  /** Name used in diagnostics. @default 'clientsettings.cfg' */
  file?: string;
}

export interface ClientSettingsResult {
  values: SettingsInput;
  diagnostics: Diagnostic[];
  /** The form the text was read as. */
  form: ClientSettingsForm;
  /** The vendor's other settings, passed over quietly (not relay selection, not a near miss of it). */
  ignored: number;
  /** Relay-selection names read. */
  read: number;
}

interface Assignment {
  entry: ClientSettingName & { order: number };
  raw: string;
  line: number;
  valueColumn: number;
}

/**
 * The known name a misspelt one most likely meant. A real clientsettings.cfg holds dozens of the vendor's
 * other settings (`_BESClient_Resource_WorkIdle`, `_BESClient_Log_Days`, …): those are far from every
 * relay-selection name and are ignored quietly; only a name within a few edits of a known one (a typo) is
 * worth a warning. Names compare case-insensitively, as the client reads them.
 */
export function suggestClientSettingName(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const entry of CLIENT_SETTING_NAMES) {
    const known = entry.name.toLowerCase();
    // One typo per eight characters, at most three: `_BESClient_RelaySelect_IntervalSeconds` and the
    // vendor's `_BESClient_Register_IntervalSeconds`-like names stay apart.
    const allowed = Math.min(MAX_TYPO_EDITS, Math.floor(known.length / CHARACTERS_PER_TYPO));
    if (Math.abs(known.length - lower.length) > allowed) continue;
    const distance = editDistance(lower, known);
    if (distance > 0 && distance <= allowed && distance < bestDistance) [best, bestDistance] = [entry.name, distance];
  }
  return best;
}

const MAX_TYPO_EDITS = 3;
const CHARACTERS_PER_TYPO = 8;

function unquote(text: string): { value: string; offset: number } {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return { value: text.slice(1, -1), offset: 1 };
  return { value: text, offset: 0 };
}

/** Which of the vendor's two on-disk forms a text is: `name=value` lines, or besclient.config INI sections. */
export type ClientSettingsForm = 'clientsettings.cfg' | 'besclient.config';

/** The INI form starts with a `[section]` line (after blank lines and comments). */
export function detectClientSettingsForm(text: string): ClientSettingsForm {
  for (const line of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    return trimmed.startsWith('[') ? 'besclient.config' : 'clientsettings.cfg';
  }
  return 'clientsettings.cfg';
}

/** One `name = value` as read from either form, with where the name and the value stand. */
interface RawSetting {
  name: string;
  nameLine: number;
  nameColumn: number;
  raw: string;
  line: number;
  valueColumn: number;
}

interface ReadSettings {
  settings: RawSetting[];
  /** Lines that are neither a setting nor allowed noise (errors of the form itself). */
  problems: Array<{ line: number; column: number; message: string }>;
}

/** `name=value` lines: clientsettings.cfg as the install scripts write it. */
function readNameValueLines(lines: string[]): ReadSettings {
  const settings: RawSetting[] = [];
  const problems: ReadSettings['problems'] = [];
  lines.forEach((lineText, index) => {
    const line = index + 1;
    const trimmed = lineText.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const nameColumn = lineText.length - lineText.trimStart().length + 1;
    const equals = lineText.indexOf('=');
    if (equals === -1) {
      problems.push({
        line,
        column: nameColumn,
        message: `"${trimmed.slice(0, 60)}" is not a setting; expected name=value`,
      });
      return;
    }
    const name = lineText.slice(0, equals).trim();
    if (name === '') {
      problems.push({ line, column: nameColumn, message: 'the setting name is empty; expected name=value' });
      return;
    }
    const afterEquals = lineText.slice(equals + 1);
    const { value: raw, offset } = unquote(afterEquals.trim());
    const valueColumn = equals + 2 + (afterEquals.length - afterEquals.trimStart().length) + offset;
    settings.push({ name, nameLine: line, nameColumn, raw, line, valueColumn });
  });
  return { settings, problems };
}

/** The section of one client setting in besclient.config; the setting's name follows it. */
const CLIENT_SETTING_SECTION = /^software\\bigfix\\enterpriseclient\\settings\\client\\(.+)$/i;

/**
 * besclient.config, the form the vendor's Linux client keeps on disk: a section
 * `[Software\BigFix\EnterpriseClient\Settings\Client\NAME]` per setting, holding `value = …` (and an
 * `effective date = …` this import has no use for). Other sections (the client's own paths, its
 * GlobalOptions) are not settings and are passed over. Values are percent-encoded as the client writes them.
 */
function readBesclientConfig(lines: string[]): ReadSettings {
  const settings: RawSetting[] = [];
  const problems: ReadSettings['problems'] = [];
  let section: { name: string; line: number; nameColumn: number } | null = null;
  lines.forEach((lineText, index) => {
    const line = index + 1;
    const trimmed = lineText.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return;
    const indent = lineText.length - lineText.trimStart().length;
    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']')) {
        problems.push({
          line,
          column: indent + 1,
          message: `"${trimmed.slice(0, 60)}" has no closing "]"; expected [Software\\BigFix\\EnterpriseClient\\Settings\\Client\\NAME]`,
        });
        section = null;
        return;
      }
      const match = CLIENT_SETTING_SECTION.exec(trimmed.slice(1, -1).trim());
      const nameOffset = match === null ? 0 : trimmed.indexOf(match[1]!);
      section = match === null ? null : { name: match[1]!.trim(), line, nameColumn: indent + nameOffset + 1 };
      return;
    }
    const equals = lineText.indexOf('=');
    if (equals === -1) {
      problems.push({
        line,
        column: indent + 1,
        message: `"${trimmed.slice(0, 60)}" is not a key; expected key = value inside a [section]`,
      });
      return;
    }
    if (section === null || lineText.slice(0, equals).trim().toLowerCase() !== 'value') return;
    const afterEquals = lineText.slice(equals + 1);
    const written = afterEquals.trim();
    const valueColumn = equals + 2 + (afterEquals.length - afterEquals.trimStart().length);
    settings.push({
      name: section.name,
      nameLine: section.line,
      nameColumn: section.nameColumn,
      raw: decodePercentEscapes(written),
      line,
      valueColumn,
    });
  });
  return { settings, problems };
}

/** `%20` → space; a `%` not followed by two hex digits stays as written. */
function decodePercentEscapes(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/**
 * Reads the vendor's client settings in either form (auto-detected, {@link detectClientSettingsForm}):
 * `name=value` lines (clientsettings.cfg), or besclient.config's INI sections. Names are case-insensitive;
 * lines starting with `#` or `;` and blank lines are ignored; a clientsettings.cfg value may be in double
 * quotes. The vendor's other settings are ignored quietly (counted in `ignored`); a name within a few edits
 * of a relay-selection name is a warning (a typo); a bad value or a line of neither form is an error.
 * Never throws.
 */
export function parseClientSettings(text: string, options: ParseClientSettingsOptions = {}): ClientSettingsResult {
  const file = options.file ?? 'clientsettings.cfg';
  const diagnostics: Diagnostic[] = [];
  const report = (severity: Diagnostic['severity'], line: number, column: number, message: string) =>
    diagnostics.push({ severity, file, line, column, message });
  const form = detectClientSettingsForm(text);
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const read = form === 'besclient.config' ? readBesclientConfig(lines) : readNameValueLines(lines);
  for (const problem of read.problems) report('error', problem.line, problem.column, problem.message);
  const assignments = new Map<string, Assignment>();
  let ignored = 0;
  for (const { name, nameLine, nameColumn, raw, line, valueColumn } of read.settings) {
    const entry = NAMES_BY_KEY.get(name.toLowerCase());
    if (entry === undefined) {
      const suggestion = suggestClientSettingName(name);
      if (suggestion !== undefined)
        report('warning', nameLine, nameColumn, `unknown setting "${name}" is ignored (did you mean "${suggestion}"?)`);
      else ignored++;
      continue;
    }
    const previous = assignments.get(entry.name);
    if (previous !== undefined) {
      report(
        'warning',
        nameLine,
        nameColumn,
        `${entry.name} is set again; the value of line ${previous.line} is replaced`,
      );
    }
    assignments.set(entry.name, { entry, raw, line, valueColumn });
  }

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
  return { values, diagnostics, form, ignored, read: assignments.size };
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
      return mode === undefined
        ? { error: `"${raw}" is not a mode; expected OnlyIpv4, OnlyIpv6 or Auto` }
        : { value: mode };
    }
    case 'relay':
      // One relay per name: a `;` inside would be a list in a single-relay setting.
      if (raw === '') return { value: [] };
      return checkSettingValue(entry.setting, [raw]);
    case 'list':
      return checkSettingValue(entry.setting, raw);
  }
}
