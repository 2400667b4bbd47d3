import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { itAsRoot } from '../helpers/root.js';

// README, CI and reality must not drift: the README's two commands are what CI and a newcomer run.
const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n') ?? [];

describe('README', () => {
  it('opens with the main-job command and the test command', () => {
    expect(firstBlock).toHaveLength(2);
    expect(firstBlock[0]).toMatch(/^npm ci && /);
    expect(firstBlock[1]).toBe('npm ci && npm test');
  });

  it('.ci/run installs with npm ci and runs the README test command', () => {
    const ci = readFileSync(`${REPO_ROOT}/.ci/run`, 'utf8');
    expect(ci).toMatch(/^npm ci$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  itAsRoot('the first command (after npm ci) prints the chosen branch-office relay within 60 s', () => {
    const mainJob = firstBlock[0]!.replace(/^npm ci && /, '');
    const started = Date.now();
    const result = spawnSync('sh', ['-c', mainJob], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.stdout).toMatch(/Chosen: relay-branch ✓/);
  });
});
