/**
 * The files a lab hands to the real CLI: a relay list (relay-select.dat(5)) with the addresses the
 * builder gave the relays, and a settings file from the topology's `settings`. Pure.
 */
import type { ProbeStrategy } from '../config/settings.js';
import type { Topology, TopologyRelay } from './topology.js';

/** Where each relay ended up: its address in the lab. */
type RelayAddresses = ReadonlyMap<string, string>;

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function addressOf(addresses: RelayAddresses, relay: Pick<TopologyRelay, 'name'>): string {
  const address = addresses.get(relay.name);
  if (address === undefined) throw new Error(`no address for relay "${relay.name}"`);
  return address;
}

/** The relay list text, one relay per line, named after the topology's relays. */
export function renderLabRelayList(topology: Topology, addresses: RelayAddresses): string {
  const lines = [`# relay-select lab: ${topology.name} (written by the lab; addresses assigned by the builder)`];
  for (const relay of topology.relays) {
    const fields = [hostPort(addressOf(addresses, relay), relay.port)];
    if (relay.groups.length > 0) fields.push(`affiliation=${relay.groups.join(';')}`);
    fields.push(`priority=${relay.priority}`, `weight=${relay.weight}`, `name=${relay.name}`);
    lines.push(fields.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

interface LabSettingsOptions {
  /** Probe strategy for this run (the `--compare` runs), overriding the topology's. */
  strategy?: ProbeStrategy;
  /** CA that signs the stubs' certificates, when the lab serves https. */
  tlsCaFile?: string;
}

/**
 * The settings object written for `--config`: the topology's settings with relay names replaced by
 * `address:port`, so failover and manual lists point at the lab's relays.
 */
export function renderLabSettings(
  topology: Topology,
  addresses: RelayAddresses,
  options: LabSettingsOptions = {},
): Record<string, unknown> {
  const byName = new Map(topology.relays.map((relay) => [relay.name, relay]));
  const toHostPort = (name: unknown): unknown => {
    const relay = typeof name === 'string' ? byName.get(name) : undefined;
    return relay === undefined ? name : hostPort(addressOf(addresses, relay), relay.port);
  };
  const settings: Record<string, unknown> = structuredClone(topology.settings);
  for (const key of ['failoverRelays', 'manualRelays']) {
    if (Array.isArray(settings[key])) settings[key] = (settings[key] as unknown[]).map(toHostPort);
  }
  if (settings.rootServer !== undefined) settings.rootServer = toHostPort(settings.rootServer);
  if (options.strategy !== undefined) {
    settings.probe = { ...(settings.probe ?? {}), strategy: options.strategy };
  }
  if (options.tlsCaFile !== undefined) {
    const register = (settings.register as Record<string, unknown> | undefined) ?? {};
    settings.register = {
      ...register,
      scheme: 'https',
      tls: { ...((register.tls as Record<string, unknown> | undefined) ?? {}), ca: options.tlsCaFile },
    };
  }
  return settings;
}

/** Maps `address:port` (and bare addresses) back to relay names, to name what the CLI reports. */
export function relayNamesByAddress(topology: Topology, addresses: RelayAddresses): Map<string, string> {
  const names = new Map<string, string>();
  for (const relay of topology.relays) {
    const address = addresses.get(relay.name);
    if (address === undefined) continue;
    names.set(hostPort(address, relay.port), relay.name);
    names.set(address, relay.name);
  }
  return names;
}
