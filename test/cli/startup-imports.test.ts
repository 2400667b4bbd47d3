/**
 * What the cron no-op and monitoring load (issue 13): `--version`, `status`, and a `run` that is not due
 * or keeps a healthy relay must not load yargs, cosmiconfig, zod, chalk, node:http, node:crypto, the probe
 * engine or the registration and selection code. Checked with bench/module-recorder.mjs, which lists every module a
 * process loads, on the real CLI (bin/relay-select.js: the bundle dist/cli.cjs, where the packages and
 * built-ins it loads show) and on the same CLI unbundled (test/helpers/unbundled-cli.mjs: dist/cli/main.js
 * and its modules, where our own files show one by one too); bench/results/startup.md has the times.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNoOpFixtures } from '../../scripts/no-op-fixtures.mjs';
import { cacheRelayList, digestRelayList } from '../../src/cycle/state-store.js';
import { CLI, REPO_ROOT, runCli, UNBUNDLED_CLI } from '../helpers/cli.js';

const RECORDER = pathToFileURL(join(REPO_ROOT, 'bench', 'module-recorder.mjs')).href;

/** Code a no-op must not load, by where it lives. */
const HEAVY: Record<string, RegExp> = {
  yargs: /\/node_modules\/(yargs|yargs-parser|cliui)\//,
  cosmiconfig: /\/node_modules\/cosmiconfig\//,
  zod: /\/node_modules\/zod\//,
  chalk: /\/node_modules\/chalk\//,
  'probe engine': /\/dist\/probe\/(?!icmp-addon\.js|remedies\.js|types\.js|source-address\.js)|\.node$/,
  registration: /\/dist\/register\/(?!health\.js|url\.js)/,
  selection: /\/dist\/select\//,
  'node:http': /^node:https?$/,
  // Only to digest a relay list that changed: random names come from /dev/urandom (src/random-bytes.ts).
  'node:crypto': /^node:crypto$/,
};

let root: string;
let listener: Server;
let port: number;
let fixtures: ReturnType<typeof writeNoOpFixtures>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'relay-select-startup-'));
  listener = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.1', port: 0 }, resolve));
  port = (listener.address() as { port: number }).port;
  // As a selection leaves them: the relay chosen from this list, the list cached (the next runs take it unchanged).
  const relayListText = `127.0.0.1:${port}\n127.1.0.1\n`;
  fixtures = writeNoOpFixtures(root, { port, kept: { relayListDigest: digestRelayList(relayListText) } });
  expect(fixtures.relayListText).toBe(relayListText);
  for (const stateDir of [fixtures.stateDirs.kept, fixtures.stateDirs.waiting])
    await cacheRelayList(stateDir, relayListText);
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  await rm(root, { recursive: true, force: true });
});

/**
 * Runs the CLI bundled and unbundled (in the temporary directory, so no settings are found by the search)
 * and lists the heavy code each loaded; the two lists must agree.
 */
async function heavyCodeLoadedBy(args: string[], expectedOutput: RegExp): Promise<string[]> {
  // One after the other: both take the run lock of the same state directory.
  const bundled = await recordRun(CLI, args, expectedOutput);
  const unbundled = await recordRun(UNBUNDLED_CLI, args, expectedOutput);
  // The bundle shows only what lives outside it: packages, built-ins, the addon.
  expect(bundled.files).toContain(pathToFileURL(CLI).href);
  expect(unbundled.files).toContain(pathToFileURL(join(REPO_ROOT, 'dist', 'cli', 'main.js')).href);
  expect(bundled.heavy).toEqual(unbundled.heavy.filter((name) => !INSIDE_THE_BUNDLE.has(name)));
  return unbundled.heavy;
}

/** Heavy code the bundle holds itself: it loads no file of its own, so only the unbundled run shows it. */
const INSIDE_THE_BUNDLE = new Set(['probe engine', 'registration', 'selection']);

async function recordRun(
  cli: string,
  args: string[],
  expectedOutput: RegExp,
): Promise<{ files: string[]; heavy: string[] }> {
  const record = join(root, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const result = await runCli(args, {
    cli,
    cwd: root,
    env: { NODE_OPTIONS: `--import=${RECORDER}`, MODULE_RECORD_FILE: record },
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(expectedOutput);
  const files = [...new Set((await readFile(record, 'utf8')).split('\n').filter((line) => line !== ''))];
  expect(files.length).toBeGreaterThan(0);
  const heavy = Object.entries(HEAVY)
    .filter(([, pattern]) => files.some((file) => pattern.test(file)))
    .map(([name]) => name);
  return { files, heavy };
}

describe('the cron no-op and monitoring load only what they use', () => {
  it('--version', async () => {
    // Answered by bin/relay-select.js itself, before any of the CLI loads.
    const { files, heavy } = await recordRun(CLI, ['--version'], /^\d+\.\d+\.\d+\n$/);
    expect(heavy).toEqual([]);
    expect(files.filter((file) => file.startsWith('file:')).sort()).toEqual(
      ['bin/relay-select.js', 'package.json'].map((path) => pathToFileURL(join(REPO_ROOT, path)).href),
    );
  });

  it('status, empty state directory', async () => {
    expect(await heavyCodeLoadedBy(['status', '--state-dir', fixtures.stateDirs.empty], /none selected yet/)).toEqual(
      [],
    );
  });

  it('status --json, with a state', async () => {
    expect(
      await heavyCodeLoadedBy(['status', '--json', '--state-dir', fixtures.stateDirs.kept], /"relay": \{/),
    ).toEqual([]);
  });

  it('run while a retry is pending', async () => {
    expect(
      await heavyCodeLoadedBy(
        ['run', '--config', fixtures.config, '--state-dir', fixtures.stateDirs.waiting],
        /^waiting: retry 1/,
      ),
    ).toEqual([]);
  });

  it('run that keeps a healthy relay (one TCP connect)', async () => {
    expect(
      await heavyCodeLoadedBy(
        ['run', '--config', fixtures.config, '--state-dir', fixtures.stateDirs.kept],
        /^kept 127\.0\.0\.1:\d+ .*is healthy/,
      ),
    ).toEqual([]);
  });

  it('a command line the quick parser leaves to yargs still works, with yargs', async () => {
    expect(await heavyCodeLoadedBy(['status', '--stateDir', fixtures.stateDirs.empty], /none selected yet/)).toEqual([
      'yargs',
    ]);
  });
});
