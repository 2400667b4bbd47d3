/** `--log-format json` through the real CLI: one JSON object per line, the decision on stdout, warnings on stderr. */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { missingBuildReason } from '../helpers/e2e-lab.js';

const skipReason = missingBuildReason();

/** One `--log-format json` line: time, level and msg, then the record's own fields. */
interface LogLine {
  time: string;
  level: string;
  msg: string;
  [field: string]: unknown;
}

describe.skipIf(skipReason !== undefined)(`--log-format json${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let root: string;
  let args: string[];
  const retryAt = new Date(Date.now() + 3600_000).toISOString();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'relay-select-log-format-'));
    const stateDir = join(root, 'state');
    mkdirSync(stateDir, { mode: 0o700 });
    writeFileSync(join(root, 'Relay.dat'), '198.18.0.10\nnot a relay line\n');
    const now = new Date().toISOString();
    writeFileSync(
      join(stateDir, 'state.json'),
      JSON.stringify({
        version: 1,
        clientId: 'log-test',
        current: null,
        lastSelectionAt: null,
        lastAttemptAt: now,
        failingSince: null,
        retry: { attempt: 2, nextAt: retryAt, delaySeconds: 120, reason: 'no relay could be registered' },
      }),
    );
    args = ['run', '--relays', join(root, 'Relay.dat'), '--state-dir', stateDir, '--log-format', 'json'];
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes the decision as one JSON line with its fields, and each warning as one JSON line on stderr', async () => {
    const result = await runCli(args, { cwd: root });
    expect(result.code, result.stderr).toBe(0);
    const stdoutLines = result.stdout.trim().split('\n');
    expect(stdoutLines).toHaveLength(1);
    const record = JSON.parse(stdoutLines[0]!) as LogLine;
    expect(record).toMatchObject({
      level: 'info',
      event: 'run',
      action: 'waiting',
      rule: 'retry-pending',
      relay: null,
      nextDueAt: retryAt,
      retryAttempt: 2,
      packetsSent: 0,
      dryRun: false,
    });
    expect(Date.parse(record.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(record.msg).toMatch(/^waiting: retry 2 after a failed selection/);
    // Every line is a warning record (the last assertion makes sure there is at least the list's).
    const stderrLines = result.stderr.trim().split('\n');
    for (const line of stderrLines)
      expect(JSON.parse(line)).toMatchObject({ level: 'warning', msg: expect.any(String), time: expect.any(String) });
    expect(stderrLines.map((line) => (JSON.parse(line) as LogLine).msg)).toContainEqual(
      expect.stringMatching(/Relay\.dat:2:5: error: unexpected "a"/),
    );
  });

  it('stays quiet on success with --quiet, and reports a usage error as a JSON line', async () => {
    expect((await runCli([...args, '--quiet'], { cwd: root })).stdout).toBe('');
    const bad = await runCli(['run', '--log-format', 'json', '--bogus-option'], { cwd: root });
    expect(bad.code).toBe(64);
    expect(JSON.parse(bad.stderr.trim())).toMatchObject({
      level: 'error',
      msg: expect.stringContaining('bogus-option'),
    });
  });
});
