/**
 * When a follower may use a leader's measurements instead of probing (DESIGN §13), as pure functions:
 * the election group, the adoption rules and the one-echo confirmation.
 */
import { createHash } from 'node:crypto';
import type { Settings } from '../config/settings.js';
import { unreachableResult, type ProbeResult, type ProbeTarget } from '../probe/types.js';
import { relayKey, type Pool } from '../relays/relay.js';
import type { PeerTable } from './peer-message.js';

/**
 * The election group of an agent: peers elect one leader per link and group, and only agents that would
 * measure the same pools the same way share a group — the same relay list (digest) and seek list, and
 * the same address family mode and TTL limit, which change what a measurement can see.
 */
export function peerGroupOf(
  relayListDigest: string,
  settings: Pick<Settings, 'seekList' | 'ipMode' | 'maximumTtlToPing'>,
): string {
  const identity = JSON.stringify([relayListDigest, settings.seekList, settings.ipMode, settings.maximumTtlToPing]);
  return createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, 32);
}

interface AdoptPeerTableInput {
  table: PeerTable;
  /** The leader's address, named in each result's note. */
  from: string;
  /** Our relay list's digest and seek list. */
  relayListDigest: string;
  seekList: readonly string[];
  /** The pool as our own relay list builds it, and its relays as we resolved them. */
  pool: Pool;
  targets: readonly ProbeTarget[];
  nowMs: number;
}

type AdoptionResult =
  | { ok: true; results: ProbeResult[]; measuredAtMs: number }
  /**
   * `rejected`: the table is wrong for a table of our group (another list, a relay we do not know) and is
   * counted like a refused message; otherwise it is merely unusable here (expired, without this pool).
   */
  | { ok: false; reason: string; rejected: boolean };

/**
 * The pool's probe results taken from the leader's table, in the order of our targets; relays the table
 * leaves out were unreachable from the leader. Adopted only when the table was made from the same relay
 * list (digest) and seek list, is still valid, and names only relays of our own pool at the addresses we
 * resolved.
 */
export function adoptPeerTable(input: AdoptPeerTableInput): AdoptionResult {
  const { table, pool, nowMs } = input;
  if (table.relayListDigest !== input.relayListDigest)
    return { ok: false, reason: 'the table was made from another relay list (digest differs)', rejected: true };
  if (table.seekList.join(';') !== input.seekList.join(';'))
    return { ok: false, reason: `the table was made for seek list "${table.seekList.join(';')}"`, rejected: true };
  const measured = table.pools.find((entry) => entry.name === pool.name);
  if (measured === undefined)
    return { ok: false, reason: `the table has no measurement of pool ${pool.name}`, rejected: false };
  if (measured.validUntilMs <= nowMs)
    return {
      ok: false,
      reason: `the table's measurement of pool ${pool.name} expired at ${new Date(measured.validUntilMs).toISOString()}`,
      rejected: false,
    };
  if (measured.relayCount !== pool.relays.length) {
    return {
      ok: false,
      reason: `the table counts ${measured.relayCount} relays in pool ${pool.name}, our list ${pool.relays.length}`,
      rejected: true,
    };
  }
  const known = new Set(pool.relays.map((relay) => relayKey(relay)));
  const entries = new Map<string, PeerTable['pools'][number]['entries'][number]>();
  for (const entry of measured.entries) {
    if (!known.has(entry.key))
      return {
        ok: false,
        reason: `the table names relay ${entry.key}, which is not in our pool ${pool.name}`,
        rejected: true,
      };
    if (entries.has(entry.key))
      return { ok: false, reason: `the table names relay ${entry.key} twice`, rejected: true };
    entries.set(entry.key, entry);
  }
  const results: ProbeResult[] = [];
  for (const target of input.targets) {
    const entry = entries.get(target.key);
    if (entry === undefined) {
      results.push(unreachableResult(target, `unreachable from the leader ${input.from}`));
      continue;
    }
    if (entry.address !== target.address) {
      return {
        ok: false,
        reason: `relay ${target.key} resolves to ${target.address} here but to ${entry.address} at the leader`,
        rejected: false,
      };
    }
    results.push({
      key: target.key,
      host: target.host,
      address: entry.address,
      distance: entry.distance,
      rttMs: entry.rttMs,
      method: entry.method,
      note: `measured by the leader ${input.from}`,
    });
  }
  return { ok: true, results, measuredAtMs: measured.measuredAtMs };
}

/**
 * Whether our one echo at the maximum TTL confirms what the table says of the relay we would choose: it
 * must answer at the same distance (or, for a relay the leader reached only by TCP, still only by TCP).
 */
export function checkConfirmation(
  expected: ProbeResult,
  observed: ProbeResult | undefined,
): { ok: true } | { ok: false; reason: string } {
  if (observed === undefined || observed.method === 'unreachable')
    return { ok: false, reason: `${expected.key} did not answer our echo` };
  if (expected.method === 'tcp') {
    return observed.method === 'tcp'
      ? { ok: true }
      : {
          ok: false,
          reason: `${expected.key} answers ICMP here (${observed.distance} hops) but only TCP at the leader`,
        };
  }
  if (observed.method === 'tcp')
    return { ok: false, reason: `${expected.key} answered only by TCP here, ICMP at the leader` };
  if (observed.distance !== expected.distance) {
    return {
      ok: false,
      reason: `${expected.key} answered at ${observed.distance} hops here, ${expected.distance} at the leader`,
    };
  }
  return { ok: true };
}
