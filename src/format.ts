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

/** Left-aligned columns separated by two spaces; widths ignore colour codes. */
export function renderTable(headers: string[], rows: string[][], options: { indent?: number } = {}): string[] {
  const width = (text: string): number => stripVTControlCharacters(text).length;
  const widths = headers.map((header, column) => Math.max(width(header), ...rows.map((row) => width(row[column] ?? ''))));
  const pad = ' '.repeat(options.indent ?? 0);
  const format = (cells: string[]): string =>
    pad + cells.map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column]! - width(cell)))).join('  ').trimEnd();
  return [format(headers), ...rows.map(format)];
}
