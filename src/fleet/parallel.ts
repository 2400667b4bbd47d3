/**
 * Runs a simulation's models side by side, one worker thread per model: they share nothing but the
 * fleet and the events, so on two cores two models take the time of one. Each worker takes its model
 * through every scenario asked for with one cache, so later scenarios reuse the probes and selections
 * of the installed fleet. The results are those of `simulateFleet` (the same deterministic computation).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RelaySelectError, type ErrorCode } from '../errors.js';
import type { ModelName } from './models.js';
import type { ModelWorkerData, ModelWorkerMessage } from './model-worker.js';
import type { ScenarioPlan } from './scenarios.js';
import {
  createSimulationCache,
  DEFAULT_MODELS,
  prepareSimulation,
  simulateModel,
  type ModelRun,
  type SimulateOptions,
  type SimulateProgress,
  type SimulationResult,
} from './simulate.js';

/** A young generation this large makes the selections' short-lived garbage cheap to collect. */
const WORKER_YOUNG_GENERATION_MB = 32;

/**
 * Old generation of each worker: what a run keeps (state, memos, footprints: a few KiB per endpoint)
 * and room above it. Without a limit V8 lets garbage pile up to gigabytes before collecting it.
 */
export function workerHeapLimitMb(clients: number): number {
  return 192 + Math.ceil((clients * 4) / 1024);
}

export interface SimulateScenariosOptions extends Omit<SimulateOptions, 'scenario' | 'onProgress'> {
  scenarios: ScenarioPlan[];
  onProgress?: (progress: SimulateProgress & { scenario: ScenarioPlan['name'] }) => void;
  /** Use worker threads when there are two models and two cores. @default true */
  workers?: boolean;
}

/** One result per scenario, in the order given. */
export async function simulateScenarios(options: SimulateScenariosOptions): Promise<SimulationResult[]> {
  const { scenarios, onProgress, workers, ...rest } = options;
  const models = options.models ?? DEFAULT_MODELS;
  const results = scenarios.map((scenario) => prepareSimulation({ ...rest, scenario }).result);
  const report = (model: ModelName, scenario: number, atSeconds: number): void =>
    onProgress?.({
      model,
      scenario: scenarios[scenario]!.name,
      atSeconds,
      durationSeconds: scenarios[scenario]!.durationSeconds,
    });
  const runsPerModel =
    workers !== false && models.length > 1 && availableParallelism() > 1
      ? await Promise.all(
          models.map((model) =>
            runInWorker(
              { options: withoutCallbacks(rest), scenarios, model },
              (scenario, atSeconds) => report(model, scenario, atSeconds),
              options.signal,
            ),
          ),
        )
      : await runInThisThread(rest, scenarios, models, report);
  models.forEach((model, index) =>
    runsPerModel[index]!.forEach((run, scenario) => (results[scenario]!.models[model] = run)),
  );
  return results;
}

function withoutCallbacks(options: Omit<SimulateOptions, 'scenario' | 'onProgress'>): ModelWorkerData['options'] {
  const { signal: _signal, ...rest } = options;
  return rest;
}

async function runInThisThread(
  options: Omit<SimulateOptions, 'scenario' | 'onProgress'>,
  scenarios: ScenarioPlan[],
  models: readonly ModelName[],
  report: (model: ModelName, scenario: number, atSeconds: number) => void,
): Promise<ModelRun[][]> {
  const cache = createSimulationCache(options.fleet, options.settings);
  const runs: ModelRun[][] = [];
  for (const model of models) {
    const perScenario: ModelRun[] = [];
    for (const [index, scenario] of scenarios.entries()) {
      perScenario.push(
        await simulateModel(
          { ...options, scenario, onProgress: (progress) => report(model, index, progress.atSeconds) },
          model,
          undefined,
          cache,
        ),
      );
    }
    runs.push(perScenario);
  }
  return runs;
}

function runInWorker(
  data: ModelWorkerData,
  onProgress: (scenario: number, atSeconds: number) => void,
  signal: AbortSignal | undefined,
): Promise<ModelRun[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./model-worker.js', import.meta.url), {
      workerData: data,
      resourceLimits: {
        maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
        maxOldGenerationSizeMb: workerHeapLimitMb(data.options.fleet.clientIds.length),
      },
    });
    const stop = (): void => {
      void worker.terminate();
      reject(new RelaySelectError('ABORTED', 'simulation aborted', { cause: signal?.reason }));
    };
    if (signal?.aborted) return stop();
    signal?.addEventListener('abort', stop, { once: true });
    const settle = (): void => signal?.removeEventListener('abort', stop);
    worker.on('message', (message: ModelWorkerMessage) => {
      if (message.type === 'progress') return onProgress(message.scenario, message.atSeconds);
      settle();
      if (message.type === 'done') resolve(message.runs);
      else reject(new RelaySelectError((message.code as ErrorCode | null) ?? 'INTERNAL', message.message));
    });
    worker.on('error', (error) => {
      settle();
      reject(new RelaySelectError('INTERNAL', `simulation worker failed: ${error.message}`, { cause: error }));
    });
  });
}
