import { computeNextDueAt } from '../../cycle/decide.js';
import { reportRelayFailure } from '../../cycle/run-cycle.js';
import { relayKey } from '../../relays/relay.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { formatLocalTime } from '../../format.js';
import { loadCliSettings } from '../load-cli-settings.js';

export type ReportFailureOptions = CommandOptions<'report-failure'>;

export async function run(options: ReportFailureOptions, context: CliContext): Promise<number> {
  const settings = await loadCliSettings(options, context);
  const state = await reportRelayFailure(settings, options.reason);
  const current = state?.current ?? null;
  if (context.output.json) {
    context.output.data({ relay: current, failingSince: state?.failingSince ?? null, reason: options.reason ?? null });
    return exitCode(current === null ? 'unavailable' : 'ok');
  }
  if (current === null || state === null) {
    context.output.important('no current relay: nothing to report (run "relay-select run" first)');
    return exitCode('unavailable');
  }
  const reselectAt = computeNextDueAt(state, settings, new Date());
  context.output.line(
    `failure clock of ${relayKey(current)} running since ${formatLocalTime(state.failingSince ?? reselectAt)}; a new selection at ${formatLocalTime(reselectAt)} if it keeps failing`,
  );
  return exitCode('ok');
}
