/**
 * Text for people, shared by the CLI and the lab: hop counts, round trips, local times and aligned
 * tables. Pure.
 */
import { stripVTControlCharacters } from 'node:util';

/** The styles text for people uses: a chalk instance fits, and so does {@link PLAIN_STYLE} for plain text. */
export interface Style {
  bold: (text: string) => string;
  dim: (text: string) => string;
  green: (text: string) => string;
  yellow: (text: string) => string;
  red: (text: string) => string;
  cyan: (text: string) => string;
}

const unstyled = (text: string): string => text;
/** No colour, no emphasis: what is printed when colour may not be shown. */
export const PLAIN_STYLE: Style = {
  bold: unstyled,
  dim: unstyled,
  green: unstyled,
  yellow: unstyled,
  red: unstyled,
  cyan: unstyled,
};

/**
 * A time as an operator reads it: local `YYYY-MM-DD HH:MM` with its zone as an offset from UTC
 * (`2024-03-01 13:05 UTC+01:00`, `… UTC` at offset 0), so a log read in another zone is not misread.
 */
export function formatLocalTime(iso: string | Date): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(date.getTime())) return String(iso);
  const pad = (value: number): string => String(value).padStart(2, '0');
  const offsetMinutes = -date.getTimezoneOffset();
  const zone =
    offsetMinutes === 0
      ? 'UTC'
      : `UTC${offsetMinutes > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())} ${zone}`;
}

/**
 * A duration rounded as a person says it: `45 s`, `1 min` (for 60.09 s), `2 h 12 min`, `3 d 4 h`.
 * Never a fraction of a second from a jittered back-off.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever';
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.round(total / 60);
  if (minutes < 90) return `${minutes} min`;
  if (minutes < 36 * 60) {
    const rest = minutes % 60;
    return `${Math.floor(minutes / 60)} h${rest === 0 ? '' : ` ${rest} min`}`;
  }
  const hours = Math.round(minutes / 60);
  const restHours = hours % 24;
  return `${Math.floor(hours / 24)} d${restHours === 0 ? '' : ` ${restHours} h`}`;
}

/* eslint-disable no-control-regex -- these patterns exist to find control characters */
// ESC followed by a CSI (`[`…final byte), an OSC/DCS/APC/PM/SOS string (up to BEL or ST), or one more byte.
const ESCAPE_SEQUENCE =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]?|[\]PX^_][\s\S]*?(?:\x07|\x1b\\|$)|[\s\S]?)|\x9b[0-?]*[ -/]*[@-~]?|[\x90\x9d\x98\x9e\x9f][\s\S]*?(?:\x07|\x9c|$)/g;
// C0 controls but tab and newline, DEL, C1 controls.
const CONTROL_CHARACTER = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
const COLOR_SEQUENCE = /\x1b\[[0-9;]*m/g;
/* eslint-enable no-control-regex */

/**
 * Text from outside (relay names and hosts, a relay's or a hook's words, a state file) made safe for a
 * terminal: escape sequences removed (no cursor moves, no screen clears, no window titles, no
 * clipboard writes), other control characters shown as `?`. Tabs and newlines stay.
 */
export function stripTerminalControls(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL_CHARACTER, '?');
}

/** {@link stripTerminalControls}, keeping SGR colour sequences (ESC [ … m) — for text coloured by us. */
export function stripTerminalControlsButColor(text: string): string {
  const colors: string[] = [];
  const marked = text.replace(COLOR_SEQUENCE, (sequence) => `\u{f0000}${colors.push(sequence) - 1}\u{f0001}`);
  return stripTerminalControls(marked).replace(
    /\u{f0000}(\d+)\u{f0001}/gu,
    (_match, index: string) => colors[Number(index)]!,
  );
}

/** `scheme://user:password@host…` → `scheme://***@host…`: credentials in a URL never reach a message or a log. */
export function redactUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, '$1***@');
}

/** `1 hop`, `3 hops`, or `distance unknown`. */
export function formatHops(distance: number | null): string {
  if (distance === null) return 'distance unknown';
  return distance === 1 ? '1 hop' : `${distance} hops`;
}

/** A round trip with two decimals below 10 ms, one above; `-` when unknown. */
export function formatRtt(rttMs: number | null): string {
  if (rttMs === null) return '-';
  return rttMs < 10 ? `${rttMs.toFixed(2)} ms` : `${rttMs.toFixed(1)} ms`;
}

/** Columns of text as wide as they show: colour codes take no room. */
function displayWidth(text: string): number {
  // Most cells hold no escape sequence; stripping only those that may keeps a million-row table fast.
  return text.includes('\x1b') || text.includes('\x9b') ? stripVTControlCharacters(text).length : text.length;
}

/** Left-aligned columns separated by two spaces; widths ignore colour codes. */
export function renderTable(headers: string[], rows: string[][], options: { indent?: number } = {}): string[] {
  return [...streamTable(headers, () => rows, options)];
}

/**
 * {@link renderTable}, line by line, for tables too long to hold as strings (`plan` of a million
 * relays): `rows()` is called twice, to measure the columns and then to print them, so the rows can be
 * made as they are read and need never be held all at once.
 */
export function* streamTable(
  headers: readonly string[],
  rows: () => Iterable<readonly string[]>,
  options: { indent?: number } = {},
): Generator<string> {
  const widths = headers.map(displayWidth);
  for (const row of rows()) {
    for (let column = 0; column < widths.length; column++) {
      const width = displayWidth(row[column] ?? '');
      if (width > widths[column]!) widths[column] = width;
    }
  }
  const pad = ' '.repeat(options.indent ?? 0);
  // Every padding a cell can need, cut from one string instead of made per cell.
  const spaces = ' '.repeat(widths.reduce((widest, width) => Math.max(widest, width), 0) + 2);
  const format = (cells: readonly string[]): string => {
    let line = pad;
    for (let column = 0; column < cells.length - 1; column++) {
      const cell = cells[column]!;
      const fill = column < widths.length ? Math.max(0, widths[column]! - displayWidth(cell)) : 0;
      line += cell + spaces.slice(0, fill + 2);
    }
    return (cells.length > 0 ? line + cells[cells.length - 1]! : line).trimEnd();
  };
  yield format(headers);
  for (const row of rows()) yield format(row);
}
