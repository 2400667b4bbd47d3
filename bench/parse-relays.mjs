#!/usr/bin/env node
// Benchmark of the relay-list parser (DESIGN §3 limits): a generated list of 1,000 / 100,000 /
// 1,000,000 relays is loaded by dist/relays/load.js in a fresh child process, which reports the wall
// time of loadRelayList (read + parse) and its peak RSS. Budget for 1,000,000 relays: <= 2 s, <= 512 MiB.
//
// Usage: node bench/parse-relays.mjs [--runs N] [--build]
// Writes bench/results/parse-relays.json and bench/results/parse-relays.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateRelayList } from './generate-relays.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDirectory = join(root, 'bench', 'results');
const BUDGET_MS = 2000;
const BUDGET_RSS_MIB = 512;

/** The child: loads the list once and prints its figures as one JSON line. */
const CHILD_SOURCE = `
const [loadUrl, file] = process.argv.slice(-2);
const { loadRelayList } = await import(loadUrl);
const startMs = performance.now();
const startCpu = process.cpuUsage();
const result = await loadRelayList(file);
const wallMs = performance.now() - startMs;
const cpu = process.cpuUsage(startCpu);
const errors = result.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
process.stdout.write(JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, relays: result.relays.length, errors, maxRssKiB: process.resourceUsage().maxRSS }) + '\\n');
`;

/** Rebuilds dist/ when a relay source is newer than its output (or on request). */
function ensureBuilt(force) {
  const sources = readdirSync(join(root, 'src', 'relays')).filter((name) => name.endsWith('.ts'));
  const stale = sources.some((name) => {
    const output = join(root, 'dist', 'relays', name.replace(/\.ts$/, '.js'));
    return !existsSync(output) || statSync(output).mtimeMs < statSync(join(root, 'src', 'relays', name)).mtimeMs;
  });
  if (!force && !stale) return;
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'pipe' });
  } catch {
    // Work in progress elsewhere in the tree may not typecheck; tsc still emits (no noEmitOnError), checked just below.
  }
  if (!existsSync(join(root, 'dist', 'relays', 'load.js'))) throw new Error('dist/relays/load.js was not built');
}

function runChild(file) {
  const loadUrl = pathToFileURL(join(root, 'dist', 'relays', 'load.js')).href;
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SOURCE, loadUrl, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const processMs = performance.now() - startMs;
      if (code !== 0) return reject(new Error(`benchmark child exited with ${code}: ${stderr.trim()}`));
      const figures = JSON.parse(stdout.trim());
      resolve({ ...figures, processMs });
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs the benchmark and returns its figures (also written to bench/results/).
 * @param {{ sizes?: number[], runs?: number, build?: boolean, write?: boolean }} [options]
 */
export async function benchParseRelays(options = {}) {
  const sizes = options.sizes ?? [1_000, 100_000, 1_000_000];
  const runs = options.runs ?? 3;
  ensureBuilt(options.build ?? false);
  const directory = mkdtempSync(join(tmpdir(), 'relay-select-bench-'));
  const rows = [];
  try {
    for (const count of sizes) {
      const file = join(directory, `relays-${count}.dat`);
      writeFileSync(file, generateRelayList(count, { seed: 1 }));
      const fileBytes = statSync(file).size;
      const samples = [];
      for (let run = 0; run < runs; run++) samples.push(await runChild(file));
      if (samples.some((sample) => sample.relays !== count || sample.errors !== 0)) {
        throw new Error(`parsing ${count} relays gave ${samples[0].relays} relays and ${samples[0].errors} errors`);
      }
      const wallMs = median(samples.map((sample) => sample.wallMs));
      const peakRssMiB = Math.max(...samples.map((sample) => sample.maxRssKiB)) / 1024;
      rows.push({
        relays: count,
        fileBytes,
        runs,
        wallMsMedian: round(wallMs),
        wallMsMin: round(Math.min(...samples.map((sample) => sample.wallMs))),
        wallMsMax: round(Math.max(...samples.map((sample) => sample.wallMs))),
        cpuMsMedian: round(median(samples.map((sample) => sample.cpuMs))),
        processMsMedian: round(median(samples.map((sample) => sample.processMs))),
        peakRssMiB: round(peakRssMiB),
        withinBudget: count < 1_000_000 ? null : wallMs <= BUDGET_MS && peakRssMiB <= BUDGET_RSS_MIB,
      });
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const result = {
    name: 'parse-relays',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    // Other work on the machine stretches wall time; CPU time shows the parser's own cost.
    loadAverage1m: round(loadavg()[0] ?? 0),
    budget: { relays: 1_000_000, wallMs: BUDGET_MS, peakRssMiB: BUDGET_RSS_MIB },
    rows,
  };
  if (options.write ?? true) {
    mkdirSync(resultsDirectory, { recursive: true });
    writeFileSync(join(resultsDirectory, 'parse-relays.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(resultsDirectory, 'parse-relays.md'), renderMarkdown(result));
  }
  return result;
}

function round(value) {
  return Math.round(value * 10) / 10;
}

function renderTable(result) {
  const header = ['relays', 'file MiB', 'load+parse ms (median)', 'min..max ms', 'CPU ms', 'process ms', 'peak RSS MiB', 'budget'];
  const lines = result.rows.map((row) => [
    row.relays.toLocaleString('en-US'),
    (row.fileBytes / 1024 / 1024).toFixed(1),
    row.wallMsMedian.toFixed(0),
    `${row.wallMsMin.toFixed(0)}..${row.wallMsMax.toFixed(0)}`,
    row.cpuMsMedian.toFixed(0),
    row.processMsMedian.toFixed(0),
    row.peakRssMiB.toFixed(0),
    row.withinBudget === null ? '' : row.withinBudget ? 'ok' : 'OVER',
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function renderMarkdown(result) {
  return `# parse-relays

Relay-list parser: \`loadRelayList\` (read + parse) of a generated list (\`bench/generate-relays.mjs\`),
each run in a fresh Node process; peak RSS is the child's \`process.resourceUsage().maxRSS\`
(includes Node itself, about 40 MiB). Budget for ${result.budget.relays.toLocaleString('en-US')} relays:
<= ${result.budget.wallMs} ms and <= ${result.budget.peakRssMiB} MiB.

${renderTable(result)}

${result.date}, Node ${result.node}, ${result.platform}, ${result.cpus} CPUs, load average ${result.loadAverage1m}
at the end, ${result.rows[0]?.runs ?? 0} runs per size. "process ms" includes starting Node and importing the module.
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runsIndex = process.argv.indexOf('--runs');
  const runs = runsIndex === -1 ? 3 : Number(process.argv[runsIndex + 1]);
  const result = await benchParseRelays({ runs, build: process.argv.includes('--build') });
  process.stdout.write(`${renderTable(result)}\n`);
  if (result.rows.some((row) => row.withinBudget === false)) process.exitCode = 1;
}
