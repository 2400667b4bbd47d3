/**
 * Checks of setting values that need no zod, and `acceptSettingsInput`, which takes one source's
 * settings when every one of them is valid. A cron run whose settings are all right thus never loads
 * zod; when anything is wrong (or of a kind this file does not know), the zod schema (schema.ts) checks
 * the same input again and says what is wrong, naming the setting, the value and the allowed range.
 * test/config/setting-checks.test.ts checks that whatever this accepts, the schema accepts with the
 * same result, and that it accepts every valid value the tests generate.
 */
import { parseGroupName } from '../relays/groups.js';
import { parseHostPort } from '../relays/host-port.js';
import { DEFAULT_RELAY_PORT, relayKey } from '../relays/relay.js';
import { MAX_CLIENT_ID_CHARS, SETTING_DOCS, type SettingDoc } from './setting-docs.js';
import { isPlainObject } from '../plain-object.js';

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
const URL_PLACEHOLDERS = ['{scheme}', '{host}', '{port}'] as const;

/** Splits `A;B,C` or takes an array; empty parts (a trailing `;`) are dropped. */
export function splitList(value: unknown): string[] | undefined {
  if (typeof value === 'string')
    return value
      .split(/[;,]/)
      .map((part) => part.trim())
      .filter((part) => part !== '');
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return value.map((item: string) => item.trim()).filter((item) => item !== '');
  }
  return undefined;
}

/** Parses one relay setting (`host`, `host:port`, `[v6]:port`, `http://host:52311/...`) into `host:port`. */
export function normalizeRelayAddress(text: string): string | { error: string } {
  const parsed = parseHostPort(text, DEFAULT_RELAY_PORT);
  if ('error' in parsed) return { error: `"${text.trim()}": ${parsed.error}` };
  return relayKey(parsed);
}

/** @returns what is wrong with a register URL template, or undefined when it is fine. */
export function checkUrlTemplate(template: string): string | undefined {
  let filled = template;
  for (const placeholder of URL_PLACEHOLDERS)
    filled = filled.split(placeholder).join(placeholder === '{port}' ? '1' : 'h');
  const leftover = /\{[^}]*\}/.exec(filled);
  if (leftover !== null) return `"${template}" has the unknown placeholder ${leftover[0]}`;
  try {
    const url = new URL(filled.replace(/^h:/, 'http:'));
    if (url.protocol === 'http:' || url.protocol === 'https:') return undefined;
  } catch {
    // Reported below with the template as written.
  }
  return `"${template}" is not an http(s) URL template`;
}

/** @returns what is wrong with a path or command setting (`is empty`, `contains a NUL character`), or undefined. */
export function describePathProblem(value: string): string | undefined {
  return value.trim() === '' ? 'is empty' : value.includes('\0') ? 'contains a NUL character' : undefined;
}

/** The cross-field rule, shared by one source's check and the check of the merged settings. */
export function describeRetryOrderProblem(minSeconds: unknown, maxSeconds: unknown): string | undefined {
  if (typeof minSeconds !== 'number' || typeof maxSeconds !== 'number' || minSeconds <= maxSeconds) return undefined;
  return `${minSeconds} is greater than maxRetryIntervalSeconds ${maxSeconds}; allowed minRetryIntervalSeconds <= maxRetryIntervalSeconds`;
}

/** The rule that `peer.enabled` needs `peer.keyFile`, checked on the merged settings. */
export function describePeerKeyProblem(enabled: unknown, keyFile: unknown): string | undefined {
  if (enabled !== true || (typeof keyFile === 'string' && keyFile.trim() !== '')) return undefined;
  return 'peer.enabled is true but peer.keyFile is not set; the peers authenticate every message with the key in that file';
}

/** Where a source's problem is reported: one label (a file), or one per setting (environment variables, flags). */
export type SourceLabel = string | ((path: string) => string);

export function labelFunction(label: SourceLabel): (path: string) => string {
  return typeof label === 'string' ? () => label : label;
}

/** Why a value is not accepted; never shown (the schema says what is wrong). */
const REFUSED = Symbol('refused');
type Refused = typeof REFUSED;

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && !Number.isNaN(value) && value >= min && value <= max;
}

function acceptList(value: unknown, normalizeItem: (item: string) => string | { error: string }): string[] | Refused {
  const items = splitList(value);
  if (items === undefined) return REFUSED;
  const result: string[] = [];
  for (const item of items) {
    const normalized = normalizeItem(item);
    if (typeof normalized !== 'string') return REFUSED;
    if (!result.includes(normalized)) result.push(normalized);
  }
  return result;
}

/** The value a setting of `doc` takes from `value`, as the schema's leaf gives it; REFUSED when invalid or unknown. */
function acceptLeaf(doc: SettingDoc, value: unknown): unknown {
  switch (doc.kind) {
    case 'integer':
      return isNumberIn(value, doc.min ?? 0, doc.max ?? Number.MAX_SAFE_INTEGER) && Number.isInteger(value)
        ? value
        : REFUSED;
    case 'number':
      return isNumberIn(value, doc.min ?? 0, doc.max ?? Number.MAX_VALUE) && Number.isFinite(value) ? value : REFUSED;
    case 'boolean':
      return typeof value === 'boolean' ? value : REFUSED;
    case 'choice':
      return typeof value === 'string' && doc.choices !== undefined && doc.choices.includes(value) ? value : REFUSED;
    case 'group-list':
      return acceptList(value, parseGroupName);
    case 'relay-list':
      return acceptList(value, normalizeRelayAddress);
    case 'relay': {
      if (typeof value !== 'string') return REFUSED;
      const normalized = normalizeRelayAddress(value);
      return typeof normalized === 'string' ? normalized : REFUSED;
    }
    case 'path':
    case 'command':
      return typeof value === 'string' && describePathProblem(value) === undefined ? value : REFUSED;
    case 'client-id':
      return typeof value === 'string' && value.length <= MAX_CLIENT_ID_CHARS && CLIENT_ID_PATTERN.test(value)
        ? value
        : REFUSED;
    case 'url-template':
      return typeof value === 'string' && checkUrlTemplate(value) === undefined ? value : REFUSED;
    default:
      return REFUSED;
  }
}

/** One level of the settings object (the top, `probe`, `register`, `register.tls`): its keys in the schema's order. */
interface SettingsLevel {
  keys: Map<string, { leaf: SettingDoc } | { level: SettingsLevel }>;
}

function buildLevel(prefix: string): SettingsLevel {
  const keys: SettingsLevel['keys'] = new Map();
  for (const doc of SETTING_DOCS) {
    if (!doc.path.startsWith(prefix)) continue;
    const rest = doc.path.slice(prefix.length);
    const dot = rest.indexOf('.');
    if (dot === -1) keys.set(rest, { leaf: doc });
    else if (!keys.has(rest.slice(0, dot)))
      keys.set(rest.slice(0, dot), { level: buildLevel(`${prefix}${rest.slice(0, dot)}.`) });
  }
  return { keys };
}

const TOP_LEVEL = buildLevel('');

/** A level of settings as the schema's strict object gives it (its keys in schema order), or REFUSED. */
function acceptLevel(level: SettingsLevel, value: unknown): Record<string, unknown> | Refused {
  if (!isPlainObject(value)) return REFUSED;
  for (const key of Object.keys(value)) if (!level.keys.has(key)) return REFUSED;
  const result: Record<string, unknown> = {};
  for (const [key, entry] of level.keys) {
    if (!(key in value)) continue;
    const item = value[key];
    // An optional key that is present but undefined stays, as zod keeps it.
    const accepted =
      item === undefined ? undefined : 'leaf' in entry ? acceptLeaf(entry.leaf, item) : acceptLevel(entry.level, item);
    if (accepted === REFUSED) return REFUSED;
    result[key] = accepted;
  }
  return result;
}

/**
 * One source's settings (a config file, clientsettings.cfg values, the environment, the flags) when
 * every setting in it is valid: lists split and normalised, hosts as `host:port`, exactly what
 * `validateSettingsInput` (schema.ts) returns for it. Undefined when anything is invalid or unknown:
 * then `validateSettingsInput` names the problem.
 */
export function acceptSettingsInput(input: unknown): Record<string, unknown> | undefined {
  const accepted = acceptLevel(TOP_LEVEL, input);
  if (
    accepted === REFUSED ||
    describeRetryOrderProblem(accepted.minRetryIntervalSeconds, accepted.maxRetryIntervalSeconds) !== undefined
  )
    return undefined;
  return accepted;
}
