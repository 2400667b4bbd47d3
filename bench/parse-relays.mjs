#!/usr/bin/env node
// Benchmark of the relay-list parser (DESIGN §3 limits): a generated list of 1,000 / 100,000 /
// 1,000,000 relays is loaded by dist/relays/load.js in a fresh child process, which reports the wall
// time of loadRelayList (read + parse) and its peak RSS. Budget for 1,000,000 relays: <= 2 s, <= 512 MiB.
//
// Then `relay-select plan` on the 1,000,000-relay list, text and --json (issue 13): the real CLI as a
// whole process, its output written to a file, timed from spawn to exit, with the process's peak RSS
// (bench/process-usage.cjs). Budget: each <= 3 s and <= 512 MiB.
//
// Usage: node bench/parse-relays.mjs [--runs N] [--build]
// Writes bench/results/parse-relays.json and bench/results/parse-relays.md.
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineFacts, median, root, round, runNodeChild, writeResults } from './bench-common.mjs';
import { generateRelayList } from './generate-relays.mjs';

const BUDGET_MS = 2000;
const BUDGET_RSS_MIB = 512;
const PLAN_RELAYS = 1_000_000;
const PLAN_BUDGET_MS = 3000;
const PLAN_BUDGET_RSS_MIB = 512;
const USAGE_PRELOAD = join(root, 'bench', 'process-usage.cjs');

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
  return runNodeChild(['--input-type=module', '-e', CHILD_SOURCE, loadUrl, file], 'benchmark child').then(
    ({ stdout, wallMs }) => ({ ...JSON.parse(stdout.trim()), processMs: wallMs }),
  );
}

/** One `relay-select plan` as a whole process, stdout to a file; wall time from spawn to exit. */
function runPlan(file, json, directory) {
  const output = join(directory, json ? 'plan.json' : 'plan.txt');
  const usageFile = join(directory, 'usage.json');
  rmSync(usageFile, { force: true });
  return new Promise((resolve, reject) => {
    const outputFd = openSync(output, 'w');
    const startMs = performance.now();
    const child = spawn(
      process.execPath,
      [
        '-r',
        USAGE_PRELOAD,
        join(root, 'bin', 'relay-select.js'),
        'plan',
        '--relays',
        file,
        ...(json ? ['--json'] : []),
      ],
      {
        cwd: directory,
        env: { ...process.env, NO_COLOR: '1', PROCESS_USAGE_FILE: usageFile },
        stdio: ['ignore', outputFd, 'pipe'],
      },
    );
    closeSync(outputFd);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - startMs;
      if (code !== 0)
        return reject(new Error(`plan${json ? ' --json' : ''} exited with ${code}: ${stderr.trim().slice(0, 500)}`));
      const usage = JSON.parse(readFileSync(usageFile, 'utf8'));
      resolve({ wallMs, cpuMs: usage.cpuMs, maxRssKiB: usage.maxRssKiB, outputBytes: statSync(output).size });
    });
  });
}

/** `plan` on PLAN_RELAYS relays, text and --json, `runs` times each, interleaved. */
async function benchPlan(file, runs, directory) {
  const modes = [false, true];
  const samples = new Map(modes.map((json) => [json, []]));
  for (let run = 0; run < runs; run++)
    for (const json of modes) samples.get(json).push(await runPlan(file, json, directory));
  return modes.map((json) => {
    const list = samples.get(json);
    const wallMs = median(list.map((sample) => sample.wallMs));
    const peakRssMiB = Math.max(...list.map((sample) => sample.maxRssKiB)) / 1024;
    return {
      command: `relay-select plan --relays FILE${json ? ' --json' : ''}`,
      relays: PLAN_RELAYS,
      runs,
      wallMsMedian: round(wallMs),
      wallMsMin: round(Math.min(...list.map((sample) => sample.wallMs))),
      wallMsMax: round(Math.max(...list.map((sample) => sample.wallMs))),
      cpuMsMedian: round(median(list.map((sample) => sample.cpuMs))),
      peakRssMiB: round(peakRssMiB),
      outputMiB: round(list[0].outputBytes / 1024 / 1024),
      withinBudget: wallMs <= PLAN_BUDGET_MS && peakRssMiB <= PLAN_BUDGET_RSS_MIB,
    };
  });
}

/**
 * Runs the benchmark and returns its figures (also written to bench/results/).
 * @param {{ sizes?: number[], runs?: number, build?: boolean, write?: boolean, plan?: boolean }} [options] `plan: false` skips the plan runs
 */
export async function benchParseRelays(options = {}) {
  const sizes = options.sizes ?? [1_000, 100_000, 1_000_000];
  const runs = options.runs ?? 3;
  ensureBuilt(options.build ?? false);
  const directory = mkdtempSync(join(tmpdir(), 'relay-select-bench-'));
  const rows = [];
  let planRows = [];
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
    if (options.plan ?? true) {
      const file = join(directory, `relays-${PLAN_RELAYS}.dat`);
      writeFileSync(file, generateRelayList(PLAN_RELAYS, { seed: 1 }));
      planRows = await benchPlan(file, runs, directory);
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  const result = {
    name: 'parse-relays',
    // Other work on the machine stretches wall time; CPU time shows the parser's own cost.
    ...machineFacts(),
    budget: { relays: 1_000_000, wallMs: BUDGET_MS, peakRssMiB: BUDGET_RSS_MIB },
    rows,
    planBudget: { relays: PLAN_RELAYS, wallMs: PLAN_BUDGET_MS, peakRssMiB: PLAN_BUDGET_RSS_MIB },
    planRows,
  };
  if (options.write ?? true) {
    writeResults('parse-relays', result, renderMarkdown(result));
  }
  return result;
}

function renderTable(result) {
  const header = [
    'relays',
    'file MiB',
    'load+parse ms (median)',
    'min..max ms',
    'CPU ms',
    'process ms',
    'peak RSS MiB',
    'budget',
  ];
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

export function renderPlanTable(result) {
  const header = [
    'command',
    'relays',
    'wall ms (median)',
    'min..max ms',
    'CPU ms',
    'peak RSS MiB',
    'output MiB',
    'budget',
  ];
  const lines = result.planRows.map((row) => [
    `\`${row.command}\``,
    row.relays.toLocaleString('en-US'),
    row.wallMsMedian.toFixed(0),
    `${row.wallMsMin.toFixed(0)}..${row.wallMsMax.toFixed(0)}`,
    row.cpuMsMedian.toFixed(0),
    row.peakRssMiB.toFixed(0),
    row.outputMiB.toFixed(0),
    row.withinBudget ? 'ok' : 'OVER',
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
${
  result.planRows.length === 0
    ? ''
    : `
## plan on ${result.planBudget.relays.toLocaleString('en-US')} relays

\`relay-select plan\` (the real CLI, \`bin/relay-select.js\`) on the same generated list of
${result.planBudget.relays.toLocaleString('en-US')} distinct relays, text and \`--json\`, each as a whole process: wall time from
spawn to exit (Node start-up, settings, reading and parsing the list, building the plan, writing all of
it to a file), CPU time and peak RSS of the process (\`bench/process-usage.cjs\`). Both stream their
output; the JSON is byte for byte \`JSON.stringify(view, null, 2)\`. Budget: <= ${result.planBudget.wallMs} ms and
<= ${result.planBudget.peakRssMiB} MiB each. Runs interleaved, ${result.planRows[0]?.runs ?? 0} per mode.

${renderPlanTable(result)}
`
}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runsIndex = process.argv.indexOf('--runs');
  const runs = runsIndex === -1 ? 3 : Number(process.argv[runsIndex + 1]);
  const result = await benchParseRelays({ runs, build: process.argv.includes('--build') });
  process.stdout.write(`${renderTable(result)}\n\n${renderPlanTable(result)}\n`);
  if (result.rows.some((row) => row.withinBudget === false) || result.planRows.some((row) => !row.withinBudget))
    process.exitCode = 1;
}
