/**
 * What the cron no-op and monitoring load (issue 13): `--version`, `status`, and a `run` that is not due
 * or keeps a healthy relay must not load yargs, cosmiconfig, zod, chalk, the probe engine or the
 * registration and selection code. Checked on the real CLI (bin/relay-select.js over dist/) with
 * bench/module-recorder.mjs, which lists every module a process loads; bench/results/startup.md has the
 * times.
 */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

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
};

let root: string;
let listener: Server;
let port: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'relay-select-startup-'));
  listener = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.1', port: 0 }, resolve));
  port = (listener.address() as { port: number }).port;
  const now = Date.now();
  const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  const base = {
    version: 1,
    clientId: 'startup-test',
    lastSelectionAt: iso(-60_000),
    lastAttemptAt: iso(-60_000),
    failingSince: null,
  };
  const current = {
    host: '127.0.0.1',
    port,
    address: '127.0.0.1',
    distance: 1,
    rttMs: 0.1,
    pool: '*all*',
    method: 'echo-ttl',
    registeredAt: iso(-60_000),
  };
  for (const [name, state] of Object.entries({
    kept: { ...base, current, retry: null },
    waiting: {
      ...base,
      current: null,
      lastSelectionAt: null,
      retry: { attempt: 1, nextAt: iso(3_600_000), delaySeconds: 3600, reason: 'no relay answered' },
    },
  })) {
    await mkdir(join(root, name), { mode: 0o700 });
    await writeFile(join(root, name, 'state.json'), JSON.stringify(state), { mode: 0o600 });
    await writeFile(join(root, name, 'client-id'), 'startup-test\n', { mode: 0o600 });
  }
  await mkdir(join(root, 'empty'), { mode: 0o700 });
  await writeFile(join(root, 'relays.dat'), `127.0.0.1:${port}\n198.18.0.1\n`);
  await writeFile(
    join(root, 'config.json'),
    JSON.stringify({ relayList: join(root, 'relays.dat'), register: { mode: 'none' } }),
  );
});

afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve));
  await rm(root, { recursive: true, force: true });
});

/** Runs the CLI (in the temporary directory, so no settings are found by the search) and lists the heavy code it loaded. */
async function heavyCodeLoadedBy(args: string[], expectedOutput: RegExp): Promise<string[]> {
  const record = join(root, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const result = await runCli(args, {
    cwd: root,
    env: { NODE_OPTIONS: `--import=${RECORDER}`, MODULE_RECORD_FILE: record },
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(expectedOutput);
  const modules = (await readFile(record, 'utf8')).split('\n').filter((line) => line !== '');
  expect(modules.length).toBeGreaterThan(0);
  return Object.entries(HEAVY)
    .filter(([, pattern]) => modules.some((module) => pattern.test(module)))
    .map(([name]) => name);
}

describe('the cron no-op and monitoring load only what they use', () => {
  it('--version', async () => {
    expect(await heavyCodeLoadedBy(['--version'], /^\d+\.\d+\.\d+\n$/)).toEqual([]);
  });

  it('status, empty state directory', async () => {
    expect(await heavyCodeLoadedBy(['status', '--state-dir', join(root, 'empty')], /none selected yet/)).toEqual([]);
  });

  it('status --json, with a state', async () => {
    expect(await heavyCodeLoadedBy(['status', '--json', '--state-dir', join(root, 'kept')], /"relay": \{/)).toEqual([]);
  });

  it('run while a retry is pending', async () => {
    expect(
      await heavyCodeLoadedBy(
        ['run', '--config', join(root, 'config.json'), '--state-dir', join(root, 'waiting')],
        /^waiting: retry 1/,
      ),
    ).toEqual([]);
  });

  it('run that keeps a healthy relay (one TCP connect)', async () => {
    expect(
      await heavyCodeLoadedBy(
        ['run', '--config', join(root, 'config.json'), '--state-dir', join(root, 'kept')],
        /^kept 127\.0\.0\.1:\d+ .*is healthy/,
      ),
    ).toEqual([]);
  });

  it('a command line the quick parser leaves to yargs still works, with yargs', async () => {
    expect(await heavyCodeLoadedBy(['status', '--stateDir', join(root, 'empty')], /none selected yet/)).toEqual([
      'yargs',
    ]);
  });
});
