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
import { writeNoOpFixtures } from './no-op-fixtures.mjs';

const { loadCli, codeCachePath, BUNDLE } = createRequire(import.meta.url)('../bin/load-cli.cjs');

const discard = () => new Writable({ write: (_chunk, _encoding, done) => done() });

/** Runs the commands on the bundle compiled without a cache, then writes what V8 compiled. */
async function train() {
  const directory = mkdtempSync(join(tmpdir(), 'relay-select-train-'));
  const server = createServer((socket) => socket.destroy());
  try {
    await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { stateDirs: dirs, config, metricsFile } = writeNoOpFixtures(directory, { port: server.address().port });
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
