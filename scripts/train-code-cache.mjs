#!/usr/bin/env node
// Writes the V8 code cache of the CLI bundle for the Node that runs this script
// (dist/cli-cache/BUILD-ARCH-v8-VERSION.bin, read by bin/load-cli.cjs). The cache holds what V8 compiled
// while the bundle ran the commands cron and monitoring run most — `status`, and `run` deciding "not due"
// or keeping a healthy relay — so those start without parsing or compiling them (issue 13,
// bench/results/startup.md). The commands run in this process, each on files of a private temporary
// directory (--config, --state-dir, a metrics file there; a clean environment; the relay is a TCP listener
// on 127.0.0.1 here): training reads no settings of the machine and sends nothing off it. Caches of other
// builds are removed; those of this build for other Node versions are kept.
//
// Usage: node scripts/train-code-cache.mjs [--if-built]
//   run by `npm run build`; by `npm install` (and `npm rebuild`) with --if-built, which does nothing when
//   dist/cli.cjs is not there yet and, when training fails, says so and leaves the CLI without a cache
//   (slower to start, as correct) instead of failing the install.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';

const { loadCli, codeCachePath, BUNDLE } = createRequire(import.meta.url)('../bin/load-cli.cjs');

function writeJson(path, value) {
  writeFileSync(path, `${JSON.stringify(value)}\n`, { mode: 0o600 });
}

/** The files the training commands read: a config, a relay list, state directories (empty, kept, waiting). */
function prepare(directory, port) {
  const now = Date.now();
  const iso = (offsetMs) => new Date(now + offsetMs).toISOString();
  const dirs = {};
  for (const name of ['empty', 'kept', 'waiting']) mkdirSync((dirs[name] = join(directory, name)), { mode: 0o700 });
  const base = {
    version: 1,
    clientId: 'train',
    lastSelectionAt: iso(-60_000),
    lastAttemptAt: iso(-60_000),
    failingSince: null,
  };
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
  for (const name of ['kept', 'waiting']) writeFileSync(join(dirs[name], 'client-id'), 'train\n', { mode: 0o600 });
  writeJson(join(dirs.kept, 'state.json'), { ...base, current: relay, retry: null });
  writeJson(join(dirs.waiting, 'state.json'), {
    ...base,
    current: null,
    lastSelectionAt: null,
    retry: { attempt: 1, nextAt: iso(3_600_000), delaySeconds: 3600, reason: 'training' },
  });
  const relayList = join(directory, 'relays.dat');
  writeFileSync(relayList, `127.0.0.1:${port}\n198.18.0.1\n`, { mode: 0o600 });
  const config = join(directory, 'config.json');
  writeJson(config, { relayList, register: { mode: 'none' } });
  return { dirs, config, metricsFile: join(directory, 'metrics.prom') };
}

const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

/** Runs the commands on the bundle compiled without a cache, then writes what V8 compiled. */
async function train() {
  const directory = mkdtempSync(join(tmpdir(), 'relay-select-train-'));
  const server = createServer((socket) => socket.destroy());
  try {
    await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { dirs, config, metricsFile } = prepare(directory, server.address().port);
    const { main, script, buildId } = loadCli({ useCache: false });
    const io = {
      stdout: discard(),
      stderr: discard(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: directory, NO_COLOR: '1' },
      cwd: directory,
    };
    const run = ['run', '--quiet', '--config', config, '--state-dir'];
    const commands = [
      ['status', '--config', config, '--state-dir', dirs.empty],
      ['status', '--config', config, '--state-dir', dirs.kept],
      [...run, dirs.waiting],
      [...run, dirs.waiting, '--set', `metricsFile=${metricsFile}`, '--log-format', 'json'],
      [...run, dirs.kept],
    ];
    // Twice each: the first run leaves what a selection would (the relay list cached, its digest recorded), so
    // the second takes the path of the cron runs that follow one.
    for (const argv of [...commands, ...commands]) {
      const status = await main(argv, io);
      if (status !== 0) throw new Error(`training: relay-select ${argv.join(' ')} exited with ${status}`);
    }
    const cacheFile = codeCachePath(buildId);
    mkdirSync(dirname(cacheFile), { recursive: true, mode: 0o755 });
    for (const name of readdirSync(dirname(cacheFile)))
      if (!name.startsWith(`${buildId}-`)) rmSync(join(dirname(cacheFile), name), { force: true });
    const cache = script.createCachedData();
    rmSync(`${cacheFile}.tmp`, { force: true });
    writeFileSync(`${cacheFile}.tmp`, cache, { mode: 0o644, flag: 'wx' });
    chmodSync(`${cacheFile}.tmp`, 0o644); // whatever the umask: readable by every user, writable by its owner only
    renameSync(`${cacheFile}.tmp`, cacheFile);
    process.stdout.write(
      `${basename(BUNDLE)}: code cache for Node ${process.version}, ${(cache.length / 1024).toFixed(0)} KiB (${commands.length} commands)\n`,
    );
  } finally {
    server.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

const ifBuilt = process.argv.includes('--if-built');
if (!ifBuilt) await train();
else if (existsSync(BUNDLE))
  await train().catch((error) => {
    process.stderr.write(
      `relay-select: no code cache for Node ${process.version} (${error instanceof Error ? error.message : String(error)}); the CLI works without it, only starts slower\n`,
    );
  });
