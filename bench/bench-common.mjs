// What the benchmark scripts share: where the results go and how they are written, the facts of the
// machine every result records, medians, spreads and rounding, and a Node child whose stdout is its answer.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const resultsDirectory = join(root, 'bench', 'results');

/** Writes bench/results/`name`.json (the figures) and bench/results/`name`.md (the table). */
export function writeResults(name, result, markdown) {
  mkdirSync(resultsDirectory, { recursive: true });
  writeFileSync(join(resultsDirectory, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(resultsDirectory, `${name}.md`), markdown);
}

/** What every result records of the run and the machine (the load average as the benchmark ends). */
export function machineFacts() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    kernel: release(),
    cpus: cpus().length,
    loadAverage1m: round(loadavg()[0] ?? 0),
  };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median, minimum and maximum of the figures among `values` (a run that measured nothing gives none); null when there are none. */
export function spread(values) {
  const present = values.filter((value) => typeof value === 'number');
  if (present.length === 0) return null;
  return {
    median: median(present),
    min: present.reduce((a, b) => Math.min(a, b)),
    max: present.reduce((a, b) => Math.max(a, b)),
  };
}

export function round(value, digits = 1) {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * Runs `node argv…` and resolves with its stdout and the wall time from spawn to exit; rejects with
 * `label` and the child's stderr when it exits non-zero.
 */
export function runNodeChild(argv, label) {
  return new Promise((resolve, reject) => {
    const startMs = performance.now();
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - startMs;
      if (code !== 0) return reject(new Error(`${label} exited with ${code}: ${stderr.trim()}`));
      resolve({ stdout, wallMs });
    });
  });
}
