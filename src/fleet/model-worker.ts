/**
 * Worker-thread entry of `simulateInWorkers`: simulates one model through every scenario asked for,
 * sharing one cache between them, and posts each run back. Progress goes out as messages; errors as
 * their code and message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isRelaySelectError } from '../errors.js';
import type { ModelName } from './models.js';
import type { ScenarioPlan } from './scenarios.js';
import { createSimulationCache, simulateModel, type ModelRun, type SimulateOptions } from './simulate.js';

export interface ModelWorkerData {
  options: Omit<SimulateOptions, 'onProgress' | 'signal' | 'scenario'>;
  scenarios: ScenarioPlan[];
  model: ModelName;
}

export type ModelWorkerMessage =
  | { type: 'progress'; scenario: number; atSeconds: number }
  | { type: 'done'; runs: ModelRun[] }
  | { type: 'error'; code: string | null; message: string };

const port = parentPort!;
const { options, scenarios, model } = workerData as ModelWorkerData;
try {
  const cache = createSimulationCache(options.fleet, options.settings);
  const runs: ModelRun[] = [];
  for (const [index, scenario] of scenarios.entries()) {
    const onProgress = (progress: { atSeconds: number }): void =>
      port.postMessage({
        type: 'progress',
        scenario: index,
        atSeconds: progress.atSeconds,
      } satisfies ModelWorkerMessage);
    runs.push(await simulateModel({ ...options, scenario, onProgress }, model, undefined, cache));
  }
  port.postMessage({ type: 'done', runs } satisfies ModelWorkerMessage);
} catch (error) {
  port.postMessage({
    type: 'error',
    code: isRelaySelectError(error) ? error.code : null,
    message: error instanceof Error ? error.message : String(error),
  } satisfies ModelWorkerMessage);
}
