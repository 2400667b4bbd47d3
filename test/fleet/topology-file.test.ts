import { describe, expect, it } from 'vitest';
import { parseFleetTopology } from '../../src/fleet/topology-file.js';
import { computeFleetPaths } from '../../src/fleet/fleet.js';
import { HAND_COUNTED_TOPOLOGY } from './builders.js';

const problemsOf = (document: unknown, relays?: Parameters<typeof parseFleetTopology>[2]) =>
  parseFleetTopology(JSON.stringify(document), 1, relays).problems;

describe('parseFleetTopology', () => {
  it('builds the fleet: endpoints numbered subnet by subnet, distances as routers on the tree path', () => {
    const { fleet } = parseFleetTopology(
      JSON.stringify({
        routers: [
          { name: 'core' },
          { name: 'emea', parent: 'core' },
          { name: 'lyon', parent: 'emea' },
          { name: 'dc', parent: 'core' },
        ],
        subnets: [
          { name: 'lyon-a', router: 'lyon', clients: 2 },
          { name: 'dc-servers', router: 'dc', clients: 1 },
        ],
        relays: [
          { host: 'relay-lyon.example', router: 'lyon', capacity: 10 },
          { host: 'relay-dc.example', router: 'dc', weight: 50, groups: ['DC'] },
        ],
      }),
      4,
    );
    expect(fleet).toBeDefined();
    expect(Array.from(fleet!.endpointSubnet)).toEqual([0, 0, 1]);
    expect(fleet!.relays.map((relay) => [relay.key, relay.capacity, relay.relay.weight, relay.relay.groups])).toEqual([
      ['relay-lyon.example:52311', 10, 100, []],
      ['relay-dc.example:52311', null, 50, ['dc']],
    ]);
    const { distances } = computeFleetPaths(fleet!);
    // lyon-a → relay-lyon: lyon (1); → relay-dc: lyon, emea, core, dc (4). dc-servers → relay-lyon: dc, core, emea, lyon (4).
    expect(Array.from(distances[0]!).slice(0, 2)).toEqual([1, 4]);
    expect(Array.from(distances[1]!).slice(0, 2)).toEqual([4, 1]);
  });

  it('places the relays of a relay list by host and refuses one it does not know or misses', () => {
    const relays = [
      { host: '198.18.0.1', port: 52311, groups: [], priority: 0, weight: 100 },
      { host: '198.18.0.2', port: 52311, groups: [], priority: 1, weight: 100 },
    ];
    const { fleet } = parseFleetTopology(JSON.stringify(HAND_COUNTED_TOPOLOGY), 1, relays);
    expect(fleet!.relays.map((relay) => relay.relay)).toEqual(relays);
    expect(problemsOf(HAND_COUNTED_TOPOLOGY, [relays[0]!])).toContainEqual({
      path: 'relays[1].host',
      message: 'relay "198.18.0.2" is not in the relay list',
    });
    expect(problemsOf({ ...HAND_COUNTED_TOPOLOGY, relays: [HAND_COUNTED_TOPOLOGY.relays[0]] }, relays)).toContainEqual({
      path: 'relays',
      message: 'relay 198.18.0.2:52311 of the relay list is not placed; add it with its "router"',
    });
  });

  it.each([
    ['not JSON', '{', ''],
    ['unknown key', { ...HAND_COUNTED_TOPOLOGY, extra: 1 }, 'extra'],
    [
      'unknown parent',
      {
        ...HAND_COUNTED_TOPOLOGY,
        routers: [
          { name: 'gw', parent: 'nowhere' },
          { name: 'r2', parent: 'gw' },
        ],
      },
      'routers[0].parent',
    ],
    [
      'a loop',
      {
        ...HAND_COUNTED_TOPOLOGY,
        routers: [
          { name: 'gw', parent: 'r2' },
          { name: 'r2', parent: 'gw' },
        ],
      },
      'routers[0].parent',
    ],
    ['two roots', { ...HAND_COUNTED_TOPOLOGY, routers: [{ name: 'gw' }, { name: 'r2' }] }, 'routers'],
    [
      'negative clients',
      { ...HAND_COUNTED_TOPOLOGY, subnets: [{ name: 'office', router: 'gw', clients: -1 }] },
      'subnets[0].clients',
    ],
    [
      'a bad weight',
      { ...HAND_COUNTED_TOPOLOGY, relays: [{ host: 'a', router: 'gw', weight: 'heavy' }] },
      'relays[0].weight',
    ],
    [
      'a relay placed twice',
      {
        ...HAND_COUNTED_TOPOLOGY,
        relays: [
          { host: 'a', router: 'gw' },
          { host: 'a', router: 'r2' },
        ],
      },
      'relays[1].host',
    ],
    ['no subnet', { ...HAND_COUNTED_TOPOLOGY, subnets: [] }, 'subnets'],
  ])('%s: a problem at %j', (_, document, path) => {
    const problems = typeof document === 'string' ? parseFleetTopology(document, 1).problems : problemsOf(document);
    expect(problems.map((problem) => problem.path)).toContain(path);
  });
});
