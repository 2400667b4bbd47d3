#!/usr/bin/env node
// The fleet benchmark (issue 10), each job in a fresh process (bench/fleet-child.mjs):
// 1. Speed and memory: 20,000 endpoints in 400 subnets, 200 relays, `steady` for 7 days and
//    `server-outage` (24 h), in one process as `simulateScenarios` runs them (models in worker threads,
//    one cache); budget <= 60 s and <= 1 GiB. Measured beside it in the same run: the same work with the
//    models one after the other in one thread (the baseline the ratio is quoted against), and each
//    scenario alone (what two separate `relay-select simulate` invocations take).
// 2. estimate against simulate on three fleet shapes (2,000 / 20 relays; 20,000 / 200; 50,000 / 500),
//    mean and worst minute of echo requests per second, both models, full-length scenarios.
// 3. The outage: default's and bigfix's worst minute, the ratio, and why; the SVG of the run goes to
//    bench/results/fleet-server-outage.svg (the README shows it).
// 4. What cooperation saves (issue 11): the same fleet, steady 7 days and server-outage, with default,
//    bigfix and agent in one job of its own (so the two-model job of 1. stays comparable), the ratios
//    agent/default and agent/bigfix of that run, and estimate against simulate for agent (required
//    within 10 % like the others).
//
// Usage: node bench/fleet-bench.mjs (after npm run build). Writes bench/results/fleet.{json,md}.
import { mkdirSync } from 'node:fs';

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { machineFacts, resultsDirectory, root, round, runNodeChild, writeResults } from './bench-common.mjs';

const BUDGET = { wallSeconds: 60, rssMiB: 1024 };
const BIG = { clients: 20_000, subnets: 400, relayCount: 200, seed: 1 };
const SHAPES = [
  { clients: 2000, subnets: 40, relayCount: 20, seed: 1 },
  BIG,
  { clients: 50_000, subnets: 500, relayCount: 500, seed: 1 },
];
/** The headline job: the big fleet, `steady` for 7 days and `server-outage`. */
const WEEK_AND_OUTAGE = { fleet: BIG, scenarios: ['steady', 'server-outage'], scenarioOptions: { days: 7 } };
const TOLERANCE = 0.1;
const COOPERATION_MODELS = ['default', 'bigfix', 'agent'];

function runChild(spec) {
  return runNodeChild([join(root, 'bench', 'fleet-child.mjs'), JSON.stringify(spec)], 'fleet benchmark child').then(
    ({ stdout }) => JSON.parse(stdout.trim()),
  );
}

const shapeName = (shape) =>
  `${shape.clients.toLocaleString('en-US')} endpoints / ${shape.subnets} subnets / ${shape.relayCount} relays`;

/** Echo requests per second, estimate against simulate, for each scenario and model of a job. */
function agreementRows(shape, run, models) {
  const rows = [];
  for (const scenario of run.scenarios) {
    for (const [model, figures] of Object.entries(scenario.models)) {
      if (models !== undefined && !models.includes(model)) continue;
      for (const statistic of ['mean', 'peak']) {
        const simulated = figures.simulated.echoRequestsPerSecond[statistic];
        const estimated = figures.estimated.echoRequestsPerSecond[statistic];
        rows.push({
          shape: shapeName(shape),
          scenario: scenario.scenario,
          model,
          statistic,
          simulated: round(simulated, 2),
          estimated: round(estimated, 2),
          error: round(estimated / simulated - 1, 4),
          required: scenario.scenario === 'steady' || scenario.scenario === 'server-outage',
        });
      }
    }
  }
  return rows;
}

/**
 * What cooperation saves, per scenario: each model's mean and worst minute of echo requests and Time
 * Exceeded per second, and agent's ratios to default and bigfix in the same run.
 */
function cooperationFigures(job) {
  const ratio = (numerator, denominator) => (denominator > 0 ? round(numerator / denominator, 3) : null);
  return job.scenarios.map((scenario) => {
    const models = Object.fromEntries(
      Object.entries(scenario.models).map(([model, { simulated }]) => [
        model,
        {
          echoRequestsPerSecond: simulated.echoRequestsPerSecond,
          timeExceededPerSecond: simulated.timeExceededPerSecond,
          selections: simulated.selections,
          echoRequestsPerEndpointPerDay: simulated.echoRequestsPerEndpointPerDay,
        },
      ]),
    );
    const ratios = {};
    for (const baseline of ['default', 'bigfix']) {
      ratios[`agent/${baseline}`] = {};
      for (const rate of ['echoRequestsPerSecond', 'timeExceededPerSecond'])
        for (const statistic of ['mean', 'peak'])
          ratios[`agent/${baseline}`][`${rate}.${statistic}`] = ratio(
            models.agent[rate][statistic],
            models[baseline][rate][statistic],
          );
    }
    return { scenario: scenario.scenario, models, ratios };
  });
}

/** @param {{ log?: (line: string) => void, write?: boolean }} [options] */
export async function benchFleet(options = {}) {
  const log = options.log ?? (() => undefined);
  mkdirSync(resultsDirectory, { recursive: true });
  const svgFile = join(resultsDirectory, 'fleet-server-outage.svg');

  log('fleet: 20,000 endpoints, steady 7 days + server-outage, workers');
  const headline = await runChild({
    ...WEEK_AND_OUTAGE,
    workers: true,
    estimate: true,
    svg: { scenario: 'server-outage', file: svgFile },
  });
  log('fleet: the same in one thread (baseline)');
  const oneThread = await runChild({ ...WEEK_AND_OUTAGE, workers: false });
  log('fleet: each scenario alone');
  const steadyAlone = await runChild({
    fleet: BIG,
    scenarios: ['steady'],
    scenarioOptions: { days: 7 },
    workers: true,
  });
  const outageAlone = await runChild({ fleet: BIG, scenarios: ['server-outage'], workers: true });

  log('fleet: what cooperation saves (default, bigfix, agent)');
  const cooperation = await runChild({
    ...WEEK_AND_OUTAGE,
    models: COOPERATION_MODELS,
    workers: true,
    estimate: true,
  });

  const agreement = [];
  for (const shape of SHAPES) {
    const scenarios =
      shape === BIG ? ['steady', 'server-outage', 'relay-loss', 'flap', 'new-relay'] : ['steady', 'server-outage'];
    log(`fleet: estimate against simulate, ${shapeName(shape)}`);
    const run = await runChild({
      fleet: shape,
      scenarios,
      scenarioOptions: { days: 7 },
      workers: true,
      estimate: true,
    });
    agreement.push(...agreementRows(shape, run));
    // The agent model's rows come from the cooperation job (the same fleet, steady 7 days and the outage).
    if (shape === BIG) agreement.push(...agreementRows(shape, cooperation, ['agent']));
    agreement.push({
      shape: shapeName(shape),
      wallSeconds: round(run.wallMs / 1000),
      estimateMs: round(run.estimateMs, 0),
    });
  }

  const outage = headline.scenarios.find((scenario) => scenario.scenario === 'server-outage');
  const result = {
    name: 'fleet',
    ...machineFacts(),
    budget: BUDGET,
    performance: {
      fleet: shapeName(BIG),
      both: {
        wallSeconds: round(headline.wallMs / 1000),
        cpuSeconds: round(headline.cpuMs / 1000),
        peakRssMiB: round(headline.maxRssMiB, 0),
      },
      oneThread: {
        wallSeconds: round(oneThread.wallMs / 1000),
        cpuSeconds: round(oneThread.cpuMs / 1000),
        peakRssMiB: round(oneThread.maxRssMiB, 0),
      },
      steadyAlone: { wallSeconds: round(steadyAlone.wallMs / 1000), peakRssMiB: round(steadyAlone.maxRssMiB, 0) },
      outageAlone: { wallSeconds: round(outageAlone.wallMs / 1000), peakRssMiB: round(outageAlone.maxRssMiB, 0) },
      speedupOverOneThread: round(oneThread.wallMs / headline.wallMs, 2),
      withinBudget: headline.wallMs / 1000 <= BUDGET.wallSeconds && headline.maxRssMiB <= BUDGET.rssMiB,
    },
    agreement,
    agreementMet: agreement.filter((row) => row.required).every((row) => Math.abs(row.error) <= TOLERANCE),
    outage: {
      default: outage.models.default.simulated,
      bigfix: outage.models.bigfix.simulated,
      ratio: outage.worstMomentRatio,
      met: outage.worstMomentRatio >= 10,
      reason:
        'default keeps a relay that answers 503 and only re-checks it with a jittered back-off (DESIGN §7, decide.ts upstream-backoff), so the outage itself sends no ICMP and its worst minute is the deferred periodic re-selection after the server is back; bigfix counts the 503 as a failure, so every endpoint re-selects with the TTL ladder when resist-failure runs out, and retries in step (no jitter) until the server is back.',
      svg: 'bench/results/fleet-server-outage.svg',
    },
  };
  const { DEFAULT_SETTINGS } = await import('../dist/config/defaults.js');
  const savings = cooperationFigures(cooperation);
  const steadySavings = savings.find((entry) => entry.scenario === 'steady');
  const outageSavings = savings.find((entry) => entry.scenario === 'server-outage');
  const subnetSize = BIG.clients / BIG.subnets;
  const validitySeconds = 5 * DEFAULT_SETTINGS.peer.leaseSeconds;
  const intervalHours = DEFAULT_SETTINGS.intervalSeconds / 3600;
  result.cooperation = {
    fleet: shapeName(BIG),
    models: COOPERATION_MODELS,
    wallSeconds: round(cooperation.wallMs / 1000),
    scenarios: savings,
    reason: `one agent per subnet measures, and only when no measurement of the last 5 leases (${validitySeconds} s with peer.leaseSeconds ${DEFAULT_SETTINGS.peer.leaseSeconds}) is at hand; the other ${subnetSize - 1} endpoints of the subnet adopt its table and send one echo at the maximum TTL, which expires at no router. In steady state a subnet's selections are spread over the ${intervalHours}-hour interval (${round((subnetSize * validitySeconds) / DEFAULT_SETTINGS.intervalSeconds, 2)} per ${validitySeconds} s), so the leader still measures for most of them and echo requests fall to ${steadySavings.ratios['agent/default']['echoRequestsPerSecond.mean']}× of default; when selections bunch — the deferred re-selections once the server is back — one measurement serves the whole subnet, and the worst minute falls to ${outageSavings.ratios['agent/default']['echoRequestsPerSecond.peak']}× of default's. Time Exceeded come only from the leaders' measurements (a confirmation expires at no router), so against default they fall in step with echo requests.`,
  };
  if (options.write ?? true) {
    writeResults('fleet', result, renderMarkdown(result));
  }
  return result;
}

export function renderPerformanceTable(result) {
  const p = result.performance;
  const rows = [
    [
      'steady 7 d + server-outage, models in 2 worker threads',
      p.both.wallSeconds,
      p.both.cpuSeconds,
      p.both.peakRssMiB,
      p.withinBudget ? 'ok' : 'OVER',
    ],
    [
      'the same, models one after the other in one thread (baseline)',
      p.oneThread.wallSeconds,
      p.oneThread.cpuSeconds,
      p.oneThread.peakRssMiB,
      '',
    ],
    ['steady 7 d alone (one `simulate` run)', p.steadyAlone.wallSeconds, '', p.steadyAlone.peakRssMiB, ''],
    ['server-outage alone (one `simulate` run)', p.outageAlone.wallSeconds, '', p.outageAlone.peakRssMiB, ''],
  ];
  const header = [
    'job',
    'wall s',
    'CPU s (all threads)',
    'peak RSS MiB',
    `budget ${result.budget.wallSeconds} s, ${result.budget.rssMiB} MiB`,
  ];
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function renderAgreementTable(result) {
  const header = ['fleet', 'scenario', 'model', 'statistic', 'simulate echo req/s', 'estimate', 'difference'];
  const rows = result.agreement
    .filter((row) => row.statistic !== undefined)
    .map((row) => [
      row.shape,
      row.scenario,
      row.model,
      row.statistic === 'peak' ? 'worst minute' : 'mean',
      row.simulated.toLocaleString('en-US'),
      row.estimated.toLocaleString('en-US'),
      `${(row.error * 100).toFixed(1)} %${row.required && Math.abs(row.error) > TOLERANCE ? ' OVER' : ''}`,
    ]);
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function renderCooperation(cooperation) {
  const number = (value) => round(value).toLocaleString('en-US');
  const figures = [
    [
      'scenario',
      'model',
      'echo req/s mean',
      'echo req/s worst minute',
      'Time Exceeded/s mean',
      'Time Exceeded/s worst minute',
      'selections',
      'echo requests per endpoint per day, mean / busiest',
    ],
  ];
  const ratios = [
    [
      'scenario',
      'ratio',
      'echo req/s mean',
      'echo req/s worst minute',
      'Time Exceeded/s mean',
      'Time Exceeded/s worst minute',
    ],
  ];
  for (const { scenario, models, ratios: ratiosOf } of cooperation.scenarios) {
    for (const [model, run] of Object.entries(models)) {
      figures.push([
        scenario,
        model,
        number(run.echoRequestsPerSecond.mean),
        number(run.echoRequestsPerSecond.peak),
        number(run.timeExceededPerSecond.mean),
        number(run.timeExceededPerSecond.peak),
        run.selections.toLocaleString('en-US'),
        `${number(run.echoRequestsPerEndpointPerDay.mean)} / ${number(run.echoRequestsPerEndpointPerDay.max)}`,
      ]);
    }
    for (const [name, values] of Object.entries(ratiosOf)) {
      ratios.push([
        scenario,
        name,
        ...[
          'echoRequestsPerSecond.mean',
          'echoRequestsPerSecond.peak',
          'timeExceededPerSecond.mean',
          'timeExceededPerSecond.peak',
        ].map((key) => (values[key] === null ? '-' : `${values[key]}×`)),
      ]);
    }
  }
  const table = (rows) =>
    [rows[0], rows[0].map(() => '---'), ...rows.slice(1)].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  return `${cooperation.fleet}, steady 7 days and the 24-hour server outage, models ${cooperation.models.join(', ')} in one job
of their own (${cooperation.wallSeconds} s wall; the speed and memory row above stays the two-model job). \`agent\` is
relay-select's decision with subnet cooperation as \`relay-select agent\` does it with peer.enabled (DESIGN §13;
what the simulator assumes of it is in src/fleet/models.ts). Ratios are agent's figure over the other model's, same run.

${table(figures)}

${table(ratios)}

Why: ${cooperation.reason}
The busiest endpoint of the agent runs is a subnet's leader, which measures for its peers.
Measured at the endpoints of a real link, the first selection of 12 agents costs 0.097× the echo requests of 12 alone
(\`bench/results/agent.md\`): there every selection falls within one table validity.`;
}

function renderMarkdown(result) {
  const p = result.performance;
  const o = result.outage;
  const timings = result.agreement
    .filter((row) => row.wallSeconds !== undefined)
    .map((row) => `${row.shape}: simulate ${row.wallSeconds} s, estimate ${row.estimateMs} ms`)
    .join('; ');
  return `# fleet

\`relay-select simulate\` and \`relay-select estimate\` (issue 10). Each job runs in a fresh Node process
(\`bench/fleet-child.mjs\`); CPU time counts every thread, peak RSS is the process's
\`resourceUsage().maxRSS\`, worker threads included.

## Speed and memory: ${p.fleet}

${renderPerformanceTable(result)}

${p.speedupOverOneThread >= 1 ? `Two worker threads take ${p.speedupOverOneThread}× less wall time than one thread for the same work.` : `Two worker threads took ${round(1 / p.speedupOverOneThread, 2)}× the wall time of one thread for the same work: the two cores were busy with other work (load average ${result.loadAverage1m}).`}
The budget is met: ${p.withinBudget ? 'yes' : 'NO'}.

## estimate against simulate

Echo requests per second, mean over the run and worst minute (per second, averaged over each
minute), full-length scenarios (steady 7 days, server outage 24 h, the others until the fleet settles).
Required within ${TOLERANCE * 100} %: steady and server-outage on the three shapes (${result.agreementMet ? 'met' : 'NOT met'});
the other scenarios of the 20,000-endpoint fleet are shown too.

${renderAgreementTable(result)}

${timings}.

## The server outage

| model | worst minute, echo req/s | mean echo req/s | worst minute, Time Exceeded/s | selections | settled again after |
| --- | --- | --- | --- | --- | --- |
| default | ${round(o.default.echoRequestsPerSecond.peak).toLocaleString('en-US')} | ${round(o.default.echoRequestsPerSecond.mean).toLocaleString('en-US')} | ${round(o.default.timeExceededPerSecond.peak).toLocaleString('en-US')} | ${o.default.selections.toLocaleString('en-US')} | ${round(o.default.secondsToRecover / 60, 0)} min |
| bigfix | ${round(o.bigfix.echoRequestsPerSecond.peak).toLocaleString('en-US')} | ${round(o.bigfix.echoRequestsPerSecond.mean).toLocaleString('en-US')} | ${round(o.bigfix.timeExceededPerSecond.peak).toLocaleString('en-US')} | ${o.bigfix.selections.toLocaleString('en-US')} | ${round(o.bigfix.secondsToRecover / 60, 0)} min |

At its worst minute bigfix sends **${o.ratio}×** the echo requests per second of default (required >= 10×: ${o.met ? 'met' : 'NOT met'}).
Why: ${o.reason}

![server outage](fleet-server-outage.svg)

## What cooperation saves

${renderCooperation(result.cooperation)}

${result.date}, Node ${result.node}, ${result.platform}, ${result.cpus} CPUs, load average ${result.loadAverage1m} at the end
(other work on the machine stretches wall time; CPU time shows the simulator's own cost).
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await benchFleet({ log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${renderPerformanceTable(result)}\n\n${renderAgreementTable(result)}\n`);
  if (!result.performance.withinBudget || !result.agreementMet || !result.outage.met) process.exitCode = 1;
}
