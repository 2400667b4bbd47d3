import { z } from 'zod';
import { parseGroupName } from '../relays/groups.js';
import {
  CLIENT_ID_PATTERN,
  checkUrlTemplate,
  describePathProblem,
  describeRetryOrderProblem,
  labelFunction,
  normalizeRelayAddress,
  splitList,
  type SourceLabel,
} from './setting-checks.js';
import {
  MAX_CLIENT_ID_CHARS,
  SETTING_DOCS,
  assignAtPath,
  findSettingDoc,
  valueAtPath,
  type SettingDoc,
} from './setting-docs.js';
import type {
  IpMode,
  PeerSettings,
  ProbeSettings,
  ProfileName,
  RegisterSettings,
  TieBreak,
  TlsSettings,
} from './settings.js';

export { normalizeRelayAddress } from './setting-checks.js';

/** A list setting as a person writes it: an array, or one string separated by `;` or `,`. */
type ListInput = string | readonly string[];

/** Settings as written in one source (file, clientsettings.cfg, environment, flags): every key optional. */
export interface SettingsInput {
  profile?: ProfileName;
  maximumTtlToPing?: number;
  resistFailureIntervalSeconds?: number;
  minRetryIntervalSeconds?: number;
  maxRetryIntervalSeconds?: number;
  intervalSeconds?: number;
  seekList?: ListInput;
  failoverRelays?: ListInput;
  automatic?: boolean;
  manualRelays?: ListInput;
  rootServer?: string;
  ipMode?: IpMode;
  relayList?: string;
  stateDir?: string;
  clientId?: string;
  tieBreak?: TieBreak;
  jitter?: number;
  switchMarginHops?: number;
  metricsFile?: string;
  probe?: Partial<ProbeSettings>;
  register?: Partial<Omit<RegisterSettings, 'tls'>> & { tls?: Partial<TlsSettings> };
  peer?: Partial<PeerSettings>;
}

/** One source's settings after validation: lists split and normalised, hosts as `host:port`. */
export interface SettingsLayer extends Omit<SettingsInput, 'seekList' | 'failoverRelays' | 'manualRelays'> {
  seekList?: string[];
  failoverRelays?: string[];
  manualRelays?: string[];
}

/** One problem with a setting, as a one-line message that starts with its source. */
export interface SettingProblem {
  /** Dotted setting path (`probe.timeoutMs`), or the unknown name as written. */
  path: string;
  message: string;
}

function listSchema(normalizeItem: (item: string) => string | { error: string }) {
  return z.unknown().transform((value, context): string[] => {
    const items = splitList(value);
    if (items === undefined) {
      context.addIssue({ code: z.ZodIssueCode.custom, message: `${formatValue(value)} is not a list` });
      return z.NEVER;
    }
    const result: string[] = [];
    for (const item of items) {
      const normalized = normalizeItem(item);
      if (typeof normalized !== 'string') {
        context.addIssue({ code: z.ZodIssueCode.custom, message: normalized.error });
        return z.NEVER;
      }
      if (!result.includes(normalized)) result.push(normalized);
    }
    return result;
  });
}

function leafSchema(doc: SettingDoc): z.ZodTypeAny {
  switch (doc.kind) {
    case 'integer':
      return z
        .number()
        .int()
        .min(doc.min ?? 0)
        .max(doc.max ?? Number.MAX_SAFE_INTEGER);
    case 'number':
      return z
        .number()
        .finite()
        .min(doc.min ?? 0)
        .max(doc.max ?? Number.MAX_VALUE);
    case 'boolean':
      return z.boolean();
    case 'choice':
      return z.enum(doc.choices as [string, ...string[]]);
    case 'group-list':
      return listSchema((item) => parseGroupName(item));
    case 'relay-list':
      return listSchema(normalizeRelayAddress);
    case 'relay':
      return z.string().transform((value, context) => {
        const normalized = normalizeRelayAddress(value);
        if (typeof normalized === 'string') return normalized;
        context.addIssue({ code: z.ZodIssueCode.custom, message: normalized.error });
        return z.NEVER;
      });
    case 'path':
    case 'command':
      return z.string().superRefine((value, context) => {
        const problem = describePathProblem(value);
        if (problem !== undefined)
          context.addIssue({ code: z.ZodIssueCode.custom, message: `${formatValue(value)} ${problem}` });
      });
    case 'client-id':
      return z.string().max(MAX_CLIENT_ID_CHARS).regex(CLIENT_ID_PATTERN);
    case 'url-template':
      return z.string().superRefine((value, context) => {
        const problem = checkUrlTemplate(value);
        if (problem !== undefined) context.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      });
  }
}

function objectSchema(prefix: string): z.ZodObject<z.ZodRawShape, 'strict'> {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const doc of SETTING_DOCS) {
    if (!doc.path.startsWith(prefix)) continue;
    const rest = doc.path.slice(prefix.length);
    const dot = rest.indexOf('.');
    if (dot === -1) shape[rest] = leafSchema(doc).optional();
    else {
      const child = rest.slice(0, dot);
      shape[child] ??= objectSchema(`${prefix}${child}.`).optional();
    }
  }
  return z.object(shape).strict();
}

/** The schema of one source's settings. A name it does not know is an error, so typos never pass. */
export const settingsInputSchema = objectSchema('').superRefine((value, context) => {
  const problem = describeRetryOrderProblem(value.minRetryIntervalSeconds, value.maxRetryIntervalSeconds);
  if (problem !== undefined) {
    context.addIssue({ code: z.ZodIssueCode.custom, path: ['minRetryIntervalSeconds'], message: problem });
  }
});

/** A value as it appears in a message: strings quoted, numbers bare. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  // JSON has no words for a function or a symbol: their kind says enough.
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeValueProblem(doc: SettingDoc, value: unknown): string {
  switch (doc.kind) {
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'is not a number';
      if (doc.kind === 'integer' && !Number.isInteger(value)) return 'is not a whole number';
      return 'is out of range';
    case 'boolean':
      return 'is not true or false';
    case 'choice':
      return typeof value === 'string' ? 'is not allowed' : 'is not a string';
    default:
      if (typeof value !== 'string') return 'is not a string';
      return value.trim() === '' ? 'is empty' : 'is not valid';
  }
}

const ALL_PATHS = SETTING_DOCS.map((doc) => doc.path as string);

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known setting a misspelt name most likely meant: same letters in another case, or a close spelling. */
export function suggestSettingName(name: string): string | undefined {
  const squash = (text: string) => text.toLowerCase().replace(/[^a-z0-9.]/g, '');
  const wanted = squash(name);
  const exact = ALL_PATHS.find((path) => squash(path) === wanted);
  if (exact !== undefined) return exact;
  const lastPart = (path: string) => path.slice(path.lastIndexOf('.') + 1);
  const byLeaf = ALL_PATHS.find((path) => squash(lastPart(path)) === squash(lastPart(name)));
  if (byLeaf !== undefined) return byLeaf;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(wanted.length / 4)) + 1;
  for (const path of ALL_PATHS) {
    const distance = editDistance(wanted, squash(path));
    if (distance < bestDistance) [best, bestDistance] = [path, distance];
  }
  return best;
}

function describeUnknownSetting(path: string): string {
  const suggestion = suggestSettingName(path);
  if (suggestion === path) {
    const [group, ...rest] = path.split('.');
    return `unknown setting "${path}" (write it nested: {"${group}": {"${rest.join('.')}": ...}})`;
  }
  return suggestion === undefined
    ? `unknown setting "${path}"; see relay-select.conf(5) for the settings`
    : `unknown setting "${path}" (did you mean "${suggestion}"?)`;
}

function describeIssue(issue: z.ZodIssue, input: unknown): SettingProblem[] {
  const path = issue.path.join('.');
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return issue.keys.map((key) => {
      const fullPath = path === '' ? key : `${path}.${key}`;
      return { path: fullPath, message: describeUnknownSetting(fullPath) };
    });
  }
  const doc = findSettingDoc(path);
  const value = valueAtPath(input, issue.path);
  if (issue.code === z.ZodIssueCode.custom) {
    const allowed =
      doc === undefined || issue.message.includes('allowed') || issue.message.includes('expected')
        ? ''
        : `; allowed ${doc.range}`;
    return [{ path, message: `${path}: ${issue.message}${allowed}` }];
  }
  if (doc === undefined) {
    const subject = path === '' ? 'settings' : path;
    return [{ path, message: `${subject}: ${formatValue(value)} is not an object; expected an object of settings` }];
  }
  return [
    { path, message: `${path}: ${formatValue(value)} ${describeValueProblem(doc, value)}; allowed ${doc.range}` },
  ];
}

type ValidationResult = { ok: true; value: SettingsLayer } | { ok: false; problems: SettingProblem[] };

/**
 * Checks one source's settings. Never throws; every problem names the source, the setting, the value
 * and what is allowed, e.g. `config.json: maximumTtlToPing: 256 is out of range; allowed 1..255`.
 */
export function validateSettingsInput(input: unknown, sourceLabel: SourceLabel): ValidationResult {
  const result = settingsInputSchema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const labelOf = labelFunction(sourceLabel);
  const problems = result.error.issues
    .flatMap((issue) => describeIssue(issue, input))
    .map((problem) => ({ path: problem.path, message: `${labelOf(problem.path)}: ${problem.message}` }));
  return { ok: false, problems };
}

/**
 * Checks one setting's value alone (for clientsettings.cfg lines and environment variables).
 * @returns the normalised value, or the problem without the source and path, e.g.
 *   `256 is out of range; allowed 1..255`.
 */
export function checkSettingValue(path: string, value: unknown): { value: unknown } | { error: string } {
  const doc = findSettingDoc(path);
  if (doc === undefined) return { error: describeUnknownSetting(path) };
  const result = leafSchema(doc).safeParse(value);
  if (result.success) return { value: result.data };
  const input: Record<string, unknown> = {};
  assignAtPath(input, path, value);
  const [problem] = describeIssue({ ...result.error.issues[0]!, path: path.split('.') }, input);
  return { error: problem!.message.slice(path.length + 2) };
}
