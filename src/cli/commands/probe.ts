import { RelaySelectError } from '../../errors.js';
import { describeUnresolved, probeTargets, resolveTargets, type TargetHost } from '../../probe/index.js';
import type { ProbeReport, ProbeResult } from '../../probe/types.js';
import { parseHostPort } from '../../relays/host-port.js';
import { loadRelayList } from '../../relays/load.js';
import { DEFAULT_RELAY_PORT, formatDiagnostic, relayKey } from '../../relays/relay.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { renderTable } from '../../format.js';
import { createProbeProgress, PROBE_HEADERS, probeRows } from '../probe-output.js';
import { loadCliSettings } from '../load-cli-settings.js';

export type ProbeCommandOptions = CommandOptions<'probe'>;

/** The `probe --json` object (DESIGN §9), with the kind of ICMP socket used and the privilege it relied on. */
export function renderProbeJson(
  results: ProbeResult[],
  report: Pick<ProbeReport, 'packetsSent' | 'tcpAttempts' | 'wallMs' | 'transport'>,
  strategy: string,
) {
  return {
    results: results.map(({ host, address, distance, rttMs, method, note }) => ({
      host,
      address,
      distance,
      rttMs,
      method,
      ...(note ? { note } : {}),
    })),
    strategy,
    transport: report.transport?.kind ?? null,
    privilege: report.transport?.privilege ?? null,
    packetsSent: report.packetsSent,
    tcpAttempts: report.tcpAttempts,
    wallMs: Math.round(report.wallMs),
  };
}

async function collectHosts(
  options: ProbeCommandOptions,
  relayList: string,
): Promise<{ hosts: TargetHost[]; warnings: string[] }> {
  const defaultPort = options.port ?? DEFAULT_RELAY_PORT;
  if (!Number.isInteger(defaultPort) || defaultPort < 1 || defaultPort > 65535) {
    throw new RelaySelectError('USAGE', `--port ${defaultPort}: expected a TCP port, a whole number 1..65535`);
  }
  if (options.hosts && options.hosts.length > 0) {
    const hosts = options.hosts.map((text) => {
      const parsed = parseHostPort(text, defaultPort);
      if ('error' in parsed) throw new RelaySelectError('USAGE', `probe ${text}: ${parsed.error}`);
      return { key: relayKey(parsed), host: parsed.host, port: parsed.port };
    });
    return { hosts, warnings: [] };
  }
  if (options.relays === undefined) {
    throw new RelaySelectError('USAGE', 'probe needs HOST arguments or --relays FILE', {
      hint: 'e.g. relay-select probe 198.18.1.2 or relay-select probe --relays Relay.dat',
    });
  }
  const list = await loadRelayList(relayList);
  return {
    hosts: list.relays.map((relay) => ({
      key: relayKey(relay),
      host: relay.host,
      port: relay.port,
      priority: relay.priority,
    })),
    warnings: list.diagnostics.map(formatDiagnostic),
  };
}

export async function run(options: ProbeCommandOptions, context: CliContext): Promise<number> {
  const { output } = context;
  const settings = await loadCliSettings(options, context);
  const { hosts, warnings } = await collectHosts(options, settings.relayList);
  for (const warning of warnings) output.warn(warning);
  const { targets, unresolved } = await resolveTargets(hosts, settings.ipMode);
  let report: ProbeReport;
  try {
    report = await probeTargets(targets, {
      ...settings.probe,
      maximumTtlToPing: settings.maximumTtlToPing,
      signal: context.signal,
      ...createProbeProgress(
        (text) => output.progress(text),
        `probing ${targets.length} hosts (${settings.probe.strategy})`,
      ),
    });
  } finally {
    output.endProgress();
  }
  // Input order, unresolved hosts in their place.
  const byKey = new Map<string, ProbeResult>(report.results.map((result) => [result.key, result]));
  for (const entry of unresolved) byKey.set(entry.key, describeUnresolved(entry));
  const results = hosts.flatMap((host) => byKey.get(host.key) ?? []);

  if (output.json) {
    output.data(renderProbeJson(results, report, settings.probe.strategy));
  } else {
    for (const line of renderTable(PROBE_HEADERS, probeRows(results))) output.line(line);
    const sockets =
      report.transport === undefined ? '' : `, ${report.transport.kind} sockets (${report.transport.privilege})`;
    output.line(
      output.color.dim(
        `${report.packetsSent} echo requests, ${report.tcpAttempts} TCP connects, ${(report.wallMs / 1000).toFixed(2)} s, strategy ${settings.probe.strategy}${sockets}`,
      ),
    );
  }
  return exitCode(results.some((result) => result.method !== 'unreachable') ? 'ok' : 'unavailable');
}
