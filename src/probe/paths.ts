/**
 * What the path verification of `inference` (strategies.ts) knows about addresses: which prefix a relay
 * shares with others, and their order within it. Pure.
 */

/** Bits of the prefix taken to be one subnet: the assumption of `probe.verify: paths` (relay-select(1)). */
const PATH_PREFIX_BITS = { 4: 24, 6: 64 } as const;

/**
 * A fixed-width spelling of the address that sorts in numeric order (IPv4: 12 decimal digits; IPv6: 32
 * hex digits), or null for text that is not an address.
 */
export function addressOrderKey(address: string, family: 4 | 6): string | null {
  if (family === 4) {
    const octets = parseIpv4(address);
    return octets === null ? null : octets.map((octet) => String(octet).padStart(3, '0')).join('');
  }
  const words = parseIpv6(address);
  return words === null ? null : words.map((word) => word.toString(16).padStart(4, '0')).join('');
}

/**
 * The /24 (IPv4) or /64 (IPv6) an address belongs to, spelled `198.51.100.0/24` or `2001:db8:0:1::/64`;
 * for text that is not an address, the text itself (a prefix of its own).
 */
export function pathPrefixOf(address: string, family: 4 | 6): string {
  if (family === 4) {
    const octets = parseIpv4(address);
    return octets === null ? address : `${octets.slice(0, 3).join('.')}.0/${PATH_PREFIX_BITS[4]}`;
  }
  const words = parseIpv6(address);
  return words === null
    ? address
    : `${words
        .slice(0, 4)
        .map((word) => word.toString(16))
        .join(':')}::/${PATH_PREFIX_BITS[6]}`;
}

function parseIpv4(address: string): number[] | null {
  const parts = address.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return null;
  const octets = parts.map(Number);
  return octets.every((octet) => octet <= 255) ? octets : null;
}

/** Eight 16-bit words; accepts `::`, an embedded dotted quad and a `%zone` (ignored). */
function parseIpv6(address: string): number[] | null {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const octets = parseIpv4(dotted[1]!);
    if (octets === null) return null;
    text = `${text.slice(0, dotted.index)}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    if (!groups.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return null;
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  return missing < 1 ? null : [...head, ...new Array<number>(missing).fill(0), ...tail];
}
