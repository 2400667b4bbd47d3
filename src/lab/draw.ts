/**
 * The terminal drawing of a lab: a tree from the endpoint through its routers to the relays, each relay
 * with its measured hop distance and RTT. Pure: returns lines; the caller prints them.
 */
import { PLAIN_STYLE, formatHops, formatRtt, type Style } from '../format.js';
import { adjacencyOf, expectedDistances, type Topology, type TopologyLink, type TopologyRelay } from './topology.js';

/** What was measured for one relay; all fields optional so the topology can be drawn before a run. */
interface RelayMeasurement {
  address?: string | null;
  distance?: number | null;
  rttMs?: number | null;
  method?: string | null;
}

interface DrawOptions {
  measurements?: ReadonlyMap<string, RelayMeasurement>;
  chosen?: string | null;
  endpointAddress?: string | null;
  style?: Style;
}

interface TreeNode {
  label: string;
  children: TreeNode[];
}

function linkBetween(links: readonly TopologyLink[], a: string, b: string): TopologyLink | undefined {
  return links.find((link) => (link.from === a && link.to === b) || (link.from === b && link.to === a));
}

function describeLink(properties: { delayMs: number; lossPercent: number }, style: Style): string {
  const parts: string[] = [];
  if (properties.delayMs > 0) parts.push(`+${properties.delayMs} ms each way`);
  if (properties.lossPercent > 0) parts.push(`${properties.lossPercent}% loss`);
  return parts.length > 0 ? ` ${style.dim(`(${parts.join(', ')})`)}` : '';
}

function relayLabel(
  relay: TopologyRelay,
  options: DrawOptions & { style: Style },
  expected: number | undefined,
): string {
  const { name } = relay;
  const { style } = options;
  const measured = options.measurements?.get(name);
  const chosen = options.chosen === name;
  const probed = measured !== undefined && measured.method !== 'not probed';
  const facts: string[] = [];
  if (!probed)
    facts.push(
      style.dim(
        `${expected === undefined ? '?' : formatHops(expected)} by the topology${measured === undefined ? '' : ', not probed'}`,
      ),
    );
  else
    facts.push(
      formatHops(measured.distance ?? null),
      measured.rttMs === null || measured.rttMs === undefined ? '—' : formatRtt(measured.rttMs),
      measured.method ?? '—',
    );
  const marks: string[] = [];
  if (relay.groups.length > 0) marks.push(style.cyan(`[${relay.groups.join(';')}]`));
  if (relay.priority !== 0) marks.push(style.dim(`priority ${relay.priority}`));
  if (relay.dropsIcmp) marks.push(style.yellow('drops ICMP'));
  if (relay.registration !== 'ok') marks.push(style.yellow(`registration ${relay.registration}`));
  const address = measured?.address ? style.dim(` ${measured.address}`) : '';
  const shownName = chosen ? style.bold(style.green(`★ ${name}`)) : name;
  const suffix = chosen ? ` ${style.bold(style.green('◀ chosen'))}` : '';
  return `${shownName}${address}  ${facts.join('  ')}${marks.length > 0 ? `  ${marks.join(' ')}` : ''}${describeLink(relay, style)}${suffix}`;
}

/** Lines of the tree: endpoint at the top, each router under the one nearest the endpoint. */
export function drawTopology(topology: Topology, options: DrawOptions = {}): string[] {
  const style = options.style ?? PLAIN_STYLE;
  const full = { ...options, style };
  const adjacency = adjacencyOf(topology);
  const expected = expectedDistances(topology);
  const nodes = new Map<string, TreeNode>();
  const treeEdges = new Set<string>();
  const routerNode = (router: string, parent: string | null): TreeNode => {
    const link = parent === null ? undefined : linkBetween(topology.links, parent, router);
    const node: TreeNode = { label: `${style.bold(router)}${link ? describeLink(link, style) : ''}`, children: [] };
    nodes.set(router, node);
    return node;
  };
  const rootRouter = routerNode(topology.endpoint.attach, null);
  const queue = [topology.endpoint.attach];
  while (queue.length > 0) {
    const router = queue.shift()!;
    const node = nodes.get(router)!;
    for (const relay of topology.relays.filter((candidate) => candidate.attach === router)) {
      node.children.push({ label: relayLabel(relay, full, expected.get(relay.name)), children: [] });
    }
    for (const next of adjacency.get(router) ?? []) {
      if (nodes.has(next)) continue;
      treeEdges.add([router, next].sort().join('\u0000'));
      node.children.push(routerNode(next, router));
      queue.push(next);
    }
  }
  const endpointAddress = options.endpointAddress ? style.dim(` ${options.endpointAddress}`) : '';
  const lines = [
    `${style.bold(topology.endpoint.name)}${topology.endpoint.name === 'endpoint' ? '' : ` ${style.dim('(endpoint)')}`}${endpointAddress}${describeLink(topology.endpoint, style)}`,
  ];
  const render = (node: TreeNode, prefix: string, last: boolean): void => {
    lines.push(`${prefix}${last ? '└─ ' : '├─ '}${node.label}`);
    node.children.forEach((child, index) =>
      render(child, `${prefix}${last ? '   ' : '│  '}`, index === node.children.length - 1),
    );
  };
  render(rootRouter, '', true);
  const extra = topology.links.filter((link) => !treeEdges.has([link.from, link.to].sort().join('\u0000')));
  for (const link of extra)
    lines.push(style.dim(`   also linked: ${link.from} — ${link.to}`) + describeLink(link, style));
  return lines;
}
