/**
 * What a lab run found, assembled from the CLI's `run --json` answer, the stubs' logs and the
 * namespace's packet counters, and rendered as text. Pure.
 */
import type { RunJson } from '../cycle/run-json.js';
import { formatRtt, renderTable, type Style } from '../format.js';
import { expectedDistances, type RegistrationBehaviour, type Topology } from './topology.js';
import { drawTopology } from './draw.js';

/** One line of a stub's registration log (see stub-server.ts RegistrationLogEntry). */
interface StubLogEntry {
  at?: string;
  relay?: string;
  status?: number | null;
  body?: unknown;
  remoteAddress?: string | null;
}

interface LabRelayView {
  name: string;
  address: string;
  port: number;
  groups: string[];
  priority: number;
  weight: number;
  dropsIcmp: boolean;
  registrationBehaviour: RegistrationBehaviour;
  /** Routers on the shortest path in the topology: what a correct measurement finds. */
  expectedDistance: number | null;
  distance: number | null;
  rttMs: number | null;
  /** `echo-ttl`, `ladder`, `tcp`, `unreachable`, or `not probed` (its pool was never reached). */
  method: string;
  chosen: boolean;
}

export interface LabRegistration {
  relay: string;
  status: number | null;
  accepted: boolean | null;
  from: string | null;
  at: string | null;
}

export interface LabPackets {
  /** ICMP/ICMPv6 echo requests the endpoint sent, from its namespace's counters; else the run's own count. */
  icmpEchoRequests: number | null;
  /** TCP connections the endpoint opened (fallback checks and registrations). */
  tcpConnects: number | null;
  source: 'namespace-counters' | 'run-report' | 'none';
}

/** One `relay-select run` inside the lab. */
export interface LabRunResult {
  strategy: string;
  exitCode: number;
  action: string | null;
  reason: string | null;
  chosen: string | null;
  relays: LabRelayView[];
  registrations: LabRegistration[];
  packets: LabPackets;
  wallMs: number;
  /** The CLI's stderr, trimmed, when it said anything. */
  messages: string[];
}

export interface LabReport {
  topology: string;
  file: string;
  description: string;
  prefix: string;
  namespaces: number;
  endpoint: { name: string; namespace: string; address: string };
  relays: LabRelayView[];
  chosen: string | null;
  expected: string | null;
  matchesExpectation: boolean;
  action: string | null;
  reason: string | null;
  /** The registration request the chosen relay received, if any. */
  registration: LabRegistration | null;
  registrations: LabRegistration[];
  packets: LabPackets;
  /** Wall time of the forced `relay-select run`, as the endpoint saw it. */
  wallMs: number;
  /** Wall time of the whole lab: build, stubs, runs, comparison (teardown excluded). */
  labWallMs: number;
  exitCode: number;
  /** The next cron cycle (`run` without --force) right after: shows whether it probes again. */
  nextRun: { action: string | null; reason: string | null; exitCode: number; packets: LabPackets } | null;
  compare: LabRunResult[] | null;
  kept: { prefix: string; enter: string; down: string } | null;
  messages: string[];
  /** What the lab itself changed or could not do, e.g. a kept lab built without link delay. */
  warnings: string[];
  /** The lab was built without the topology's delay and loss (see `warnings`). */
  linkShapingDropped: boolean;
}

/** The `run --json` object as another process printed it: the fields the lab relies on are there. */
function isRunJson(value: unknown): value is RunJson {
  if (typeof value !== 'object' || value === null) return false;
  const { action, probes, relay } = value as Record<string, unknown>;
  return typeof action === 'string' && Array.isArray(probes) && (relay === null || typeof relay === 'object');
}

/** Reads the CLI's stdout as the one JSON object it prints; undefined when it printed none. */
export function parseRunJson(stdout: string): RunJson | undefined {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    const value: unknown = JSON.parse(stdout.slice(start));
    return isRunJson(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a stub log (JSON lines); lines that are not JSON are skipped. */
export function parseStubLog(text: string): StubLogEntry[] {
  const entries: StubLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as StubLogEntry);
    } catch {
      // A line cut short by a killed stub.
    }
  }
  return entries;
}

export function toRegistration(relay: string, entry: StubLogEntry): LabRegistration {
  const body = entry.body as { accepted?: unknown } | null | undefined;
  return {
    relay,
    status: entry.status ?? null,
    accepted:
      typeof body === 'object' && body !== null && typeof body.accepted === 'boolean'
        ? body.accepted
        : entry.status === 200
          ? true
          : entry.status === undefined || entry.status === null
            ? null
            : false,
    from: entry.remoteAddress?.replace(/^::ffff:/, '') ?? null,
    at: entry.at ?? null,
  };
}

/** Relay views of one run: the topology's relays with what the run measured and chose. */
export function buildRelayViews(
  topology: Topology,
  addresses: ReadonlyMap<string, string>,
  run: RunJson | undefined,
  chosen: string | null,
): LabRelayView[] {
  const expected = expectedDistances(topology);
  return topology.relays.map((relay) => {
    const address = addresses.get(relay.name) ?? '';
    const probe = run?.probes.find((candidate) => candidate.address === address || candidate.host === address);
    return {
      name: relay.name,
      address,
      port: relay.port,
      groups: relay.groups,
      priority: relay.priority,
      weight: relay.weight,
      dropsIcmp: relay.dropsIcmp,
      registrationBehaviour: relay.registration,
      expectedDistance: expected.get(relay.name) ?? null,
      distance: probe?.distance ?? null,
      rttMs: probe?.rttMs ?? null,
      method: probe?.method ?? 'not probed',
      chosen: relay.name === chosen,
    };
  });
}

/** The relay the run chose, by name: matched on address and port. */
export function chosenRelayName(
  topology: Topology,
  addresses: ReadonlyMap<string, string>,
  run: RunJson | undefined,
): string | null {
  const relay = run?.relay;
  if (relay === null || relay === undefined) return null;
  const match = topology.relays.find((candidate) => {
    const address = addresses.get(candidate.name);
    return (relay.address === address || relay.host === address) && relay.port === candidate.port;
  });
  return match?.name ?? relay.host;
}

function formatDistance(distance: number | null): string {
  return distance === null ? '?' : String(distance);
}

function formatPackets(packets: LabPackets): string {
  if (packets.source === 'none') return 'not counted';
  const icmp = packets.icmpEchoRequests === null ? '?' : String(packets.icmpEchoRequests);
  const tcp =
    packets.tcpConnects === null
      ? ''
      : `, ${packets.tcpConnects} TCP connection${packets.tcpConnects === 1 ? '' : 's'}`;
  return `${icmp} ICMP echo request${packets.icmpEchoRequests === 1 ? '' : 's'}${tcp}`;
}

/** The human report: the drawing, probe results, the choice and why, the registration. */
export function renderLabReport(report: LabReport, topology: Topology, style: Style): string[] {
  const lines: string[] = [];
  lines.push(
    `${style.bold(`lab ${report.topology}`)} ${style.dim(`(${report.file}, ${report.namespaces} namespaces)`)}`,
  );
  if (report.description !== '') lines.push(style.dim(report.description));
  lines.push('');
  const measurements = new Map(report.relays.map((relay) => [relay.name, relay]));
  for (const line of drawTopology(topology, {
    measurements,
    chosen: report.chosen,
    endpointAddress: report.endpoint.address,
    style,
  }))
    lines.push(line);
  lines.push('');
  lines.push(style.bold('Probe results'));
  const relayTable = renderTable(
    ['relay', 'address', 'hops', 'expected', 'rtt', 'method', 'notes'],
    report.relays.map((relay) => {
      const notes = [
        relay.dropsIcmp ? 'drops ICMP' : '',
        relay.registrationBehaviour !== 'ok' ? `registration ${relay.registrationBehaviour}` : '',
      ].filter((note) => note !== '');
      const mismatch =
        relay.distance !== null && relay.expectedDistance !== null && relay.distance !== relay.expectedDistance;
      return [
        relay.chosen ? style.green(style.bold(relay.name)) : relay.name,
        `${relay.address}:${relay.port}`,
        mismatch ? style.red(formatDistance(relay.distance)) : formatDistance(relay.distance),
        formatDistance(relay.expectedDistance),
        relay.rttMs === null ? '—' : formatRtt(relay.rttMs),
        relay.method,
        notes.join(', '),
      ];
    }),
    { indent: 2 },
  );
  for (const line of relayTable) lines.push(line);
  lines.push('');
  const verdict =
    report.expected === null
      ? ''
      : report.matchesExpectation
        ? style.green(` ✓ as the topology expects`)
        : style.red(` ✗ the topology expects ${report.expected}`);
  lines.push(
    `${style.bold('Chosen:')} ${report.chosen === null ? style.red('none') : style.green(style.bold(report.chosen))}${verdict}`,
  );
  if (report.action !== null) lines.push(`  ${report.action}: ${report.reason ?? ''}`);
  const registration = report.registration;
  if (registration === null) {
    lines.push(
      `${style.bold('Registration:')} ${report.chosen === null ? 'none' : `the stub of ${report.chosen} received no registration`}`,
    );
  } else {
    const outcome =
      registration.status === 200
        ? style.green('accepted')
        : registration.status === 503
          ? style.yellow('503: relay alive, upstream server down (relay kept)')
          : style.red(`status ${registration.status ?? 'none'}`);
    lines.push(
      `${style.bold('Registration:')} ${registration.relay} ← POST from ${registration.from ?? '?'}: ${outcome}`,
    );
  }
  const others = report.registrations.filter((entry) => entry !== registration);
  for (const entry of others)
    lines.push(style.dim(`  also tried: ${entry.relay} answered ${entry.status ?? 'nothing'}`));
  lines.push(`${style.bold('Packets:')} ${formatPackets(report.packets)} in ${report.wallMs} ms`);
  if (report.nextRun !== null) {
    lines.push(
      `${style.bold('Next cron run:')} ${report.nextRun.action ?? `exit ${report.nextRun.exitCode}`}${report.nextRun.reason ? ` (${report.nextRun.reason})` : ''}, ${formatPackets(report.nextRun.packets)}`,
    );
  }
  for (const message of report.messages) lines.push(style.dim(`  relay-select said: ${message}`));
  for (const warning of report.warnings) lines.push(`${style.yellow('warning:')} ${warning}`);
  if (report.compare !== null) {
    lines.push('');
    lines.push(style.bold('Strategies compared (same lab, fresh state each)'));
    const strategyTable = renderTable(
      ['strategy', 'ICMP echo', 'TCP', 'wall', 'chosen', 'action'],
      report.compare.map((run) => [
        run.strategy,
        run.packets.icmpEchoRequests === null ? '?' : String(run.packets.icmpEchoRequests),
        run.packets.tcpConnects === null ? '?' : String(run.packets.tcpConnects),
        `${run.wallMs} ms`,
        run.chosen === null
          ? style.red('none')
          : run.chosen === report.expected || report.expected === null
            ? style.green(run.chosen)
            : style.red(run.chosen),
        run.action ?? `exit ${run.exitCode}`,
      ]),
      { indent: 2 },
    );
    for (const line of strategyTable) lines.push(line);
  }
  if (report.kept !== null) {
    lines.push('');
    lines.push(`${style.bold('Kept.')} Enter the endpoint: ${style.cyan(report.kept.enter)}`);
    lines.push(`Remove it: ${style.cyan(report.kept.down)}`);
  }
  return lines;
}
