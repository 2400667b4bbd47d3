#!/usr/bin/env node
// `npm run bench` (after `npm run build`): the probe benchmark (bench/probe-bench.mjs, issues 3, 9 and 13), the
// agent benchmark (bench/agent-bench.mjs, issue 11: 12 agents on one link, alone and cooperating), the
// relay-list parse and million-relay plan benchmark (bench/parse-relays.mjs, issues 2 and 13), the start-up
// of the cron no-op and of monitoring's status (bench/startup.mjs, issues 12 and 13) and the fleet benchmark
// (bench/fleet-bench.mjs, issue 10) in one run. Needs root for the probe and agent benchmarks; without root
// the others run and those two are reported as skipped.
//
// Writes bench/results/{probe,agent,parse-relays,startup,fleet}.{json,md}; prints the tables.
import { benchAgents, renderAgentTable, writeAgentResults } from './agent-bench.mjs';
import { benchFleet, renderAgreementTable, renderPerformanceTable } from './fleet-bench.mjs';
import { benchParseRelays, renderPlanTable } from './parse-relays.mjs';
import {
  benchProbe,
  probeTargetsMet,
  renderIpv6Verdict,
  renderOverviewTable,
  renderShapeTable,
  writeProbeResults,
} from './probe-bench.mjs';
import { benchStartup, renderStartupTable } from './startup.mjs';

const startMs = performance.now();
let failed = false;

if (process.getuid?.() === 0) {
  const probe = await benchProbe({ repetitions: 3 });
  writeProbeResults(probe);
  for (const shape of probe.shapes) {
    process.stdout.write(
      `\nProbe benchmark, ${shape.name}: ${shape.title} (${shape.lab.relays} relays, nearest ${shape.lab.trueMinimumDistance} routers away)\n\n`,
    );
    process.stdout.write(`${renderShapeTable(shape)}\n`);
  }
  process.stdout.write(`\nProbe targets (inference; bench/results/probe.md)\n\n${renderOverviewTable(probe)}\n`);
  const ipv6 = renderIpv6Verdict(probe);
  if (ipv6 !== null) process.stdout.write(`${ipv6}\n`);
  failed ||= !probeTargetsMet(probe);
  const { listNamespaces } = await import('../dist/lab/netns/network.js');
  const left = probe.shapes.flatMap((shape) => listNamespaces(shape.lab.prefix));
  process.stdout.write(`namespaces of this run left after teardown (ip netns list): ${left.length}\n`);
  failed ||= left.length > 0;

  const agents = await benchAgents({ repetitions: 3 });
  writeAgentResults(agents);
  process.stdout.write(
    `\nAgent benchmark (12 agents on one link, ${agents.lab.relays} relays, alone and cooperating; bench/results/agent.md)\n\n${renderAgentTable(agents)}\n\n`,
  );
  for (const entry of agents.summary) {
    process.stdout.write(
      `IPv${entry.family}: cooperating ${entry.cooperating.echoRequests.median} echo requests <= ${agents.budget} ${entry.withinBudget ? 'met' : 'MISSED'}; ${entry.echoRatio}x the echo requests and ${entry.timeExceededRatio}x the Time Exceeded of 12 agents alone\n`,
    );
  }
  process.stdout.write(`namespaces of the agent lab left after teardown: ${agents.lab.namespacesLeft}\n`);
  failed ||=
    agents.summary.some((entry) => !entry.withinBudget || !entry.cooperating.allSelected || !entry.alone.allSelected) ||
    agents.lab.namespacesLeft > 0;
} else {
  process.stdout.write(
    'probe and agent benchmarks skipped: they need root (network namespaces, raw sockets, nftables)\n',
  );
}

const parse = await benchParseRelays({ runs: 3 });
process.stdout.write('\nParse benchmark (bench/results/parse-relays.md)\n\n');
const header = ['relays', 'load+parse ms (median)', 'min..max ms', 'CPU ms', 'peak RSS MiB', 'budget'];
const rows = parse.rows.map((row) => [
  row.relays.toLocaleString('en-US'),
  row.wallMsMedian.toFixed(0),
  `${row.wallMsMin.toFixed(0)}..${row.wallMsMax.toFixed(0)}`,
  row.cpuMsMedian.toFixed(0),
  row.peakRssMiB.toFixed(0),
  row.withinBudget === null ? '' : row.withinBudget ? 'ok' : 'OVER',
]);
process.stdout.write(
  `${[header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')}\n`,
);
failed ||= parse.rows.some((row) => row.withinBudget === false);
process.stdout.write(
  `\nplan on ${parse.planBudget.relays.toLocaleString('en-US')} relays (bench/results/parse-relays.md)\n\n${renderPlanTable(parse)}\n`,
);
failed ||= parse.planRows.some((row) => !row.withinBudget);

const startup = await benchStartup();
process.stdout.write(
  `\nStart-up of the cron no-op against node -e 0 (bench/results/startup.md)\n\n${renderStartupTable(startup)}\n`,
);
failed ||= startup.rows.some((row) => row.withinBudget === false);

const fleet = await benchFleet({ log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(
  `\nFleet benchmark, ${fleet.performance.fleet} (bench/results/fleet.md)\n\n${renderPerformanceTable(fleet)}\n\n`,
);
process.stdout.write(`${renderAgreementTable(fleet)}\n\n`);
process.stdout.write(
  `fleet targets: ${fleet.performance.both.wallSeconds} s, ${fleet.performance.both.peakRssMiB} MiB <= ${fleet.budget.wallSeconds} s, ${fleet.budget.rssMiB} MiB ${fleet.performance.withinBudget ? 'met' : 'MISSED'}; ` +
    `estimate within 10 % ${fleet.agreementMet ? 'met' : 'MISSED'}; outage worst minute bigfix/default ${fleet.outage.ratio}x >= 10x ${fleet.outage.met ? 'met' : 'MISSED'}\n`,
);
failed ||= !(fleet.performance.withinBudget && fleet.agreementMet && fleet.outage.met);

process.stdout.write(`\nbench finished in ${((performance.now() - startMs) / 1000).toFixed(0)} s\n`);
if (failed) process.exitCode = 1;
