import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXIT_STATUSES } from '../../src/cli/exit-codes.js';
import { reportError } from '../../src/cli/main.js';
import { createOutput } from '../../src/cli/output.js';
import { RelaySelectError } from '../../src/errors.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

// The exit statuses live in one table (src/cli/exit-codes.ts); --help, the man page and the error
// mapping must all say what it says.
describe('the exit status table', () => {
  it('is what --help lists', async () => {
    const help = await runCli(['--help']);
    for (const status of EXIT_STATUSES)
      expect(help.stdout).toContain(`  ${String(status.code).padEnd(4)}${status.meaning}`);
  });

  it('is what man/relay-select.1 lists', () => {
    const page = readFileSync(`${REPO_ROOT}/man/relay-select.1`, 'utf8').replace(/\\-/g, '-');
    const section = page.slice(page.indexOf('.SH EXIT STATUS'), page.indexOf('.SH ENVIRONMENT'));
    expect(section.match(/^\.B \d+$/gm)).toEqual(EXIT_STATUSES.map((status) => `.B ${status.code}`));
    for (const status of EXIT_STATUSES) expect(section).toContain(`.B ${status.code}\n${status.meaning}`);
  });

  it('decides the status of every error code, and each code has one status', () => {
    const output = createOutput({
      json: false,
      quiet: true,
      verbose: false,
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: {},
    });
    const mapped = EXIT_STATUSES.flatMap((status) => status.errors.map((code) => [code, status.code] as const));
    expect(new Set(mapped.map(([code]) => code)).size).toBe(mapped.length);
    for (const [code, status] of mapped)
      expect(reportError(new RelaySelectError(code, 'test'), output), code).toBe(status);
    expect(reportError(new Error('a bug'), output)).toBe(70);
  });
});
