import { relayKey } from '../../relays/relay.js';
import { runCycle, type RunReport } from '../../cycle/run-cycle.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { formatHops, formatLocalTime, renderTable } from '../../format.js';
import { createProbeProgress, PROBE_HEADERS, probeRows } from '../probe-output.js';
import { loadCliSettings } from '../load-cli-settings.js';

export type RunOptions = CommandOptions<'run'>;

/** The one line that says what was decided and why. */
export function renderRunLine(report: RunReport): string {
  const nextIsCheck =
    report.rule === 'failing' || report.rule === 'upstream-down' || report.rule === 'upstream-backoff';
  const next = `${nextIsCheck ? 'next check' : 'next reselection'} ${formatLocalTime(report.nextDueAt)}`;
  const prefix = report.dryRun ? 'dry run: ' : '';
  const relay = report.relay;
  const name = relay
    ? `${relayKey(relay)} (${formatHops(relay.distance)}${relay.pool ? `, pool ${relay.pool}` : ''})`
    : '';
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
  let report: RunReport;
  try {
    report = await runCycle({
      settings,
      force: options.force,
      dryRun: options.dryRun,
      // A getter: the package version is read only if this run registers (a run that decides nothing never does).
      get version() {
        return context.version;
      },
      signal: context.signal,
      ...createProbeProgress((text) => output.progress(text), 'probing'),
      onSelectionEvent: (event) => {
        if (event.type === 'pool-start') output.debug(`pool ${event.pool}: probing ${event.relayCount} relays`);
        if (event.type === 'register-start')
          output.debug(`registering with ${relayKey(event.candidate.relay)}: ${event.reason}`);
        if (event.type === 'register-done')
          output.debug(
            `  -> ${event.outcome.status}${'detail' in event.outcome && event.outcome.detail ? `: ${event.outcome.detail}` : ''}`,
          );
      },
    });
  } finally {
    output.endProgress();
  }
  for (const warning of report.warnings) output.warn(warning);
  if (output.json) {
    const { renderRunJson } = await import('../../cycle/run-json.js');
    output.data(renderRunJson(report));
  } else {
    if (output.verbose && report.probes.length > 0) {
      // The selection's wording is loaded only with a selection to explain: a no-op run has none.
      const { describeAttempt } = await import('../../select/explain.js');
      if (output.logFormat === 'json')
        for (const attempt of report.selection?.attempts ?? []) output.debug(describeAttempt(attempt));
      else {
        for (const line of renderTable(PROBE_HEADERS, probeRows(report.probes))) output.line(line);
        for (const attempt of report.selection?.attempts ?? []) output.line(`  ${describeAttempt(attempt)}`);
      }
    }
    output.event(report.action === 'failed' ? 'error' : 'info', renderRunLine(report), renderRunLogFields(report));
  }
  return exitCode(report.action === 'failed' ? 'unavailable' : 'ok');
}

/** The fields of the decision's log record (`--log-format json`): flat, so a log shipper can index each. */
export function renderRunLogFields(report: RunReport): Record<string, unknown> {
  const relay = report.relay;
  return {
    event: 'run',
    action: report.action,
    rule: report.rule,
    reason: report.reason,
    relay: relay === null ? null : relayKey(relay),
    relayAddress: relay?.address ?? null,
    distance: relay?.distance ?? null,
    rttMs: relay?.rttMs ?? null,
    pool: relay?.pool ?? null,
    method: relay?.method ?? null,
    nextDueAt: report.nextDueAt,
    packetsSent: report.packetsSent,
    tcpChecks: report.tcpChecks,
    networkChange: report.networkChange,
    switchMarginKept: report.switchMargin?.kept ?? null,
    distanceJumpHops: report.distanceJump === null ? null : report.distanceJump.toHops - report.distanceJump.fromHops,
    retryAttempt: report.state.retry?.attempt ?? null,
    dryRun: report.dryRun,
  };
}
