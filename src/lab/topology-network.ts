/**
 * Turns a lab topology into the namespace builder's NetworkSpec (network.ts) and wraps the handle
 * in what `runLab` needs. Topology names may contain "-", which the builder's node names may not.
 */
import { buildNetwork, destroyNamespacesWithPrefix, type NetworkSpec } from './network.js';
import type { LabNetwork } from './lab-run.js';
import type { Topology } from './topology.js';

/** The builder's node name for a topology name (topology names never contain "_"). */
export function builderNodeName(name: string): string {
  return name.replaceAll('-', '_');
}

/** Pure: the NetworkSpec of a topology. Relays and the endpoint are hosts attached to their router. */
export function topologyToNetworkSpec(topology: Topology): NetworkSpec {
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

/**
 * The builder removes every lab when the process exits, which is right except for `--keep`. It has no
 * switch for that, so a kept lab drops the builder's exit listener (found by its function name).
 */
function keepAfterExit(): void {
  for (const listener of process.listeners('exit')) {
    if (listener.name === 'teardownAllNow') process.removeListener('exit', listener);
  }
}

/**
 * The builder writes to the stdin of short-lived `ip`/`sysctl` children without an error listener; a
 * child that exits first makes that write fail with EPIPE, which would crash the lab as an uncaught
 * error even though the child's result is collected fine. While a lab is up, that one error is ignored.
 */
function ignoreBuilderBrokenPipes(): () => void {
  const onError = (error: Error & { code?: string; syscall?: string }): void => {
    if (error.code === 'EPIPE' && error.syscall === 'write') return;
    throw error;
  };
  process.on('uncaughtException', onError);
  return () => process.off('uncaughtException', onError);
}

export async function buildLabNetwork(topology: Topology, prefix: string): Promise<LabNetwork> {
  const stopIgnoring = ignoreBuilderBrokenPipes();
  let handle: Awaited<ReturnType<typeof buildNetwork>>;
  try {
    handle = await buildNetwork(topologyToNetworkSpec(topology), { prefix });
  } catch (error) {
    stopIgnoring();
    throw error;
  }
  return {
    namespaces: handle.plan.nodes.map((node) => handle.namespaceOf(node.name)),
    delayMode: handle.delayMode,
    namespaceOf: (node) => handle.namespaceOf(builderNodeName(node)),
    addressOf: (node) => handle.addressOf(builderNodeName(node)),
    destroy: async () => {
      try {
        await handle.destroy();
      } finally {
        stopIgnoring();
      }
    },
    release: () => {
      keepAfterExit();
      stopIgnoring();
    },
  };
}

/** Deletes the namespaces of a recorded lab; returns their names. */
export function removeLabNamespaces(prefix: string): Promise<string[]> {
  return destroyNamespacesWithPrefix(prefix);
}
