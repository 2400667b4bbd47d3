/** `relay-select simulate` and `relay-select estimate` as a user runs them (the built CLI). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetEstimate } from '../../src/fleet/estimate.js';
import type { ModelName } from '../../src/fleet/models.js';
import type { SimulationJson } from '../../src/fleet/views.js';
import { runCli } from '../helpers/cli.js';
import { HAND_COUNTED_TOPOLOGY } from './builders.js';

const directory = mkdtempSync(join(tmpdir(), 'relay-select-fleet-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const SMALL = ['--clients', '300', '--relay-count', '8'];

const MODELS: ModelName[] = ['default', 'bigfix'];

/** What `estimate --json` prints: the estimate (numbers rounded) and the fleet it was made for. */
type EstimateJson = FleetEstimate & { relays: number; subnets: number };

/** The command's `--json` object, as `Json` says it is shaped. */
async function json<Json>(args: string[]): Promise<Json> {
  const run = await runCli([...args, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Json;
}

describe('relay-select simulate', () => {
  it('--json gives the contract: clients, relays, scenario, and per model rates, selections, clients per relay, recovery', async () => {
    const result = await json<SimulationJson>([
      'simulate',
      ...SMALL,
      '--scenario',
      'server-outage',
      '--outage-hours',
      '3',
    ]);
    expect(result).toMatchObject({ clients: 300, relays: 8, scenario: 'server-outage' });
    for (const model of MODELS) {
      const run = result.models[model]!;
      expect(run).toMatchObject({
        echoRequestsPerSecond: { mean: expect.any(Number), peak: expect.any(Number) },
        timeExceededPerSecond: { mean: expect.any(Number), peak: expect.any(Number) },
        selections: expect.any(Number),
        clientsPerRelay: { max: expect.any(Number), mean: expect.any(Number) },
        secondsToRecover: expect.any(Number),
      });
      expect(run.echoRequestsPerSecond.peak).toBeGreaterThan(run.echoRequestsPerSecond.mean);
    }
    expect(result.worstMomentRatio).toBeGreaterThanOrEqual(10);
  });

  it('prints a summary with sparklines, the ratio and its reason, and draws an SVG a browser can show', async () => {
    const svg = join(directory, 'outage.svg');
    const run = await runCli([
      'simulate',
      ...SMALL,
      '--scenario',
      'server-outage',
      '--outage-hours',
      '3',
      '--svg',
      svg,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^model +echo req\/s mean/m);
    expect(run.stdout).toMatch(/[▁▂▃▄▅▆▇█]{10}/);
    expect(run.stdout).toMatch(
      /worst minute: bigfix sends [\d.,]+× the echo requests per second of default\. default keeps a relay that answers 503/,
    );
    const picture = readFileSync(svg, 'utf8');
    expect(picture.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(picture.match(/<polyline /g)).toHaveLength(4);
    expect(picture).toContain('server down');
    expect(picture).toContain('clients per relay at the end');
    expect(picture.trim().endsWith('</svg>')).toBe(true);
  });

  it('runs a topology file and the relay list it places', async () => {
    const topology = join(directory, 'fleet.json');
    writeFileSync(topology, JSON.stringify(HAND_COUNTED_TOPOLOGY));
    const result = await json<SimulationJson>([
      'simulate',
      '--topology',
      topology,
      '--days',
      '1',
      '--model',
      'default',
    ]);
    expect(result).toMatchObject({ clients: 3, relays: 2, subnets: 1 });
    expect(Object.keys(result.models)).toEqual(['default']);
    expect(result.models.default!.clientsPerRelay.relays.map((relay) => [relay.name, relay.clients])).toEqual([
      ['near', 3],
      ['far', 0],
    ]);
  });

  it.each([
    [['--clients', '0'], 64, /--clients 0: expected a whole number from 1 to 1,000,000/],
    [['--clients', '2.5'], 64, /--clients 2.5: expected a whole number/],
    [
      ['--scenario', 'meltdown'],
      64,
      /--scenario: "meltdown" is not allowed; allowed steady, server-outage, relay-loss, flap, new-relay/,
    ],
    [['--days', '-1'], 64, /--days -1: expected a number above 0/],
    [['--clients', '10', '--subnets', '11'], 64, /--subnets 11: expected a whole number from 1 to 10/],
    [['--topology', '/nonexistent/fleet.json'], 65, /\/nonexistent\/fleet.json: cannot read the topology: ENOENT/],
    [
      ['--svg', '/nonexistent/picture.svg'],
      73,
      /--svg \/nonexistent\/picture.svg: cannot write the picture there \(ENOENT\)/,
    ],
    [['--time-exceeded-burst', '0'], 64, /--time-exceeded-burst 0: expected a whole number from 1/],
  ])('%j: exit %i, one line naming the problem', async (args, code, message) => {
    const run = await runCli(['simulate', ...args]);
    expect(run.code).toBe(code);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a bad topology file names the field and exits 65', async () => {
    const topology = join(directory, 'bad.json');
    writeFileSync(
      topology,
      JSON.stringify({ ...HAND_COUNTED_TOPOLOGY, subnets: [{ name: 'office', router: 'nowhere', clients: 3 }] }),
    );
    const run = await runCli(['simulate', '--topology', topology]);
    expect(run.code).toBe(65);
    expect(run.stderr).toMatch(
      /bad.json: subnets\[0\].router: expected the name of a router of "routers", got "nowhere"/,
    );
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help describes the command and its options', async () => {
    const run = await runCli(['simulate', '--help']);
    expect(run.code).toBe(0);
    for (const option of [
      '--scenario',
      '--clients',
      '--subnets',
      '--relay-count',
      '--topology',
      '--seed',
      '--model',
      '--days',
      '--outage-hours',
      '--svg',
    ])
      expect(run.stdout).toContain(option);
  });
});

describe('relay-select estimate', () => {
  it('--json gives the contract: per model steady and worst echo requests and Time Exceeded per second', async () => {
    const result = await json<EstimateJson>(['estimate', ...SMALL]);
    for (const model of MODELS) {
      expect(result.models[model]).toMatchObject({
        steady: { echoRequestsPerSecond: expect.any(Number), timeExceededPerSecond: expect.any(Number) },
        worst: {
          echoRequestsPerSecond: expect.any(Number),
          timeExceededPerSecond: expect.any(Number),
          scenario: expect.any(String),
        },
      });
      expect(Object.keys(result.models[model]!.scenarios)).toEqual([
        'steady',
        'server-outage',
        'relay-loss',
        'flap',
        'new-relay',
      ]);
    }
    expect(result.models.bigfix!.worst.scenario).toBe('server-outage');
  });

  it('--model agent: a closed form, offered by --help, costing less than default on the same fleet', async () => {
    const help = await runCli(['estimate', '--help']);
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toMatch(/agent is relay-select agents with subnet cooperation/);
    expect(text).not.toMatch(/simulate only/);
    const run = await runCli(['estimate', ...SMALL, '--model', 'default', '--model', 'agent', '--json']);
    expect(run.code, run.stderr).toBe(0);
    interface ModelFigures {
      steady: { echoRequestsPerSecond: number };
      perSelection: { echoRequests: number };
    }
    const result = JSON.parse(run.stdout) as { models: Record<string, ModelFigures> };
    expect(Object.keys(result.models)).toEqual(['default', 'agent']);
    const agent = result.models.agent!;
    const fleetDefault = result.models.default!;
    expect(agent.steady.echoRequestsPerSecond).toBeGreaterThan(0);
    expect(agent.steady.echoRequestsPerSecond).toBeLessThan(fleetDefault.steady.echoRequestsPerSecond);
    expect(agent.perSelection.echoRequests).toBeLessThan(fleetDefault.perSelection.echoRequests);
  });

  it('--recommend --budget-pps prints the settings in relay-select and clientsettings.cfg names', async () => {
    // Steady state and the outage: a relay's endpoints that re-select together when it dies are beyond any timing setting.
    const scenarios = ['--scenario', 'steady', '--scenario', 'server-outage'];
    const worst = (await json<EstimateJson>(['estimate', ...SMALL, ...scenarios, '--model', 'default'])).models.default!
      .worst.echoRequestsPerSecond;
    const run = await runCli([
      'estimate',
      ...SMALL,
      ...scenarios,
      '--model',
      'default',
      '--recommend',
      '--budget-pps',
      String(Math.round(worst * 0.8)),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/budget [\d.,]+: met/);
    expect(run.stdout).toMatch(/intervalSeconds +\d+ .*_BESClient_RelaySelect_IntervalSeconds/);
    expect(run.stdout).toMatch(/maxRetryIntervalSeconds +\d+ .*_BESClient_RelaySelect_MaxRetryIntervalSeconds/);
    expect(run.stdout).toMatch(/maximumTtlToPing +\d+ .*_BESClient_RelaySelect_MaximumTTLToPing/);
  });

  it("--from takes one endpoint's probe --json as the distance profile", async () => {
    const measured = join(directory, 'probe.json');
    writeFileSync(
      measured,
      JSON.stringify({
        results: [
          { host: '198.18.0.1', address: '198.18.0.1', distance: 2, rttMs: 1, method: 'echo-ttl' },
          { host: '198.18.0.2', address: '198.18.0.2', distance: 6, rttMs: 3, method: 'echo-ttl' },
        ],
      }),
    );
    const result = await json<EstimateJson>([
      'estimate',
      '--from',
      measured,
      '--clients',
      '10000',
      '--scenario',
      'steady',
    ]);
    // 2 echoes at the maximum TTL, then TTL 3 and TTL 2 to the one relay within the margin: 4 per selection.
    expect(result.models.default!.perSelection.echoRequests).toBe(4);
    expect(result).toMatchObject({ clients: 10_000, relays: 2 });
  });

  it.each([
    ['missing', null, /--from \S+missing\.json: cannot read it \(ENOENT\)/],
    [
      'not-json',
      'results: none',
      /not-json\.json: not JSON \(.+\); expected the output of "relay-select probe --json"/,
    ],
    ['empty', '{"results": []}', /empty\.json: no measured relays; expected the output of "relay-select probe --json"/],
  ])('--from a %s file: exit 65 (bad input data), one line naming the file', async (name, text, message) => {
    const file = join(directory, `${name}.json`);
    if (text !== null) writeFileSync(file, text);
    const run = await runCli(['estimate', '--from', file]);
    expect(run.code).toBe(65);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [['--recommend'], /--recommend needs --budget-pps X/],
    [['--budget-pps', '100'], /--budget-pps only means something with --recommend/],
    [['--nearest-hops', '300'], /--nearest-hops 300: expected a whole number from 0 to 253/],
    [['--nearest-hops', '2', '--from', 'x.json'], /--from and --nearest-hops are two ways/],
  ])('%j: exit 64, one line naming the problem', async (args, message) => {
    const run = await runCli(['estimate', ...args]);
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
