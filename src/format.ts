/**
 * Text for people, shared by the CLI and the lab: hop counts, round trips, local times and aligned
 * tables. Pure.
 */
import { stripVTControlCharacters } from 'node:util';

/** A time as an operator reads it: local `YYYY-MM-DD HH:MM`. */
export function formatLocalTime(iso: string | Date): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
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
export function* streamTable(headers: readonly string[], rows: () => Iterable<readonly string[]>, options: { indent?: number } = {}): Generator<string> {
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
