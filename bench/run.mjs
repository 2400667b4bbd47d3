#!/usr/bin/env node
// `npm run bench` (after `npm run build`): the probe benchmark (bench/probe-bench.mjs, issues 3 and 9), the
// relay-list parse and million-relay plan benchmark (bench/parse-relays.mjs, issues 2 and 13) and the
// start-up benchmark of the cron no-op (bench/startup.mjs, issue 13) in one run. Needs root for the probe
// benchmark; without root the others run and the probe one is reported as skipped.
//
// Writes bench/results/{probe,parse-relays,startup}.{json,md}; prints the tables.
import { benchParseRelays, renderPlanTable } from './parse-relays.mjs';
import { benchProbe, renderProbeTable, writeProbeResults } from './probe-bench.mjs';
import { benchStartup, renderStartupTable } from './startup.mjs';

const startMs = performance.now();
let failed = false;

if (process.getuid?.() === 0) {
  const probe = await benchProbe({ repetitions: 3 });
  writeProbeResults(probe);
  process.stdout.write(`\nProbe benchmark (${probe.lab.relays} relays, nearest ${probe.lab.trueMinimumDistance} routers away; bench/results/probe.md)\n\n`);
  process.stdout.write(`${renderProbeTable(probe)}\n\n`);
  const verdict = probe.verdict;
  if (verdict) {
    process.stdout.write(
      `inference targets: packets ${verdict.packets.measuredMax} <= ${verdict.packets.limit} ${verdict.packets.met ? 'met' : 'MISSED'}; ` +
        `${verdict.speed.speedupMedian}x faster than rounds (>= ${verdict.speed.required}x) ${verdict.speed.met ? 'met' : 'MISSED'}; ` +
        `right ${verdict.right.rightRuns}/${verdict.right.runs} ${verdict.right.met ? 'met' : 'MISSED'}; ` +
        `IPv6 ${verdict.ipv6.packetsPerRelayIpv6} vs IPv4 ${verdict.ipv6.packetsPerRelayIpv4} packets per relay (within ${verdict.ipv6.within * 100} %) ${verdict.ipv6.met ? 'met' : 'MISSED'}\n`,
    );
    failed ||= !(verdict.packets.met && verdict.speed.met && verdict.right.met && verdict.ipv6.met);
  }
  const { listNamespaces } = await import('../dist/lab/netns/network.js');
  const left = listNamespaces(probe.lab.prefix);
  process.stdout.write(`namespaces of this run left after teardown (ip netns list): ${left.length}\n`);
  failed ||= left.length > 0;
} else {
  process.stdout.write('probe benchmark skipped: it needs root (network namespaces, raw sockets, nftables)\n');
}

const parse = await benchParseRelays({ runs: 3 });
process.stdout.write('\nParse benchmark (bench/results/parse-relays.md)\n\n');
const header = ['relays', 'load+parse ms (median)', 'min..max ms', 'CPU ms', 'peak RSS MiB', 'budget'];
const rows = parse.rows.map((row) => [row.relays.toLocaleString('en-US'), row.wallMsMedian.toFixed(0), `${row.wallMsMin.toFixed(0)}..${row.wallMsMax.toFixed(0)}`, row.cpuMsMedian.toFixed(0), row.peakRssMiB.toFixed(0), row.withinBudget === null ? '' : row.withinBudget ? 'ok' : 'OVER']);
process.stdout.write(`${[header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')}\n`);
failed ||= parse.rows.some((row) => row.withinBudget === false);
process.stdout.write(`\nplan on ${parse.planBudget.relays.toLocaleString('en-US')} relays (bench/results/parse-relays.md)\n\n${renderPlanTable(parse)}\n`);
failed ||= parse.planRows.some((row) => !row.withinBudget);

const startup = await benchStartup();
process.stdout.write(`\nStart-up of the cron no-op against node -e 0 (bench/results/startup.md)\n\n${renderStartupTable(startup)}\n`);
failed ||= startup.rows.some((row) => row.withinBudget === false);

process.stdout.write(`\nbench finished in ${((performance.now() - startMs) / 1000).toFixed(0)} s\n`);
if (failed) process.exitCode = 1;
