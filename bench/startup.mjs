#!/usr/bin/env node
// Start-up benchmark (issue 13): what a cron no-op and a monitoring call cost against `node -e 0`.
// Every contender is a fresh process of the real CLI (bin/relay-select.js: the bundle dist/cli.cjs with
// its code cache) — and, for comparison in the same rounds, of the bundle without its cache and of the
// unbundled ES modules; each round runs every contender once, in an order that rotates from round to
// round, after one warm-up round; the figure is the median wall time over the rounds and its ratio to the
// median of `node -e 0` of the same run. Budget: every contender of the real CLI within 1.5 × `node -e 0`.
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
// Usage: node bench/startup.mjs [--rounds N] [--baseline DIR] [--node PATH]...
//   --baseline DIR  also run the contenders of another built checkout (DIR/bin/relay-select.js), e.g. a
//                   `git worktree` of an older commit after `npm run build`.
//   --node PATH     also measure on that node binary (each against its own `node -e 0`), after writing
//                   its code cache with scripts/train-code-cache.mjs as `npm install` on it would.
// Writes bench/results/startup.json and bench/results/startup.md. Needs a built dist/.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeNoOpFixtures } from '../scripts/no-op-fixtures.mjs';
import { machineFacts, median, root, round, writeResults } from './bench-common.mjs';

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
  { name: 'node:crypto', pattern: /^node:crypto$/ },
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

/**
 * The directories and files the contenders need (scripts/no-op-fixtures.mjs): state directories (empty;
 * with a kept relay; with a pending retry), a relay list of 999 loopback relays whose first is the
 * listener, and a config file naming it.
 */
function prepareFixtures(directory, port) {
  return writeNoOpFixtures(directory, { port, otherRelays: 998 });
}

/** The ways of starting the CLI the benchmark compares; `product` is what `relay-select` runs. */
const VARIANTS = {
  product: { label: null, entry: (checkout) => cliOf(checkout) },
  // The same bundle compiled from its source: what the code cache saves.
  noCache: { label: 'bundle, no code cache', entry: () => join(root, 'bench', 'cli-without-cache.cjs') },
  // dist/cli/main.js and its ES modules one file each, as bin/relay-select.js ran them before the bundle.
  unbundled: { label: 'ES modules, unbundled', entry: () => join(root, 'test', 'helpers', 'unbundled-cli.mjs') },
};

/** bin/relay-select.js of a checkout (an ES module that imported dist/cli/main.js before the bundle). */
function cliOf(checkout) {
  return join(checkout, 'bin', 'relay-select.js');
}

/**
 * The contenders of one way of starting the CLI: every command for the product (and a baseline checkout),
 * only those marked `compared` for the other ways (`--version` is answered by the bin before any differ).
 */
function contendersOf(entry, fixtures, label, checkout) {
  const contender = (name, args, compared = false) => ({
    name: label ? `${name} (${label})` : name,
    argv: [entry, ...args],
    checkout,
    compared,
  });
  const run = (stateDir, ...more) => ['run', '--quiet', '--config', fixtures.config, '--state-dir', stateDir, ...more];
  const all = [
    contender('--version', ['--version']),
    contender('status, empty state dir', ['status', '--state-dir', fixtures.stateDirs.empty], true),
    contender('status, with state', ['status', '--state-dir', fixtures.stateDirs.kept]),
    contender('run, retry pending (not due)', run(fixtures.stateDirs.waiting), true),
    contender(
      'run, not due, metricsFile, --log-format json',
      run(fixtures.stateDirs.waiting, '--set', `metricsFile=${fixtures.metricsFile}`, '--log-format', 'json'),
    ),
    contender('run, healthy relay kept (TCP check)', run(fixtures.stateDirs.kept), true),
  ];
  return checkout === 'this' || checkout === 'baseline' ? all : all.filter((each) => each.compared);
}

function cleanEnvironment(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('RELAY_SELECT_') && name !== 'NODE_OPTIONS') env[name] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** One timed process; throws when it fails, so a broken contender never passes as fast. */
function timeOnce(node, argv, cwd) {
  const startMs = performance.now();
  const result = spawnSync(node, argv, {
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
function timeInterleaved(contenders, rounds, cwd, node = process.execPath) {
  const samples = contenders.map(() => []);
  for (let pass = 0; pass < rounds; pass++) {
    for (let offset = 0; offset < contenders.length; offset++) {
      const index = (offset + pass) % contenders.length;
      samples[index].push(timeOnce(node, contenders[index].argv, cwd));
    }
  }
  return samples;
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The modules `argv` loads (one untimed run with the recorder, in `directory`), grouped into the heavy ones and a count. */
function recordModules(node, argv, directory) {
  const file = join(directory, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const result = spawnSync(node, ['--import', pathToFileURL(RECORDER).href, ...argv], {
    cwd: directory,
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

/** The version of a node binary (`process.execPath` without a call). */
function versionOf(node) {
  return node === process.execPath
    ? process.version
    : spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/**
 * Every contender on one node binary, interleaved, against that node's `node -e 0`. A node other than
 * this one gets its code cache first, as `npm install` on it would write it (scripts/train-code-cache.mjs).
 */
function benchOneNode(node, options, fixtures, directory) {
  if (node !== process.execPath) {
    const trained = spawnSync(node, [join(root, 'scripts', 'train-code-cache.mjs')], { encoding: 'utf8' });
    if (trained.status !== 0) throw new Error(`training the code cache with ${node} failed: ${trained.stderr}`);
  }
  const contenders = [
    { name: 'node -e 0', argv: ['-e', '0'], checkout: null },
    ...contendersOf(VARIANTS.product.entry(root), fixtures, null, 'this'),
    ...['noCache', 'unbundled'].flatMap((variant) =>
      contendersOf(VARIANTS[variant].entry(root), fixtures, VARIANTS[variant].label, variant),
    ),
    // Its own state directories: another version may keep them in another form (the relay-list cache's
    // digest line, say), and the two would rewrite each other's on every run.
    ...(options.baseline
      ? contendersOf(cliOf(resolve(options.baseline)), fixtures.baseline, 'baseline', 'baseline')
      : []),
  ];
  // Warm-up: the page cache, the relay-list cache of the state directories, and a first failing run shows here.
  for (const contender of contenders) timeOnce(node, contender.argv, directory);
  const samples = timeInterleaved(contenders, options.rounds, directory, node);
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
          : `${relative(root, contender.argv[0])} ${contender.argv
              .slice(1)
              .map((arg) => (arg.startsWith(directory) ? relative(directory, arg) : arg))
              .join(' ')}`,
      medianMs: round(medianMs),
      p25Ms: round(quantile(samples[index], 0.25)),
      p75Ms: round(quantile(samples[index], 0.75)),
      ratio: round(ratio, 2),
      withinBudget: contender.checkout === 'this' ? ratio <= BUDGET_RATIO : null,
      ...(contender.checkout === null ? {} : recordModules(node, contender.argv, directory)),
    };
  });
  return { node: versionOf(node), rows };
}

/**
 * Runs the benchmark and returns its figures (also written to bench/results/).
 * @param {{ rounds?: number, importRounds?: number, baseline?: string, nodes?: string[], write?: boolean }} [options]
 *   nodes: node binaries to measure on besides this one (each against its own `node -e 0`).
 */
export async function benchStartup(options = {}) {
  const rounds = options.rounds ?? 40;
  const directory = mkdtempSync(join(tmpdir(), 'relay-select-startup-'));
  const listener = await startListener();
  try {
    const fixtures = {
      ...prepareFixtures(directory, listener.port),
      baseline: options.baseline ? prepareFixtures(mkdtempSync(join(directory, 'baseline-')), listener.port) : null,
    };
    const runs = [process.execPath, ...(options.nodes ?? [])].map((node) =>
      benchOneNode(node, { ...options, rounds }, fixtures, directory),
    );
    const importCosts = measureImportCosts(options.importRounds ?? 15, root);
    const pieces = await measurePieces(fixtures.metricsFile);
    const result = {
      name: 'startup',
      ...machineFacts(),
      rounds,
      importRounds: options.importRounds ?? 15,
      budgetRatio: BUDGET_RATIO,
      baseline: options.baseline ? { directory: options.baseline, commit: readCommit(options.baseline) } : null,
      // This machine's node's rows first, then every node's.
      rows: runs[0].rows,
      runs,
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

/** The table of one node's run (`run` defaults to this node's). */
export function renderStartupTable(result, run = result.runs[0]) {
  const header = [
    'contender',
    'median ms',
    'p25..p75 ms',
    `× node -e 0 (budget ${result.budgetRatio})`,
    'files loaded (+ built-ins)',
    'heavy code loaded',
  ];
  const lines = run.rows.map((row) => [
    row.name,
    row.medianMs.toFixed(1),
    `${row.p25Ms.toFixed(0)}..${row.p75Ms.toFixed(0)}`,
    `${row.ratio.toFixed(2)}×${row.withinBudget === null ? '' : row.withinBudget ? ' ok' : ' OVER'}`,
    row.modules === undefined ? '' : `${row.modules} (+ ${row.builtins})`,
    row.heavy === undefined ? '' : row.heavy.length > 0 ? row.heavy.join(', ') : '–',
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** "1.43× → 1.76×"-style comparisons of the product against the other ways of starting, per command. */
function savings(run) {
  const byName = new Map(run.rows.map((row) => [row.name, row]));
  return run.rows
    .filter((row) => row.checkout === 'this' && byName.has(`${row.name} (${VARIANTS.unbundled.label})`))
    .map((row) => {
      const unbundled = byName.get(`${row.name} (${VARIANTS.unbundled.label})`);
      const noCache = byName.get(`${row.name} (${VARIANTS.noCache.label})`);
      return `${row.name}: ${row.ratio.toFixed(2)}× (unbundled ${unbundled.ratio.toFixed(2)}×, bundle without cache ${noCache.ratio.toFixed(2)}×), ${round(unbundled.medianMs - row.medianMs, 1)} ms less than unbundled`;
    });
}

export function renderMarkdown(result) {
  const costs = result.importCosts
    .map((cost) => `| ${cost.module} | ${cost.medianMs.toFixed(1)} | +${cost.addedMs.toFixed(1)} |`)
    .join('\n');
  const commands = result.runs[0].rows
    .filter((row) => row.checkout === 'this')
    .map((row) => `- ${row.name}: \`${row.command.replace(/^bin\/relay-select\.js/, 'relay-select')}\``)
    .join('\n');
  const tables = result.runs
    .map(
      (run, index) => `## Node ${run.node}${index === 0 ? " (this machine's node)" : ''}

${renderStartupTable(result, run)}

${savings(run)
  .map((line) => `- ${line}`)
  .join('\n')}`,
    )
    .join('\n\n');
  return `# startup

What the cron no-op and the monitoring call cost: each contender is a fresh process, ${result.rounds} rounds after one
warm-up round, every contender once per round in an order that rotates from round to round. Ratios are
medians against the median of \`node -e 0\` of the same run on the same node; the budget is ${result.budgetRatio}× for the
rows without a bracket, which are the real CLI as \`relay-select\` runs it (\`bin/relay-select.js\`: the bundle
\`dist/cli.cjs\` with the V8 code cache of the running Node). In the same rounds, for comparison:
- "(${VARIANTS.noCache.label})": the same bundle compiled from its source (\`bench/cli-without-cache.cjs\`);
- "(${VARIANTS.unbundled.label})": \`dist/cli/main.js\` and its ES modules one file each
  (\`test/helpers/unbundled-cli.mjs\`), as \`bin/relay-select.js\` ran them before the bundle.${
    result.baseline
      ? `
"(baseline)" rows are the same contenders run from ${result.baseline.commit ? `commit ${result.baseline.commit.slice(0, 12)}` : result.baseline.directory} in the same rounds.`
      : ''
  }

${tables}

Commands (in a private temporary directory; the relay is a TCP listener on 127.0.0.1 started by the benchmark):
${commands}

"files loaded" counts the files of relay-select and its dependencies one run loads as modules (a second,
untimed run under \`bench/module-recorder.mjs\`), built-in \`node:\` modules it loads in brackets. The bundle
itself is read as text and compiled by node:vm, so a bundled run counts only \`bin/relay-select.js\` and
\`bin/load-cli.cjs\`, plus whatever package it loads; the unbundled rows count our modules one by one.
"heavy code loaded" names the dependencies and parts of relay-select a no-op should not need (for the
bundle, the parts inside it cannot show here: test/cli/startup-imports.test.ts checks that the bundled and
the unbundled CLI load the same packages and built-ins).

Where the time goes: Node 20's ES module loader resolves, reads (asynchronously, four system calls each)
and compiles every module file, some 30–50 on these paths; the bundle replaces them with one read. The
code cache (\`dist/cli-cache/\`, written by \`scripts/train-code-cache.mjs\` at build and install time, from
the same commands run in process) spares V8 parsing and compiling the functions these commands run.
The state directory's file system calls are made synchronously (\`src/sync-fs.ts\`, \`trust.ts\`): some
seventy round trips through libuv's thread pool cost more than the calls. No node:crypto is loaded:
random names come from /dev/urandom, and the cached relay list records its own digest. What is left is
the work itself — settings with the root trust checks, the state directory and state, the run lock (a
dozen file operations, race-free by design), the byte-for-byte comparison of the relay list with its
cached copy, the network fingerprint (for a kept relay a UDP socket, whose module brings node:cluster
along), and for a kept relay a TCP connect and a durable state write — none of which is skipped to gain
speed. Node 22 and 24 start \`node -e 0\` itself from a snapshot, about twice as fast as Node 20, so the
same work weighs about twice as much in their ratios; deserializing the code cache (some 370 KiB) alone
takes about 4 ms there.

Issue 12 adds two pieces to every run, measured in one process: reading the network fingerprint
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
  const nodes = process.argv.flatMap((arg, index) => (arg === '--node' ? [process.argv[index + 1]] : []));
  const result = await benchStartup({
    rounds: option('--rounds') === undefined ? undefined : Number(option('--rounds')),
    baseline: option('--baseline'),
    nodes,
  });
  process.stdout.write(`${renderStartupTable(result)}\n`);
  if (result.rows.some((row) => row.withinBudget === false)) process.exitCode = 1;
}
