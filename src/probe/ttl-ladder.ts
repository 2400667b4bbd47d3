/** The classic TTL ladder of relay auto-selection (DESIGN §6, strategy `rounds`). */
export const LADDER_TTLS: readonly number[] = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 192, 254];

/** The ladder capped at `maximumTtlToPing - 1`: rungs above the cap collapse into the cap itself. */
export function computeLadderTtls(maximumTtlToPing: number): number[] {
  const largestTtl = computeLargestTtl(maximumTtlToPing);
  const ttls = LADDER_TTLS.filter((ttl) => ttl < largestTtl);
  ttls.push(largestTtl);
  return ttls;
}

/** The largest TTL a probe may use: `maximumTtlToPing - 1`, within 1..254. */
export function computeLargestTtl(maximumTtlToPing: number): number {
  return Math.min(254, Math.max(1, Math.floor(maximumTtlToPing) - 1));
}

/** Distance from an echo reply's TTL: the initial TTL is the smallest of 64, 128, 255 not below it. */
export function inferDistanceFromReplyTtl(replyTtl: number): number {
  const initialTtl = [64, 128, 255].find((candidate) => candidate >= replyTtl) ?? 255;
  return initialTtl - replyTtl;
}
