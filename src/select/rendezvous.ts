import { hash } from 'node:crypto';

/** Something that takes part in weighted rendezvous hashing: a stable key and a weight ≥ 0. */
export interface RendezvousCandidate {
  /** Stable identity, e.g. `relayKey(relay)`. The hash depends on it, not on list order. */
  key: string;
  weight: number;
}

const TWO_POW_21 = 2 ** 21;
const TWO_POW_53 = 2 ** 53;

/**
 * A uniform number in the open interval (0, 1), derived from SHA-256 of (clientId, key). SHA-256
 * rather than a hand-rolled hash: identical on every platform and Node version, and well mixed even
 * for client ids that differ in one character. The top 53 bits fill a double exactly.
 */
export function hashToUnit(clientId: string, key: string): number {
  // Length prefix keeps ("ab", "c") and ("a", "bc") apart. One-shot crypto.hash: the same digest as
  // createHash().update().digest() without the Hash object, a third faster when ranking large pools.
  const digest = hash('sha256', `${clientId.length}:${clientId}\n${key}`, 'buffer');
  const bits53 = digest.readUInt32BE(0) * TWO_POW_21 + (digest.readUInt32BE(4) >>> 11);
  return (bits53 + 0.5) / TWO_POW_53;
}

/**
 * Weighted rendezvous (highest random weight) score: `-weight / ln(u)`. The relay with the highest
 * score wins; the winner's probability is proportional to its weight (Schindelhauer & Schomaker,
 * "Weighted distributed hash tables"), and adding or removing one relay moves only the clients it
 * wins or held.
 * @returns a score ≥ 0; 0 when the weight is 0.
 */
export function scoreRendezvous(clientId: string, key: string, weight: number): number {
  const unit = hashToUnit(clientId, key);
  return -weight / Math.log(unit);
}

interface Scored<T> {
  candidate: T;
  positive: boolean;
  score: number;
}

function scoreCandidate<T extends RendezvousCandidate>(clientId: string, candidate: T): Scored<T> {
  const positive = candidate.weight > 0;
  // Zero-weight candidates get a unit weight inside their own (later) group, so their order among
  // themselves is still stable rendezvous rather than list order.
  return { candidate, positive, score: scoreRendezvous(clientId, candidate.key, positive ? candidate.weight : 1) };
}

/** Negative when `left` ranks first: positive weights first, then descending score, then key. */
function compareScored(left: Scored<RendezvousCandidate>, right: Scored<RendezvousCandidate>): number {
  if (left.positive !== right.positive) return left.positive ? -1 : 1;
  if (left.score !== right.score) return right.score - left.score;
  return compareKeys(left.candidate.key, right.candidate.key);
}

/**
 * Candidates in rendezvous order for one client: the winner first, then by descending score.
 * A candidate with weight 0 comes after every candidate with a positive weight; when all weights are
 * 0 they compete as if their weights were equal (plain rendezvous).
 */
export function orderByRendezvous<T extends RendezvousCandidate>(clientId: string, candidates: readonly T[]): T[] {
  return candidates
    .map((candidate) => scoreCandidate(clientId, candidate))
    .sort(compareScored)
    .map((entry) => entry.candidate);
}

/**
 * The rendezvous winner for this client among the candidates: the head of `orderByRendezvous`,
 * found in one pass.
 * @returns the winner, or undefined when there are no candidates.
 */
export function pickByRendezvous<T extends RendezvousCandidate>(
  clientId: string,
  candidates: readonly T[],
): T | undefined {
  let best: Scored<T> | undefined;
  for (const candidate of candidates) {
    const scored = scoreCandidate(clientId, candidate);
    if (best === undefined || compareScored(scored, best) < 0) best = scored;
  }
  return best?.candidate;
}

function compareKeys(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
