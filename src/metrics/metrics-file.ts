/**
 * Writes the metrics file (setting metricsFile) for node_exporter's textfile collector: atomically (a
 * temporary file in the same directory, then rename), so the collector never reads half a file; its
 * temporary names do not end in `.prom`, which the collector skips. Mode 0644: node_exporter runs as
 * another user. No fsync: a metrics file lost in a power cut is rewritten by the next run.
 */
import writeFileAtomic from 'write-file-atomic';
import type { State } from '../cycle/state.js';
import { RelaySelectError } from '../errors.js';
import { renderPrometheusText } from './prometheus-text.js';
import { buildRunMetrics, type RunMetricFacts } from './run-metrics.js';

const METRICS_FILE_MODE = 0o644;

/**
 * Renders the metrics of `state` and this run's `facts` and writes them to `file`. For `relay-select run`
 * and for the agent after each of its cycles.
 * @throws RelaySelectError CONFIG_INVALID when the file cannot be written (its directory is missing or not writable).
 */
export async function writeRunMetrics(file: string, state: State, facts: RunMetricFacts): Promise<void> {
  const text = renderPrometheusText(buildRunMetrics(state, facts));
  try {
    await writeFileAtomic(file, text, { mode: METRICS_FILE_MODE, fsync: false, encoding: 'utf8' });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RelaySelectError('CONFIG_INVALID', `metricsFile: cannot write ${file} (${reason})`, {
      cause: error,
      file,
      hint: "point metricsFile into an existing directory this user can write (node_exporter's textfile collector directory), or unset it",
    });
  }
}
