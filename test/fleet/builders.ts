/** Small fleets for the fleet tests (their settings come from the one builder, test/helpers/settings.ts). */
import type { Fleet } from '../../src/fleet/fleet.js';
import { parseFleetTopology } from '../../src/fleet/topology-file.js';

/** A fleet from a topology description; fails the test on a problem. */
export function fleetFrom(topology: object, seed = 1): Fleet {
  const parsed = parseFleetTopology(JSON.stringify(topology), seed);
  if (parsed.fleet === undefined) throw new Error(`bad test topology: ${JSON.stringify(parsed.problems)}`);
  return parsed.fleet;
}

/**
 * The hand-counted fleet: one subnet of 3 endpoints behind gateway `gw`; relay `near` behind `gw`
 * (1 router away), relay `far` behind `r2`, a router below `gw` (2 routers away).
 */
export const HAND_COUNTED_TOPOLOGY = {
  routers: [{ name: 'gw' }, { name: 'r2', parent: 'gw' }],
  subnets: [{ name: 'office', router: 'gw', clients: 3 }],
  relays: [
    { host: '198.18.0.1', router: 'gw', name: 'near' },
    { host: '198.18.0.2', router: 'r2', name: 'far' },
  ],
};
