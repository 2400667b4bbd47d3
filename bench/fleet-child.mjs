#!/usr/bin/env node
// One fleet-benchmark job in a fresh process (bench/fleet-bench.mjs starts it): builds the fleet,
// simulates the scenarios asked for (one cache, the models in worker threads unless told otherwise),
// optionally estimates the same timelines and draws one run as SVG, then prints one JSON line with the
// figures and the wall time, CPU time (all threads) and peak RSS of this process.
//
// Usage: node bench/fleet-child.mjs '{"fleet":{...},"scenarios":[...],"scenarioOptions":{...},"models":["default","bigfix"],"workers":true,"estimate":true,"svg":{"scenario":"server-outage","file":"..."}}'
// ("models" is optional: default and bigfix, as `simulate` and `estimate` take them without --model.)
import { writeFileSync } from 'node:fs';

const spec = JSON.parse(process.argv[2] ?? '{}');
const { DEFAULT_SETTINGS } = await import('../dist/config/defaults.js');
const { buildFleet, profilesOfFleet } = await import('../dist/fleet/fleet-input.js');
const { simulateScenarios } = await import('../dist/fleet/parallel.js');
const { planScenario } = await import('../dist/fleet/scenarios.js');
const { estimateFleet } = await import('../dist/fleet/estimate.js');
const { renderSimulationSvg } = await import('../dist/fleet/chart-svg.js');
const { worstMomentRatio } = await import('../dist/fleet/views.js');

const startMs = performance.now();
const startCpu = process.cpuUsage();
const fleet = buildFleet(spec.fleet);
const plans = spec.scenarios.map((name) => planScenario(name, DEFAULT_SETTINGS, spec.scenarioOptions ?? {}));
const results = await simulateScenarios({
  fleet,
  settings: DEFAULT_SETTINGS,
  scenarios: plans,
  ...(spec.models === undefined ? {} : { models: spec.models }),
  workers: spec.workers !== false,
});
const wallMs = performance.now() - startMs;
const cpu = process.cpuUsage(startCpu);

let estimateMs = null;
let estimate = null;
if (spec.estimate) {
  const estimateStart = performance.now();
  const { profiles, withNewRelay } = profilesOfFleet(fleet, DEFAULT_SETTINGS.seekList);
  estimate = estimateFleet({
    settings: DEFAULT_SETTINGS,
    profiles,
    profilesWithNewRelay: withNewRelay,
    plans,
    ...(spec.models === undefined ? {} : { models: spec.models }),
  });
  estimateMs = performance.now() - estimateStart;
}
if (spec.svg)
  writeFileSync(spec.svg.file, renderSimulationSvg(results.find((result) => result.scenario === spec.svg.scenario)));

const pair = (value) => ({ mean: value.mean, peak: value.peak });
const scenarios = results.map((result) => ({
  scenario: result.scenario,
  durationSeconds: result.durationSeconds,
  worstMomentRatio: worstMomentRatio(result),
  models: Object.fromEntries(
    Object.entries(result.models).map(([model, run]) => [
      model,
      {
        simulated: {
          echoRequestsPerSecond: pair(run.echoRequestsPerSecond),
          timeExceededPerSecond: pair(run.timeExceededPerSecond),
          selections: run.selections,
          echoRequestsPerEndpointPerDay: run.echoRequestsPerEndpointPerDay,
          secondsToRecover: run.secondsToRecover,
          peakAtSeconds: run.peakAtSeconds,
          clientsPerRelay: { max: run.clientsPerRelay.max, mean: run.clientsPerRelay.mean },
        },
        estimated:
          estimate === null
            ? null
            : {
                echoRequestsPerSecond: pair(estimate.models[model].scenarios[result.scenario].echoRequestsPerSecond),
                timeExceededPerSecond: pair(estimate.models[model].scenarios[result.scenario].timeExceededPerSecond),
              },
      },
    ]),
  ),
}));
process.stdout.write(
  `${JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024, estimateMs, clients: fleet.clientIds.length, subnets: fleet.subnets.length, relays: fleet.relays.length, scenarios })}\n`,
);
