/**
 * The line rules of the text form (DESIGN §3, relay-select.dat(5)): `host[:port] [key=value ...]`, one
 * relay per line, `#` comments. Each line is read with the LineScanner; a bad line is reported and
 * skipped, never fatal.
 */
import { parseAffiliation } from './groups.js';
import { describePortProblem, readPort, scanHostSpec } from './host-port.js';
import { CHAR, LineScanner, exceedsUtf8Bytes, indexOfCode } from './line-scanner.js';
import type { ParseContext } from './parse-context.js';
import { hashHost } from './relay-index.js';
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT, type Relay } from './relay.js';

/** Largest priority or weight; keeps a sum of a million weights an exact double. */
export const MAX_PRIORITY_OR_WEIGHT = 1_000_000_000;

/** The keys of a relay line, indexed by {@link Key}. */
export const KEY_NAMES = ['port', 'affiliation', 'priority', 'weight', 'name', 'autoselect'] as const;
const KNOWN_KEYS = KEY_NAMES.join(', ');
export const LINE_FORM = 'host[:port] [key=value ...]';

/** Keys as small integers, so a line can track the keys it has seen in one bit set. */
const Key = { Port: 0, Affiliation: 1, Priority: 2, Weight: 3, Name: 4, Autoselect: 5, Unknown: 6 } as const;
type Key = (typeof Key)[keyof typeof Key];
const MAX_KEY_CHARS = KEY_NAMES.reduce((longest, name) => Math.max(longest, name.length), 0);

/** Parses every line of `text` from `start`. */
export function parseTextLines(text: string, start: number, context: ParseContext): void {
  context.expectRelays(countLines(text, start));
  const scanner = new LineScanner(text);
  // One record for every line: a fresh object per line is a million allocations on a big list.
  const fields: LineFields = {
    port: undefined,
    groups: [],
    priority: 0,
    weight: DEFAULT_RELAY_WEIGHT,
    name: undefined,
    autoselect: true,
  };
  let lineStart = start;
  let line = 0;
  for (;;) {
    let newline = text.indexOf('\n', lineStart);
    if (newline === -1) newline = text.length;
    line++;
    const lineEnd =
      newline > lineStart && text.charCodeAt(newline - 1) === CHAR.CARRIAGE_RETURN ? newline - 1 : newline;
    scanner.startLine(lineStart, lineEnd);
    if (!parseLine(scanner, fields, line, context)) return;
    if (newline === text.length) return;
    lineStart = newline + 1;
  }
}

function countLines(text: string, start: number): number {
  let lines = 1;
  for (let index = text.indexOf('\n', start); index !== -1; index = text.indexOf('\n', index + 1)) lines++;
  return lines;
}

/** The fields of a relay line as read so far. */
interface LineFields {
  port: number | undefined;
  groups: string[];
  priority: number;
  weight: number;
  name: string | undefined;
  autoselect: boolean;
}

/**
 * One line: skipped when blank or a comment; a relay, or an error diagnostic and no relay.
 * @returns false when parsing must stop (the relay limit is reached).
 */
function parseLine(scanner: LineScanner, fields: LineFields, line: number, context: ParseContext): boolean {
  const { text, lineStart, lineEnd } = scanner;
  const maxLineBytes = context.limits.maxLineBytes;
  if (lineEnd - lineStart > maxLineBytes / 3 && exceedsUtf8Bytes(text, lineStart, lineEnd, maxLineBytes)) {
    const bytes = Buffer.byteLength(text.slice(lineStart, lineEnd), 'utf8');
    context.report('error', line, 1, `line is ${bytes} bytes long; expected at most ${maxLineBytes} bytes`);
    return true;
  }
  if (scanner.atLineEnd()) return true;

  const hostStart = scanner.position;
  const hostEnd = scanner.skipToken();
  if (indexOfCode(text, CHAR.EQUALS, hostStart, hostEnd) !== -1)
    return skipLine(
      scanner,
      line,
      context,
      hostStart,
      `line starts with "${text.slice(hostStart, hostEnd)}"; expected ${LINE_FORM}`,
    );
  const spec = scanHostSpec(text, hostStart, hostEnd, context.ipv6Words);
  if ('error' in spec) return skipLine(scanner, line, context, spec.offset, spec.error);
  const hostHash = hashHost(spec.host, spec.ipv6, context.ipv6Words);

  fields.port = spec.port;
  fields.groups = [];
  fields.priority = 0;
  fields.weight = DEFAULT_RELAY_WEIGHT;
  fields.name = undefined;
  fields.autoselect = true;
  let seenKeys = 0;
  while (!scanner.atLineEnd()) {
    const problem = scanner.readKeyValue(KNOWN_KEYS);
    if (problem !== undefined) return skipLine(scanner, line, context, scanner.errorOffset, problem);
    const { keyStart, keyEnd } = scanner;
    const key = identifyKey(text, keyStart, keyEnd);
    if (key === Key.Unknown) {
      context.report(
        'warning',
        line,
        scanner.column(keyStart),
        `unknown key "${text.slice(keyStart, keyEnd)}" ignored; expected one of ${KNOWN_KEYS}`,
      );
      continue;
    }
    if ((seenKeys & (1 << key)) !== 0) {
      context.report(
        'warning',
        line,
        scanner.column(keyStart),
        `key "${text.slice(keyStart, keyEnd)}" given twice on this line; the last value is used`,
      );
    }
    seenKeys |= 1 << key;
    const error = applyKey(key, scanner, spec.port, fields, context);
    if (error !== undefined) return skipLine(scanner, line, context, error.offset, error.message);
  }

  const relay: Relay = {
    host: spec.host,
    port: fields.port ?? DEFAULT_RELAY_PORT,
    groups: fields.groups,
    priority: fields.priority,
    weight: fields.weight,
    source: { file: context.file, line },
  };
  if (fields.name !== undefined) relay.name = fields.name;
  if (!fields.autoselect) relay.autoselect = false;
  const outcome = context.addRelay(relay, hostHash);
  return outcome === 'added' || context.reportNotAdded(outcome, relay, line, scanner.column(hostStart), `line ${line}`);
}

/** Reports why the line is skipped, at `offset`; parsing goes on with the next line. */
function skipLine(scanner: LineScanner, line: number, context: ParseContext, offset: number, message: string): true {
  context.report('error', line, scanner.column(offset), message);
  return true;
}

/** Keys are case-insensitive; the slow path runs only for keys not written in lower case. */
function identifyKey(text: string, start: number, end: number): Key {
  const length = end - start;
  for (let key = 0; key < KEY_NAMES.length; key++) {
    const name = KEY_NAMES[key] as string;
    if (name.length === length && text.startsWith(name, start)) return key as Key;
  }
  if (length > MAX_KEY_CHARS) return Key.Unknown;
  const key = KEY_NAMES.indexOf(text.slice(start, end).toLowerCase() as (typeof KEY_NAMES)[number]);
  return key === -1 ? Key.Unknown : (key as Key);
}

/**
 * The rule of one key: checks the value the scanner holds and stores it in `fields`.
 * @param hostPort the port written after the host, which `port=` must not contradict.
 */
function applyKey(
  key: Exclude<Key, typeof Key.Unknown>,
  scanner: LineScanner,
  hostPort: number | undefined,
  fields: LineFields,
  context: ParseContext,
): { offset: number; message: string } | undefined {
  const { text, valueStart, valueEnd } = scanner;
  switch (key) {
    case Key.Port: {
      const port = readPort(text, valueStart, valueEnd);
      if (port === -1) return { offset: valueStart, message: describePortProblem(text.slice(valueStart, valueEnd)) };
      if (hostPort !== undefined && hostPort !== port)
        return {
          offset: valueStart,
          message: `port=${port} contradicts port ${hostPort} written after the host; expected one port`,
        };
      fields.port = port;
      return undefined;
    }
    case Key.Priority:
    case Key.Weight: {
      const count = readCount(text, valueStart, valueEnd);
      if (count < 0)
        return { offset: valueStart, message: describeCountProblem(KEY_NAMES[key], text.slice(valueStart, valueEnd)) };
      if (key === Key.Priority) fields.priority = count;
      else fields.weight = count;
      return undefined;
    }
    case Key.Affiliation: {
      const value = text.slice(valueStart, valueEnd);
      const cached = context.groupsByValue.get(value);
      if (cached !== undefined) {
        fields.groups = cached;
        return undefined;
      }
      const groups = parseAffiliation(value);
      if (!Array.isArray(groups)) return { offset: valueStart + groups.offset, message: groups.error };
      context.cacheGroups(value, groups);
      fields.groups = groups;
      return undefined;
    }
    case Key.Name: {
      if (valueEnd === valueStart) return { offset: valueStart, message: 'name is empty; expected a display label' };
      fields.name = text.slice(valueStart, valueEnd);
      return undefined;
    }
    case Key.Autoselect: {
      const value = readSwitch(text.slice(valueStart, valueEnd));
      if (value === undefined)
        return { offset: valueStart, message: describeSwitchProblem('autoselect', text.slice(valueStart, valueEnd)) };
      fields.autoselect = value;
      return undefined;
    }
  }
}

/** `true`/`false` (also `yes`/`no`, `1`/`0`, any case), as the vendor tools write a switch; undefined otherwise. */
export function readSwitch(text: string): boolean | undefined {
  switch (text.toLowerCase()) {
    case 'true':
    case 'yes':
    case '1':
      return true;
    case 'false':
    case 'no':
    case '0':
      return false;
    default:
      return undefined;
  }
}

export function describeSwitchProblem(field: string, text: string): string {
  return text === ''
    ? `${field} is empty; expected true or false`
    : `${field} "${text}" is not valid; expected true or false`;
}

/**
 * Reads a non-negative decimal integer in `text[start, end)`.
 * @returns the value, or -1 when not an integer in 0..MAX_PRIORITY_OR_WEIGHT.
 */
function readCount(text: string, start: number, end: number): number {
  if (end <= start || end - start > 10) return -1;
  let value = 0;
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return -1;
    value = value * 10 + (code - 48);
  }
  return value <= MAX_PRIORITY_OR_WEIGHT ? value : -1;
}

function describeCountProblem(field: string, text: string): string {
  if (text === '') return `${field} is empty; expected an integer >= 0`;
  if (/^[0-9]+$/.test(text)) return `${field} ${text} is too large; expected an integer 0..${MAX_PRIORITY_OR_WEIGHT}`;
  return `${field} "${text}" is not valid; expected an integer >= 0`;
}
