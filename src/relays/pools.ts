import { isUnaffiliated } from './groups.js';
import { UNAFFILIATED_POOL, type Pool, type Relay } from './relay.js';

/**
 * Name of the single pool built when the seek list is empty. The asterisks keep it apart from every
 * affiliation group, whose names cannot contain `*`.
 */
export const ALL_RELAYS_POOL = '*all*';

/**
 * The pools to try, in order (DESIGN §5 step 1): one per seek-list entry, holding the relays that
 * advertise that group in relay-list order; `*` holds the unaffiliated relays. An empty seek list
 * gives one pool, {@link ALL_RELAYS_POOL}, of every relay. A relay may sit in several pools.
 *
 * Entries are matched case-insensitively and named in lower case. An entry naming a group no relay
 * advertises still gets its (empty) pool, so `plan` can show that the seek list points nowhere.
 * A repeated entry is dropped: probing the same pool twice could not change the answer.
 */
export function buildPools(relays: readonly Relay[], seekList: readonly string[]): Pool[] {
  const names: string[] = [];
  for (const entry of seekList) {
    const name = entry.trim().toLowerCase();
    if (name !== '' && !names.includes(name)) names.push(name);
  }
  if (names.length === 0) return [{ name: ALL_RELAYS_POOL, relays: [...relays] }];

  const pools = names.map((name): Pool => ({ name, relays: [] }));
  const poolByName = new Map(pools.map((pool) => [pool.name, pool]));
  const unaffiliatedPool = poolByName.get(UNAFFILIATED_POOL);
  for (const relay of relays) {
    if (unaffiliatedPool !== undefined && isUnaffiliated(relay.groups)) unaffiliatedPool.relays.push(relay);
    for (const group of relay.groups) {
      if (group === UNAFFILIATED_POOL) continue;
      const pool = poolByName.get(group.toLowerCase());
      // Relays built by hand may repeat a group in two spellings; a pool lists each relay once.
      if (pool !== undefined && pool.relays[pool.relays.length - 1] !== relay) pool.relays.push(relay);
    }
  }
  return pools;
}
