import { relayKey } from '../../relays/relay.js';
import { runCycle, type RunReport } from '../../cycle/run-cycle.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { formatHops, formatLocalTime, renderTable } from '../../format.js';
import { createProbeProgress, PROBE_HEADERS, probeRows } from '../probe-output.js';
import { loadCliSettings } from '../load-cli-settings.js';
import { abortOnSignals } from '../../teardown.js';

export type RunOptions = CommandOptions<'run'>;

/** The one line that says what was decided and why. */
export function renderRunLine(report: RunReport): string {
  const nextIsCheck = report.rule === 'failing' || report.rule === 'upstream-down' || report.rule === 'upstream-backoff';
  const next = `${nextIsCheck ? 'next check' : 'next reselection'} ${formatLocalTime(report.nextDueAt)}`;
  const prefix = report.dryRun ? 'dry run: ' : '';
  const relay = report.relay;
  const name = relay ? `${relayKey(relay)} (${formatHops(relay.distance)}${relay.pool ? `, pool ${relay.pool}` : ''})` : '';
  switch (report.action) {
    case 'selected':
      return `${prefix}selected ${name}: ${report.reason}; ${next}`;
    case 'kept':
      return `${prefix}kept ${name}: ${report.reason}; ${next}`;
    case 'waiting':
      return `${prefix}waiting: ${report.reason}`;
    case 'failed':
      return `${prefix}failed: ${report.reason}; next attempt ${formatLocalTime(report.nextDueAt)}`;
  }
}

export async function run(options: RunOptions, context: CliContext): Promise<number> {
  const { output } = context;
  const settings = await loadCliSettings(options, context);
  const stop = abortOnSignals();
  let report: RunReport;
  try {
    report = await runCycle({
      settings,
      force: options.force,
      dryRun: options.dryRun,
      version: context.version,
      signal: stop.signal,
      ...createProbeProgress((text) => output.progress(text), 'probing'),
      onSelectionEvent: (event) => {
        if (event.type === 'pool-start') output.debug(`pool ${event.pool}: probing ${event.relayCount} relays`);
        if (event.type === 'register-start') output.debug(`registering with ${relayKey(event.candidate.relay)}: ${event.reason}`);
        if (event.type === 'register-done') output.debug(`  -> ${event.outcome.status}${'detail' in event.outcome && event.outcome.detail ? `: ${event.outcome.detail}` : ''}`);
      },
    });
  } finally {
    stop.dispose();
    output.endProgress();
  }
  for (const warning of report.warnings) output.warn(warning);
  if (output.json) {
    const { renderRunJson } = await import('../../cycle/run-json.js');
    output.data(renderRunJson(report));
  } else {
    if (output.verbose && report.probes.length > 0) {
      for (const line of renderTable(PROBE_HEADERS, probeRows(report.probes))) output.line(line);
      // The selection's wording is loaded only with a selection to explain: a no-op run has none.
      const { describeAttempt } = await import('../../select/explain.js');
      for (const attempt of report.selection?.attempts ?? []) output.line(`  ${describeAttempt(attempt)}`);
    }
    const line = renderRunLine(report);
    if (report.action === 'failed') output.important(line);
    else output.line(line);
  }
  return exitCode(report.action === 'failed' ? 'unavailable' : 'ok');
}
