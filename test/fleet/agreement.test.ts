/**
 * `estimate` against `simulate` (issue 10): within 10 % on the mean and the worst minute of echo
 * requests per second, default and bigfix (and agent, issue 11, on the 20,000-endpoint shape), in
 * steady state and through a server outage, on three fleet shapes.
 *
 * Kept fast (about half a minute on an idle 2-core machine): both sides get the same short timeline,
 * steady for half a day and an outage of 2 hours (the estimate's worst minute is the expected maximum
 * over the window it is given, so short windows compare as well as long ones; `npm run bench` compares
 * the full 7 days and 24 hours, bench/results/fleet.md). The simulations run from dist/ (built by
 * `npm test`) so that each model runs in its own worker thread, and both scenarios of a shape share one
 * cache (the installed fleet's probes and selections), as `simulateScenarios` does. The
 * 50,000-endpoint shape has 100 endpoints in each of its 500 subnets. The CLI's JSON contracts are
 * checked in cli.test.ts. On a machine shared with other work the largest shape takes minutes, so the
 * time allowed is generous: this test checks agreement, the benchmark measures speed.
 */
import { describe, expect, it } from 'vitest';
import type * as Estimate from '../../src/fleet/estimate.js';
import type * as Input from '../../src/fleet/fleet-input.js';
import type * as Parallel from '../../src/fleet/parallel.js';
import type * as Scenarios from '../../src/fleet/scenarios.js';
import type * as Defaults from '../../src/config/defaults.js';
import { REPO_ROOT } from '../helpers/cli.js';

const dist = async <T>(path: string): Promise<T> => (await import(`${REPO_ROOT}/dist/${path}`)) as T;

// The agent model (subnet cooperation) is checked on the 20,000-endpoint shape, as `npm run bench` shows it.
const SHAPES = [
  { clients: 2000, subnets: 40, relays: 20, models: ['default', 'bigfix'] as const },
  { clients: 20_000, subnets: 400, relays: 200, models: ['default', 'bigfix', 'agent'] as const },
  { clients: 50_000, subnets: 500, relays: 500, models: ['default', 'bigfix'] as const },
];
const TOLERANCE = 0.1;

describe('estimate agrees with simulate', () => {
  it.each(SHAPES)(
    '$clients endpoints, $subnets subnets, $relays relays: within 10 %',
    { timeout: 240_000 },
    async ({ clients, subnets, relays, models }) => {
      const { buildFleet, profilesOfFleet } = await dist<typeof Input>('fleet/fleet-input.js');
      const { simulateScenarios } = await dist<typeof Parallel>('fleet/parallel.js');
      const { estimateFleet } = await dist<typeof Estimate>('fleet/estimate.js');
      const { planScenario } = await dist<typeof Scenarios>('fleet/scenarios.js');
      const { DEFAULT_SETTINGS } = await dist<typeof Defaults>('config/defaults.js');
      const fleet = buildFleet({ clients, subnets, relayCount: relays, seed: 1 });
      const plans = [
        planScenario('steady', DEFAULT_SETTINGS, { days: 0.5 }),
        planScenario('server-outage', DEFAULT_SETTINGS, { outageSeconds: 7200 }),
      ];
      const simulated = await simulateScenarios({ fleet, settings: DEFAULT_SETTINGS, scenarios: plans, models });
      const { profiles, withNewRelay } = profilesOfFleet(fleet, []);
      const estimated = estimateFleet({
        settings: DEFAULT_SETTINGS,
        profiles,
        profilesWithNewRelay: withNewRelay,
        plans,
        models,
      });
      const rows: string[] = [];
      for (const model of models) {
        simulated.forEach((result) => {
          const sim = result.models[model]!.echoRequestsPerSecond;
          const est = estimated.models[model]!.scenarios[result.scenario]!.echoRequestsPerSecond;
          for (const statistic of ['mean', 'peak'] as const) {
            const error = est[statistic] / sim[statistic] - 1;
            rows.push(
              `${model} ${result.scenario} ${statistic}: simulate ${sim[statistic].toFixed(1)}, estimate ${est[statistic].toFixed(1)} (${(error * 100).toFixed(1)} %)`,
            );
            expect(Math.abs(error), rows.join('\n')).toBeLessThanOrEqual(TOLERANCE);
          }
        });
      }
    },
  );
});
