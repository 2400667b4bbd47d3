/**
 * The options `simulate` and `estimate` share (command-specs.ts FLEET_OPTIONS): read the files they
 * name and hand plain values to src/fleet, which validates them.
 */
import { readFile } from 'node:fs/promises';
import type { Settings } from '../config/settings.js';
import { RelaySelectError } from '../errors.js';
import { positiveNumber, wholeNumber, type FleetInput } from '../fleet/fleet-input.js';
import type { ModelName } from '../fleet/models.js';
import type { PlanScenarioOptions } from '../fleet/scenarios.js';
import type { TimeExceededLimit } from '../probe/memory-transport.js';
import { loadRelayList } from '../relays/load.js';
import { formatDiagnostic } from '../relays/relay.js';
import type { FleetOptions } from './command-specs.js';
import type { CliContext } from './context.js';

/** The relay list only when --relays names one: otherwise the fleet's relays are generated. */
export async function readFleetInput(args: FleetOptions, settings: Settings, context: CliContext): Promise<FleetInput> {
  let relays: FleetInput['relays'];
  if (args.relays !== undefined) {
    const list = await loadRelayList(settings.relayList);
    for (const diagnostic of list.diagnostics) context.output.warn(formatDiagnostic(diagnostic));
    relays = list.relays;
  }
  let topology: FleetInput['topology'];
  if (args.topology !== undefined) {
    const file = args.topology;
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new RelaySelectError(
        'TOPOLOGY_INVALID',
        `${file}: cannot read the topology: ${error.code ?? error.message}`,
        { cause: error, file },
      );
    });
    topology = { text, file };
  }
  return {
    ...(args.clients === undefined ? {} : { clients: args.clients }),
    ...(args.subnets === undefined ? {} : { subnets: args.subnets }),
    ...(args.relayCount === undefined ? {} : { relayCount: args.relayCount }),
    ...(args.seed === undefined ? {} : { seed: args.seed }),
    ...(relays === undefined ? {} : { relays }),
    ...(topology === undefined ? {} : { topology }),
  };
}

export function readScenarioOptions(args: FleetOptions): PlanScenarioOptions {
  return {
    ...(args.days === undefined ? {} : { days: positiveNumber(args.days, '--days', 366) }),
    ...(args.outageHours === undefined
      ? {}
      : { outageSeconds: Math.round(positiveNumber(args.outageHours, '--outage-hours', 24 * 30) * 3600) }),
  };
}

export function readModels(args: FleetOptions): ModelName[] {
  return args.model === undefined || args.model.length === 0 ? ['default', 'bigfix'] : [...new Set(args.model)];
}

/** Linux's limit unless either flag says otherwise. */
export function readTimeExceededLimit(args: FleetOptions): TimeExceededLimit | undefined {
  if (args.timeExceededBurst === undefined && args.timeExceededRate === undefined) return undefined;
  return {
    burst: wholeNumber(args.timeExceededBurst ?? 6, '--time-exceeded-burst', 1, 1_000_000),
    perSecond: positiveNumber(args.timeExceededRate ?? 1, '--time-exceeded-rate', 1_000_000),
  };
}
