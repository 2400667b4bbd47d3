import { isUtf8 } from 'node:buffer';
import { canonicalGroups, mergeGroups, parseAffiliation, parseGroupName } from './groups.js';
import { describePortProblem, indexOfCode, readPort, scanHostSpec } from './host-port.js';
import { DEFAULT_RELAY_PORT, DEFAULT_RELAY_WEIGHT, relayKey, type Diagnostic, type Relay } from './relay.js';

/** Size limits of a relay list (DESIGN §3). */
export interface RelayListLimits {
  /** Longest line, in UTF-8 bytes, without the line break. @default 4096 */
  maxLineBytes: number;
  /** Largest file, in bytes. @default 67108864 (64 MiB) */
  maxFileBytes: number;
  /** Most relays in one list. @default 1000000 */
  maxRelays: number;
}

export const RELAY_LIST_LIMITS: Readonly<RelayListLimits> = Object.freeze({
  maxLineBytes: 4096,
  maxFileBytes: 64 * 1024 * 1024,
  maxRelays: 1_000_000,
});

/** Largest priority or weight; keeps a sum of a million weights an exact double. */
export const MAX_PRIORITY_OR_WEIGHT = 1_000_000_000;

/** Diagnostics kept per list; the rest are counted in one closing diagnostic. */
export const MAX_DIAGNOSTICS = 1000;

export interface ParseRelayListOptions {
  /** File name shown in diagnostics and in `Relay.source`. */
  file: string;
  /** Lower limits, for tests. @default RELAY_LIST_LIMITS */
  limits?: Partial<RelayListLimits>;
}

export interface RelayListResult {
  /**
   * The relays, in list order. Relays with the same affiliation value share one `groups` array:
   * treat `groups` as read-only (assign a new array to change it).
   */
  relays: Relay[];
  diagnostics: Diagnostic[];
  /** True when the list must not be used: not text, over a size limit, bad JSON, or no relay at all. */
  rejected: boolean;
}

/** The keys of a relay line, indexed by {@link Key}. */
const KEY_NAMES = ['port', 'affiliation', 'priority', 'weight', 'name'] as const;
const KNOWN_KEYS = KEY_NAMES.join(', ');
const LINE_FORM = 'host[:port] [key=value ...]';

/** Parses a relay list read as bytes: refuses binary files and invalid UTF-8 before decoding. */
export function parseRelayListBuffer(buffer: Uint8Array, options: ParseRelayListOptions): RelayListResult {
  const text = decodeRelayList(buffer, options);
  return typeof text === 'string' ? parseRelayList(text, options) : text;
}

/**
 * Decodes a relay list read as bytes.
 * @returns the text, or the rejected result when the bytes are over the size limit, binary or not UTF-8.
 */
export function decodeRelayList(buffer: Uint8Array, options: ParseRelayListOptions): string | RelayListResult {
  const limits = { ...RELAY_LIST_LIMITS, ...options.limits };
  const file = options.file;
  if (buffer.length > limits.maxFileBytes) return rejectWith(file, 1, 1, describeFileTooLarge(buffer.length, limits));
  const nul = buffer.indexOf(0);
  if (nul !== -1) {
    const where = locateByte(buffer, nul);
    return rejectWith(file, where.line, where.column, 'file is not text (NUL byte); expected a UTF-8 text relay list');
  }
  if (!isUtf8(buffer)) {
    const offset = findInvalidUtf8(buffer);
    const where = locateByte(buffer, offset);
    const byte = (buffer[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return rejectWith(
      file,
      where.line,
      where.column,
      `file is not UTF-8 text (invalid byte 0x${byte}); expected a UTF-8 text relay list`,
    );
  }
  return Buffer.from(buffer.buffer, buffer.byteOffset, buffer.length).toString('utf8');
}

/**
 * Parses a relay list (DESIGN §3): text lines `host[:port] key=value...`, or a JSON array when the
 * first non-space character is `[`. Never throws: every problem is a diagnostic with file:line:column.
 * A bad line is skipped with an error; the list is `rejected` only when it is unusable as a whole.
 */
export function parseRelayList(text: string, options: ParseRelayListOptions): RelayListResult {
  const file = typeof options?.file === 'string' ? options.file : '<relay list>';
  if (typeof text !== 'string') return rejectWith(file, 1, 1, 'relay list is not a string; expected text');
  const limits = { ...RELAY_LIST_LIMITS, ...options.limits };
  // Only a string that could exceed the limit needs its UTF-8 length measured.
  if (text.length * 3 > limits.maxFileBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limits.maxFileBytes) return rejectWith(file, 1, 1, describeFileTooLarge(bytes, limits));
  }
  const nul = text.indexOf('\0');
  if (nul !== -1) {
    const where = locateOffset(text, nul);
    return rejectWith(file, where.line, where.column, 'file is not text (NUL byte); expected a UTF-8 text relay list');
  }
  const context = createContext(file, limits);
  try {
    const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const first = skipBlank(text, start);
    if (looksLikeJson(text, first)) parseJsonList(text, first, context);
    else parseTextLines(text, start, context);
  } catch (error) {
    // A bug must not take the endpoint down with it; the message asks for a report instead.
    context.report('error', 1, 1, `internal error while parsing (${String(error)}); please report this relay list`);
    context.rejected = true;
  }
  if (context.relays.length === 0 && !context.rejected) {
    context.rejected = true;
    const message = /^\s*$/.test(text)
      ? `file is empty; expected at least one relay line: ${LINE_FORM}`
      : `no relay in the file; expected at least one line ${LINE_FORM}`;
    context.report('error', 1, 1, message);
  }
  return { relays: context.relays, diagnostics: context.finish(), rejected: context.rejected };
}

/**
 * JSON form: the first non-space character is `[` and the next non-space one is `{` or `]` (an array
 * of relay objects). Anything else is the text form, so a first line like `[2001:db8::1]:52311`
 * stays a relay line.
 */
function looksLikeJson(text: string, first: number): boolean {
  if (text.charCodeAt(first) !== 91 /* [ */) return false;
  const next = text.charCodeAt(skipBlank(text, first + 1));
  return next === 123 /* { */ || next === 93; /* ] */
}

interface ParseContext {
  file: string;
  limits: RelayListLimits;
  relays: Relay[];
  /** Open-addressing hash table of (relay index + 1, hash) pairs, for finding duplicates. */
  slots: Int32Array;
  /** Raw affiliation value → canonical groups: lists repeat the same few values. */
  groupsByValue: Map<string, string[]>;
  rejected: boolean;
  report(severity: Diagnostic['severity'], line: number, column: number, message: string): void;
  finish(): Diagnostic[];
}

function createContext(file: string, limits: RelayListLimits): ParseContext {
  const diagnostics: Diagnostic[] = [];
  let droppedErrors = 0;
  let droppedWarnings = 0;
  let lastLine = 1;
  return {
    file,
    limits,
    relays: [],
    slots: new Int32Array(2048),
    groupsByValue: new Map(),
    rejected: false,
    report(severity, line, column, message) {
      lastLine = line;
      if (diagnostics.length < MAX_DIAGNOSTICS) diagnostics.push({ severity, file, line, column, message });
      else if (severity === 'error') droppedErrors++;
      else droppedWarnings++;
    },
    finish() {
      if (droppedErrors + droppedWarnings > 0) {
        diagnostics.push({
          severity: droppedErrors > 0 ? 'error' : 'warning',
          file,
          line: lastLine,
          column: 1,
          message: `${droppedErrors} more errors and ${droppedWarnings} more warnings not shown; expected at most ${MAX_DIAGNOSTICS} problems per list`,
        });
      }
      return diagnostics;
    },
  };
}

function rejectWith(file: string, line: number, column: number, message: string): RelayListResult {
  return { relays: [], diagnostics: [{ severity: 'error', file, line, column, message }], rejected: true };
}

/** The message of a list over the size limit, also used by the loader, which checks the size before reading. */
export function describeFileTooLarge(bytes: number, limits: RelayListLimits = RELAY_LIST_LIMITS): string {
  return `file is ${bytes} bytes; expected at most ${limits.maxFileBytes} bytes (${formatMiB(limits.maxFileBytes)})`;
}

function formatMiB(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 100) / 100} MiB`;
}

// ---------------------------------------------------------------------------------------------
// Text form

function parseTextLines(text: string, start: number, context: ParseContext): void {
  reserveSlots(context, countLines(text, start));
  let lineStart = start;
  let lineNumber = 0;
  const length = text.length;
  while (lineStart <= length) {
    let newline = text.indexOf('\n', lineStart);
    if (newline === -1) newline = length;
    lineNumber++;
    let lineEnd = newline;
    if (lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    if (!parseLine(text, lineStart, lineEnd, lineNumber, context)) return;
    if (newline === length) return;
    lineStart = newline + 1;
  }
}

/** Keys of a relay line, as small integers so a line can track the keys it has seen in one bit set. */
const Key = { Port: 0, Affiliation: 1, Priority: 2, Weight: 3, Name: 4, Unknown: 5 } as const;
type Key = (typeof Key)[keyof typeof Key];
const MAX_KEY_CHARS = Math.max(...KEY_NAMES.map((name) => name.length));

/** @returns false when parsing must stop (relay limit reached). */
function parseLine(text: string, lineStart: number, lineEnd: number, line: number, context: ParseContext): boolean {
  const { limits } = context;
  if (lineEnd - lineStart > limits.maxLineBytes / 3 && exceedsUtf8Bytes(text, lineStart, lineEnd, limits.maxLineBytes)) {
    const bytes = Buffer.byteLength(text.slice(lineStart, lineEnd), 'utf8');
    context.report('error', line, 1, `line is ${bytes} bytes long; expected at most ${limits.maxLineBytes} bytes`);
    return true;
  }

  let position = skipSpace(text, lineStart, lineEnd);
  if (position === lineEnd || text.charCodeAt(position) === 35 /* # */) return true;

  const hostStart = position;
  while (position < lineEnd && !isTokenEnd(text.charCodeAt(position))) position++;
  const hostEnd = position;
  if (indexOfCode(text, 61 /* = */, hostStart, hostEnd) !== -1) {
    return reportLineError(context, text, lineStart, line, hostStart, `line starts with "${text.slice(hostStart, hostEnd)}"; expected ${LINE_FORM}`);
  }
  const spec = scanHostSpec(text, hostStart, hostEnd, ipv6Words);
  if ('error' in spec) return reportLineError(context, text, lineStart, line, spec.offset, spec.error);
  const hostHash = hashHost(spec.host, spec.ipv6);

  let port = spec.port;
  let groups: string[] = [];
  let priority = 0;
  let weight = DEFAULT_RELAY_WEIGHT;
  let name: string | undefined;
  let seenKeys = 0;

  for (;;) {
    position = skipSpace(text, position, lineEnd);
    if (position === lineEnd || text.charCodeAt(position) === 35) break;
    const keyStart = position;
    while (position < lineEnd && !isTokenEnd(text.charCodeAt(position)) && text.charCodeAt(position) !== 61) position++;
    if (position === lineEnd || text.charCodeAt(position) !== 61 /* = */) {
      let tokenEnd = position;
      while (tokenEnd < lineEnd && !isTokenEnd(text.charCodeAt(tokenEnd))) tokenEnd++;
      return reportLineError(context, text, lineStart, line, keyStart, `unexpected "${text.slice(keyStart, tokenEnd)}"; expected key=value (${KNOWN_KEYS}); one relay per line`);
    }
    const keyEnd = position;
    if (keyEnd === keyStart) return reportLineError(context, text, lineStart, line, keyStart, `"=" without a key; expected key=value (${KNOWN_KEYS})`);
    position++;
    let valueStart = position;
    let valueEnd: number;
    if (text.charCodeAt(position) === 34 /* " */) {
      const close = indexOfCode(text, 34, position + 1, lineEnd);
      if (close === -1) return reportLineError(context, text, lineStart, line, position, 'quoted value has no closing "; expected "value"');
      valueStart = position + 1;
      valueEnd = close;
      position = close + 1;
      if (position < lineEnd && !isTokenEnd(text.charCodeAt(position))) {
        return reportLineError(context, text, lineStart, line, position, 'unexpected text after a closing "; expected a space before the next key=value');
      }
    } else {
      while (position < lineEnd && !isTokenEnd(text.charCodeAt(position))) position++;
      valueEnd = position;
    }

    const key = identifyKey(text, keyStart, keyEnd);
    if (key === Key.Unknown) {
      context.report(
        'warning',
        line,
        columnAt(text, lineStart, keyStart),
        `unknown key "${text.slice(keyStart, keyEnd)}" ignored; expected one of ${KNOWN_KEYS}`,
      );
      continue;
    }
    const bit = 1 << key;
    if ((seenKeys & bit) !== 0) {
      context.report(
        'warning',
        line,
        columnAt(text, lineStart, keyStart),
        `key "${text.slice(keyStart, keyEnd)}" given twice on this line; the last value is used`,
      );
    }
    seenKeys |= bit;

    switch (key) {
      case Key.Port: {
        const value = readPort(text, valueStart, valueEnd);
        if (value === -1) return reportLineError(context, text, lineStart, line, valueStart, describePortProblem(text.slice(valueStart, valueEnd)));
        if (spec.port !== undefined && spec.port !== value) {
          return reportLineError(context, text, lineStart, line, valueStart, `port=${value} contradicts port ${spec.port} written after the host; expected one port`);
        }
        port = value;
        break;
      }
      case Key.Priority:
      case Key.Weight: {
        const field = KEY_NAMES[key];
        const value = readCount(text, valueStart, valueEnd);
        if (value < 0) return reportLineError(context, text, lineStart, line, valueStart, describeCountProblem(field, text.slice(valueStart, valueEnd)));
        if (key === Key.Priority) priority = value;
        else weight = value;
        break;
      }
      case Key.Affiliation: {
        const raw = text.slice(valueStart, valueEnd);
        const cached = context.groupsByValue.get(raw);
        if (cached !== undefined) {
          groups = cached;
          break;
        }
        const parsed = parseAffiliation(raw);
        if (!Array.isArray(parsed)) return reportLineError(context, text, lineStart, line, valueStart + parsed.offset, parsed.error);
        if (context.groupsByValue.size < 10_000) context.groupsByValue.set(raw, parsed);
        groups = parsed;
        break;
      }
      case Key.Name: {
        if (valueEnd === valueStart) return reportLineError(context, text, lineStart, line, valueStart, 'name is empty; expected a display label');
        name = text.slice(valueStart, valueEnd);
        break;
      }
    }
  }

  const relay: Relay = {
    host: spec.host,
    port: port ?? DEFAULT_RELAY_PORT,
    groups,
    priority,
    weight,
    source: { file: context.file, line },
  };
  if (name !== undefined) relay.name = name;
  const outcome = addRelay(relay, context, hostHash);
  if (outcome === 'added') return true;
  return reportAddOutcome(context, outcome, relay, line, columnAt(text, lineStart, hostStart), `line ${line}`);
}

function reportLineError(
  context: ParseContext,
  text: string,
  lineStart: number,
  line: number,
  offset: number,
  message: string,
): boolean {
  context.report('error', line, columnAt(text, lineStart, offset), message);
  return true;
}

function identifyKey(text: string, start: number, end: number): Key {
  const length = end - start;
  for (let key = 0; key < KEY_NAMES.length; key++) {
    const name = KEY_NAMES[key] as string;
    if (name.length === length && text.startsWith(name, start)) return key as Key;
  }
  if (length > MAX_KEY_CHARS) return Key.Unknown;
  // Keys are case-insensitive; the slow path only runs for keys not written in lower case.
  const key = KEY_NAMES.indexOf(text.slice(start, end).toLowerCase() as (typeof KEY_NAMES)[number]);
  return key === -1 ? Key.Unknown : (key as Key);
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

/**
 * Adds a relay, or merges its groups into an earlier definition of the same host:port.
 * @returns `added`, `limit` when the list is full, or the earlier definition it was merged into.
 */
function addRelay(relay: Relay, context: ParseContext, hostHash: number): 'added' | 'limit' | Relay {
  let hash = Math.imul(hostHash ^ relay.port, 16777619);
  // Linear probing uses the low bits: mix the high ones in.
  hash = (hash ^ (hash >>> 15)) & 0x3fffffff;
  const first = findRelay(context, relay, hash);
  if (first !== undefined) {
    first.groups = mergeGroups(first.groups, relay.groups);
    return first;
  }
  if (context.relays.length >= context.limits.maxRelays) return 'limit';
  context.relays.push(relay);
  // Grow at half full so linear probing stays short.
  if (context.relays.length * 4 > context.slots.length) growSlots(context);
  insertSlot(context.slots, hash, context.relays.length);
  return 'added';
}

/** Reports what `addRelay` did when it did not simply add. @returns false when parsing must stop. */
function reportAddOutcome(
  context: ParseContext,
  outcome: 'limit' | Relay,
  relay: Relay,
  line: number,
  column: number,
  where: string,
): boolean {
  if (outcome === 'limit') {
    const limit = context.limits.maxRelays;
    context.report('error', line, column, `more than ${limit} relays; expected at most ${limit} (split the list)`);
    context.rejected = true;
    return false;
  }
  const firstWhere = outcome.source === undefined ? 'earlier' : `at line ${outcome.source.line}`;
  context.report(
    'warning',
    line,
    column,
    `relay ${relayKey(relay)} (${where}) is already defined ${firstWhere}; its affiliation groups were merged into the first definition, whose priority, weight and name are kept`,
  );
  return true;
}

/** `slots` holds pairs (relay index + 1, hash); index 0 marks an empty pair. */
function findRelay(context: ParseContext, relay: Relay, hash: number): Relay | undefined {
  const { slots } = context;
  const mask = (slots.length >> 1) - 1;
  for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
    const entry = slots[slot * 2] as number;
    if (entry === 0) return undefined;
    if (slots[slot * 2 + 1] !== hash) continue;
    const candidate = context.relays[entry - 1] as Relay;
    if (candidate.port === relay.port && dedupeKey(candidate.host, candidate.port) === dedupeKey(relay.host, relay.port)) {
      return candidate;
    }
  }
}

function insertSlot(slots: Int32Array, hash: number, entry: number): void {
  const mask = (slots.length >> 1) - 1;
  let slot = hash & mask;
  while (slots[slot * 2] !== 0) slot = (slot + 1) & mask;
  slots[slot * 2] = entry;
  slots[slot * 2 + 1] = hash;
}

/**
 * Sizes the duplicate table for the relays to come, so a big list is not rehashed again and again
 * (each rehash touches every relay in random order).
 */
function reserveSlots(context: ParseContext, expectedRelays: number): void {
  const wanted = Math.min(expectedRelays, context.limits.maxRelays) * 2;
  let pairs = context.slots.length >> 1;
  while (pairs < wanted) pairs *= 2;
  if (pairs > context.slots.length >> 1) context.slots = new Int32Array(pairs * 2);
}

function countLines(text: string, start: number): number {
  let lines = 1;
  for (let index = text.indexOf('\n', start); index !== -1; index = text.indexOf('\n', index + 1)) lines++;
  return lines;
}

function growSlots(context: ParseContext): void {
  const old = context.slots;
  const slots = new Int32Array(old.length * 4);
  for (let pair = 0; pair < old.length; pair += 2) {
    if (old[pair] !== 0) insertSlot(slots, old[pair + 1] as number, old[pair] as number);
  }
  context.slots = slots;
}

/** Words of the IPv6 host being parsed, filled by `scanHostSpec`. */
const ipv6Words = new Uint16Array(8);

/**
 * A hash of the host's dedupe identity (case-insensitive name without a trailing dot, or the IPv6
 * address whose words are in `ipv6Words`), computed from the characters without building a key
 * string: building a million keys costs more than parsing them.
 */
function hashHost(host: string, ipv6: boolean): number {
  let hash = 0x811c9dc5;
  let start = 0;
  let end = host.length;
  if (ipv6) {
    for (let word = 0; word < 8; word++) hash = Math.imul(hash ^ (ipv6Words[word] as number), 16777619);
    const zone = host.indexOf('%');
    start = zone === -1 ? end : zone;
  } else if (host.charCodeAt(end - 1) === 46) end--;
  for (let index = start; index < end; index++) {
    let code = host.charCodeAt(index);
    if (code >= 65 && code <= 90) code += 32;
    hash = Math.imul(hash ^ code, 16777619);
  }
  return hash;
}

/** Two spellings of one relay (`Relay-A` and `relay-a.`, or two IPv6 spellings) give one key. */
function dedupeKey(host: string, port: number): string {
  let canonical = host.toLowerCase();
  if (canonical.includes(':')) canonical = canonicalIPv6(canonical);
  else if (canonical.endsWith('.')) canonical = canonical.slice(0, -1);
  return `${canonical}:${port}`;
}

function canonicalIPv6(host: string): string {
  if (host.includes('%')) return host;
  try {
    return new URL(`http://[${host}]/`).hostname;
  } catch {
    return host;
  }
}

function isTokenEnd(code: number): boolean {
  return code === 32 || code === 9 || code === 35 /* # */ || code === 11 || code === 12 || code === 13;
}

function skipSpace(text: string, position: number, end: number): number {
  while (position < end) {
    const code = text.charCodeAt(position);
    if (code !== 32 && code !== 9 && code !== 11 && code !== 12 && code !== 13) break;
    position++;
  }
  return position;
}

function skipBlank(text: string, position: number): number {
  while (position < text.length) {
    const code = text.charCodeAt(position);
    if (code !== 32 && code !== 9 && code !== 10 && code !== 13 && code !== 11 && code !== 12) break;
    position++;
  }
  return position;
}

/** 1-based column of `offset`, counted in characters (code points) from the start of the line. */
function columnAt(text: string, lineStart: number, offset: number): number {
  let column = 1;
  for (let index = lineStart; index < offset; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < offset) index++;
    column++;
  }
  return column;
}

/** Whether `text[start, end)` is longer than `limit` UTF-8 bytes; stops counting at the limit. */
function exceedsUtf8Bytes(text: string, start: number, end: number, limit: number): boolean {
  let bytes = 0;
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      index++;
    } else bytes += 3;
    if (bytes > limit) return true;
  }
  return false;
}

function locateOffset(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line++;
    lineStart = index + 1;
  }
  return { line, column: columnAt(text, lineStart, offset) };
}

function locateByte(buffer: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = buffer.indexOf(10); index !== -1 && index < offset; index = buffer.indexOf(10, index + 1)) {
    line++;
    lineStart = index + 1;
  }
  // Columns count characters: continuation bytes of UTF-8 sequences do not start one.
  let column = 1;
  for (let index = lineStart; index < offset; index++) {
    if (((buffer[index] ?? 0) & 0xc0) !== 0x80) column++;
  }
  return { line, column };
}

/** Offset of the first byte that is not part of a valid UTF-8 sequence. */
function findInvalidUtf8(buffer: Uint8Array): number {
  let index = 0;
  while (index < buffer.length) {
    const byte = buffer[index] as number;
    let needed: number;
    let min: number;
    if (byte < 0x80) {
      index++;
      continue;
    } else if (byte >= 0xc2 && byte <= 0xdf) {
      needed = 1;
      min = 0x80;
    } else if (byte >= 0xe0 && byte <= 0xef) {
      needed = 2;
      min = 0x800;
    } else if (byte >= 0xf0 && byte <= 0xf4) {
      needed = 3;
      min = 0x10000;
    } else return index;
    let codePoint = byte & (0x3f >> needed);
    for (let next = 1; next <= needed; next++) {
      const continuation = buffer[index + next];
      if (continuation === undefined || (continuation & 0xc0) !== 0x80) return index;
      codePoint = (codePoint << 6) | (continuation & 0x3f);
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return index;
    index += needed + 1;
  }
  return buffer.length;
}

// ---------------------------------------------------------------------------------------------
// JSON form

const JSON_FIELD_NAMES: readonly string[] = ['host', ...KEY_NAMES];
const JSON_FIELDS = JSON_FIELD_NAMES.join(', ');

function parseJsonList(text: string, arrayStart: number, context: ParseContext): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const where = locateOffset(text, findJsonErrorOffset(message, text));
    // V8 quotes part of the input in some messages; the position says it better.
    const reason = message.replace(/, (\.\.\.)?".*$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    context.report('error', where.line, where.column, `not valid JSON (${reason}); expected a JSON array of relay objects`);
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
  reserveSlots(context, value.length);
  for (let index = 0; index < value.length; index++) {
    const where = positions[index] ?? { line: 1, column: 1 };
    const read = readJsonRelay(value[index], index, where, context);
    if (read === undefined) continue;
    const outcome = addRelay(read.relay, context, read.hostHash);
    if (outcome !== 'added') reportAddOutcome(context, outcome, read.relay, where.line, where.column, `index ${index}`);
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
      context.report('warning', where.line, where.column, `${label}: unknown field "${key}" ignored; expected one of ${JSON_FIELDS}`);
    }
  }
  const hostValue = fields['host'];
  if (hostValue === undefined) return fail(` has no "host" field; expected a string like "relay.corp.example"`);
  if (typeof hostValue !== 'string') {
    return fail(`: field "host" is ${describeJsonValue(hostValue)}; expected a string like "relay.corp.example"`);
  }
  const spec = scanHostSpec(hostValue, 0, hostValue.length, ipv6Words);
  if ('error' in spec) return fail(`: field "host": ${spec.error}`);
  const hostHash = hashHost(spec.host, spec.ipv6);

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
      return fail(`: field "${field}" is ${describeJsonValue(count)}; expected an integer 0..${MAX_PRIORITY_OR_WEIGHT}`);
    }
    counts[field] = count;
  }

  const nameValue = fields['name'];
  if (nameValue !== undefined && (typeof nameValue !== 'string' || nameValue === '')) {
    return fail(`: field "name" is ${describeJsonValue(nameValue)}; expected a non-empty string`);
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
  return { relay, hostHash };
}

function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
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
    if (code === 10) {
      line++;
      lineStart = index + 1;
      continue;
    }
    if (index < arrayStart) continue;
    if (inString) {
      if (code === 92 /* \ */) index++;
      else if (code === 34) inString = false;
      continue;
    }
    const isSpace = code === 32 || code === 9 || code === 13;
    if (depth === 1 && expectingElement && !isSpace && code !== 44 && code !== 93) {
      positions.push({ line, column: columnAt(text, lineStart, index) });
      expectingElement = false;
    }
    if (code === 34) inString = true;
    else if (code === 91 || code === 123) depth++;
    else if (code === 93 || code === 125) {
      depth--;
      if (depth === 0) break;
    } else if (code === 44 && depth === 1) expectingElement = true;
  }
  return positions;
}
