/**
 * The CLI's standard output without process.stdout (src/cli/standard-stream.ts): a cron no-op must not pay
 * for Node's stream modules (issue 13), and what it writes must still arrive whole and in order wherever
 * standard output goes — /dev/null, a file, a pipe, a pipe whose reader left, a pipe someone made
 * non-blocking, a terminal. Each case is a child process whose standard output is the real thing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, type RunCliOptions } from '../helpers/cli.js';

const CHILD = join(REPO_ROOT, 'test', 'helpers', 'standard-stream-child.mjs');
const dir = mkdtempSync(join(tmpdir(), 'relay-select-stdout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  isTTY: boolean;
  streamAfterIsTTY: boolean;
  streamAtEnd: boolean;
  written: number;
  refused: number[];
  destroyed: boolean;
}

let reports = 0;
function reportFile(): string {
  reports += 1;
  return join(dir, `report-${reports}.json`);
}

const readReport = (file: string): Report => JSON.parse(readFileSync(file, 'utf8')) as Report;

const line = (index: number): string => `line ${String(index).padStart(7, '0')} ${'x'.repeat(1010)}\n`;
const lines = (count: number): string => Array.from({ length: count }, (_, index) => line(index)).join('') + 'END\n';

describe('standard output written to its descriptor', () => {
  it('to /dev/null and to a file: not a terminal, every byte in order, and process.stdout never made', () => {
    const outFile = join(dir, 'out.txt');
    for (const target of ['/dev/null', outFile]) {
      const report = reportFile();
      const fd = openSync(target, 'w');
      try {
        const run = spawnSync(process.execPath, [CHILD, REPO_ROOT, report, 'lines', '300'], {
          stdio: ['ignore', fd, 'pipe'],
          encoding: 'utf8',
        });
        expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      } finally {
        closeSync(fd);
      }
      expect(readReport(report)).toEqual({
        isTTY: false,
        streamAfterIsTTY: false,
        streamAtEnd: false,
        written: 300,
        refused: [],
        destroyed: false,
      });
    }
    expect(readFileSync(outFile, 'utf8')).toBe(lines(300));
  });

  it('to a pipe: every byte in order; when the reader goes away, the rest is dropped quietly and nothing waits', async () => {
    const whole = reportFile();
    const read = await runChild([REPO_ROOT, whole, 'lines', '2000']);
    expect({ code: read.code, stderr: read.stderr }).toEqual({ code: 0, stderr: '' });
    expect(read.stdout).toBe(lines(2000));
    expect(readReport(whole)).toMatchObject({ isTTY: false, streamAtEnd: false, refused: [], destroyed: false });

    const cut = reportFile();
    const left = await runChild([REPO_ROOT, cut, 'lines', '2000'], {
      onSpawn: (child) => child.stdout.once('data', () => child.stdout.destroy()),
    });
    expect({ code: left.code, stderr: left.stderr }).toEqual({ code: 0, stderr: '' });
    // Written whole up to where the reader left.
    expect(lines(2000).startsWith(left.stdout)).toBe(true);
    expect(readReport(cut)).toMatchObject({ written: 2000, refused: [], destroyed: true, streamAtEnd: false });
  });

  it('to a pipe someone made non-blocking: the process stream takes over when the pipe is full, nothing lost or reordered', async () => {
    const report = reportFile();
    // python3 makes the child's end non-blocking, as a parent that shares it might, and runs the child.
    const nonBlocking = 'import os, sys; os.set_blocking(1, False); os.execv(sys.argv[1], sys.argv[1:])';
    const run = await runChild([REPO_ROOT, report, 'until-stream'], { prefix: ['python3', '-c', nonBlocking] });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const seen = readReport(report);
    // The stream took over before the child's limit of 1024 chunks: the pipe was full at least once.
    expect(seen.streamAtEnd).toBe(true);
    expect(seen.written).toBeLessThan(1024);
    const chunks = run.stdout.split('\n');
    expect(chunks.pop()).toBe('');
    expect(chunks.pop()).toBe('END');
    expect(chunks.map((chunk) => chunk.slice(0, 7))).toEqual(
      Array.from({ length: seen.written }, (_, index) => String(index).padStart(7, '0')),
    );
    expect(chunks.every((chunk) => chunk.length === 64 * 1024 - 1)).toBe(true);
  });

  it('to a terminal: says so, and writes through the process stream', () => {
    const report = reportFile();
    // script(1) runs the child on a new pseudo-terminal.
    const command = [process.execPath, CHILD, REPO_ROOT, report, 'lines', '3'].map((arg) => `'${arg}'`).join(' ');
    const run = spawnSync('script', ['-qec', command, '/dev/null'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    expect(readReport(report)).toMatchObject({ isTTY: true, streamAtEnd: true, written: 3, refused: [] });
    expect(run.stdout.replaceAll('\r\n', '\n')).toBe(lines(3));
  });
});

/**
 * Runs the child with standard output a pipe this reads (all of it, unless `onSpawn` closes it), as
 * {@link runCli} runs the CLI: the child stands in for the CLI's output.
 */
function runChild(args: string[], options: Pick<RunCliOptions, 'prefix' | 'onSpawn'> = {}) {
  return runCli(args, { ...options, cli: CHILD });
}
