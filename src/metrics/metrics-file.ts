/**
 * Writes the metrics file (setting metricsFile) for node_exporter's textfile collector, the way every file
 * of relay-select is replaced (src/atomic-file.ts): the collector never reads half a file, and nothing
 * another user planted under the name is written through. Its temporary names end in `.tmp`, not `.prom`,
 * which the collector skips. Mode 0644: node_exporter runs as another user. No fsync: a metrics file lost
 * in a power cut is rewritten by the next run. As root, the directory must be one no other user can change
 * (src/trust.ts), as for the state directory.
 */
import path from 'node:path';
import { writeFileAtomically } from '../atomic-file.js';
import type { State } from '../cycle/state.js';
import { RelaySelectError } from '../errors.js';
import { findTrustProblem, processTrustPolicy, untrustedFileError } from '../trust.js';
import { renderPrometheusText } from './prometheus-text.js';
import { buildRunMetrics, type RunMetricFacts } from './run-metrics.js';

const METRICS_FILE_MODE = 0o644;

/**
 * Renders the metrics of `state` and this run's `facts` and writes them to `file`. For `relay-select run`
 * and for the agent after each of its cycles.
 * @throws RelaySelectError FILE_UNTRUSTED when, as root, another user could change the file's directory;
 *   CONFIG_INVALID when the file cannot be written (its directory is missing or not writable).
 */
export async function writeRunMetrics(file: string, state: State, facts: RunMetricFacts): Promise<void> {
  const text = renderPrometheusText(buildRunMetrics(state, facts));
  const absolute = path.resolve(file);
  const directory = path.dirname(absolute);
  const trust = processTrustPolicy();
  try {
    const problem = trust === undefined ? null : findTrustProblem(directory, { ...trust, expect: 'directory' });
    if (problem !== null) throw untrustedFileError('FILE_UNTRUSTED', 'the metricsFile directory', directory, problem);
    await writeFileAtomically(directory, path.basename(absolute), text, { mode: METRICS_FILE_MODE, durable: false });
  } catch (error) {
    if (error instanceof RelaySelectError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RelaySelectError('CONFIG_INVALID', `metricsFile: cannot write ${file} (${reason})`, {
      cause: error,
      file,
      hint: "point metricsFile into an existing directory this user can write (node_exporter's textfile collector directory), or unset it",
    });
  }
}
