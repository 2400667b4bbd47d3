/**
 * The scanner of relay-list text: a cursor over one line that finds tokens and `key=value` pairs by
 * character code, without building substrings — a million-line list must parse in about a second.
 * One scanner serves a whole parse; `startLine` moves it to the next line. Also the character classes
 * and the position arithmetic (columns, byte lengths) the rest of the parser shares.
 */

export const CHAR = {
  TAB: 9,
  LINE_FEED: 10,
  VERTICAL_TAB: 11,
  FORM_FEED: 12,
  CARRIAGE_RETURN: 13,
  SPACE: 32,
  QUOTE: 34,
  HASH: 35,
  COMMA: 44,
  EQUALS: 61,
  OPEN_BRACKET: 91,
  BACKSLASH: 92,
  CLOSE_BRACKET: 93,
  OPEN_BRACE: 123,
  CLOSE_BRACE: 125,
  BYTE_ORDER_MARK: 0xfeff,
} as const;

/** Space inside a line: space, tab, vertical tab, form feed, and a stray carriage return. */
function isLineSpace(code: number): boolean {
  return (
    code === CHAR.SPACE ||
    code === CHAR.TAB ||
    code === CHAR.VERTICAL_TAB ||
    code === CHAR.FORM_FEED ||
    code === CHAR.CARRIAGE_RETURN
  );
}

/** Where a token of a line ends: at space or at `#`, which starts a comment. */
function isTokenEnd(code: number): boolean {
  return isLineSpace(code) || code === CHAR.HASH;
}

/** The first offset from `position` that is not space, line breaks included. */
export function skipBlank(text: string, position: number): number {
  while (position < text.length) {
    const code = text.charCodeAt(position);
    if (!isLineSpace(code) && code !== CHAR.LINE_FEED) break;
    position++;
  }
  return position;
}

/** Like `indexOf` but never looks past `end`: an unbounded search per line is quadratic on big files. */
export function indexOfCode(text: string, code: number, start: number, end: number): number {
  for (let index = start; index < end; index++) if (text.charCodeAt(index) === code) return index;
  return -1;
}

/** 1-based column of `offset`, counted in characters (code points) from the start of the line. */
export function columnAt(text: string, lineStart: number, offset: number): number {
  let column = 1;
  for (let index = lineStart; index < offset; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < offset) index++;
    column++;
  }
  return column;
}

/** Line and column (1-based) of `offset` in `text`. */
export function locateOffset(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line++;
    lineStart = index + 1;
  }
  return { line, column: columnAt(text, lineStart, offset) };
}

/** Whether `text[start, end)` is longer than `limit` UTF-8 bytes; stops counting at the limit. */
export function exceedsUtf8Bytes(text: string, start: number, end: number, limit: number): boolean {
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

/**
 * A cursor over one line of `text`. After `readKeyValue` succeeds, `keyStart..keyEnd` and
 * `valueStart..valueEnd` hold the pair (the value without its quotes).
 */
export class LineScanner {
  position = 0;
  lineStart = 0;
  lineEnd = 0;
  keyStart = 0;
  keyEnd = 0;
  valueStart = 0;
  valueEnd = 0;
  /** Where the problem `readKeyValue` reported is. */
  errorOffset = 0;

  constructor(readonly text: string) {}

  startLine(lineStart: number, lineEnd: number): void {
    this.lineStart = lineStart;
    this.lineEnd = lineEnd;
    this.position = lineStart;
  }

  /** Skips space; true when nothing but a comment (or nothing) is left on the line. */
  atLineEnd(): boolean {
    const { text, lineEnd } = this;
    let position = this.position;
    while (position < lineEnd && isLineSpace(text.charCodeAt(position))) position++;
    this.position = position;
    return position === lineEnd || text.charCodeAt(position) === CHAR.HASH;
  }

  /** Moves past one token (up to space or `#`); returns where it ended. */
  skipToken(): number {
    const { text, lineEnd } = this;
    let position = this.position;
    while (position < lineEnd && !isTokenEnd(text.charCodeAt(position))) position++;
    this.position = position;
    return position;
  }

  /** The 1-based column of an offset on this line. */
  column(offset: number): number {
    return columnAt(this.text, this.lineStart, offset);
  }

  /**
   * Reads `key=value` or `key="value with spaces"` at the cursor.
   * @returns undefined, or what is wrong (with `errorOffset` set).
   */
  readKeyValue(knownKeys: string): string | undefined {
    const { text, lineEnd } = this;
    let position = this.position;
    this.keyStart = position;
    for (
      let code = text.charCodeAt(position);
      position < lineEnd && code !== CHAR.EQUALS && !isTokenEnd(code);
      code = text.charCodeAt(position)
    )
      position++;
    this.position = position;
    this.keyEnd = position;
    if (position === lineEnd || text.charCodeAt(position) !== CHAR.EQUALS) {
      const tokenEnd = this.skipToken();
      return this.fail(
        this.keyStart,
        `unexpected "${text.slice(this.keyStart, tokenEnd)}"; expected key=value (${knownKeys}); one relay per line`,
      );
    }
    if (this.keyEnd === this.keyStart)
      return this.fail(this.keyStart, `"=" without a key; expected key=value (${knownKeys})`);
    this.position++;
    if (text.charCodeAt(this.position) !== CHAR.QUOTE) {
      this.valueStart = this.position;
      this.valueEnd = this.skipToken();
      return undefined;
    }
    const close = indexOfCode(text, CHAR.QUOTE, this.position + 1, lineEnd);
    if (close === -1) return this.fail(this.position, 'quoted value has no closing "; expected "value"');
    this.valueStart = this.position + 1;
    this.valueEnd = close;
    this.position = close + 1;
    if (this.position < lineEnd && !isTokenEnd(text.charCodeAt(this.position))) {
      return this.fail(this.position, 'unexpected text after a closing "; expected a space before the next key=value');
    }
    return undefined;
  }

  private fail(offset: number, message: string): string {
    this.errorOffset = offset;
    return message;
  }
}
