// The lab shapes of the probe benchmark (bench/probe-bench.mjs, issues 9 and 13): each a NetworkSpec for
// src/lab/netns/network.ts plus what is true about it — every relay host's forward and return distance
// (routers between the endpoint `ep` and the relay, each way) — so a run can be judged. Pure: nothing
// here touches the system. Every shape holds 1000 relay addresses (/32s and /128s on relay hosts,
// `extraAddresses` and `extraIpv6Addresses`) and keeps the routers' ICMP rate limits at Linux defaults.
// The branch shape is the lab of issue 9: a fifth of its relays, at every distance, are IPv6.

/** Links joining consecutive names of a chain. */
function chain(names) {
  return names.slice(1).map((name, index) => ({ from: names[index], to: name }));
}

/** Router names `${prefix}${from}..${prefix}${to}`. */
function routerRange(prefix, from, to) {
  return Array.from({ length: to - from + 1 }, (_, index) => `${prefix}${from + index}`);
}

/**
 * The shape of the first benchmark (issues 3 and 9): a branch office whose own relays are few and whose
 * WAN reaches many. Core routers r1–r3, then two WAN branches a4–a12 and b4–b12; the relays of one
 * distance are split over both branches, and `ipv6Share` of them at every distance are IPv6.
 */
function branchShape({ dropFraction = 0, ipv6Share = 0 } = {}) {
  const relaysByDistance = { 3: 5, 4: 15, 5: 30, 6: 60, 7: 110, 8: 160, 9: 190, 10: 180, 11: 150, 12: 100 };
  const core = routerRange('r', 1, 3);
  const routers = [...core, ...routerRange('a', 4, 12), ...routerRange('b', 4, 12)];
  const links = [
    ...chain(core),
    ...chain(['r3', ...routerRange('a', 4, 12)]),
    ...chain(['r3', ...routerRange('b', 4, 12)]),
  ];
  const relayHosts = [];
  const tcpListen = dropFraction > 0 ? [52311] : [];
  const addresses = (ipv4, ipv6) => ({ extraAddresses: ipv4, ...(ipv6 > 0 ? { extraIpv6Addresses: ipv6 } : {}) });
  for (const [text, count] of Object.entries(relaysByDistance)) {
    const distance = Number(text);
    const ipv6 = Math.round(count * ipv6Share);
    const ipv4 = count - ipv6;
    if (distance <= 3) {
      relayHosts.push({
        name: `h${distance}`,
        attach: `r${distance}`,
        ...addresses(ipv4, ipv6),
        tcpListen,
        forward: distance,
        back: distance,
      });
      continue;
    }
    const onA = { ipv4: Math.ceil(ipv4 / 2), ipv6: Math.ceil(ipv6 / 2) };
    relayHosts.push({
      name: `ha${distance}`,
      attach: `a${distance}`,
      ...addresses(onA.ipv4, onA.ipv6),
      tcpListen,
      forward: distance,
      back: distance,
    });
    if (count - onA.ipv4 - onA.ipv6 > 0)
      relayHosts.push({
        name: `hb${distance}`,
        attach: `b${distance}`,
        ...addresses(ipv4 - onA.ipv4, ipv6 - onA.ipv6),
        tcpListen,
        forward: distance,
        back: distance,
      });
  }
  return { routers, links, relayHosts, routes: [] };
}

/**
 * A data centre: 8 subnets of 125 relays, three of them tied at the nearest distance. Spine r1–r2, then
 * three leaf chains a3–a8, b3–b4 and c3.
 */
function dataCentreShape() {
  const routers = ['r1', 'r2', ...routerRange('a', 3, 8), 'b3', 'b4', 'c3'];
  const links = [
    ...chain(['r1', 'r2', ...routerRange('a', 3, 8)]),
    ...chain(['r2', 'b3', 'b4']),
    ...chain(['r2', 'c3']),
  ];
  const subnets = { a3: 3, b3: 3, c3: 3, a4: 4, b4: 4, a5: 5, a6: 6, a8: 8 };
  const relayHosts = Object.entries(subnets).map(([router, distance]) => ({
    name: `s${router}`,
    attach: router,
    extraAddresses: 125,
    forward: distance,
    back: distance,
  }));
  return { routers, links, relayHosts, routes: [] };
}

/** A deep WAN: the nearest relays 10 routers away. Core r1–r9, then branches a10–a16 and b10–b14. */
function deepWanShape() {
  const relaysByDistance = { 10: 30, 11: 90, 12: 180, 13: 250, 14: 250, 15: 130, 16: 70 };
  const core = routerRange('r', 1, 9);
  const routers = [...core, ...routerRange('a', 10, 16), ...routerRange('b', 10, 14)];
  const links = [
    ...chain(core),
    ...chain(['r9', ...routerRange('a', 10, 16)]),
    ...chain(['r9', ...routerRange('b', 10, 14)]),
  ];
  const relayHosts = [];
  for (const [text, count] of Object.entries(relaysByDistance)) {
    const distance = Number(text);
    const onB = distance <= 14 ? Math.floor(count / 2) : 0;
    relayHosts.push({
      name: `ha${distance}`,
      attach: `a${distance}`,
      extraAddresses: count - onB,
      forward: distance,
      back: distance,
    });
    if (onB > 0)
      relayHosts.push({
        name: `hb${distance}`,
        attach: `b${distance}`,
        extraAddresses: onB,
        forward: distance,
        back: distance,
      });
  }
  return { routers, links, relayHosts, routes: [] };
}

/**
 * Asymmetric return paths per subnet. Spine r1–r2, leaves a3–a6 and b3–b4. Subnet `sx` is 3 routers away
 * but answers over a detour x1–x4–r1 (5 back): truly nearest, it looks 5 away. Subnet `sy` is 5 away
 * (a3–a5) but answers over y1–y2–r1 (3 back): it looks nearest and is not. Subnet `sz` is 4 away (b3–b4)
 * and answers over z1–z5–r1 (6 back). The detour routers carry nothing else, so each asymmetry belongs
 * to one subnet.
 */
function asymmetricShape() {
  const detours = { x: 4, y: 2, z: 5 };
  const routers = [
    'r1',
    'r2',
    ...routerRange('a', 3, 6),
    'b3',
    'b4',
    ...Object.entries(detours).flatMap(([name, count]) => routerRange(name, 1, count)),
  ];
  const links = [
    ...chain(['r1', 'r2', ...routerRange('a', 3, 6)]),
    ...chain(['r2', 'b3', 'b4']),
    ...Object.entries(detours).flatMap(([name, count]) => chain([`s${name}`, ...routerRange(name, 1, count), 'r1'])),
  ];
  const relayHosts = [
    { name: 'sx', attach: 'a3', extraAddresses: 150, forward: 3, back: 5 },
    { name: 'sy', attach: 'a5', extraAddresses: 150, forward: 5, back: 3 },
    { name: 'sz', attach: 'b4', extraAddresses: 150, forward: 4, back: 6 },
    { name: 'sa4', attach: 'a4', extraAddresses: 150, forward: 4, back: 4 },
    { name: 'sb4', attach: 'b4', extraAddresses: 150, forward: 4, back: 4 },
    { name: 'sa5', attach: 'a5', extraAddresses: 125, forward: 5, back: 5 },
    { name: 'sa6', attach: 'a6', extraAddresses: 125, forward: 6, back: 6 },
  ];
  const routes = [
    ...Object.entries(detours).map(([name, count]) => ({
      from: `s${name}`,
      to: 'ep',
      via: [...routerRange(name, 1, count), 'r1'],
    })),
    // Without this the shortest way to sy would be its own return detour.
    { from: 'ep', to: 'sy', via: ['r1', 'r2', 'a3', 'a4', 'a5'] },
  ];
  return { routers, links, relayHosts, routes };
}

/** The shapes, in the order the benchmark runs and reports them. */
export const PROBE_SHAPES = [
  {
    name: 'branch',
    title: 'Branch office, 200 of 1000 relays IPv6 (the lab of issues 3 and 9)',
    description:
      'Core routers r1–r3, then two WAN branches of routers 4–12; 5 relays 3 routers away, 15 at 4, 30 at 5, and the rest 6–12 away (1000 in all); a fifth of the relays at every distance are IPv6 (/128s in one /64 per relay host).',
    build: () => branchShape({ ipv6Share: 0.2 }),
    netselect: true,
    perFamily: true,
  },
  {
    name: 'data-centre',
    title: 'Data centre: 8 subnets of 125 relays, 375 tied at the nearest distance',
    description:
      'Spine r1–r2, leaf chains a3–a8, b3–b4 and c3; one subnet of 125 relays on each of a3, b3, c3 (3 routers away), a4, b4 (4), a5 (5), a6 (6) and a8 (8).',
    build: () => dataCentreShape(),
  },
  {
    name: 'deep-wan',
    title: 'Deep WAN: the nearest relays 10 routers away',
    description:
      'Core r1–r9, then branches a10–a16 and b10–b14; 30 relays 10 routers away, 90 at 11, 180 at 12, 250 at 13 and 14, 130 at 15, 70 at 16.',
    build: () => deepWanShape(),
  },
  {
    name: 'asymmetric',
    title: 'Asymmetric return paths per subnet',
    description:
      'Spine r1–r2, leaves a3–a6 and b3–b4; 150 relays 3 routers away answering over a 5-router detour (truly nearest, look 5 away), 150 5 away answering over 3 (look nearest), 150 4 away answering over 6, 300 symmetric at 4, 125 at 5, 125 at 6.',
    build: () => asymmetricShape(),
  },
  {
    name: 'icmp-drop-20',
    title: '20 % of relays dropping ICMP',
    description:
      'The branch-office shape, IPv4 only, with one relay address in five (chosen at random, nearest ones included) refusing ICMP echo (a policy rule on its host) but accepting TCP on port 52311.',
    build: () => branchShape({ dropFraction: 0.2 }),
    dropFraction: 0.2,
  },
];

/** The NetworkSpec of a shape: endpoint `ep` on r1, the relay hosts, their links and return routes. */
export function specOf(shape) {
  const { routers, links, relayHosts, routes } = shape;
  return {
    ipv6: relayHosts.some((host) => (host.extraIpv6Addresses ?? 0) > 0),
    routers,
    hosts: [{ name: 'ep', attach: 'r1' }, ...relayHosts.map(({ forward: _forward, back: _back, ...host }) => host)],
    links,
    routes,
  };
}
