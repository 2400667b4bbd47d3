import { loadRelayList } from '../../../relays/load.js';
import { formatDiagnostic } from '../../../relays/relay.js';
import type { CommandOptions } from '../../command-specs.js';
import type { CliContext } from '../../context.js';
import { exitCode } from '../../exit-codes.js';
import { loadCliSettings } from '../../load-cli-settings.js';
import { buildPlanView, renderPlanText } from './render.js';

export type PlanOptions = CommandOptions<'plan'>;

export async function run(options: PlanOptions, context: CliContext): Promise<number> {
  const settings = await loadCliSettings(options, context);
  const list = await loadRelayList(settings.relayList);
  const warnings = list.diagnostics.map(formatDiagnostic);
  for (const warning of warnings) context.output.warn(warning);
  const view = buildPlanView(settings, list.relays, warnings);
  if (options.probe) {
    const { probePlan } = await import('./probe.js');
    const ranking = await probePlan(settings, view, context);
    if (context.output.json) context.output.data({ ...view, ranking });
    return exitCode('ok');
  }
  if (context.output.json) {
    context.output.data(view);
  } else {
    for (const line of renderPlanText(view, context.output.color)) context.output.line(line);
  }
  return exitCode('ok');
}
