import { indexOfCode } from './line-scanner.js';
import { DEFAULT_RELAY_PORT } from './relay.js';

/** A host and port parsed from `host`, `host:port`, `[v6]:port`, a bare IPv6 literal or a URL. */
export interface HostPort {
  /** A DNS name or an IP literal; IPv6 without brackets. */
  host: string;
  port: number;
}

/** Why a host specification was refused, and where (0-based offset into the text given). */
interface HostSpecError {
  error: string;
  offset: number;
}

/** A host specification as written in a relay list: the port is absent when not written. */
interface HostSpec {
  host: string;
  port: number | undefined;
  /** 0-based offset of the port digits, when a port was written. */
  portOffset: number;
  /** True when `host` is an IPv6 literal; its eight words are then in the `words` array passed in. */
  ipv6: boolean;
}

const MAX_HOST_NAME_CHARS = 253;
const MAX_LABEL_CHARS = 63;
const PORT_MAX = 65535;

/** The one wording of a bad port, shared by every place that reads ports. */
export function describePortProblem(text: string): string {
  if (text === '') return 'port is empty; expected an integer 1..65535';
  if (!isAllDigits(text, 0, text.length)) return `port "${text}" is not a number; expected an integer 1..65535`;
  return `port ${text} is out of range; expected 1..65535`;
}

/**
 * Reads a port written as decimal digits in `text[start, end)`.
 * @returns the port, or -1 when it is not an integer in 1..65535.
 */
export function readPort(text: string, start: number, end: number): number {
  if (end <= start || end - start > 5 || !isAllDigits(text, start, end)) return -1;
  let value = 0;
  for (let index = start; index < end; index++) value = value * 10 + (text.charCodeAt(index) - 48);
  return value >= 1 && value <= PORT_MAX ? value : -1;
}

/**
 * Parses the host part of a relay-list line, `text[start, end)`, without allocating more than the
 * host string. Forms: `host`, `host:port`, `[v6]`, `[v6]:port`, bare IPv6 literal (no port).
 * @param words receives the eight words of an IPv6 host; a parse passes its own, so nothing is shared.
 */
export function scanHostSpec(
  text: string,
  start: number,
  end: number,
  words: Uint16Array = new Uint16Array(8),
): HostSpec | HostSpecError {
  if (end <= start) return { error: 'host is empty; expected host[:port]', offset: start };
  if (text.charCodeAt(start) === 91 /* [ */) {
    const close = indexOfCode(text, 93 /* ] */, start + 1, end);
    if (close === -1) {
      return { error: `"${text.slice(start, end)}" has no closing "]"; expected [IPv6-address]:port`, offset: start };
    }
    const host = text.slice(start + 1, close);
    if (readIPv6(text, start + 1, close, words) === -1) {
      return {
        error: `"${host}" is not an IPv6 address; expected [IPv6-address]:port inside brackets`,
        offset: start + 1,
      };
    }
    if (close + 1 === end) return { host, port: undefined, portOffset: -1, ipv6: true };
    if (text.charCodeAt(close + 1) !== 58 /* : */) {
      return { error: `unexpected "${text.slice(close + 1, end)}" after "]"; expected :port`, offset: close + 1 };
    }
    return withPort(text, host, close + 2, end, true);
  }
  const firstColon = indexOfCode(text, 58, start, end);
  if (firstColon === -1) return checkedHost(text.slice(start, end), start);
  if (indexOfCode(text, 58, firstColon + 1, end) !== -1) {
    // Two colons can only be a bare IPv6 literal; a port needs the bracketed form to be unambiguous.
    const host = text.slice(start, end);
    if (readIPv6(text, start, end, words) !== -1) return { host, port: undefined, portOffset: -1, ipv6: true };
    return {
      error: `"${host}" is not an IPv6 address; expected host:port, [IPv6-address]:port or a bare IPv6 address`,
      offset: start,
    };
  }
  const checked = checkedHost(text.slice(start, firstColon), start);
  if ('error' in checked) return checked;
  return withPort(text, checked.host, firstColon + 1, end, false);
}

function withPort(text: string, host: string, portStart: number, end: number, ipv6: boolean): HostSpec | HostSpecError {
  const port = readPort(text, portStart, end);
  if (port === -1) return { error: describePortProblem(text.slice(portStart, end)), offset: portStart };
  return { host, port, portOffset: portStart, ipv6 };
}

function checkedHost(host: string, offset: number): HostSpec | HostSpecError {
  const problem = describeHostNameProblem(host);
  if (problem === undefined) return { host, port: undefined, portOffset: -1, ipv6: false };
  return { error: problem, offset };
}

/**
 * Checks a DNS name or IPv4 literal (not IPv6).
 * @returns a message saying what is wrong and what was expected, or undefined when valid.
 */
export function describeHostNameProblem(host: string): string | undefined {
  if (host === '') return 'host is empty; expected a DNS name or an IP address';
  if (host.length > MAX_HOST_NAME_CHARS) {
    return `host name is ${host.length} characters long; expected at most ${MAX_HOST_NAME_CHARS}`;
  }
  let labelStart = 0;
  let allDigitsAndDots = true;
  for (let index = 0; index <= host.length; index++) {
    const code = index === host.length ? 46 : host.charCodeAt(index);
    if (code === 46 /* . */) {
      const labelChars = index - labelStart;
      // A single trailing dot (fully qualified name) is allowed.
      if (labelChars === 0 && !(index === host.length && index > 0)) {
        return `host "${host}" has an empty label; expected a DNS name like relay.corp.example or an IP address`;
      }
      if (labelChars > MAX_LABEL_CHARS) {
        return `host "${host}" has a label longer than ${MAX_LABEL_CHARS} characters; expected a DNS name or an IP address`;
      }
      if (labelChars > 0 && (host.charCodeAt(labelStart) === 45 || host.charCodeAt(index - 1) === 45)) {
        return `host "${host}" has a label starting or ending with "-"; expected a DNS name or an IP address`;
      }
      labelStart = index + 1;
      continue;
    }
    const isDigit = code >= 48 && code <= 57;
    if (!isDigit) allDigitsAndDots = false;
    const isLetter = (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
    if (!isDigit && !isLetter && code !== 45 && code !== 95 /* _ */) {
      return `host "${host}" contains "${String.fromCodePoint(host.codePointAt(index) ?? code)}"; expected a DNS name (letters, digits, "-", "_", ".") or an IP address`;
    }
  }
  if (allDigitsAndDots && !isIPv4(host)) {
    return `host "${host}" is not a valid IPv4 address; expected four numbers 0..255 separated by "."`;
  }
  return undefined;
}

/** Dotted-quad IPv4 without leading zeros (which some resolvers read as octal). */
export function isIPv4(text: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let index = 0; index <= text.length; index++) {
    const code = index === text.length ? 46 : text.charCodeAt(index);
    if (code === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      value = 0;
      digits = 0;
      continue;
    }
    if (code < 48 || code > 57) return false;
    if (digits === 1 && value === 0) return false;
    value = value * 10 + (code - 48);
    digits++;
    if (digits > 3) return false;
  }
  return parts === 4;
}

function isAllDigits(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return false;
  }
  return end > start;
}

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Parses one host setting: `host`, `host:port`, `[v6]:port`, a bare IPv6 literal, or the URL form of
 * BigFix settings (`http://relay.corp.example:52311/bfmirror/...`). A URL without a port gets
 * `defaultPort`, not the scheme's port, because relays listen on 52311 whatever the scheme says.
 *
 * @param defaultPort port used when none is written. @default 52311
 */
export function parseHostPort(text: string, defaultPort: number = DEFAULT_RELAY_PORT): HostPort | { error: string } {
  if (typeof text !== 'string') return { error: 'expected a string host[:port]' };
  let spec = text.trim();
  if (spec === '') return { error: 'host is empty; expected host[:port]' };
  const scheme = URL_SCHEME.exec(spec);
  if (scheme !== null) {
    const authorityStart = scheme[0].length;
    let authorityEnd = spec.length;
    for (let index = authorityStart; index < spec.length; index++) {
      const code = spec.charCodeAt(index);
      if (code === 47 /* / */ || code === 63 /* ? */ || code === 35 /* # */) {
        authorityEnd = index;
        break;
      }
    }
    spec = spec.slice(authorityStart, authorityEnd);
    if (spec.includes('@'))
      return { error: `"${text.trim()}" contains user information; expected scheme://host:port/` };
    if (spec === '') return { error: `"${text.trim()}" has no host; expected scheme://host:port/` };
  }
  const scanned = scanHostSpec(spec, 0, spec.length);
  if ('error' in scanned) return { error: scanned.error };
  return { host: scanned.host, port: scanned.port ?? defaultPort };
}

/**
 * Parses the IPv6 literal `text[start, end)` into eight 16-bit words, so two spellings of one
 * address compare equal. Hand-written because the parser runs once per line of a million-line list.
 * @returns the offset of the `%zone` suffix (or `end` without one), or -1 when not an IPv6 literal.
 */
export function readIPv6(text: string, start: number, end: number, words: Uint16Array): number {
  let addressEnd = end;
  const percent = indexOfCode(text, 37 /* % */, start, end);
  if (percent !== -1) {
    if (percent === end - 1) return -1;
    for (let index = percent + 1; index < end; index++) {
      const code = text.charCodeAt(index);
      const allowed = isAsciiAlphanumeric(code) || code === 45 || code === 46 || code === 58 || code === 95;
      if (!allowed) return -1;
    }
    addressEnd = percent;
  }
  let count = 0;
  let gapAt = -1;
  let index = start;
  if (index < addressEnd && text.charCodeAt(index) === 58) {
    if (index + 1 >= addressEnd || text.charCodeAt(index + 1) !== 58) return -1;
    gapAt = 0;
    index += 2;
  }
  while (index < addressEnd) {
    let next = index;
    let value = 0;
    let digits = 0;
    while (next < addressEnd && digits < 5) {
      const digit = hexValue(text.charCodeAt(next));
      if (digit === -1) break;
      value = value * 16 + digit;
      digits++;
      next++;
    }
    if (next < addressEnd && text.charCodeAt(next) === 46) {
      // Embedded IPv4 (::ffff:198.18.0.1) fills the last two words.
      if (count > 6) return -1;
      const ipv4 = text.slice(index, addressEnd);
      if (!isIPv4(ipv4)) return -1;
      const parts = ipv4.split('.').map(Number) as [number, number, number, number];
      words[count++] = parts[0] * 256 + parts[1];
      words[count++] = parts[2] * 256 + parts[3];
      break;
    }
    if (digits === 0 || digits > 4 || count === 8) return -1;
    words[count++] = value;
    index = next;
    if (index === addressEnd) break;
    if (text.charCodeAt(index) !== 58) return -1;
    index++;
    if (index < addressEnd && text.charCodeAt(index) === 58) {
      if (gapAt !== -1) return -1;
      gapAt = count;
      index++;
    } else if (index === addressEnd) return -1;
  }
  if (gapAt === -1) return count === 8 ? addressEnd : -1;
  if (count > 7) return -1;
  const tail = count - gapAt;
  for (let offset = 1; offset <= tail; offset++) words[8 - offset] = words[count - offset] as number;
  for (let word = gapAt; word < 8 - tail; word++) words[word] = 0;
  return addressEnd;
}

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

function isAsciiAlphanumeric(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
