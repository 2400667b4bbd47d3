/**
 * The JSON form of a relay list (DESIGN §3): an array of relay objects with the same fields as a
 * text line. Parsed with JSON.parse; each element is checked and placed at its line and column.
 */
import { canonicalGroups, parseAffiliation, parseGroupName } from './groups.js';
import { scanHostSpec } from './host-port.js';
import { CHAR, columnAt, locateOffset } from './line-scanner.js';
import type { ParseContext } from './parse-context.js';
import { hashHost } from './relay-index.js';
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT, type Relay } from './relay.js';
import { KEY_NAMES, MAX_PRIORITY_OR_WEIGHT } from './text-lines.js';

const JSON_FIELD_NAMES: readonly string[] = ['host', ...KEY_NAMES];
const JSON_FIELDS = JSON_FIELD_NAMES.join(', ');

/** Parses the JSON array that starts at `arrayStart`. */
export function parseJsonList(text: string, arrayStart: number, context: ParseContext): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const where = locateOffset(text, findJsonErrorOffset(message, text));
    // V8 quotes part of the input in some messages; the position says it better.
    const reason = message.replace(/, (\.\.\.)?".*$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    context.report(
      'error',
      where.line,
      where.column,
      `not valid JSON (${reason}); expected a JSON array of relay objects`,
    );
    context.rejected = true;
    return;
  }
  if (!Array.isArray(value)) {
    context.report('error', 1, 1, 'JSON value is not an array; expected a JSON array of relay objects');
    context.rejected = true;
    return;
  }
  if (value.length > context.limits.maxRelays) {
    context.report(
      'error',
      1,
      1,
      `${value.length} relays; expected at most ${context.limits.maxRelays} (split the list)`,
    );
    context.rejected = true;
    return;
  }
  const positions = locateJsonElements(text, arrayStart);
  context.expectRelays(value.length);
  for (let index = 0; index < value.length; index++) {
    const where = positions[index] ?? { line: 1, column: 1 };
    const read = readJsonRelay(value[index], index, where, context);
    if (read === undefined) continue;
    const outcome = context.addRelay(read.relay, read.hostHash);
    if (outcome !== 'added') context.reportNotAdded(outcome, read.relay, where.line, where.column, `index ${index}`);
  }
}

/**
 * Offset of a JSON syntax error, from V8's message: `at position N`, or for an unexpected token the
 * excerpt V8 quotes (10 characters of context either side, `...` where cut).
 */
function findJsonErrorOffset(message: string, text: string): number {
  const position = /at position (\d+)/.exec(message);
  if (position !== null) return Number(position[1]);
  if (message.includes('end of JSON input')) return text.length;
  const unexpected = /^Unexpected token '(.+?)', (\.\.\.)?"(.*)"(\.\.\.)? is not valid JSON$/s.exec(message);
  if (unexpected === null) return 0;
  const [, token = '', cutBefore, excerpt = '', cutAfter] = unexpected;
  const context = 10;
  if (cutBefore !== undefined) {
    const excerptStart = text.indexOf(excerpt);
    return excerptStart === -1 ? 0 : excerptStart + context;
  }
  if (cutAfter !== undefined) return Math.max(0, excerpt.length - context);
  return Math.max(0, text.indexOf(token));
}

function readJsonRelay(
  element: unknown,
  index: number,
  where: { line: number; column: number },
  context: ParseContext,
): { relay: Relay; hostHash: number } | undefined {
  const label = `relay [${index}]`;
  const fail = (message: string): undefined => {
    context.report('error', where.line, where.column, `${label}${message}`);
    return undefined;
  };
  if (typeof element !== 'object' || element === null || Array.isArray(element)) {
    return fail(` is ${describeJsonValue(element)}; expected an object with a "host" field`);
  }
  const fields = element as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!JSON_FIELD_NAMES.includes(key)) {
      context.report(
        'warning',
        where.line,
        where.column,
        `${label}: unknown field "${key}" ignored; expected one of ${JSON_FIELDS}`,
      );
    }
  }
  const hostValue = fields['host'];
  if (hostValue === undefined) return fail(` has no "host" field; expected a string like "relay.corp.example"`);
  if (typeof hostValue !== 'string') {
    return fail(`: field "host" is ${describeJsonValue(hostValue)}; expected a string like "relay.corp.example"`);
  }
  const spec = scanHostSpec(hostValue, 0, hostValue.length, context.ipv6Words);
  if ('error' in spec) return fail(`: field "host": ${spec.error}`);
  const hostHash = hashHost(spec.host, spec.ipv6, context.ipv6Words);

  let port = spec.port ?? DEFAULT_RELAY_PORT;
  const portValue = fields['port'];
  if (portValue !== undefined) {
    if (typeof portValue !== 'number' || !Number.isInteger(portValue) || portValue < 1 || portValue > 65535) {
      return fail(`: field "port" is ${describeJsonValue(portValue)}; expected an integer 1..65535`);
    }
    if (spec.port !== undefined && spec.port !== portValue) {
      return fail(`: field "port" (${portValue}) contradicts port ${spec.port} in "host"; expected one port`);
    }
    port = portValue;
  }

  let groups: string[] = [];
  const affiliation = fields['affiliation'];
  if (typeof affiliation === 'string') {
    const parsed = parseAffiliation(affiliation);
    if (!Array.isArray(parsed)) return fail(`: field "affiliation": ${parsed.error}`);
    groups = parsed;
  } else if (Array.isArray(affiliation)) {
    for (const [position, group] of affiliation.entries()) {
      if (typeof group !== 'string') {
        return fail(`: field "affiliation[${position}]" is ${describeJsonValue(group)}; expected a group name string`);
      }
      const parsed = parseGroupName(group);
      if (typeof parsed !== 'string') return fail(`: field "affiliation[${position}]": ${parsed.error}`);
      if (!groups.includes(parsed)) groups.push(parsed);
    }
    groups = canonicalGroups(groups);
  } else if (affiliation !== undefined) {
    return fail(`: field "affiliation" is ${describeJsonValue(affiliation)}; expected a string or an array of strings`);
  }

  const counts: Record<'priority' | 'weight', number> = { priority: 0, weight: DEFAULT_RELAY_WEIGHT };
  for (const field of ['priority', 'weight'] as const) {
    const count = fields[field];
    if (count === undefined) continue;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_PRIORITY_OR_WEIGHT) {
      return fail(
        `: field "${field}" is ${describeJsonValue(count)}; expected an integer 0..${MAX_PRIORITY_OR_WEIGHT}`,
      );
    }
    counts[field] = count;
  }

  const nameValue = fields['name'];
  if (nameValue !== undefined && (typeof nameValue !== 'string' || nameValue === '')) {
    return fail(`: field "name" is ${describeJsonValue(nameValue)}; expected a non-empty string`);
  }
  const autoselect = fields['autoselect'];
  if (autoselect !== undefined && typeof autoselect !== 'boolean') {
    return fail(`: field "autoselect" is ${describeJsonValue(autoselect)}; expected true or false`);
  }
  const relay: Relay = {
    host: spec.host,
    port,
    groups,
    priority: counts.priority,
    weight: counts.weight,
    source: { file: context.file, line: where.line },
  };
  if (typeof nameValue === 'string') relay.name = nameValue;
  if (autoselect === false) relay.autoselect = false;
  return { relay, hostHash };
}

function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** Line and column of each top-level element of the JSON array starting at `arrayStart`. */
function locateJsonElements(text: string, arrayStart: number): Array<{ line: number; column: number }> {
  const positions: Array<{ line: number; column: number }> = [];
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  let inString = false;
  let expectingElement = true;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === CHAR.LINE_FEED) {
      line++;
      lineStart = index + 1;
      continue;
    }
    if (index < arrayStart) continue;
    if (inString) {
      if (code === CHAR.BACKSLASH) index++;
      else if (code === CHAR.QUOTE) inString = false;
      continue;
    }
    const isSpace = code === CHAR.SPACE || code === CHAR.TAB || code === CHAR.CARRIAGE_RETURN;
    if (depth === 1 && expectingElement && !isSpace && code !== CHAR.COMMA && code !== CHAR.CLOSE_BRACKET) {
      positions.push({ line, column: columnAt(text, lineStart, index) });
      expectingElement = false;
    }
    if (code === CHAR.QUOTE) inString = true;
    else if (code === CHAR.OPEN_BRACKET || code === CHAR.OPEN_BRACE) depth++;
    else if (code === CHAR.CLOSE_BRACKET || code === CHAR.CLOSE_BRACE) {
      depth--;
      if (depth === 0) break;
    } else if (code === CHAR.COMMA && depth === 1) expectingElement = true;
  }
  return positions;
}
