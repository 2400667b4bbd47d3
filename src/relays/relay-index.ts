/**
 * The duplicate index of a relay list: finds an earlier definition of the same relay, however its
 * host is spelled (`Relay-A` and `relay-a.`, or two spellings of one IPv6 address), among up to a
 * million relays. An open-addressing hash table of (relay number, hash) pairs in one Int32Array:
 * building a key string per relay costs more than parsing it.
 */
import type { Relay } from './relay.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 16777619;
const DOT = 46;

/**
 * A hash of the host's identity — a case-insensitive name without a trailing dot, or the IPv6 address
 * whose eight words `readIPv6` left in `ipv6Words` — computed from the characters, without a key string.
 */
export function hashHost(host: string, ipv6: boolean, ipv6Words: Uint16Array): number {
  let hash = FNV_OFFSET;
  let start = 0;
  let end = host.length;
  if (ipv6) {
    for (let word = 0; word < 8; word++) hash = Math.imul(hash ^ (ipv6Words[word] as number), FNV_PRIME);
    const zone = host.indexOf('%');
    start = zone === -1 ? end : zone;
  } else if (host.charCodeAt(end - 1) === DOT) end--;
  for (let index = start; index < end; index++) {
    let code = host.charCodeAt(index);
    if (code >= 65 && code <= 90) code += 32;
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  return hash;
}

/** Two spellings of one relay give one key; only compared when the hashes match. */
function identityOf(host: string, port: number): string {
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

export class RelayIndex {
  /** Pairs (relay number + 1, hash); relay number + 1 = 0 marks an empty pair. */
  private slots = new Int32Array(2048);

  /** @param relays the list the numbers in the table point into, in order. */
  constructor(private readonly relays: readonly Relay[]) {}

  /**
   * Sizes the table for the relays to come, so a big list is not rehashed again and again (each
   * rehash touches every relay in random order).
   */
  reserve(expectedRelays: number): void {
    const wanted = expectedRelays * 2;
    let pairs = this.slots.length >> 1;
    while (pairs < wanted) pairs *= 2;
    if (pairs > this.slots.length >> 1) this.slots = new Int32Array(pairs * 2);
  }

  /** The earlier definition of `relay` (same host identity and port), if any. */
  find(relay: Relay, hash: number): Relay | undefined {
    const { slots } = this;
    const mask = (slots.length >> 1) - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot * 2] as number;
      if (entry === 0) return undefined;
      if (slots[slot * 2 + 1] !== hash) continue;
      const candidate = this.relays[entry - 1] as Relay;
      if (
        candidate.port === relay.port &&
        identityOf(candidate.host, candidate.port) === identityOf(relay.host, relay.port)
      )
        return candidate;
    }
  }

  /** Indexes the relay just appended to the list under `hash`. */
  add(hash: number): void {
    const entry = this.relays.length;
    // Grow at half full so linear probing stays short.
    if (entry * 4 > this.slots.length) this.grow();
    insert(this.slots, hash, entry);
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 4);
    for (let pair = 0; pair < old.length; pair += 2) {
      if (old[pair] !== 0) insert(this.slots, old[pair + 1] as number, old[pair] as number);
    }
  }
}

/** The hash of a relay (host identity and port), its high bits mixed into the low ones linear probing uses. */
export function hashRelay(hostHash: number, port: number): number {
  const hash = Math.imul(hostHash ^ port, FNV_PRIME);
  return (hash ^ (hash >>> 15)) & 0x3fffffff;
}

function insert(slots: Int32Array, hash: number, entry: number): void {
  const mask = (slots.length >> 1) - 1;
  let slot = hash & mask;
  while (slots[slot * 2] !== 0) slot = (slot + 1) & mask;
  slots[slot * 2] = entry;
  slots[slot * 2 + 1] = hash;
}
