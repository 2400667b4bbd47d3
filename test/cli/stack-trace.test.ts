/**
 * The CLI runs minified from one bundle; `--verbose` must still show where an error came from in src/
 * (src/cli/stack-trace.ts, through dist/cli.cjs.map).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-select-stack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stack traces of --verbose', () => {
  it('name the lines in src/ of the frames in the bundle', async () => {
    const notADirectory = join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ relayList: join(dir, 'relays.dat') }), { mode: 0o600 });
    const run = await runCli(['run', '--verbose', '--config', config, '--state-dir', join(notADirectory, 'state')]);
    expect(run.code, run.stderr).toBe(73);
    const frames = run.stderr.split('\n').filter((line) => /^\s+at /.test(line));
    expect(frames.length).toBeGreaterThan(2);
    expect(run.stderr).not.toContain('cli.cjs:');
    expect(run.stderr).toContain(`${join(REPO_ROOT, 'src', 'cycle', 'lock.ts')}:`);
  });
});
