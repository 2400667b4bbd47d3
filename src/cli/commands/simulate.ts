import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RelaySelectError } from '../../errors.js';
import { renderSimulationSvg } from '../../fleet/chart-svg.js';
import { buildFleet } from '../../fleet/fleet-input.js';
import { simulateScenarios } from '../../fleet/parallel.js';
import type { SimulationResult } from '../../fleet/simulate.js';
import { planScenario } from '../../fleet/scenarios.js';
import { renderSimulationJson, renderSimulationSummary } from '../../fleet/views.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { readFleetInput, readModels, readScenarioOptions, readTimeExceededLimit } from '../fleet-args.js';
import { loadCliSettings } from '../load-cli-settings.js';

type SimulateCommandOptions = CommandOptions<'simulate'>;

/** Redraws of the progress line at most this often. */
const PROGRESS_REDRAW_MS = 200;

export async function run(options: SimulateCommandOptions, context: CliContext): Promise<number> {
  const { output } = context;
  const settings = await loadCliSettings(options, context);
  const fleet = buildFleet(await readFleetInput(options, settings, context));
  const scenario = planScenario(options.scenario ?? 'steady', settings, readScenarioOptions(options));
  const models = readModels(options);
  const timeExceededLimit = readTimeExceededLimit(options);
  // Checked before the run, which may take a minute: a typo in the path should not cost it.
  if (options.svg !== undefined)
    await access(dirname(resolve(context.cwd, options.svg)), constants.W_OK).catch((error: NodeJS.ErrnoException) =>
      failSvg(options.svg!, error),
    );
  const reached = new Map<string, number>();
  let drawnAtMs = 0;
  let result: SimulationResult | undefined;
  try {
    [result] = await simulateScenarios({
      fleet,
      settings,
      scenarios: [scenario],
      models,
      ...(timeExceededLimit === undefined ? {} : { timeExceededLimit }),
      signal: context.signal,
      onProgress: (progress) => {
        reached.set(progress.model, Math.max(0, progress.atSeconds) / progress.durationSeconds);
        const nowMs = performance.now();
        if (nowMs - drawnAtMs < PROGRESS_REDRAW_MS) return;
        drawnAtMs = nowMs;
        output.progress(
          `simulating ${fleet.clientIds.length.toLocaleString('en-US')} endpoints, ${scenario.name}: ${[...reached].map(([model, share]) => `${model} ${Math.round(share * 100)} %`).join(', ')}`,
        );
      },
    });
  } finally {
    output.endProgress();
  }
  if (options.svg !== undefined)
    await writeFile(resolve(context.cwd, options.svg), renderSimulationSvg(result!)).catch(
      (error: NodeJS.ErrnoException) => failSvg(options.svg!, error),
    );
  if (output.json) output.data(renderSimulationJson(result!));
  else {
    for (const line of renderSimulationSummary(result!)) output.line(line);
    if (options.svg !== undefined) output.line(`picture: ${options.svg}`);
  }
  return exitCode('ok');
}

function failSvg(file: string, error: NodeJS.ErrnoException): never {
  throw new RelaySelectError(
    'OUTPUT_UNWRITABLE',
    `--svg ${file}: cannot write the picture there (${error.code ?? error.message})`,
    { cause: error, hint: 'name a file in a directory you can write' },
  );
}
