import { stripVTControlCharacters } from 'node:util';

/** Left-aligned columns separated by two spaces; widths ignore colour codes. */
export function renderTable(headers: string[], rows: string[][], options: { indent?: number } = {}): string[] {
  const width = (text: string): number => stripVTControlCharacters(text).length;
  const widths = headers.map((header, column) => Math.max(width(header), ...rows.map((row) => width(row[column] ?? ''))));
  const pad = ' '.repeat(options.indent ?? 0);
  const format = (cells: string[]): string =>
    pad + cells.map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column]! - width(cell)))).join('  ').trimEnd();
  return [format(headers), ...rows.map(format)];
}
