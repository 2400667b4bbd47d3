import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawTopology } from '../../src/lab/draw.js';
import { relayNamesByAddress, renderLabRelayList, renderLabSettings } from '../../src/lab/lab-files.js';
import {
  buildRelayViews,
  chosenRelayName,
  parseRunJson,
  parseStubLog,
  toRegistration,
} from '../../src/lab/lab-report.js';
import { parseSnmpCounters } from '../../src/lab/lab-counters.js';
import { parseTopologyText, type Topology } from '../../src/lab/topology.js';
import { parseRelayList } from '../../src/relays/parse.js';
import { settingsInputSchema } from '../../src/config/schema.js';
import type { RunJson } from '../../src/cycle/run-json.js';

const labsDirectory = join(import.meta.dirname, '..', '..', 'relay-samples', 'labs');

function sample(name: string): Topology {
  return parseTopologyText(readFileSync(join(labsDirectory, `${name}.json`), 'utf8'), name).topology!;
}

const addresses = new Map([
  ['relay-branch', '198.18.0.10'],
  ['relay-dc', '198.18.0.20'],
  ['relay-dmz', '198.18.0.30'],
]);

describe('lab files', () => {
  it('writes a relay list the real parser reads back with groups, priority, weight and name', () => {
    const topology = sample('branch-office');
    const text = renderLabRelayList(topology, addresses);
    const parsed = parseRelayList(text, { file: 'relays.dat' });
    expect(parsed.diagnostics.filter((diagnostic) => diagnostic.severity === 'error')).toEqual([]);
    expect(parsed.relays.map((relay) => [relay.host, relay.port, relay.name, relay.groups])).toEqual([
      ['198.18.0.10', 52311, 'relay-branch', ['corp', 'branch-lyon']],
      ['198.18.0.20', 52311, 'relay-dc', ['corp']],
      ['198.18.0.30', 52311, 'relay-dmz', ['dmz']],
    ]);
  });

  it('replaces relay names in the settings with address:port and sets the strategy and TLS when asked', () => {
    const topology = sample('branch-office');
    const settings = renderLabSettings(topology, addresses, { strategy: 'rounds', tlsCaFile: '/tmp/ca.pem' });
    expect(settings.failoverRelays).toEqual(['198.18.0.30:52311']);
    expect(settings.probe).toMatchObject({ strategy: 'rounds', timeoutMs: 500 });
    expect(settings.register).toMatchObject({ scheme: 'https', tls: { ca: '/tmp/ca.pem' } });
    // The topology itself is left as it was: the compare runs render it again per strategy.
    expect(topology.settings.failoverRelays).toEqual(['relay-dmz']);
    expect(topology.settings.probe).toEqual({ timeoutMs: 500 });
  });

  it.each(['branch-office', 'internet-dmz', 'server-outage', 'relay-full'])(
    '%s: the settings written for the CLI are valid settings',
    (name) => {
      const topology = sample(name);
      const relayAddresses = new Map(topology.relays.map((relay, index) => [relay.name, `198.18.1.${index + 1}`]));
      for (const strategy of [undefined, 'inference', 'rounds'] as const) {
        const result = settingsInputSchema.safeParse(renderLabSettings(topology, relayAddresses, { strategy }));
        expect(result.success ? [] : result.error.issues).toEqual([]);
      }
    },
  );

  it('maps addresses back to relay names', () => {
    const names = relayNamesByAddress(sample('branch-office'), addresses);
    expect(names.get('198.18.0.20:52311')).toBe('relay-dc');
    expect(names.get('198.18.0.30')).toBe('relay-dmz');
  });
});

describe('lab report', () => {
  const runJson: RunJson = {
    action: 'selected',
    reason: 'nearest in pool corp',
    relay: {
      host: '198.18.0.10',
      port: 52311,
      address: '198.18.0.10',
      distance: 2,
      pool: 'corp',
      method: 'echo-ttl',
      rttMs: 41.2,
    },
    nextDueAt: '2024-03-01T18:00:00.000Z',
    probes: [
      {
        key: '198.18.0.10:52311',
        host: '198.18.0.10',
        address: '198.18.0.10',
        distance: 2,
        rttMs: 41.2,
        method: 'echo-ttl',
      },
      {
        key: '198.18.0.20:52311',
        host: '198.18.0.20',
        address: '198.18.0.20',
        distance: 3,
        rttMs: 0.4,
        method: 'echo-ttl',
      },
    ],
    rule: 'forced',
    registration: { status: 'registered', detail: 'HTTP 200' },
    attempts: [],
    pools: [],
    packetsSent: 5,
    tcpChecks: 0,
    networkChange: null,
    switchMargin: null,
    distanceJump: null,
    avoidedRelays: [],
    peerTable: null,
    peerNotes: [],
    warnings: [],
    dryRun: false,
  };

  it('reads the run JSON after any leading noise, and the chosen relay by address', () => {
    const parsed = parseRunJson(`warning\n${JSON.stringify(runJson)}`);
    expect(parsed?.action).toBe('selected');
    expect(chosenRelayName(sample('branch-office'), addresses, parsed)).toBe('relay-branch');
    expect(parseRunJson('no json here')).toBeUndefined();
  });

  it('builds relay views with measured and expected distances, unprobed relays marked', () => {
    const views = buildRelayViews(sample('branch-office'), addresses, runJson, 'relay-branch');
    expect(views.map((view) => [view.name, view.distance, view.expectedDistance, view.method, view.chosen])).toEqual([
      ['relay-branch', 2, 2, 'echo-ttl', true],
      ['relay-dc', 3, 3, 'echo-ttl', false],
      ['relay-dmz', null, 3, 'not probed', false],
    ]);
  });

  it('reads stub logs, skipping a cut-off last line', () => {
    const entries = parseStubLog(
      '{"at":"t1","status":503,"body":{"accepted":false},"remoteAddress":"198.18.0.2"}\n{"at":"t2","sta',
    );
    expect(entries).toHaveLength(1);
    expect(toRegistration('relay-site', entries[0]!)).toEqual({
      relay: 'relay-site',
      status: 503,
      accepted: false,
      from: '198.18.0.2',
      at: 't1',
    });
  });

  it('counts echo requests and TCP opens from /proc/net/snmp and snmp6', () => {
    const text = [
      'Icmp: InMsgs InTimeExcds OutMsgs OutEchos',
      'Icmp: 3 6 7 5',
      'Tcp: RtoAlgorithm ActiveOpens PassiveOpens',
      'Tcp: 1 4 0',
      'Icmp6InTimeExcds                \t1',
      'Icmp6OutEchos                   \t2',
    ].join('\n');
    expect(parseSnmpCounters(text)).toEqual({ icmpEchoRequests: 7, tcpConnects: 4, timeExceededReceived: 7 });
    expect(parseSnmpCounters('nothing')).toBeUndefined();
  });
});

describe('drawTopology', () => {
  it('draws every router and relay once, the chosen relay marked, ICMP droppers flagged', () => {
    const topology = sample('internet-dmz');
    const lines = drawTopology(topology, {
      chosen: 'relay-dmz-1',
      measurements: new Map([['relay-dmz-1', { distance: null, rttMs: 1.5, method: 'tcp' }]]),
    });
    const text = lines.join('\n');
    for (const name of [...topology.routers, ...topology.relays.map((relay) => relay.name)]) {
      expect(lines.filter((line) => new RegExp(`[─ ★]${name}\\b`).test(line))).toHaveLength(1);
    }
    expect(lines[0]).toMatch(/^laptop \(endpoint\)/);
    expect(lines.filter((line) => line.includes('◀ chosen'))).toEqual([expect.stringContaining('relay-dmz-1')]);
    expect(text.match(/drops ICMP/g)).toHaveLength(3);
  });

  it('nests routers by distance from the endpoint and shows link delay', () => {
    const lines = drawTopology(sample('branch-office'));
    const depth = (name: string): number => lines.find((line) => line.includes(` ${name}`))!.search(/[├└]/);
    expect(depth('branch-core')).toBeGreaterThan(depth('branch-gw'));
    expect(depth('dc-core')).toBeGreaterThan(depth('wan'));
    expect(lines.find((line) => line.includes('branch-core'))).toMatch(/\+20 ms each way/);
    expect(lines.find((line) => line.includes('relay-branch'))).toMatch(/2 hops by the topology/);
  });
});
