import { describe, expect, it } from 'vitest';
import { planNetwork, type NetworkSpec } from '../../../src/lab/netns/network-plan.js';

const chain: NetworkSpec = {
  routers: ['r1', 'r2', 'r3'],
  hosts: [
    { name: 'p', attach: 'r1' },
    { name: 'h', attach: 'r3', extraAddresses: 3 },
  ],
  links: [
    { from: 'r1', to: 'r2' },
    { from: 'r2', to: 'r3' },
  ],
};

function node(plan: ReturnType<typeof planNetwork>, name: string) {
  return plan.nodes.find((candidate) => candidate.name === name)!;
}

describe('planNetwork', () => {
  it('gives each link a /30 from 198.18.0.0/15, both ends an address, and v6 /64s when asked', () => {
    const plan = planNetwork({ ...chain, ipv6: true });
    expect(plan.links.map((link) => link.ipv4Subnet)).toEqual([
      '198.18.0.0/30',
      '198.18.0.4/30',
      '198.18.0.8/30',
      '198.18.0.12/30',
    ]);
    const p = node(plan, 'p');
    expect(p.interfaces).toEqual([
      {
        device: 'e2',
        linkIndex: 2,
        peer: 'r1',
        ipv4: '198.18.0.9',
        peerIpv4: '198.18.0.10',
        ipv6: '2001:db8:0:2::1',
        peerIpv6: '2001:db8:0:2::2',
      },
    ]);
  });

  it('routes every node to every subnet it is not on, through its shortest-path neighbour', () => {
    const plan = planNetwork(chain);
    const p = node(plan, 'p');
    expect(p.routes.map((route) => route.destination).sort()).toEqual(
      ['198.18.0.0/30', '198.18.0.12/30', '198.18.0.4/30', '198.19.0.0/22'].sort(),
    );
    expect(new Set(p.routes.map((route) => route.via))).toEqual(new Set(['198.18.0.10']));
    const r2 = node(plan, 'r2');
    const toHost = r2.routes.find((route) => route.destination === '198.19.0.0/22')!;
    expect(toHost.via).toBe(node(plan, 'r3').interfaces.find((entry) => entry.peer === 'r2')!.ipv4);
  });

  it('puts extra addresses in a routed block of the host', () => {
    expect(node(planNetwork(chain), 'h').extraAddresses).toEqual(['198.19.0.1', '198.19.0.2', '198.19.0.3']);
  });

  it('puts extra IPv6 addresses, canonically spelt, in a routed /64 of the host', () => {
    const plan = planNetwork({
      ...chain,
      ipv6: true,
      hosts: [
        { name: 'p', attach: 'r1' },
        { name: 'h', attach: 'r3', extraIpv6Addresses: 11 },
      ],
    });
    expect(node(plan, 'h').extraIpv6Addresses.slice(9)).toEqual(['2001:db8:1:1::a', '2001:db8:1:1::b']);
    const toBlock = node(plan, 'p').routes.find((route) => route.destination === '2001:db8:1:1::/64')!;
    expect(toBlock.via).toBe(node(plan, 'r1').interfaces.find((entry) => entry.peer === 'p')!.ipv6);
  });

  it('never forwards through a host', () => {
    const plan = planNetwork({
      routers: ['r1', 'r2'],
      hosts: [{ name: 'a', attach: 'r1' }, { name: 'b', attach: 'r2' }, { name: 'bridge' }],
      links: [
        { from: 'bridge', to: 'r1' },
        { from: 'bridge', to: 'r2' },
      ],
    });
    const a = node(plan, 'a');
    const toB = a.routes.find((route) => route.destination === plan.links.find((link) => link.a === 'b')!.ipv4Subnet);
    expect(toB).toBeUndefined();
  });

  it('applies a return-route override hop by hop, then shortest paths', () => {
    const plan = planNetwork({
      routers: ['r1', 'a1', 'a2'],
      hosts: [
        { name: 'p', attach: 'r1' },
        { name: 'x', attach: 'r1' },
      ],
      links: [
        { from: 'x', to: 'a1' },
        { from: 'a1', to: 'a2' },
        { from: 'a2', to: 'r1' },
      ],
      routes: [{ from: 'x', to: 'p', via: ['a1', 'a2'] }],
    });
    const pSubnet = plan.links.find((link) => link.a === 'p')!.ipv4Subnet;
    const viaOf = (name: string): string => node(plan, name).routes.find((route) => route.destination === pSubnet)!.via;
    expect(viaOf('x')).toBe(node(plan, 'a1').interfaces.find((entry) => entry.peer === 'x')!.ipv4);
    expect(viaOf('a1')).toBe(node(plan, 'a2').interfaces.find((entry) => entry.peer === 'a1')!.ipv4);
    expect(viaOf('a2')).toBe(node(plan, 'r1').interfaces.find((entry) => entry.peer === 'a2')!.ipv4);
  });

  it('puts the members of a segment in one /24 and /64, one hop from each other, and routes through its router', () => {
    const plan = planNetwork({
      ipv6: true,
      routers: ['gw', 'r1'],
      hosts: [{ name: 'ep1' }, { name: 'ep2' }, { name: 'far', attach: 'r1', extraAddresses: 2 }],
      links: [{ from: 'gw', to: 'r1' }],
      segments: [{ name: 'lan', members: ['gw', 'ep1', 'ep2'] }],
    });
    expect(plan.segments).toEqual([
      expect.objectContaining({
        name: 'lan',
        ipv4Subnet: '198.18.255.0/24',
        ipv6Subnet: '2001:db8:2:1::/64',
        members: expect.arrayContaining([
          expect.objectContaining({
            node: 'ep2',
            device: 's0',
            bridgePort: 'p2',
            ipv4: '198.18.255.3',
            ipv6: '2001:db8:2:1::3',
          }),
        ]),
      }),
    ]);
    const ep1 = node(plan, 'ep1');
    expect(ep1.interfaces).toEqual([]);
    expect(ep1.segmentInterfaces).toEqual([
      { device: 's0', segmentIndex: 0, ipv4: '198.18.255.2', ipv6: '2001:db8:2:1::2' },
    ]);
    // The endpoint reaches everything beyond the segment through the gateway's address on it, and no route names the segment itself.
    expect(ep1.routes.map((route) => route.destination).sort()).toEqual(
      ['198.18.0.0/30', '198.18.0.4/30', '198.19.0.0/22', '2001:db8:0:0::/64', '2001:db8:0:1::/64'].sort(),
    );
    expect(new Set(ep1.routes.map((route) => route.via))).toEqual(new Set(['198.18.255.1', '2001:db8:2:1::1']));
    const r1 = node(plan, 'r1');
    expect(r1.routes.find((route) => route.destination === '198.18.255.0/24')!.via).toBe(
      node(plan, 'gw').interfaces[0]!.ipv4,
    );
  });

  it.each([
    [
      { routers: ['r'], hosts: [{ name: 'h' }], segments: [{ name: 'r', members: ['r', 'h'] }] },
      /also the name of a node/,
    ],
    [{ routers: ['r'], hosts: [{ name: 'h' }], segments: [{ name: 'lan', members: ['r', 'x'] }] }, /unknown node x/],
    [{ routers: ['r'], hosts: [{ name: 'h' }], segments: [{ name: 'lan', members: ['r'] }] }, /1 members/],
    [{ routers: ['r'], hosts: [{ name: 'h' }], segments: [{ name: 'lan', members: ['r', 'h', 'h'] }] }, /member twice/],
  ] as Array<[NetworkSpec, RegExp]>)('rejects an invalid segment (%#)', (spec, message) => {
    expect(() => planNetwork(spec)).toThrow(message);
  });

  it.each([
    [{ routers: ['r'], hosts: [{ name: 'h', attach: 'nowhere' }] }, /unknown node nowhere/],
    [{ routers: ['r', 'r'], hosts: [] }, /used twice/],
    [{ routers: ['bad.name'], hosts: [] }, /node name/],
    [{ routers: ['r'], hosts: [{ name: 'h' }] }, /no link/],
    [{ routers: ['r'], hosts: [{ name: 'h', attach: 'r', delayMs: -1 }] }, /delayMs/],
    [{ routers: ['r'], hosts: [{ name: 'h', attach: 'r', extraAddresses: 5000 }] }, /extraAddresses/],
    [{ routers: ['r'], hosts: [{ name: 'h', attach: 'r', extraIpv6Addresses: 2 }] }, /extraIpv6Addresses needs ipv6/],
    [
      {
        routers: ['r', 's'],
        hosts: [{ name: 'h', attach: 'r' }],
        links: [{ from: 'r', to: 's' }],
        routes: [{ from: 'h', to: 's', via: ['s'] }],
      },
      /no link to s/,
    ],
  ] as Array<[NetworkSpec, RegExp]>)('rejects an invalid spec (%#)', (spec, message) => {
    expect(() => planNetwork(spec)).toThrow(message);
    try {
      planNetwork(spec);
    } catch (error) {
      expect(error).toMatchObject({ code: 'TOPOLOGY_INVALID' });
    }
  });
});
