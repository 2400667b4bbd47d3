import { loadRelayList } from '../../../relays/load.js';
import { formatDiagnostic } from '../../../relays/relay.js';
import type { CommandOptions } from '../../command-specs.js';
import type { CliContext } from '../../context.js';
import { exitCode } from '../../exit-codes.js';
import { loadCliSettings } from '../../load-cli-settings.js';
import { buildPlan, renderPlanJson, renderPlanText } from './render.js';

export type PlanOptions = CommandOptions<'plan'>;

export async function run(options: PlanOptions, context: CliContext): Promise<number> {
  const settings = await loadCliSettings(options, context);
  const list = await loadRelayList(settings.relayList);
  const warnings = list.diagnostics.map(formatDiagnostic);
  for (const warning of warnings) context.output.warn(warning);
  const plan = buildPlan(settings, list.relays, warnings);
  if (options.probe) {
    const { probePlan } = await import('./probe.js');
    const ranking = await probePlan(settings, plan, context);
    if (context.output.json) await context.output.dataText(renderPlanJson(plan, { ranking }));
    return exitCode('ok');
  }
  if (context.output.json) await context.output.dataText(renderPlanJson(plan));
  else await context.output.lines(renderPlanText(plan, context.output.color));
  return exitCode('ok');
}
