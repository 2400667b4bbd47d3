import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { IpMode } from '../config/settings.js';
import { runWithConcurrency } from './concurrency.js';
import { unreachableResult, type ProbeResult, type ProbeTarget } from './types.js';

/** A host to resolve into a probe target. */
export interface TargetHost {
  key: string;
  host: string;
  port: number;
  /** @default 0 */
  priority?: number;
}

export interface UnresolvedHost {
  key: string;
  host: string;
  port: number;
  reason: string;
}

export type LookupAddress = (
  hostname: string,
  options: { family: 0 | 4 | 6 },
) => Promise<{ address: string; family: number }>;

const RESOLVE_CONCURRENCY = 32;

/**
 * Turns hosts into probe targets under `ipMode` (`ipv4`/`ipv6` only that family, `auto` whatever the
 * resolver prefers). A host that does not resolve is listed in `unresolved` — never thrown — so one bad
 * name cannot stop a selection.
 */
export async function resolveTargets(
  hosts: TargetHost[],
  ipMode: IpMode,
  lookup: LookupAddress = dnsLookup,
): Promise<{ targets: ProbeTarget[]; unresolved: UnresolvedHost[] }> {
  const family = ipMode === 'ipv4' ? 4 : ipMode === 'ipv6' ? 6 : 0;
  const outcomes: Array<ProbeTarget | UnresolvedHost> = new Array<ProbeTarget | UnresolvedHost>(hosts.length);
  await runWithConcurrency(hosts, RESOLVE_CONCURRENCY, async (host, index) => {
    outcomes[index] = await resolveOne(host, family, lookup);
  });
  return {
    targets: outcomes.filter((outcome): outcome is ProbeTarget => 'address' in outcome),
    unresolved: outcomes.filter((outcome): outcome is UnresolvedHost => 'reason' in outcome),
  };
}

async function resolveOne(
  host: TargetHost,
  family: 0 | 4 | 6,
  lookup: LookupAddress,
): Promise<ProbeTarget | UnresolvedHost> {
  const base = { key: host.key, host: host.host, port: host.port };
  const withPriority = host.priority === undefined ? {} : { priority: host.priority };
  const literal = isIP(host.host);
  if (literal !== 0) {
    if (family !== 0 && literal !== family)
      return { ...base, reason: `an IPv${literal} address, but ipMode allows IPv${family} only` };
    return { ...base, address: host.host, family: literal as 4 | 6, ...withPriority };
  }
  try {
    const found = await lookup(host.host, { family });
    if (found.family !== 4 && found.family !== 6)
      return { ...base, reason: `resolved to an unknown address family ${found.family}` };
    return { ...base, address: found.address, family: found.family, ...withPriority };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ...base, reason: `does not resolve${family === 0 ? '' : ` to IPv${family}`}${code ? ` (${code})` : ''}` };
  }
}

/** The result to report for a host that did not resolve. */
export function describeUnresolved(host: UnresolvedHost): ProbeResult {
  return unreachableResult({ ...host, address: null }, host.reason);
}
