import { readFile } from 'node:fs/promises';
import { RelaySelectError } from '../../errors.js';
import { createEstimateCache, estimateFleet, type EstimateOptions, type FleetEstimate } from '../../fleet/estimate.js';
import {
  buildFleet,
  FLEET_DEFAULTS,
  positiveNumber,
  profileFromNearestHops,
  profileFromProbeJson,
  profilesOfFleet,
  uniformRelays,
  withNearbyRelay,
} from '../../fleet/fleet-input.js';
import type { ModelName } from '../../fleet/models.js';
import { recommendSettings, type Recommendation } from '../../fleet/recommend.js';
import type { ScenarioName } from '../../fleet/scenarios.js';
import { formatRate, renderEstimateJson } from '../../fleet/views.js';
import { renderTable } from '../../format.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { readFleetInput, readModels, readScenarioOptions, readTimeExceededLimit } from '../fleet-args.js';
import { loadCliSettings } from '../load-cli-settings.js';

type EstimateCommandOptions = CommandOptions<'estimate'>;

export async function run(options: EstimateCommandOptions, context: CliContext): Promise<number> {
  const { output } = context;
  if (options.recommend && options.budgetPps === undefined)
    throw new RelaySelectError(
      'USAGE',
      '--recommend needs --budget-pps X: the echo requests per second the fleet may send at its worst minute',
    );
  if (options.budgetPps !== undefined && !options.recommend)
    throw new RelaySelectError('USAGE', '--budget-pps only means something with --recommend');
  const budgetPps =
    options.budgetPps === undefined ? undefined : positiveNumber(options.budgetPps, '--budget-pps', 1e12);
  if (options.from !== undefined && options.nearestHops !== undefined)
    throw new RelaySelectError('USAGE', '--from and --nearest-hops are two ways to give the distance profile: use one');
  const settings = await loadCliSettings(options, context);
  const input = await readFleetInput(options, settings, context);
  let source: string;
  let profiles: EstimateOptions['profiles'];
  let withNewRelay: EstimateOptions['profiles'];
  if (options.from !== undefined || options.nearestHops !== undefined) {
    if (input.topology !== undefined || input.subnets !== undefined)
      throw new RelaySelectError(
        'USAGE',
        '--topology and --subnets describe a network; --from and --nearest-hops replace it with one distance profile',
      );
    const clients = input.clients ?? FLEET_DEFAULTS.clients;
    let profile;
    if (options.from !== undefined) {
      const file = options.from;
      const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new RelaySelectError('INPUT_INVALID', `--from ${file}: cannot read it (${error.code ?? error.message})`, {
          cause: error,
        });
      });
      profile = profileFromProbeJson(text, file, clients, input.relays);
      source = `measured at one endpoint (${file})`;
    } else {
      const relays =
        input.relays ??
        uniformRelays(input.relayCount ?? Math.max(2, Math.round(clients / FLEET_DEFAULTS.endpointsPerRelay)));
      profile = profileFromNearestHops(options.nearestHops!, clients, relays, settings.probe.verifyMargin);
      source = `nearest relay ${options.nearestHops} routers away, the others beyond the verification margin`;
    }
    profiles = [profile];
    withNewRelay = [withNearbyRelay(profile)];
  } else {
    const fleet = buildFleet(input);
    ({ profiles, withNewRelay } = profilesOfFleet(fleet, settings.seekList));
    source = input.topology !== undefined ? `topology ${input.topology.file}` : `generated network, seed ${fleet.seed}`;
  }
  const timeExceededLimit = readTimeExceededLimit(options);
  const models = readModels(options);
  const estimateOptions: EstimateOptions = {
    settings,
    profiles,
    profilesWithNewRelay: withNewRelay,
    models,
    ...(options.scenario === undefined || options.scenario.length === 0
      ? {}
      : { scenarios: [...new Set(options.scenario)] }),
    scenarioOptions: readScenarioOptions(options),
    ...(timeExceededLimit === undefined ? {} : { timeExceededLimit }),
    cache: createEstimateCache(),
  };
  const estimate = estimateFleet(estimateOptions);
  let recommendations: Recommendation[] | undefined;
  if (budgetPps !== undefined) {
    output.progress('searching settings');
    recommendations = models.map((model) => recommendSettings({ ...estimateOptions, budgetPps, model }));
    output.endProgress();
  }
  const relays = profiles.reduce((most, profile) => Math.max(most, profile.relays.length), 0);
  const subnets = profiles.length;
  if (output.json) {
    output.data(
      renderEstimateJson(estimate, {
        relays,
        subnets,
        source,
        ...(recommendations === undefined ? {} : { recommendations }),
      }),
    );
    return exitCode('ok');
  }
  for (const line of renderEstimateText(estimate, source, relays, subnets)) output.line(line);
  for (const recommendation of recommendations ?? [])
    for (const line of renderRecommendationText(recommendation)) output.line(line);
  return exitCode('ok');
}

function renderEstimateText(estimate: FleetEstimate, source: string, relays: number, subnets: number): string[] {
  const lines = [
    `${estimate.clients.toLocaleString('en-US')} endpoints, ${relays.toLocaleString('en-US')} relays in the pool, ${subnets.toLocaleString('en-US')} distance profile(s): ${source}`,
    '',
  ];
  const models = Object.entries(estimate.models) as Array<[ModelName, NonNullable<FleetEstimate['models'][ModelName]>]>;
  const scenarios = Object.keys(models[0]?.[1].scenarios ?? {}) as ScenarioName[];
  const rows: string[][] = [];
  for (const [name, model] of models) {
    rows.push([
      name,
      'steady (mean)',
      formatRate(model.steady.echoRequestsPerSecond),
      formatRate(model.steady.timeExceededPerSecond),
      `${Math.round(model.perSelection.echoRequests)} per selection, every ${(model.periodSeconds / 3600).toFixed(1)} h`,
    ]);
    for (const scenario of scenarios) {
      const entry = model.scenarios[scenario]!;
      rows.push([
        '',
        `${scenario} (worst minute)`,
        formatRate(entry.echoRequestsPerSecond.peak),
        formatRate(entry.timeExceededPerSecond.peak),
        scenario === model.worst.scenario ? 'the worst' : '',
      ]);
    }
  }
  for (const line of renderTable(['model', 'when', 'echo req/s', 'Time Exc/s', ''], rows)) lines.push(line);
  const fleet = estimate.models.default;
  const classic = estimate.models.bigfix;
  if (fleet !== undefined && classic !== undefined && fleet.worst.echoRequestsPerSecond > 0) {
    lines.push(
      '',
      `worst minute: bigfix ${formatRate(classic.worst.echoRequestsPerSecond)} echo requests/s (${classic.worst.scenario}), default ${formatRate(fleet.worst.echoRequestsPerSecond)} (${fleet.worst.scenario}): ${(classic.worst.echoRequestsPerSecond / fleet.worst.echoRequestsPerSecond).toFixed(1)}×`,
    );
  }
  return lines;
}

function renderRecommendationText(recommendation: Recommendation): string[] {
  const lines = [
    '',
    `${recommendation.model}: worst minute ${formatRate(recommendation.before.echoRequestsPerSecond)} → ${formatRate(recommendation.after.echoRequestsPerSecond)} echo requests/s (${recommendation.after.scenario}); budget ${formatRate(recommendation.budgetPps)}: ${recommendation.met ? 'met' : 'NOT met'}`,
  ];
  const rows = recommendation.settings.map((entry) => [
    entry.setting,
    String(entry.value),
    entry.value === entry.was ? '(unchanged)' : `(was ${entry.was})`,
    entry.clientSetting ?? '-',
  ]);
  for (const line of renderTable(['relay-select setting', 'value', '', 'clientsettings.cfg'], rows, { indent: 2 }))
    lines.push(line);
  if (recommendation.note !== null) lines.push(`  ${recommendation.note}`);
  return lines;
}
