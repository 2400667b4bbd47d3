// Agent benchmark (issue 11): the branch office of test/lab/agent-peers.test.ts (src/lab/agent-lab.ts) — 12
// endpoints on one link (a bridge) with their gateway, two routers and 60 relays at 1, 2 and 3 routers — where
// 12 real `relay-select agent` processes make their first selection, each alone (peer.enabled false: what 12
// cron `run`s cost today) and cooperating (peer.enabled true: one leader probes, the others adopt its table
// and confirm with one echo). Echo requests sent and ICMP Time Exceeded received are counted by each endpoint's
// kernel (/proc/net/snmp and snmp6 in its namespace), per family, repeated; ratios are cooperating / alone of
// the same run. Registration is `none` (only recorded): what is measured is the probing.
//
// Used by bench/run.mjs; `node bench/agent-bench.mjs [--repetitions N]` runs it alone.
// Writes bench/results/agent.json and bench/results/agent.md. Needs root, iproute2 and a built dist/.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createAgentLabSpec,
  listAgentLabRelays,
  renderAgentLabRelayList,
  startLabAgent,
} from '../dist/lab/agent-lab.js';
import { readCounters } from '../dist/lab/lab-counters.js';
import { buildNetwork, listNamespaces } from '../dist/lab/netns/network.js';
import { machineFacts, root, spread, writeResults } from './bench-common.mjs';

const ENDPOINTS = Array.from({ length: 12 }, (_, index) => `ep${String(index + 1).padStart(2, '0')}`);
const LEASE_SECONDS = 3;
const RELAYS = 60;
/** The issue's budget for the first selection of the 12 cooperating agents. */
const BUDGET = 1.2 * RELAYS + 2 * ENDPOINTS.length;
const MODES = ['alone', 'cooperating'];

const ratio = (part, whole) => (whole === 0 ? null : Math.round((part / whole) * 1000) / 1000);

/** The first selection of the 12 agents in one mode; the kernel's counters before and after. */
async function measure(lab, directory, family, mode, relays, keyFile, log) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RELAY_SELECT_')));
  env.NO_COLOR = '1';
  const relaysFile = join(directory, 'Relay.dat');
  writeFileSync(relaysFile, `${renderAgentLabRelayList(relays).join('\n')}\n`);
  const before = await Promise.all(ENDPOINTS.map((node) => readCounters(lab.namespaceOf(node))));
  const startedMs = performance.now();
  const agents = ENDPOINTS.map((node) => {
    const configFile = join(directory, `${node}.json`);
    writeFileSync(
      configFile,
      JSON.stringify({
        clientId: `bench-${node}`,
        probe: { timeoutMs: 500, tcpTimeoutMs: 500 },
        register: { mode: 'none' },
        peer: mode === 'cooperating' ? { enabled: true, keyFile, leaseSeconds: LEASE_SECONDS } : { enabled: false },
      }),
    );
    const args = [
      'agent',
      '--json',
      '--relays',
      relaysFile,
      '--config',
      configFile,
      '--state-dir',
      join(directory, `state-${node}`),
      '--check-interval',
      '3600',
    ];
    return startLabAgent(lab, node, [process.execPath, join(root, 'bin', 'relay-select.js'), ...args], env);
  });
  try {
    const cycles = await Promise.all(
      agents.map((agent) =>
        agent.waitFor((event) => event.event === 'cycle', 'its first cycle', { timeoutMs: 60_000 }),
      ),
    );
    const wallMs = Math.max(...cycles.map((cycle) => cycle.receivedAtMs)) - startedMs;
    const after = await Promise.all(ENDPOINTS.map((node) => readCounters(lab.namespaceOf(node))));
    const echoes = ENDPOINTS.map((_, index) => after[index].icmpEchoRequests - before[index].icmpEchoRequests);
    const timeExceeded = ENDPOINTS.map(
      (_, index) => after[index].timeExceededReceived - before[index].timeExceededReceived,
    );
    const run = {
      family,
      mode,
      echoRequests: echoes.reduce((sum, count) => sum + count, 0),
      echoRequestsPerEndpoint: echoes,
      timeExceededReceived: timeExceeded.reduce((sum, count) => sum + count, 0),
      selected: cycles.filter((cycle) => cycle.action === 'selected').length,
      adoptedTables: cycles.filter((cycle) => cycle.peerTable !== null && cycle.peerTable !== undefined).length,
      wallMs: Math.round(wallMs),
    };
    log(
      `  IPv${family} ${mode.padEnd(11)} ${String(run.echoRequests).padStart(4)} echo requests, ${String(run.timeExceededReceived).padStart(3)} Time Exceeded, ${run.adoptedTables} tables adopted, ${run.selected}/12 selected in ${run.wallMs} ms`,
    );
    return run;
  } finally {
    for (const agent of agents) agent.kill('SIGTERM');
    await Promise.all(agents.map((agent) => agent.exited));
  }
}

export async function benchAgents(options = {}) {
  const repetitions = options.repetitions ?? 3;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const workDirectory = mkdtempSync(join(tmpdir(), 'relay-select-agent-bench-'));
  const keyFile = join(workDirectory, 'peer.key');
  writeFileSync(keyFile, 'YmVuY2gtc2hhcmVkLXNlY3JldC1vZi10aGUtb2ZmaWNl\n');
  chmodSync(keyFile, 0o600);
  const buildStartedMs = performance.now();
  const lab = await buildNetwork(createAgentLabSpec(ENDPOINTS));
  const buildMs = performance.now() - buildStartedMs;
  const runs = [];
  try {
    for (let repetition = 1; repetition <= repetitions; repetition += 1) {
      for (const family of [4, 6]) {
        const relays = listAgentLabRelays(lab, family);
        for (const mode of MODES) {
          const directory = join(workDirectory, `r${repetition}-v${family}-${mode}`);
          mkdirSync(directory);
          runs.push({ repetition, ...(await measure(lab, directory, family, mode, relays, keyFile, log)) });
        }
      }
    }
  } finally {
    await lab.destroy();
    rmSync(workDirectory, { recursive: true, force: true });
  }
  const summary = [4, 6].map((family) => {
    const of = (mode) => runs.filter((run) => run.family === family && run.mode === mode);
    const [alone, cooperating] = MODES.map(of);
    const row = (own) => ({
      echoRequests: spread(own.map((run) => run.echoRequests)),
      busiestEndpoint: spread(own.map((run) => Math.max(...run.echoRequestsPerEndpoint))),
      quietestEndpoint: spread(own.map((run) => Math.min(...run.echoRequestsPerEndpoint))),
      timeExceededReceived: spread(own.map((run) => run.timeExceededReceived)),
      adoptedTables: spread(own.map((run) => run.adoptedTables)),
      wallMs: spread(own.map((run) => run.wallMs)),
      allSelected: own.every((run) => run.selected === ENDPOINTS.length),
    });
    const aloneRow = row(alone);
    const cooperatingRow = row(cooperating);
    return {
      family,
      alone: aloneRow,
      cooperating: cooperatingRow,
      echoRatio: ratio(cooperatingRow.echoRequests.median, aloneRow.echoRequests.median),
      timeExceededRatio: ratio(cooperatingRow.timeExceededReceived.median, aloneRow.timeExceededReceived.median),
      withinBudget: cooperating.every((run) => run.echoRequests <= BUDGET),
    };
  });
  return {
    name: 'agent',
    ...machineFacts(),
    lab: {
      prefix: lab.prefix,
      endpoints: ENDPOINTS.length,
      relays: RELAYS,
      relaysByDistance: { 1: 4, 2: 26, 3: 30 },
      buildMs: Math.round(buildMs),
      namespacesLeft: listNamespaces(lab.prefix).length,
    },
    settings: {
      'probe.verify': 'paths',
      'probe.verifyMargin': 2,
      'probe.timeoutMs': 500,
      'peer.leaseSeconds': LEASE_SECONDS,
      'register.mode': 'none',
    },
    budget: BUDGET,
    repetitions,
    summary,
    runs,
  };
}

export function renderAgentTable(result) {
  const header = [
    'family',
    'mode',
    'echo requests (median, min..max)',
    'busiest / quietest endpoint',
    'Time Exceeded received',
    'tables adopted',
    'all 12 selected after ms',
    'echo ratio',
    'Time Exceeded ratio',
  ];
  const rows = result.summary.flatMap((entry) =>
    MODES.map((mode) => {
      const row = entry[mode];
      const cooperating = mode === 'cooperating';
      return [
        `IPv${entry.family}`,
        mode,
        `${row.echoRequests.median} (${row.echoRequests.min}..${row.echoRequests.max})`,
        `${row.busiestEndpoint.median} / ${row.quietestEndpoint.median}`,
        `${row.timeExceededReceived.median}`,
        `${row.adoptedTables.median}`,
        `${row.wallMs.median} (${row.wallMs.min}..${row.wallMs.max})`,
        cooperating ? `${entry.echoRatio}×` : '1×',
        cooperating ? `${entry.timeExceededRatio}×` : '1×',
      ];
    }),
  );
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function writeAgentResults(result) {
  const markdown = `# agent

The first selection of 12 \`relay-select agent\` processes on one link (a Linux bridge in a namespace), with their
gateway, two routers and ${result.lab.relays} relays behind them (${Object.entries(result.lab.relaysByDistance)
    .map(([distance, count]) => `${count} at ${distance}`)
    .join(', ')} routers),
each agent alone (peer.enabled false: what 12 cron runs cost) and cooperating (one leader probes and shares its
table; the others adopt it and confirm their choice with one echo at the maximum TTL). Echo requests sent and
Time Exceeded received are the endpoints' own kernel counters (/proc/net/snmp, snmp6), summed over the 12;
${result.repetitions} repetitions per family and mode, ratios are medians cooperating / alone of this run.
Settings: ${Object.entries(result.settings)
    .map(([key, value]) => `${key} ${value}`)
    .join(', ')} (the verification defaults: every relay of
this lab is within the margin, and one relay per path — subnet and distance — is verified, alone and cooperating alike).
Budget of the cooperating first selection (issue 11): 1.2 × ${result.lab.relays} + 2 × ${result.lab.endpoints} = ${result.budget} echo requests.

${renderAgentTable(result)}

${result.summary.map((entry) => `- IPv${entry.family}: cooperating ${entry.cooperating.echoRequests.median} echo requests against ${entry.alone.echoRequests.median} alone (${entry.echoRatio}×), ${entry.withinBudget ? 'within' : 'OVER'} the budget of ${result.budget} in every run; Time Exceeded ${entry.cooperating.timeExceededReceived.median} against ${entry.alone.timeExceededReceived.median}.`).join('\n')}

Machine: ${result.cpus} CPUs, load ${result.loadAverage1m}, Node ${result.node}, kernel ${result.kernel}; ${result.date}.
`;
  writeResults('agent', result, markdown);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const index = process.argv.indexOf('--repetitions');
  const result = await benchAgents({ repetitions: index === -1 ? 3 : Number(process.argv[index + 1]) });
  writeAgentResults(result);
  process.stdout.write(`${renderAgentTable(result)}\n`);
}
