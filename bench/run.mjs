#!/usr/bin/env node
// `npm run bench` (after `npm run build`): the probe benchmark (bench/probe-bench.mjs, issues 3 and 9), the
// relay-list parse benchmark (bench/parse-relays.mjs, issue 2) and the cron no-op (bench/cron-noop.mjs,
// issue 12) in one run. Needs root for the probe
// benchmark; without root only the parse benchmark runs and the probe one is reported as skipped.
//
// Writes bench/results/{probe,parse-relays,cron-noop}.{json,md}; prints the tables.
import { benchCronNoop, renderCronNoopTable } from './cron-noop.mjs';
import { benchParseRelays } from './parse-relays.mjs';
import { benchProbe, renderProbeTable, writeProbeResults } from './probe-bench.mjs';

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

const cron = await benchCronNoop({ runs: 15 });
process.stdout.write('\nCron no-op benchmark (bench/results/cron-noop.md)\n\n');
process.stdout.write(`${renderCronNoopTable(cron)}\n`);

process.stdout.write(`\nbench finished in ${((performance.now() - startMs) / 1000).toFixed(0)} s\n`);
if (failed) process.exitCode = 1;
