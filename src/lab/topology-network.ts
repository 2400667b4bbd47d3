/**
 * Turns a lab topology into the namespace builder's NetworkSpec (network.ts) and wraps the handle
 * in what `runLab` needs. Topology names may contain "-", which the builder's node names may not.
 */
import { buildNetwork, type NetworkSpec } from './netns/network.js';
import type { TopologyNetwork } from './lab-run.js';
import type { Topology } from './topology.js';

/** The builder's node name for a topology name (topology names never contain "_"). */
function builderNodeName(name: string): string {
  return name.replaceAll('-', '_');
}

/** Pure: the NetworkSpec of a topology. Relays and the endpoint are hosts attached to their router. */
function topologyToNetworkSpec(topology: Topology): NetworkSpec {
  return {
    routers: topology.routers.map(builderNodeName),
    hosts: [
      { name: builderNodeName(topology.endpoint.name), attach: builderNodeName(topology.endpoint.attach), delayMs: topology.endpoint.delayMs, lossPercent: topology.endpoint.lossPercent },
      ...topology.relays.map((relay) => ({
        name: builderNodeName(relay.name),
        attach: builderNodeName(relay.attach),
        delayMs: relay.delayMs,
        lossPercent: relay.lossPercent,
        dropIcmp: relay.dropsIcmp,
      })),
    ],
    links: topology.links.map((link) => ({ between: [builderNodeName(link.from), builderNodeName(link.to)] as [string, string], delayMs: link.delayMs, lossPercent: link.lossPercent })),
  };
}

export async function buildLabNetwork(topology: Topology, prefix: string): Promise<TopologyNetwork> {
  const handle = await buildNetwork(topologyToNetworkSpec(topology), { prefix });
  return {
    namespaces: handle.plan.nodes.map((node) => handle.namespaceOf(node.name)),
    delayMode: handle.delayMode,
    namespaceOf: (node) => handle.namespaceOf(builderNodeName(node)),
    addressOf: (node) => handle.addressOf(builderNodeName(node)),
    destroy: () => handle.destroy(),
    release: () => handle.release(),
  };
}
