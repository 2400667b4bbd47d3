import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { privateNetworkPrefix, runCli, UNBUNDLED_CLI, type CliRun, type RunCliOptions } from '../helpers/cli.js';
import { parseCommandLineQuickly } from '../../src/cli/quick-parse.js';
import { BAD_INPUT_CASES, type BadInputCase, type CaseFile } from './bad-input-cases.js';

// The bad-input corpus (bad-input-cases.ts) through the real CLI: the exit status and words each case
// promises, and for all of them no exit 70, no stack trace, under 2 s (a signal: under 1 s after it).

// A case runs in a network namespace of its own with only loopback up, so nothing it does can leave the machine.
const PRIVATE_NETWORK = privateNetworkPrefix();
const CASE_BUDGET_MS = 2000;
const SIGNAL_BUDGET_MS = 1000;

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

interface CaseWorld {
  dir: string;
  /** Loopback server that accepts and never answers; `requests` fire its `onRequest`. */
  server: http.Server | undefined;
  port: number;
  closed: number;
  sockets: net.Server[];
  onRequest?: () => void;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function fill(text: string, world: CaseWorld, now: Date): string {
  return text
    .replaceAll('"{port}"', String(world.port))
    .replaceAll('{port}', String(world.port))
    .replaceAll('{closed}', String(world.closed))
    .replaceAll('{dir}', world.dir)
    .replaceAll('{now}', now.toISOString())
    .replaceAll('{soon}', new Date(now.getTime() + 90_000).toISOString());
}

async function writeCaseFile(world: CaseWorld, name: string, file: CaseFile, now: Date): Promise<void> {
  const target = path.join(world.dir, name);
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  if (Buffer.isBuffer(file)) writeFileSync(target, file);
  else if (typeof file === 'string') writeFileSync(target, fill(file, world, now));
  else if ('fifo' in file) execFileSync('mkfifo', [target]);
  else if ('socket' in file) {
    const socket = net.createServer();
    await new Promise<void>((resolve) => socket.listen(target, resolve));
    world.sockets.push(socket);
  } else writeFileSync(target, fill(JSON.stringify(file.json, null, 2), world, now));
}

async function prepare(testCase: BadInputCase): Promise<CaseWorld> {
  const dir = mkdtempSync(path.join(tmpdir(), 'relay-select-corpus-'));
  roots.push(dir);
  const world: CaseWorld = { dir, server: undefined, port: 0, closed: await freePort(), sockets: [] };
  if (testCase.network === 'loopback') {
    const server = http.createServer(() => world.onRequest?.());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    world.server = server;
    world.port = (server.address() as AddressInfo).port;
  }
  const now = new Date();
  for (const [name, file] of Object.entries(testCase.files ?? {})) await writeCaseFile(world, name, file, now);
  return world;
}

async function release(world: CaseWorld): Promise<void> {
  world.server?.closeAllConnections();
  await new Promise<void>((resolve) => (world.server ? world.server.close(() => resolve()) : resolve()));
  for (const socket of world.sockets) socket.close();
}

function snapshot(
  world: CaseWorld,
  testCase: BadInputCase,
): { files: Map<string, Buffer>; listing: string[] | undefined } {
  const files = new Map<string, Buffer>();
  for (const name of testCase.expect.unchanged ?? []) files.set(name, readFileSync(path.join(world.dir, name)));
  const listing =
    testCase.expect.sameListing === undefined
      ? undefined
      : readdirSync(path.join(world.dir, testCase.expect.sameListing)).sort();
  return { files, listing };
}

/** What is wrong with the run of one case: empty when it kept every promise. */
function judge(
  testCase: BadInputCase,
  run: CliRun,
  world: CaseWorld,
  before: ReturnType<typeof snapshot>,
  signalToExitMs: number | undefined,
): string[] {
  const problems: string[] = [];
  const { expect: wanted } = testCase;
  if (run.code === 70) problems.push('exit 70 (internal error)');
  if (run.code !== wanted.code)
    problems.push(`exit ${run.code}${run.signal ? ` (${run.signal})` : ''}, expected ${wanted.code}`);
  if (/\n\s+at |internal error|ERR_INTERNAL|Node\.js v\d/.test(run.stderr))
    problems.push('a stack trace or an internal error on stderr');
  if (wanted.stderr && !wanted.stderr.test(run.stderr)) problems.push(`stderr does not match ${wanted.stderr}`);
  if (wanted.stdout && !wanted.stdout.test(run.stdout)) problems.push(`stdout does not match ${wanted.stdout}`);
  if (wanted.notStdout?.test(run.stdout)) problems.push(`stdout matches ${wanted.notStdout}`);
  if (wanted.notStderr?.test(run.stderr)) problems.push(`stderr matches ${wanted.notStderr}`);
  if (run.wallMs >= CASE_BUDGET_MS) problems.push(`took ${Math.round(run.wallMs)} ms (budget ${CASE_BUDGET_MS})`);
  if (testCase.signal !== undefined && (signalToExitMs === undefined || signalToExitMs >= SIGNAL_BUDGET_MS)) {
    problems.push(
      signalToExitMs === undefined
        ? 'the signal was never sent (no request reached the server)'
        : `ended ${Math.round(signalToExitMs)} ms after the signal`,
    );
  }
  for (const [name, bytes] of before.files)
    if (!readFileSync(path.join(world.dir, name)).equals(bytes)) problems.push(`${name} changed`);
  if (before.listing !== undefined) {
    const after = readdirSync(path.join(world.dir, wanted.sameListing!)).sort();
    if (after.join('\n') !== before.listing.join('\n'))
      problems.push(`${wanted.sameListing}/ changed: [${before.listing.join(', ')}] → [${after.join(', ')}]`);
  }
  for (const name of wanted.absent ?? []) if (exists(path.join(world.dir, name))) problems.push(`${name} exists`);
  for (const [name, pattern] of Object.entries(wanted.fileMatches ?? {})) {
    const text = existsSync(path.join(world.dir, name))
      ? readFileSync(path.join(world.dir, name), 'utf8')
      : '(missing)';
    if (!pattern.test(text)) problems.push(`${name} does not match ${pattern}: ${text.slice(0, 300)}`);
  }
  return problems;
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the CLI with its quick parser leaving every command line to yargs (test/helpers/force-yargs.mjs, a
 * load hook, so on the unbundled modules: test/helpers/unbundled-cli.mjs).
 */
const FORCE_YARGS = {
  nodeArgs: ['--import', fileURLToPath(new URL('../helpers/force-yargs.mjs', import.meta.url))],
  cli: UNBUNDLED_CLI,
};

async function runCase(
  testCase: BadInputCase,
  options: Pick<RunCliOptions, 'nodeArgs' | 'cli'> = {},
): Promise<{ problems: string[]; wallMs: number; run: CliRun; dir: string }> {
  const world = await prepare(testCase);
  try {
    const before = snapshot(world, testCase);
    let signalledAt: number | undefined;
    const run = await runCli(
      testCase.args.map((arg) => fill(arg, world, new Date())),
      {
        cwd: world.dir,
        env: Object.fromEntries(
          Object.entries(testCase.env ?? {}).map(([name, value]) => [name, fill(value, world, new Date())]),
        ),
        prefix: testCase.network === 'loopback' ? [] : PRIVATE_NETWORK,
        timeoutMs: 10_000,
        ...options,
        onSpawn: (child) => {
          if (testCase.closeStdoutEarly) child.stdout.once('data', () => child.stdout.destroy());
          if (testCase.signal !== undefined) {
            world.onRequest = () => {
              world.onRequest = undefined;
              signalledAt = performance.now();
              child.kill(testCase.signal);
            };
          }
        },
      },
    );
    const signalToExitMs = signalledAt === undefined ? undefined : performance.now() - signalledAt;
    return { problems: judge(testCase, run, world, before, signalToExitMs), wallMs: run.wallMs, run, dir: world.dir };
  } finally {
    await release(world);
  }
}

describe.skipIf(PRIVATE_NETWORK === undefined)(
  `the bad-input corpus${PRIVATE_NETWORK === undefined ? ' — skipped: needs unshare(1) to run each case in a network namespace of its own' : ''}`,
  () => {
    it(`every case: its exit status and message, never 70, no stack trace, under ${CASE_BUDGET_MS} ms`, async () => {
      const failures: string[] = [];
      const times: number[] = [];
      const slowest: Array<[number, string]> = [];
      // One at a time: a case's time is its own, not its neighbours' (and running two at once saved nothing).
      for (const testCase of BAD_INPUT_CASES) {
        const { problems, wallMs, run } = await runCase(testCase);
        times.push(wallMs);
        slowest.push([wallMs, testCase.name]);
        if (problems.length > 0)
          failures.push(
            `[${testCase.kind}] ${testCase.name}: ${problems.join('; ')}\n    stderr: ${run.stderr.trim().slice(0, 400)}\n    stdout: ${run.stdout.trim().slice(0, 200)}`,
          );
      }
      const kinds = new Set(BAD_INPUT_CASES.map((testCase) => testCase.kind));
      const top = slowest
        .sort((a, b) => b[0] - a[0])
        .slice(0, 3)
        .map(([ms, name]) => `${Math.round(ms)} ms ${name}`);
      console.log(
        `bad-input corpus: ${times.length} cases ran (${kinds.size} kinds), ${failures.length} failed; median ${Math.round(times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!)} ms; slowest: ${top.join(', ')}`,
      );
      expect(times).toHaveLength(BAD_INPUT_CASES.length);
      expect(failures).toEqual([]);
    }, 300_000);
  },
);

describe.skipIf(PRIVATE_NETWORK === undefined)('command lines the quick parser reads', () => {
  // The quick parser (src/cli/quick-parse.ts) answers cron's and monitoring's command lines without
  // yargs; every check yargs and the commands make must hold the same on its path.
  const quickCases = BAD_INPUT_CASES.filter(
    (testCase) => testCase.signal === undefined && parseCommandLineQuickly(testCase.args) !== undefined,
  );

  it('include the security checks of arguments, settings and state', () => {
    expect(quickCases.length).toBeGreaterThanOrEqual(10);
    // The argument checks added for security (prototype paths in --set) and the read-only status among them.
    const kinds = new Set(quickCases.map((testCase) => testCase.kind));
    for (const kind of ['prototype path', 'read-only', 'earlier', 'output'] as const) expect(kinds).toContain(kind);
  });

  it('end with the same exit status and the same words whichever parser reads them', async () => {
    const differences: string[] = [];
    for (const testCase of quickCases) {
      const quick = await runCase(testCase);
      const viaYargs = await runCase(testCase, FORCE_YARGS);
      const words = (result: { run: CliRun; dir: string }): string =>
        // The two runs differ in their directory and in the moment they ran, nothing else.
        result.run.stderr
          .replaceAll(result.dir, '{dir}')
          .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?Z?/g, '{time}')
          .trim();
      const problems = [
        ...viaYargs.problems.map((problem) => `through yargs: ${problem}`),
        ...(quick.run.code === viaYargs.run.code
          ? []
          : [`exit ${quick.run.code} through the quick parser, ${viaYargs.run.code} through yargs`]),
        ...(words(quick) === words(viaYargs)
          ? []
          : [`stderr differs:\n      quick: ${words(quick)}\n      yargs: ${words(viaYargs)}`]),
      ];
      if (problems.length > 0) differences.push(`[${testCase.kind}] ${testCase.name}: ${problems.join('; ')}`);
    }
    expect(differences).toEqual([]);
  }, 300_000);
});
