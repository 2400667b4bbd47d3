/**
 * What left the endpoint's namespace during a run, from the kernel's own counters (/proc/net/snmp and
 * snmp6 inside the namespace): ICMP echo requests and TCP connections, whatever the CLI reports.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LabPackets } from './lab-report.js';

const execFileAsync = promisify(execFile);

interface Counters {
  icmpEchoRequests: number;
  tcpConnects: number;
  /** ICMP and ICMPv6 Time Exceeded received: what TTL-limited probes cost the routers. */
  timeExceededReceived: number;
}

/** The endpoint namespace's own counters: what left it, whatever the CLI reports. */
export async function readCounters(namespace: string): Promise<Counters | undefined> {
  try {
    const { stdout } = await execFileAsync('ip', [
      'netns',
      'exec',
      namespace,
      'sh',
      '-c',
      'cat /proc/net/snmp; cat /proc/net/snmp6 2>/dev/null; true',
    ]);
    return parseSnmpCounters(stdout);
  } catch {
    return undefined;
  }
}

/** Reads OutEchos and InTimeExcds (ICMP and ICMPv6) and TCP ActiveOpens from /proc/net/snmp and snmp6 text. */
export function parseSnmpCounters(text: string): Counters | undefined {
  const lines = text.split('\n');
  const field = (protocol: string, name: string): number | undefined => {
    for (let index = 0; index + 1 < lines.length; index += 1) {
      const header = lines[index]!.split(/\s+/);
      const values = lines[index + 1]!.split(/\s+/);
      if (header[0] !== `${protocol}:` || values[0] !== `${protocol}:`) continue;
      const column = header.indexOf(name);
      return column > 0 ? Number(values[column]) : undefined;
    }
    return undefined;
  };
  const icmp = field('Icmp', 'OutEchos');
  const tcp = field('Tcp', 'ActiveOpens');
  if (icmp === undefined || tcp === undefined) return undefined;
  const snmp6 = (name: string): number => {
    const line = lines.find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}\t`));
    return line === undefined ? 0 : Number(line.trim().split(/\s+/)[1]);
  };
  return {
    icmpEchoRequests: icmp + snmp6('Icmp6OutEchos'),
    tcpConnects: tcp,
    timeExceededReceived: (field('Icmp', 'InTimeExcds') ?? 0) + snmp6('Icmp6InTimeExcds'),
  };
}

/** The packets of one run: the counters' difference, else what the run reported. */
export function packetsBetween(
  before: Counters | undefined,
  after: Counters | undefined,
  reported: number | undefined,
): LabPackets {
  if (before !== undefined && after !== undefined) {
    return {
      icmpEchoRequests: after.icmpEchoRequests - before.icmpEchoRequests,
      tcpConnects: after.tcpConnects - before.tcpConnects,
      source: 'namespace-counters',
    };
  }
  if (typeof reported === 'number') return { icmpEchoRequests: reported, tcpConnects: null, source: 'run-report' };
  return { icmpEchoRequests: null, tcpConnects: null, source: 'none' };
}
