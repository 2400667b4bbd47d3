#!/usr/bin/env node
// Benchmark of the cron no-op (issue 12): what a `relay-select run` that has nothing to do costs (a retry
// is pending: no probe, no network), without and with a metrics file and JSON logs, against bare Node's
// start-up measured in the same run. Also, in one process, the two pieces issue 12 adds to every run:
// reading the network fingerprint and writing the metrics file. Optionally (BENCH_PROM_CLIENT=path to an
// installed prom-client, which relay-select does not depend on) what importing prom-client would add.
//
// Usage: node bench/cron-noop.mjs [--runs N]   (after npm run build)
// Writes bench/results/cron-noop.json and bench/results/cron-noop.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDirectory = join(root, 'bench', 'results');
const cli = join(root, 'bin', 'relay-select.js');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Times each command `runs` times, taking turns, so a change of the machine's load hits them all alike. */
function timeSpawns(commands, runs) {
  const times = commands.map(() => []);
  for (let run = 0; run < runs; run++) {
    commands.forEach((command, index) => {
      const start = performance.now();
      const result = spawnSync(process.execPath, command.args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      times[index].push(performance.now() - start);
      if (result.status !== 0) throw new Error(`${command.args.join(' ')} exited ${result.status}: ${result.stderr}`);
    });
  }
  return commands.map((command, index) => ({ name: command.name, medianMs: median(times[index]), minMs: Math.min(...times[index]), maxMs: Math.max(...times[index]) }));
}

async function timeInProcess(fn, iterations) {
  await fn();
  const start = performance.now();
  for (let index = 0; index < iterations; index++) await fn();
  return (performance.now() - start) / iterations;
}

export async function benchCronNoop({ runs = 15 } = {}) {
  const directory = mkdtempSync(join(tmpdir(), 'relay-select-bench-cron-'));
  try {
    const stateDir = join(directory, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    const relays = join(directory, 'Relay.dat');
    writeFileSync(relays, '198.18.0.10 affiliation=Lab\n198.18.0.11 affiliation=Lab\n');
    const now = new Date().toISOString();
    const retryAt = new Date(Date.now() + 86_400_000).toISOString();
    writeFileSync(join(stateDir, 'state.json'), JSON.stringify({ version: 1, clientId: 'bench', current: null, lastSelectionAt: null, lastAttemptAt: now, failingSince: null, retry: { attempt: 3, nextAt: retryAt, delaySeconds: 86_400, reason: 'bench' } }));
    const base = ['run', '--quiet', '--relays', relays, '--state-dir', stateDir, '--config', join(directory, 'none.json')];
    writeFileSync(join(directory, 'none.json'), '{}');
    const metricsFile = join(directory, 'relay_select.prom');

    const commands = [
      { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
      { name: 'run, nothing due', args: [cli, ...base] },
      { name: 'run, nothing due, metricsFile', args: [cli, ...base, '--set', `metricsFile=${metricsFile}`] },
      { name: 'run, nothing due, metricsFile, --log-format json', args: [cli, ...base, '--set', `metricsFile=${metricsFile}`, '--log-format', 'json'] },
    ];
    const promClient = process.env.BENCH_PROM_CLIENT;
    if (promClient) commands.push({ name: 'node, import prom-client (not used)', args: ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(promClient, 'index.js')).href)})`] });
    const rows = timeSpawns(commands, runs);
    const baseline = rows[0].medianMs;
    for (const row of rows) row.ratioToNode = row.medianMs / baseline;

    const { readNetworkFingerprint } = await import(pathToFileURL(join(root, 'dist', 'cycle', 'read-network-fingerprint.js')).href);
    const { writeRunMetrics } = await import(pathToFileURL(join(root, 'dist', 'metrics', 'metrics-file.js')).href);
    const { emptyState } = await import(pathToFileURL(join(root, 'dist', 'cycle', 'state.js')).href);
    const facts = { now: new Date(), action: 'waiting', rule: 'retry-pending', nextDueAt: new Date(), relayListRefusedLines: 0, relayListRefused: false };
    const pieces = {
      readNetworkFingerprintMs: await timeInProcess(() => readNetworkFingerprint({ toward: '127.0.0.1' }), 200),
      writeRunMetricsMs: await timeInProcess(() => writeRunMetrics(metricsFile, emptyState('bench'), facts), 200),
    };
    const result = {
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      loadAverage: loadavg()[0],
      runs,
      rows,
      pieces,
    };
    mkdirSync(resultsDirectory, { recursive: true });
    writeFileSync(join(resultsDirectory, 'cron-noop.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(resultsDirectory, 'cron-noop.md'), renderCronNoop(result));
    return result;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

export function renderCronNoopTable(result) {
  const header = ['what', 'median ms', 'min..max ms', 'x node start'];
  const rows = result.rows.map((row) => [row.name, row.medianMs.toFixed(1), `${row.minMs.toFixed(0)}..${row.maxMs.toFixed(0)}`, row.ratioToNode.toFixed(2)]);
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function renderCronNoop(result) {
  return `# cron-noop

A \`relay-select run\` with nothing to do (a retry pending: no probe, no network), each a fresh process,
median of ${result.runs} taking turns, against bare Node's start-up in the same run. Issue 12 adds to every run the
network fingerprint (${result.pieces.readNetworkFingerprintMs.toFixed(3)} ms in process: two /proc reads and a
connected UDP socket) and, with \`metricsFile\`, the metrics file (${result.pieces.writeRunMetricsMs.toFixed(3)} ms:
render and atomic write).

${renderCronNoopTable(result)}

${result.at}, Node ${result.node}, ${result.cpus} CPUs, load average ${result.loadAverage.toFixed(1)} at the end.
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runsIndex = process.argv.indexOf('--runs');
  const result = await benchCronNoop({ runs: runsIndex === -1 ? 15 : Number(process.argv[runsIndex + 1]) });
  process.stdout.write(`${renderCronNoopTable(result)}\n`);
}
