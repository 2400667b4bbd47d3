#!/usr/bin/env node
// Start-up benchmark (issue 13): what a cron no-op and a monitoring call cost against `node -e 0`.
// Every contender is a fresh process of the real CLI (bin/relay-select.js over dist/); each round runs
// every contender once, in an order that rotates from round to round, after one warm-up round; the
// figure is the median wall time over the rounds and its ratio to the median of `node -e 0` of the same
// run. Budget: every contender within 1.5 × `node -e 0`.
//
// Contenders: `--version`; `status` on an empty state directory and on one with a state, settings found
// by the search from the working directory (nothing found); `run` while a retry is pending — also with a
// metrics file and JSON logs (issue 12) — and `run` that keeps a healthy relay (one TCP connect to a
// listener on 127.0.0.1 started here), all with their settings from `--config FILE`. A second pass with
// bench/module-recorder.mjs lists the modules each contender loads, and each heavy dependency is imported
// alone in fresh processes to show what it costs (with BENCH_PROM_CLIENT=path of an installed prom-client,
// which relay-select does not depend on, that too). In one process: what the two pieces issue 12 adds to
// every run cost, reading the network fingerprint and writing the metrics file.
//
// Usage: node bench/startup.mjs [--rounds N] [--baseline DIR]
//   --baseline DIR  also run the contenders of another built checkout (DIR/bin/relay-select.js), e.g. a
//                   `git worktree` of an older commit after `npm run build`, for before/after figures.
// Writes bench/results/startup.json and bench/results/startup.md. Needs a built dist/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, root, round, writeResults } from './bench-common.mjs';

const RECORDER = join(root, 'bench', 'module-recorder.mjs');
const BUDGET_RATIO = 1.5;

/** Dependencies a no-op should not pay for, by where their files live (relative to a checkout). */
const HEAVY_MODULES = [
  { name: 'yargs', pattern: /\/node_modules\/(yargs|yargs-parser|cliui)\// },
  { name: 'cosmiconfig', pattern: /\/node_modules\/cosmiconfig\// },
  { name: 'zod', pattern: /\/node_modules\/zod\// },
  { name: 'chalk', pattern: /\/node_modules\/chalk\// },
  { name: 'probe engine', pattern: /\/dist\/probe\/(?!types\.js|icmp-addon\.js|remedies\.js|source-address\.js)/ },
  { name: 'ICMP addon', pattern: /\.node$/ },
  // The health check of a kept relay lives in register/health.ts and url.ts; the rest is registration.
  { name: 'registration', pattern: /\/dist\/register\/(?!health\.js|url\.js)/ },
  { name: 'selection', pattern: /\/dist\/select\// },
  { name: 'node:http', pattern: /^node:https?$/ },
];

/** Loaded alone, each in fresh processes, as the CLI loads it: what it costs over an empty ES module. */
const IMPORT_COSTS = [
  // The CLI takes yargs' CommonJS build (its ES build wraps help text mid-word).
  { module: 'yargs', code: "(await import('node:module')).createRequire(import.meta.url)('yargs')" },
  ...['cosmiconfig', 'zod', 'chalk', 'node:http'].map((specifier) => ({
    module: specifier,
    code: `await import('${specifier}')`,
  })),
  ...['dist/probe/index.js', 'dist/register/index.js'].map((path) => ({
    module: path,
    code: `await import('${pathToFileURL(join(root, path)).href}')`,
  })),
  ...(process.env.BENCH_PROM_CLIENT
    ? [
        {
          module: 'prom-client (not a dependency)',
          code: `await import(${JSON.stringify(pathToFileURL(join(process.env.BENCH_PROM_CLIENT, 'index.js')).href)})`,
        },
      ]
    : []),
];

/** A loopback TCP listener in its own process (so a `spawnSync` of the CLI can connect while we wait). */
const LISTENER_SOURCE = `
const server = require('node:net').createServer((socket) => socket.destroy());
server.listen({ host: '127.0.0.1', port: 0 }, () => process.stdout.write(server.address().port + '\\n'));
`;

function startListener() {
  const child = spawn(process.execPath, ['-e', LISTENER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolvePort, reject) => {
    child.once('error', reject);
    child.stdout
      .setEncoding('utf8')
      .once('data', (text) => resolvePort({ port: Number(text.trim()), stop: () => child.kill() }));
  });
}

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The directories and files the contenders need, under one private temporary directory: state
 * directories (empty; with a kept relay; with a pending retry), a relay list naming the loopback relay,
 * and a config file.
 */
function prepareFixtures(directory, port) {
  const now = Date.now();
  const iso = (offsetMs) => new Date(now + offsetMs).toISOString();
  const stateDirs = {
    empty: join(directory, 'state-empty'),
    kept: join(directory, 'state-kept'),
    waiting: join(directory, 'state-waiting'),
  };
  for (const stateDir of Object.values(stateDirs)) mkdirSync(stateDir, { mode: 0o700 });
  const relay = {
    host: '127.0.0.1',
    port,
    address: '127.0.0.1',
    distance: 1,
    rttMs: 0.1,
    pool: '*all*',
    method: 'echo-ttl',
    registeredAt: iso(-60_000),
  };
  const base = {
    version: 1,
    clientId: 'bench-client',
    lastSelectionAt: iso(-60_000),
    lastAttemptAt: iso(-60_000),
    failingSince: null,
  };
  for (const stateDir of [stateDirs.kept, stateDirs.waiting])
    writeFileSync(join(stateDir, 'client-id'), 'bench-client\n', { mode: 0o600 });
  writeJson(join(stateDirs.kept, 'state.json'), { ...base, current: relay, retry: null });
  // A pending retry far enough ahead that no round of the benchmark reaches it (the default maximum is 7200 s).
  writeJson(join(stateDirs.waiting, 'state.json'), {
    ...base,
    current: null,
    lastSelectionAt: null,
    retry: { attempt: 1, nextAt: iso(3_600_000), delaySeconds: 3600, reason: 'no relay answered' },
  });
  const relayList = join(directory, 'relays.dat');
  writeFileSync(
    relayList,
    `# benchmark list: the loopback listener and 998 addresses of 198.18.0.0/15 (never contacted)\n127.0.0.1:${port}\n${Array.from({ length: 998 }, (_, index) => `198.18.${Math.floor(index / 254)}.${(index % 254) + 1}`).join('\n')}\n`,
    { mode: 0o600 },
  );
  const config = join(directory, 'config.json');
  // register.mode none: the health check is a TCP connect to the relay's port (DESIGN §7).
  writeJson(config, { relayList, register: { mode: 'none' } });
  return { stateDirs, relayList, config, metricsFile: join(directory, 'relay_select.prom') };
}

/** The contenders of one checkout (`cli` = its bin/relay-select.js). */
function contendersOf(cli, fixtures, label) {
  const run = (name, args) => ({
    name: label ? `${name} (${label})` : name,
    argv: [cli, ...args],
    checkout: label ?? 'this',
  });
  return [
    run('--version', ['--version']),
    run('status, empty state dir', ['status', '--state-dir', fixtures.stateDirs.empty]),
    run('status, with state', ['status', '--state-dir', fixtures.stateDirs.kept]),
    run('run, retry pending (not due)', [
      'run',
      '--quiet',
      '--config',
      fixtures.config,
      '--state-dir',
      fixtures.stateDirs.waiting,
    ]),
    run('run, not due, metricsFile, --log-format json', [
      'run',
      '--quiet',
      '--config',
      fixtures.config,
      '--state-dir',
      fixtures.stateDirs.waiting,
      '--set',
      `metricsFile=${fixtures.metricsFile}`,
      '--log-format',
      'json',
    ]),
    run('run, healthy relay kept (TCP check)', [
      'run',
      '--quiet',
      '--config',
      fixtures.config,
      '--state-dir',
      fixtures.stateDirs.kept,
    ]),
  ];
}

function cleanEnvironment(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('RELAY_SELECT_') && name !== 'NODE_OPTIONS') env[name] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** One timed process; throws when it fails, so a broken contender never passes as fast. */
function timeOnce(argv, cwd) {
  const startMs = performance.now();
  const result = spawnSync(process.execPath, argv, {
    cwd,
    env: cleanEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  const wallMs = performance.now() - startMs;
  if (result.status !== 0)
    throw new Error(`node ${argv.join(' ')} exited with ${result.status}: ${result.stderr.trim()}`);
  return wallMs;
}

/**
 * Each contender's wall times, `rounds` runs each, interleaved (each round starts one contender later)
 * so that drift in the machine's load falls on all of them alike.
 */
function timeInterleaved(contenders, rounds, cwd) {
  const samples = contenders.map(() => []);
  for (let pass = 0; pass < rounds; pass++) {
    for (let offset = 0; offset < contenders.length; offset++) {
      const index = (offset + pass) % contenders.length;
      samples[index].push(timeOnce(contenders[index].argv, cwd));
    }
  }
  return samples;
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The modules `argv` loads (one untimed run with the recorder), grouped into the heavy ones and a count. */
function recordModules(argv, cwd, directory) {
  const file = join(directory, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(RECORDER).href, ...argv], {
    cwd,
    env: cleanEnvironment({ MODULE_RECORD_FILE: file }),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0)
    throw new Error(`recording node ${argv.join(' ')} failed with ${result.status}: ${result.stderr.trim()}`);
  const urls = [
    ...new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line !== ''),
    ),
  ];
  const ours = urls.filter((url) => !url.startsWith('node:') && url !== pathToFileURL(RECORDER).href);
  return {
    modules: ours.length,
    builtins: urls.filter((url) => url.startsWith('node:')).length,
    heavy: HEAVY_MODULES.filter((entry) => urls.some((url) => entry.pattern.test(url))).map((entry) => entry.name),
  };
}

/** Median time of importing each heavy module alone, against an empty ES module, interleaved. */
function measureImportCosts(rounds, cwd) {
  const contenders = [
    { name: '(empty ES module)', code: '0' },
    ...IMPORT_COSTS.map((cost) => ({ name: cost.module, code: cost.code })),
  ].map((contender) => ({
    ...contender,
    argv: ['--input-type=module', '-e', contender.code],
  }));
  const samples = timeInterleaved(contenders, rounds, cwd);
  const emptyMs = median(samples[0]);
  return contenders.slice(1).map((contender, index) => ({
    module: contender.name,
    medianMs: round(median(samples[index + 1])),
    addedMs: round(median(samples[index + 1]) - emptyMs),
  }));
}

/**
 * Runs the benchmark and returns its figures (also written to bench/results/).
 * @param {{ rounds?: number, importRounds?: number, baseline?: string, write?: boolean }} [options]
 */
export async function benchStartup(options = {}) {
  const rounds = options.rounds ?? 40;
  const directory = mkdtempSync(join(tmpdir(), 'relay-select-startup-'));
  const listener = await startListener();
  try {
    const fixtures = prepareFixtures(directory, listener.port);
    const cli = join(root, 'bin', 'relay-select.js');
    const contenders = [
      { name: 'node -e 0', argv: ['-e', '0'], checkout: null },
      ...contendersOf(cli, fixtures),
      ...(options.baseline
        ? contendersOf(join(resolve(options.baseline), 'bin', 'relay-select.js'), fixtures, 'baseline')
        : []),
    ];
    // Warm-up: the page cache, the relay-list cache of the state directories, and a first failing run shows here.
    for (const contender of contenders) timeOnce(contender.argv, directory);
    const samples = timeInterleaved(contenders, rounds, directory);
    const baseMs = median(samples[0]);
    const rows = contenders.map((contender, index) => {
      const medianMs = median(samples[index]);
      const ratio = medianMs / baseMs;
      return {
        name: contender.name,
        checkout: contender.checkout,
        command:
          contender.checkout === null
            ? 'node -e 0'
            : `relay-select ${contender.argv
                .slice(1)
                .map((arg) => (arg.startsWith(directory) ? relative(directory, arg) : arg))
                .join(' ')}`,
        medianMs: round(medianMs),
        p25Ms: round(quantile(samples[index], 0.25)),
        p75Ms: round(quantile(samples[index], 0.75)),
        ratio: round(ratio, 2),
        withinBudget: contender.checkout === 'this' ? ratio <= BUDGET_RATIO : null,
        ...(contender.checkout === null ? {} : recordModules(contender.argv, directory, directory)),
      };
    });
    const importCosts = measureImportCosts(options.importRounds ?? 15, root);
    const pieces = await measurePieces(fixtures.metricsFile);
    const result = {
      name: 'startup',
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      loadAverage1m: round(loadavg()[0] ?? 0),
      rounds,
      importRounds: options.importRounds ?? 15,
      budgetRatio: BUDGET_RATIO,
      baseline: options.baseline ? { directory: options.baseline, commit: readCommit(options.baseline) } : null,
      rows,
      importCosts,
      pieces,
    };
    if (options.write ?? true) {
      writeResults('startup', result, renderMarkdown(result));
    }
    return result;
  } finally {
    listener.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Mean time of `fn` over `iterations` calls in this process, after one call to warm it. */
async function timeInProcess(fn, iterations) {
  await fn();
  const startMs = performance.now();
  for (let index = 0; index < iterations; index++) await fn();
  return (performance.now() - startMs) / iterations;
}

/** What issue 12 adds to every run, measured in process: the network fingerprint, and the metrics file when set. */
async function measurePieces(metricsFile) {
  const { readNetworkFingerprint } = await import(
    pathToFileURL(join(root, 'dist', 'cycle', 'read-network-fingerprint.js')).href
  );
  const { writeRunMetrics } = await import(pathToFileURL(join(root, 'dist', 'metrics', 'metrics-file.js')).href);
  const { emptyState } = await import(pathToFileURL(join(root, 'dist', 'cycle', 'state.js')).href);
  const facts = {
    now: new Date(),
    action: 'waiting',
    rule: 'retry-pending',
    nextDueAt: new Date(),
    relayListRefusedLines: 0,
    relayListRefused: false,
  };
  return {
    // Toward loopback: the kernel's route lookup only, nothing is sent.
    readNetworkFingerprintMs: round(await timeInProcess(() => readNetworkFingerprint({ toward: '127.0.0.1' }), 200), 3),
    writeRunMetricsMs: round(
      await timeInProcess(() => writeRunMetrics(metricsFile, emptyState('bench'), facts), 200),
      3,
    ),
  };
}

function readCommit(directory) {
  try {
    return readFileSync(join(directory, 'COMMIT'), 'utf8').trim();
  } catch {
    return null;
  }
}

export function renderStartupTable(result) {
  const header = [
    'contender',
    'median ms',
    'p25..p75 ms',
    `× node -e 0 (budget ${result.budgetRatio})`,
    'modules loaded (+ built-ins)',
    'heavy code loaded',
  ];
  const lines = result.rows.map((row) => [
    row.name,
    row.medianMs.toFixed(1),
    `${row.p25Ms.toFixed(0)}..${row.p75Ms.toFixed(0)}`,
    `${row.ratio.toFixed(2)}×${row.withinBudget === null ? '' : row.withinBudget ? ' ok' : ' OVER'}`,
    row.modules === undefined ? '' : `${row.modules} (+ ${row.builtins})`,
    row.heavy === undefined ? '' : row.heavy.length > 0 ? row.heavy.join(', ') : '–',
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function renderMarkdown(result) {
  const costs = result.importCosts
    .map((cost) => `| ${cost.module} | ${cost.medianMs.toFixed(1)} | +${cost.addedMs.toFixed(1)} |`)
    .join('\n');
  const commands = result.rows
    .filter((row) => row.checkout === 'this')
    .map((row) => `- ${row.name}: \`${row.command}\``)
    .join('\n');
  return `# startup

What the cron no-op and the monitoring call cost: each contender is a fresh process of the real CLI
(\`bin/relay-select.js\` over \`dist/\`), ${result.rounds} rounds after one warm-up round, every contender once
per round in an order that rotates from round to round. Ratios are medians against the median of
\`node -e 0\` of the same run; the budget is ${result.budgetRatio}× for every contender.${
    result.baseline
      ? `
"(baseline)" rows are the same contenders run from ${result.baseline.commit ? `commit ${result.baseline.commit.slice(0, 12)}` : result.baseline.directory} in the same rounds.`
      : ''
  }

${renderStartupTable(result)}

${commands}

"modules loaded" counts the files of relay-select and its dependencies one run loads (a second, untimed
run under \`bench/module-recorder.mjs\`), built-in \`node:\` modules in brackets; "heavy code loaded" names the
dependencies and parts of relay-select a no-op should not need.

${
  result.rows.some((row) => row.withinBudget === false)
    ? `Why some contenders are over budget: the "heavy code loaded" column is empty — no yargs, cosmiconfig,
zod, chalk, probe engine, registration or selection on any of these paths — so what is left is the number
of files each loads and what each command must do. Every file costs Node 20's ES module loader a resolve,
an asynchronous read and a compile (Node 20 has no compile cache; \`module.enableCompileCache\` arrives
in Node 22.1), and \`status\` needs its ~30 small files to find the settings with the root trust checks
(\`trust.ts\`, \`config/config-files.ts\`), check the state directory and read the state without zod.
A \`run\` adds the run lock (a dozen asynchronous file operations, race-free by design), the relay-list
cache comparison with its sha256 (node:crypto) and the network fingerprint; keeping a relay adds a TCP
connect (node:net) and a durable state write (fsync of the file and the directory). None of these
checks is skipped to gain speed. Reaching 1.5× would take fewer, larger files on these paths (a
single-file build of the no-op path, or merging modules), not removing more dependencies.

`
    : ''
}Issue 12 adds two pieces to every run, measured in one process: reading the network fingerprint
(${result.pieces.readNetworkFingerprintMs.toFixed(3)} ms: two /proc reads and a UDP socket connected toward the relay, which sends nothing) and,
with \`metricsFile\`, writing the metrics file (${result.pieces.writeRunMetricsMs.toFixed(3)} ms: render and atomic write).

What loading each costs alone, as the CLI loads it (a fresh process importing only it; medians of ${result.importRounds} interleaved rounds, minus an empty ES module):

| module | median ms | over an empty ES module, ms |
| --- | --- | --- |
${costs}

${result.date}, Node ${result.node}, ${result.platform}, ${result.cpus} CPUs, load average ${result.loadAverage1m} at the end
(the machine is shared: absolute times move with its load, the ratios much less).
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const option = (name) => {
    const index = process.argv.indexOf(name);
    return index === -1 ? undefined : process.argv[index + 1];
  };
  const result = await benchStartup({
    rounds: option('--rounds') === undefined ? undefined : Number(option('--rounds')),
    baseline: option('--baseline'),
  });
  process.stdout.write(`${renderStartupTable(result)}\n`);
  if (result.rows.some((row) => row.withinBudget === false)) process.exitCode = 1;
}
