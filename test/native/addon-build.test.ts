/**
 * The ICMP addon is built at install (src/native/build-addon.mjs, the package's install script). A failed
 * build must say so at install and, when the install went on without it (`npm ci --ignore-scripts`), at
 * first use, with the fix — never as an internal error (exit 70).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnvironment, REPO_ROOT } from '../helpers/cli.js';
import { missingBuildReason } from '../helpers/e2e-lab.js';

const FIX = /rebuild with `npm rebuild relay-select`.*needs a C\+\+ compiler and python3/;
const scratch = mkdtempSync(join(tmpdir(), 'relay-select-addon-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the ICMP addon missing', () => {
  const skipReason = missingBuildReason();

  it.skipIf(skipReason !== undefined)(
    `probe exits 72 with the fix; commands that do not probe still work ${skipReason ?? ''}`,
    () => {
      // The package as `npm ci --ignore-scripts` leaves it: everything but build/.
      const copy = join(scratch, 'package');
      for (const part of ['bin', 'dist', 'package.json', 'relay-samples'])
        cpSync(join(REPO_ROOT, part), join(copy, part), { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
      const cli = (args: string[]) =>
        spawnSync(process.execPath, [join(copy, 'bin/relay-select.js'), ...args], {
          cwd: copy,
          env: cliEnvironment(),
          encoding: 'utf8',
        });

      // Nothing is sent: loading the addon fails before any socket exists.
      const probe = cli(['probe', '127.0.0.1', '--state-dir', join(scratch, 'state')]);
      expect(probe.status).toBe(72);
      const lines = probe.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/the ICMP addon is not built \(no .*build\/Release\/relay_select_icmp\.node\)/);
      expect(lines[0]).toMatch(FIX);
      expect(probe.stderr).not.toMatch(/internal error|\n\s+at /);

      const plan = cli(['plan', '--relays', 'relay-samples/branch-office.dat', '--json']);
      expect(plan.status, plan.stderr).toBe(0);
    },
  );
});

describe('the install script', () => {
  it('fails the install with the fix when the C++ compiler is missing', () => {
    const copy = join(scratch, 'build');
    cpSync(join(REPO_ROOT, 'binding.gyp'), join(copy, 'binding.gyp'));
    cpSync(join(REPO_ROOT, 'src/native'), join(copy, 'src/native'), { recursive: true });
    cpSync(join(REPO_ROOT, 'node_modules/node-addon-api'), join(copy, 'node_modules/node-addon-api'), {
      recursive: true,
    });
    writeFileSync(join(copy, 'package.json'), '{"name":"relay-select","version":"0.0.0","type":"module"}\n');
    const missingCompiler = join(copy, 'no-such-c++');
    const result = spawnSync(process.execPath, [join(copy, 'src/native/build-addon.mjs')], {
      cwd: copy,
      env: cliEnvironment({ CXX: missingCompiler, CC: missingCompiler }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /relay-select: building the ICMP addon failed \(node-gyp exited with \d+\)\. Without it nothing can probe/,
    );
    expect(result.stderr).toMatch(FIX);
  });
});
