/**
 * Bytes to text for a relay list read from disk: refused before decoding when binary (a NUL byte) or
 * not UTF-8, with the line and column of the first bad byte.
 */
import { isUtf8 } from 'node:buffer';

/** Where and why bytes are not a text relay list. */
interface TextProblem {
  line: number;
  column: number;
  message: string;
}

/** The text of `buffer`, or the problem that makes it not UTF-8 text. */
export function decodeUtf8Text(buffer: Uint8Array): string | TextProblem {
  const nul = buffer.indexOf(0);
  if (nul !== -1)
    return { ...locateByte(buffer, nul), message: 'file is not text (NUL byte); expected a UTF-8 text relay list' };
  if (!isUtf8(buffer)) {
    const offset = findInvalidUtf8(buffer);
    const byte = (buffer[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return {
      ...locateByte(buffer, offset),
      message: `file is not UTF-8 text (invalid byte 0x${byte}); expected a UTF-8 text relay list`,
    };
  }
  return Buffer.from(buffer.buffer, buffer.byteOffset, buffer.length).toString('utf8');
}

/** Line and column (in characters) of byte `offset`. */
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
