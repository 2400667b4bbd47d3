import { relayKey } from '../relays/relay.js';
import { describeDistance } from './rank.js';
import type { Attempt, Candidate, SelectionOutcome } from './types.js';

/**
 * The selection told as lines a person can read ("why this relay"): each pool, each attempt with
 * its reason and result, then the verdict. Pure; the CLI decides where and how to print it.
 */
export function explainSelection(outcome: SelectionOutcome): string[] {
  const lines: string[] = [];
  for (const pool of outcome.pools) {
    lines.push(
      pool.probed
        ? `pool ${pool.name}: ${pool.reachable} of ${pool.relayCount} relays reachable`
        : `pool ${pool.name}: not probed (${pool.relayCount} relays)`,
    );
  }
  for (const attempt of outcome.attempts) lines.push(describeAttempt(attempt));
  if (outcome.status === 'selected') {
    const note =
      outcome.registration.status === 'upstream-down'
        ? ` (upstream server down: ${outcome.registration.detail}; kept)`
        : '';
    lines.push(`selected ${describeCandidate(outcome.chosen)}${note}`);
  } else {
    lines.push(
      outcome.attempts.length === 0
        ? 'no relay to try: selection failed'
        : 'no relay could be registered: selection failed',
    );
  }
  return lines;
}

/** One attempt: "relay-a:52311: pool lyon: priority 0, 1 hop, no competition → registration failed: HTTP 500". */
export function describeAttempt(attempt: Attempt): string {
  const target = relayKey(attempt.candidate.relay);
  const { outcome } = attempt;
  const result =
    outcome.status === 'registered'
      ? 'registered'
      : outcome.status === 'upstream-down'
        ? `alive, upstream server down: ${outcome.detail}`
        : outcome.status === 'skipped'
          ? `skipped: ${outcome.detail}`
          : `registration failed: ${outcome.detail}`;
  return `${target}: ${attempt.reason} → ${result}`;
}

/** "relay-a:52311 (pool lyon, 2 hops, echo-ttl)". */
function describeCandidate(candidate: Candidate): string {
  const distance = describeDistance({
    distance: candidate.distance,
    method: candidate.method === 'tcp' ? 'tcp' : 'echo-ttl',
  });
  return `${relayKey(candidate.relay)} (pool ${candidate.pool}, ${distance}, ${candidate.method})`;
}

/** At most this many failed attempts are named in the one line of a failed selection. */
const FAILURES_NAMED = 3;

/**
 * Why a selection found no relay, short enough for the one line of a failed run:
 * "relay-a:52311: connection refused; relay-b:52311: HTTP 500", "none of the 12 relays probed
 * answered; 198.18.9.9:52311: no TCP answer on port 52311".
 */
export function describeSelectionFailure(outcome: Extract<SelectionOutcome, { status: 'failed' }>): string {
  const parts: string[] = [];
  const probed = outcome.pools.filter((pool) => pool.probed);
  const probedRelays = probed.reduce((sum, pool) => sum + pool.relayCount, 0);
  if (probedRelays > 0 && probed.every((pool) => pool.reachable === 0))
    parts.push(`none of the ${probedRelays} relay${probedRelays === 1 ? '' : 's'} probed answered`);
  // A relay skipped because it already failed in this selection says nothing new.
  const tried = outcome.attempts.filter(
    (attempt) =>
      attempt.outcome.status === 'failed' ||
      (attempt.outcome.status === 'skipped' && !attempt.outcome.detail.startsWith('registration already failed')),
  );
  for (const attempt of tried.slice(0, FAILURES_NAMED))
    parts.push(
      `${relayKey(attempt.candidate.relay)}: ${'detail' in attempt.outcome ? attempt.outcome.detail : attempt.outcome.status}`,
    );
  if (tried.length > FAILURES_NAMED) parts.push(`and ${tried.length - FAILURES_NAMED} more`);
  return parts.length > 0 ? parts.join('; ') : 'no relay to try (empty pools, no failover relay, no root server)';
}
