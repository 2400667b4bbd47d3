/**
 * Relay-list parsing (DESIGN §3): the entry points. A list is text lines (text-lines.ts), a JSON
 * array (json-list.ts) or the vendor's relay dump (vendor-dump.ts); what a parse collects is a ParseContext. Never throws: every problem is a
 * diagnostic with file:line:column. Pure: the loader (load.ts) reads the file.
 */
import { parseJsonList } from './json-list.js';
import { CHAR, locateOffset, skipBlank } from './line-scanner.js';
import { ParseContext, type RelayListLimits } from './parse-context.js';
import type { Diagnostic, Relay } from './relay.js';
import { LINE_FORM, parseTextLines } from './text-lines.js';
import { decodeUtf8Text } from './utf8.js';
import { looksLikeVendorDump, parseVendorDump } from './vendor-dump.js';

export type { RelayListLimits } from './parse-context.js';

export const RELAY_LIST_LIMITS: Readonly<RelayListLimits> = Object.freeze({
  maxLineBytes: 4096,
  maxFileBytes: 64 * 1024 * 1024,
  maxRelays: 1_000_000,
});

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
  if (buffer.length > limits.maxFileBytes)
    return rejectWith(options.file, 1, 1, describeFileTooLarge(buffer.length, limits));
  const text = decodeUtf8Text(buffer);
  return typeof text === 'string' ? text : rejectWith(options.file, text.line, text.column, text.message);
}

/**
 * Parses a relay list: text lines `host[:port] key=value...`, a JSON array when the first non-space
 * character is `[`, or the vendor's relay dump (`Affiliation:`/`Name:` blocks) when the first line that is
 * not blank or a comment starts with `Affiliation:` or `Name:`. A bad line is skipped with an error; the list is `rejected` only when it is
 * unusable as a whole.
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
  const context = new ParseContext(file, limits);
  try {
    const start = text.charCodeAt(0) === CHAR.BYTE_ORDER_MARK ? 1 : 0;
    const first = skipBlank(text, start);
    if (looksLikeJson(text, first)) parseJsonList(text, first, context);
    else if (looksLikeVendorDump(text, start)) parseVendorDump(text, start, context);
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
  if (text.charCodeAt(first) !== CHAR.OPEN_BRACKET) return false;
  const next = text.charCodeAt(skipBlank(text, first + 1));
  return next === CHAR.OPEN_BRACE || next === CHAR.CLOSE_BRACKET;
}

/** A list refused as a whole, with the one error that says why. */
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
