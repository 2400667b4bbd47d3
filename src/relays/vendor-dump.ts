/**
 * The vendor's relay dump (DESIGN §3, relay-select.dat(5) "VENDOR DUMP FORM"): the suites keep their relay
 * list in a binary file, and their ParseRelaysDotDat tool prints it as blocks of `Key: value` lines, one block
 * per affiliation of a relay:
 *
 *   Affiliation: Branch-Lyon
 *   Name: relay-lyon.corp.example.
 *   Port: 52311
 *   Priority: 0
 *   Weight: 100
 *
 * A block without `Affiliation:` is the relay unaffiliated. The blocks of one relay (same host and port)
 * merge into one relay with all their groups: that is the format's way of listing groups, so no duplicate
 * warning. Blocks are separated by blank lines, or begin at an `Affiliation:` line, or at a `Name:` line
 * when the block already has a name.
 */
import { parseAffiliation } from './groups.js';
import { readPort, scanHostSpec } from './host-port.js';
import { exceedsUtf8Bytes } from './line-scanner.js';
import type { ParseContext } from './parse-context.js';
import { hashHost } from './relay-index.js';
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT, isAutoSelectable, relayKey, type Relay } from './relay.js';
import { MAX_PRIORITY_OR_WEIGHT, describeSwitchProblem, readSwitch } from './text-lines.js';

const DUMP_KEYS = ['Affiliation', 'Name', 'Port', 'Priority', 'Weight', 'AutoSelect'] as const;
type DumpKey = (typeof DUMP_KEYS)[number];
const DUMP_KEYS_TEXT = DUMP_KEYS.map((key) => `${key}:`).join(', ');
const KEY_BY_LOWER = new Map<string, DumpKey>(DUMP_KEYS.map((key) => [key.toLowerCase(), key]));

/** `Key:` then space or the end of the line; any case. */
const KEY_LINE = /^[ \t]*([A-Za-z][A-Za-z ]*?)[ \t]*:(?:[ \t]+|$)(.*)$/;
/** What a dump starts with: the form is recognised by its first meaningful line. */
const DUMP_START = /^[ \t]*(affiliation|name)[ \t]*:(?:[ \t]|$)/i;

/** Whether the first meaningful line of `text` (from `start`) is a dump line (`Affiliation:` or `Name:`). */
export function looksLikeVendorDump(text: string, start: number): boolean {
  let lineStart = start;
  while (lineStart < text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd).trim();
    if (line !== '' && !line.startsWith('#')) return DUMP_START.test(line);
    lineStart = lineEnd + 1;
  }
  return false;
}

/** One block as read, with where each value stood. */
interface Block {
  line: number;
  values: Partial<Record<DumpKey, { value: string; line: number; column: number }>>;
  /** A line of the block was wrong: the block is skipped (reported where it went wrong). */
  broken: boolean;
}

/** Parses every line of `text` from `start` as the vendor dump. */
export function parseVendorDump(text: string, start: number, context: ParseContext): void {
  let block: Block | undefined;
  const finish = (): boolean => {
    const keepGoing = block === undefined || block.broken ? true : addBlock(block, context);
    block = undefined;
    return keepGoing;
  };
  let lineStart = start;
  let line = 0;
  while (lineStart <= text.length) {
    let newline = text.indexOf('\n', lineStart);
    if (newline === -1) newline = text.length;
    line++;
    const lineEnd = newline > lineStart && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
    const lineText = text.slice(lineStart, lineEnd);
    lineStart = newline + 1;
    if (exceedsUtf8Bytes(lineText, 0, lineText.length, context.limits.maxLineBytes)) {
      context.report(
        'error',
        line,
        1,
        `line is ${Buffer.byteLength(lineText, 'utf8')} bytes long; expected at most ${context.limits.maxLineBytes} bytes`,
      );
      if (block !== undefined) block.broken = true;
      continue;
    }
    const trimmed = lineText.trim();
    if (trimmed === '') {
      if (!finish()) return;
      continue;
    }
    if (trimmed.startsWith('#')) continue;
    const column = lineText.length - lineText.trimStart().length + 1;
    const match = KEY_LINE.exec(lineText);
    if (match === null) {
      context.report(
        'error',
        line,
        column,
        `"${trimmed.slice(0, 60)}" is not a "Key: value" line; expected one of ${DUMP_KEYS_TEXT}`,
      );
      if (block !== undefined) block.broken = true;
      continue;
    }
    const keyText = match[1]!;
    const value = match[2]!.trim();
    const key = KEY_BY_LOWER.get(keyText.toLowerCase().replace(/ /g, ''));
    if (key === undefined) {
      context.report('warning', line, column, `unknown key "${keyText}:" ignored; expected one of ${DUMP_KEYS_TEXT}`);
      continue;
    }
    const startsBlock =
      block === undefined || key === 'Affiliation' || (key === 'Name' && block.values.Name !== undefined);
    if (startsBlock && block !== undefined && !finish()) return;
    block ??= { line, values: {}, broken: false };
    if (block.values[key] !== undefined) {
      context.report(
        'warning',
        line,
        column,
        `${key}: given twice in this block (first at line ${block.values[key].line}); the last value is used`,
      );
    }
    block.values[key] = { value, line, column: lineText.length - match[2]!.length + 1 };
  }
  finish();
}

/**
 * Turns a finished block into a relay, or merges it into the relay an earlier block of the same host and
 * port made. Reports what is wrong at its line and column.
 * @returns false when parsing must stop (the relay limit is reached).
 */
function addBlock(block: Block, context: ParseContext): boolean {
  const { values } = block;
  const fail = (where: { line: number; column: number }, message: string): true => {
    context.report('error', where.line, where.column, `${message}; this block is skipped`);
    return true;
  };
  const name = values.Name;
  if (name === undefined)
    return fail({ line: block.line, column: 1 }, 'block has no "Name:" line; expected the relay\'s host name');
  // The dump prints fully qualified names with the root's trailing dot; the other forms write them without.
  const hostText = name.value.endsWith('.') && !name.value.endsWith('..') ? name.value.slice(0, -1) : name.value;
  const spec = scanHostSpec(hostText, 0, hostText.length, context.ipv6Words);
  if ('error' in spec) return fail({ line: name.line, column: name.column + spec.offset }, spec.error);
  const hostHash = hashHost(spec.host, spec.ipv6, context.ipv6Words);

  let port = spec.port ?? DEFAULT_RELAY_PORT;
  if (values.Port !== undefined) {
    const written = readPort(values.Port.value, 0, values.Port.value.length);
    if (written === -1)
      return fail(values.Port, `Port "${values.Port.value}" is not valid; expected an integer 1..65535`);
    if (spec.port !== undefined && spec.port !== written)
      return fail(values.Port, `Port ${written} contradicts port ${spec.port} in "Name:"; expected one port`);
    port = written;
  }
  let groups: string[] = [];
  if (values.Affiliation !== undefined && values.Affiliation.value !== '') {
    const parsed = parseAffiliation(values.Affiliation.value);
    if (!Array.isArray(parsed))
      return fail({ line: values.Affiliation.line, column: values.Affiliation.column + parsed.offset }, parsed.error);
    groups = parsed;
  }
  const counts = { Priority: 0, Weight: DEFAULT_RELAY_WEIGHT };
  for (const key of ['Priority', 'Weight'] as const) {
    const entry = values[key];
    if (entry === undefined) continue;
    const count = /^\d{1,10}$/.test(entry.value) ? Number(entry.value) : -1;
    if (count < 0 || count > MAX_PRIORITY_OR_WEIGHT)
      return fail(entry, `${key} "${entry.value}" is not valid; expected an integer 0..${MAX_PRIORITY_OR_WEIGHT}`);
    counts[key] = count;
  }
  let autoselect = true;
  if (values.AutoSelect !== undefined) {
    const value = readSwitch(values.AutoSelect.value);
    if (value === undefined)
      return fail(values.AutoSelect, describeSwitchProblem('AutoSelect', values.AutoSelect.value));
    autoselect = value;
  }

  const relay: Relay = {
    host: spec.host,
    port,
    groups,
    priority: counts.Priority,
    weight: counts.Weight,
    source: { file: context.file, line: block.line },
  };
  if (!autoselect) relay.autoselect = false;
  const outcome = context.addRelay(relay, hostHash);
  if (outcome === 'added') return true;
  if (outcome === 'full') return context.reportNotAdded(outcome, relay, block.line, 1, `line ${block.line}`);
  // addRelay merged the groups (an unaffiliated block as `*`); the other fields must agree between the blocks.
  const differs: string[] = (['priority', 'weight'] as const).filter((field) => outcome[field] !== relay[field]);
  if (isAutoSelectable(outcome) !== autoselect) differs.push('autoselect');
  if (differs.length > 0) {
    const firstLine = outcome.source?.line ?? block.line;
    context.report(
      'warning',
      block.line,
      1,
      `relay ${relayKey(relay)} has another ${differs.join(' and ')} than its block at line ${firstLine}; the values of line ${firstLine} are kept`,
    );
  }
  return true;
}
