/**
 * The CLI bundle and its V8 code cache (issue 13: the cron no-op starts in ≤ 1.5 × `node -e 0`,
 * bench/results/startup.md). bin/load-cli.cjs must take a cache only when it is this build's, for this
 * Node, a regular file reached without a link, owned by root or the user and writable by nobody else — and
 * the CLI must answer the same with the cache, without it, and with a cache V8 refuses. Checked on a copy
 * of the built package (bin/, dist/cli.cjs, dist/cli-cache/, the trainer) in a temporary directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { isRoot } from '../helpers/root.js';

const built = existsSync(join(REPO_ROOT, 'dist', 'cli.cjs'));

let copy: string;
let stateDir: string;

/** This build's cache for the running Node, in the copy, as the copy's loader names it. */
function cacheFile(): string {
  const loader = createRequire(import.meta.url)(join(copy, 'bin', 'load-cli.cjs')) as {
    codeCachePath(buildId: string): string;
  };
  return loader.codeCachePath(buildId());
}

function buildId(): string {
  return /^\/\/ relay-select CLI build ([0-9a-f]{16}):/.exec(readFileSync(join(copy, 'dist', 'cli.cjs'), 'utf8'))![1]!;
}

/** What loadCli says of the cache in the copy: used, rejected (by V8) or none (not found, or refused). */
function cacheOutcome(): string {
  return execFileSync(
    process.execPath,
    ['-e', `process.stdout.write(require(${JSON.stringify(join(copy, 'bin', 'load-cli.cjs'))}).loadCli().cache)`],
    { encoding: 'utf8' },
  );
}

/** `command --json` of the copy's CLI on its fresh state directory. */
function copyCli(command: 'status' | 'doctor'): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    [join(copy, 'bin', 'relay-select.js'), command, '--json', '--state-dir', stateDir],
    { encoding: 'utf8', env: { PATH: process.env.PATH, NO_COLOR: '1' }, cwd: copy },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `status --json` of the copy's CLI: the command must work whatever the cache. */
const status = (): ReturnType<typeof copyCli> => copyCli('status');

/** `status --json` but the moment it ran (an empty state directory is due now). */
const withoutTime = (json: string): unknown => ({ ...(JSON.parse(json) as object), nextDueAt: undefined });

describe.skipIf(!built)('the CLI bundle and its code cache', () => {
  beforeEach(() => {
    copy = mkdtempSync(join(tmpdir(), 'relay-select-cache-'));
    for (const path of [
      'package.json',
      'bin',
      'dist/cli.cjs',
      'dist/cli-cache',
      'scripts/train-code-cache.mjs',
      'scripts/no-op-fixtures.mjs',
    ])
      cpSync(join(REPO_ROOT, path), join(copy, path), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
    stateDir = join(copy, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
  });

  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  it('the build leaves a cache of this build for the running Node, and V8 takes it', () => {
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o644);
    expect(cacheOutcome()).toBe('used');
    const run = status();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('answers the same without a cache, and with one V8 refuses', () => {
    const withCache = status();
    rmSync(cacheFile());
    expect(cacheOutcome()).toBe('none');
    const without = status();
    writeFileSync(cacheFile(), Buffer.alloc(64 * 1024, 7), { mode: 0o644 });
    expect(cacheOutcome()).toBe('rejected');
    const refused = status();
    for (const run of [withCache, without, refused]) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
    expect(withoutTime(without.stdout)).toEqual(withoutTime(withCache.stdout));
    expect(withoutTime(refused.stdout)).toEqual(withoutTime(withCache.stdout));
  });

  it('takes no cache that another user could have written, or reached through a link', () => {
    chmodSync(cacheFile(), 0o664);
    expect(cacheOutcome()).toBe('none');
    chmodSync(cacheFile(), 0o646);
    expect(cacheOutcome()).toBe('none');
    chmodSync(cacheFile(), 0o644);
    renameSync(cacheFile(), `${cacheFile()}.real`);
    symlinkSync(`${cacheFile()}.real`, cacheFile());
    expect(cacheOutcome()).toBe('none');
    expect(status().code).toBe(0);
  });

  it.skipIf(!isRoot)('as root, takes no cache another user owns', () => {
    chownSync(cacheFile(), 65534, 65534);
    expect(cacheOutcome()).toBe('none');
    expect(status().code).toBe(0);
  });

  it("takes no other build's cache", () => {
    renameSync(cacheFile(), cacheFile().replace(buildId(), '0123456789abcdef'));
    expect(cacheOutcome()).toBe('none');
  });

  it('the trainer writes this build’s cache for this Node and removes other builds’ caches', () => {
    const other = join(copy, 'dist', 'cli-cache', '0123456789abcdef-x64-v8-1.0.bin');
    const otherNode = cacheFile().replace(process.versions.v8, '0.0.0-other');
    writeFileSync(other, 'stale');
    writeFileSync(otherNode, 'kept');
    rmSync(cacheFile());
    const output = execFileSync(process.execPath, [join(copy, 'scripts', 'train-code-cache.mjs')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(output).toMatch(new RegExp(`code cache for Node ${process.version.replaceAll('.', '\\.')}, \\d+ KiB`));
    // This build's caches stay, for every Node (the build may have trained others); another build's go.
    const left = readdirSync(join(copy, 'dist', 'cli-cache')).map((name) => join(copy, 'dist', 'cli-cache', name));
    expect(left).toEqual(expect.arrayContaining([cacheFile(), otherNode]));
    expect(left).not.toContain(other);
    expect(left.every((path) => basename(path).startsWith(`${buildId()}-`))).toBe(true);
    expect(cacheOutcome()).toBe('used');
  });

  it('without the bundle, or with a file that is not one, says so in one line and exits 72', () => {
    rmSync(join(copy, 'dist', 'cli.cjs'));
    const missing = status();
    expect(missing.code).toBe(72);
    expect(missing.stderr).toBe(
      `relay-select: error: the CLI is not built (${join(copy, 'dist', 'cli.cjs')} is missing) — run npm run build in a checkout, npm rebuild relay-select in an install\n`,
    );
    writeFileSync(join(copy, 'dist', 'cli.cjs'), 'module.exports = {};\n');
    const foreign = status();
    expect(foreign.code).toBe(72);
    expect(foreign.stderr).toMatch(
      /^relay-select: error: the CLI is not built \(.*cli\.cjs is not a relay-select CLI build\) — [^\n]*\n$/,
    );
    expect(foreign.stdout).toBe('');
  });

  it('doctor says whether this build has a usable cache for the running Node, and the fix when not', () => {
    const doctor = (): { ok: boolean; summary: string; fix?: string } => {
      const report = JSON.parse(copyCli('doctor').stdout) as {
        checks: Array<{ name: string; ok: boolean; summary: string }>;
      };
      return report.checks.find((check) => check.name === 'code-cache')!;
    };
    expect(doctor()).toMatchObject({
      ok: true,
      summary: `${cacheFile()}: this build's V8 code cache for Node ${process.version}`,
    });
    chmodSync(cacheFile(), 0o666);
    expect(doctor()).toMatchObject({ ok: false, summary: expect.stringContaining(`${cacheFile()} is not used`) });
    rmSync(cacheFile());
    expect(doctor()).toMatchObject({ ok: false, fix: expect.stringMatching(/^npm rebuild relay-select\b/) });
  });

  it('a command that never finishes (the event loop ran dry under it) exits 70 with one line, not 0', () => {
    const never =
      '// relay-select CLI build 0123456789abcdef: a main that waits for ever\nmodule.exports.main = () => new Promise(() => {});\n';
    writeFileSync(join(copy, 'dist', 'cli.cjs'), never);
    const hung = status();
    expect(hung.code).toBe(70);
    expect(hung.stderr).toBe('relay-select: error: internal error: the command never finished (please report it)\n');
    const stopped = 'process.exitCode = 3; return new Promise(() => {});';
    writeFileSync(join(copy, 'dist', 'cli.cjs'), never.replace('new Promise(() => {});', `{ ${stopped} };`));
    expect(status()).toMatchObject({ code: 3, stderr: '' });
  });

  it('at install time (--if-built), does nothing before the package is built', () => {
    rmSync(join(copy, 'dist'), { recursive: true });
    const result = spawnSync(process.execPath, [join(copy, 'scripts', 'train-code-cache.mjs'), '--if-built'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
    expect(existsSync(join(copy, 'dist'))).toBe(false);
  });
});
