import type { ProbeResult } from '../../src/probe/types.js';
import { relayKey, type Relay } from '../../src/relays/relay.js';

let relayCounter = 0;

/** A relay with defaults (priority 0, weight 100, unaffiliated, a fresh 198.18.0.0/15 address). */
export function relay(overrides: Partial<Relay> = {}): Relay {
  relayCounter++;
  return {
    host: `198.18.${Math.floor(relayCounter / 250)}.${(relayCounter % 250) + 1}`,
    port: 52311,
    groups: [],
    priority: 0,
    weight: 100,
    ...overrides,
  };
}

/** An echo-ttl probe result for `of` (distance 1, 1 ms unless overridden). */
export function result(of: Relay, overrides: Partial<ProbeResult> = {}): ProbeResult {
  return {
    key: relayKey(of),
    host: of.host,
    address: of.host,
    distance: 1,
    rttMs: 1,
    method: 'echo-ttl',
    ...overrides,
  };
}

/** A TCP-fallback result: reachable, distance unknown. */
export function tcpResult(of: Relay, overrides: Partial<ProbeResult> = {}): ProbeResult {
  return result(of, { distance: null, method: 'tcp', ...overrides });
}

export function resultsOf(...results: ProbeResult[]): Map<string, ProbeResult> {
  return new Map(results.map((entry) => [entry.key, entry]));
}

/** A small seeded PRNG (the fleet simulator's mulberry32) so "random" tests are reproducible. */
export { mulberry32 as seededRandom } from '../../src/fleet/random.js';

export function clientIds(count: number, prefix = 'client'): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
}
