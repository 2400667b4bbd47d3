/**
 * Deterministic randomness for the fleet simulator: everything random in a run (topology, client ids,
 * cron splay, back-off jitter) derives from the seed, so a run repeats exactly. Draws are addressed by
 * what they are for — (seed, purpose, endpoint, moment) — rather than taken from one shared stream, so
 * the order in which the simulator visits endpoints cannot change the outcome.
 */

/** SplitMix32-style finaliser: a well-mixed 32-bit value from a 32-bit input. */
function mix32(value: number): number {
  let x = value >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** A uniform number in [0, 1) addressed by up to four integers. */
export function hashUnit(seed: number, a: number, b = 0, c = 0): number {
  let h = mix32(seed ^ 0x9e3779b9);
  h = mix32(h ^ Math.imul(a + 1, 0x85ebca6b));
  h = mix32(h ^ Math.imul(b + 1, 0xc2b2ae35));
  h = mix32(h ^ Math.imul(c + 1, 0x27d4eb2f));
  return h / 0x1_0000_0000;
}

/** A stream of uniform numbers in [0, 1) (mulberry32), for building the topology in one pass. */
export function createRandom(seed: number): () => number {
  return mulberry32(mix32(seed) || 1);
}

/**
 * mulberry32 from `state` as given (unmixed): the generator of the lab's orders and of
 * bench/generate-relays.mjs, whose committed outputs depend on these exact numbers.
 */
export function mulberry32(initialState: number): () => number {
  let state = initialState >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/**
 * A copy of `values` in a fixed order for `seed` (Fisher–Yates on mulberry32 seeded with `seed` itself,
 * unmixed, so the lab's and the probe benchmark's orders stay what they were).
 */
export function shuffle<T>(values: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const result = [...values];
  for (let index = result.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}

/** A client id shaped like the UUIDs real endpoints generate, derived from the seed and the endpoint number. */
export function deriveClientId(seed: number, endpoint: number): string {
  const words = [0, 1, 2, 3].map((word) =>
    Math.floor(hashUnit(seed, 0x1d, endpoint, word) * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0'),
  );
  const hex = words.join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Draw purposes, kept apart so that two uses never read the same numbers. */
export const DRAW = {
  topology: 1,
  cronSplay: 2,
  install: 3,
  decision: 4,
  tieBreak: 5,
} as const;
