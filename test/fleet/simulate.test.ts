import { describe, expect, it } from 'vitest';
import { startPeerService } from '../../src/agent/peer-service.js';
import { systemClock } from '../../src/clock.js';
import { generateFleet } from '../../src/fleet/fleet.js';
import { PEER_TABLE_VALIDITY_LEASES, peerTableValiditySeconds } from '../../src/fleet/models.js';
import { planScenario, SCENARIOS } from '../../src/fleet/scenarios.js';
import { createSimulationCache, simulateFleet, type SimulationResult } from '../../src/fleet/simulate.js';
import { settings } from '../helpers/settings.js';
import { fleetFrom, HAND_COUNTED_TOPOLOGY } from './builders.js';

/** Everything a run reports, with the typed arrays as plain arrays, for comparing runs. */
function comparable(result: SimulationResult, ignore: Array<'probeEngineRuns' | 'endpointRuns'> = []): unknown {
  return JSON.parse(
    JSON.stringify(result, (key, value: unknown) => {
      if (ignore.includes(key as 'probeEngineRuns')) return undefined;
      return ArrayBuffer.isView(value) ? Array.from(value as Float64Array) : value;
    }),
  );
}

describe('simulateFleet', () => {
  it('counts the packets of a fleet small enough to count by hand', async () => {
    // One subnet of 3 endpoints; relay "near" 1 router away (behind the gateway), "far" 2 away.
    // intervalSeconds one day: each endpoint selects once in the warm-up day and exactly once more in
    // the measured day (+10 minutes for cron's wait), so the window holds 3 selections per model.
    //
    // default (inference, probe.verify paths, verifyMargin 2): one echo at the maximum TTL to each relay
    // (2); both are within the margin of the best inferred distance g = 1 and each is the only relay on
    // its path (so path verification verifies both, as `all` would): TTL g+1 = 2 to both (2: near answers,
    // far expires at r2); then TTL g = 1 to near (1: expires at gw). 5 echo requests, 2 expiries, and
    // 2 Time Exceeded (each router's burst of 6 is untouched). 3 selections: 15, 6, 6.
    //
    // bigfix (the ladder): TTL 1 to both (2: both expire at gw); TTL 2 to both (2: near answers, far
    // expires at r2); the ladder stops, and near's distance is already exact (failed at 1, reached at
    // 2). 4 echo requests, 3 expiries, 3 Time Exceeded. 3 selections: 12, 9, 9.
    const fleet = fleetFrom(HAND_COUNTED_TOPOLOGY);
    const tuned = settings({ intervalSeconds: 86_400 });
    const result = await simulateFleet({
      fleet,
      settings: tuned,
      scenario: planScenario('steady', tuned, { durationSeconds: 86_400 + 600 }),
    });
    expect(result.models.default).toMatchObject({
      selections: 3,
      totals: { echoRequests: 15, ttlExpired: 6, timeExceeded: 6 },
    });
    expect(result.models.bigfix).toMatchObject({
      selections: 3,
      totals: { echoRequests: 12, ttlExpired: 9, timeExceeded: 9 },
    });
    // All three endpoints share the one subnet's relays: the nearer one wins, no competition.
    expect(result.models.default!.clientsPerRelay.relays.map((relay) => relay.clients)).toEqual([3, 0]);
    expect(result.models.default!.busiestRouter?.name).toBe('gw');
    // Each endpoint's own count: 5 echo requests in the measured ~day.
    expect(result.models.default!.echoRequestsPerEndpointPerDay.max * (result.durationSeconds / 86_400)).toBeCloseTo(
      5,
      9,
    );
  });

  it('repeats itself exactly for a seed, and not for another seed', async () => {
    const base = settings();
    const run = async (seed: number) => {
      const fleet = generateFleet({ clients: 300, subnets: 12, relays: 10, seed });
      return comparable(await simulateFleet({ fleet, settings: base, scenario: planScenario('relay-loss', base) }));
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
  });

  it.each(SCENARIOS)(
    '%s: skipping runs that cannot decide otherwise and reusing selections change nothing',
    async (name) => {
      // The shortcuts against the plain computation: every cron tick decided, every selection made in full.
      // A seek list with two groups, priorities, and a relay that is full after 20 registrations make the
      // ranking and the registration fall-through matter.
      const fleet = fleetFrom({
        routers: [
          { name: 'core' },
          { name: 'west', parent: 'core' },
          { name: 'east', parent: 'core' },
          { name: 'w1', parent: 'west' },
          { name: 'w2', parent: 'west' },
          { name: 'e1', parent: 'east' },
        ],
        subnets: [
          { name: 'w1-a', router: 'w1', clients: 40 },
          { name: 'w2-a', router: 'w2', clients: 30 },
          { name: 'e1-a', router: 'e1', clients: 30 },
        ],
        relays: [
          { host: 'relay-w1.example', router: 'w1', groups: ['west'], capacity: 20 },
          { host: 'relay-w2.example', router: 'w2', groups: ['west'], weight: 50 },
          { host: 'relay-west.example', router: 'west', groups: ['west'], priority: 1 },
          { host: 'relay-core.example', router: 'core' },
          { host: 'relay-e1.example', router: 'e1', groups: ['east'] },
        ],
      });
      const tuned = settings({ seekList: ['west', '*'], intervalSeconds: 7200 });
      const scenario = planScenario(name, tuned, { days: 0.5, outageSeconds: 7200 });
      const fast = await simulateFleet({ fleet, settings: tuned, scenario });
      const plain = await simulateFleet({
        fleet,
        settings: tuned,
        scenario,
        everyTick: true,
        memoizeSelections: false,
      });
      expect(comparable(fast, ['probeEngineRuns', 'endpointRuns'])).toEqual(
        comparable(plain, ['probeEngineRuns', 'endpointRuns']),
      );
      expect(plain.models.default!.endpointRuns).toBeGreaterThan(fast.models.default!.endpointRuns);
      expect(fast.models.default!.selections).toBeGreaterThan(0);
    },
  );

  it('measures a probe once per gateway and network state, and replays it for every endpoint', async () => {
    const fleet = generateFleet({ clients: 400, subnets: 8, relays: 6, seed: 3 });
    const base = settings();
    const result = await simulateFleet({ fleet, settings: base, scenario: planScenario('steady', base, { days: 1 }) });
    // 8 subnets, four to a site behind the site's access router, one network state: 2 engine runs per model.
    expect(new Set(fleet.subnets.map((subnet) => subnet.router)).size).toBe(2);
    expect(result.models.default!.probeEngineRuns).toBe(2);
    expect(result.models.default!.selections).toBeGreaterThan(400);
  });

  it('a cache shared between runs on the same fleet gives the same results', async () => {
    const fleet = generateFleet({ clients: 200, subnets: 4, relays: 5, seed: 5 });
    const base = settings();
    const cache = createSimulationCache(fleet, base);
    const steady = planScenario('steady', base, { days: 0.5 });
    const outage = planScenario('server-outage', base, { outageSeconds: 3600 });
    await simulateFleet({ fleet, settings: base, scenario: steady }, cache);
    const cached = await simulateFleet({ fleet, settings: base, scenario: outage }, cache);
    const fresh = await simulateFleet({ fleet, settings: base, scenario: outage });
    expect(comparable(cached, ['probeEngineRuns'])).toEqual(comparable(fresh, ['probeEngineRuns']));
    expect(cached.models.default!.probeEngineRuns).toBe(0);
  });

  it('server-outage: default keeps its relays and sends at least 10× fewer echo requests at its worst minute than bigfix', async () => {
    const fleet = generateFleet({ clients: 2000, subnets: 40, relays: 20, seed: 1 });
    const base = settings();
    const result = await simulateFleet({
      fleet,
      settings: base,
      scenario: planScenario('server-outage', base, { outageSeconds: 6 * 3600 }),
    });
    const fleetDefault = result.models.default!;
    const classic = result.models.bigfix!;
    expect(classic.echoRequestsPerSecond.peak).toBeGreaterThanOrEqual(10 * fleetDefault.echoRequestsPerSecond.peak);
    // default's worst minute is not during the outage: relays answering 503 are kept, no probe is sent.
    const outage = result.spans[0]!;
    expect(fleetDefault.peakAtSeconds < outage.fromSeconds || fleetDefault.peakAtSeconds >= outage.toSeconds).toBe(
      true,
    );
    expect(classic.peakAtSeconds).toBeGreaterThanOrEqual(outage.fromSeconds);
    expect(classic.peakAtSeconds).toBeLessThan(outage.toSeconds);
    expect(fleetDefault.secondsToRecover).not.toBeNull();
    expect(classic.secondsToRecover).not.toBeNull();
  });

  it('agent: the same selections as default; the leader measures at most once per table validity, the others confirm with one echo', async () => {
    const fleet = generateFleet({ clients: 1000, subnets: 10, relays: 30, seed: 4 });
    const base = settings();
    const result = await simulateFleet({
      fleet,
      settings: base,
      scenario: planScenario('steady', base, { days: 2 }),
      models: ['default', 'agent'],
    });
    const alone = result.models.default!;
    const cooperating = result.models.agent!;
    expect(cooperating.selections).toBe(alone.selections);
    expect(cooperating.clientsPerRelay.relays).toEqual(alone.clientsPerRelay.relays);
    // 100 endpoints a subnet select about 1.4 times per 5-minute table validity: the leader measures
    // for about every other selection (not once per re-selection interval), and each follower adds one echo.
    const perSelection = alone.totals.echoRequests / alone.selections;
    expect(perSelection).toBeGreaterThan(30);
    const cooperatingPerSelection = cooperating.totals.echoRequests / cooperating.selections;
    expect(cooperatingPerSelection).toBeGreaterThan(0.3 * perSelection);
    expect(cooperatingPerSelection).toBeLessThan(0.8 * perSelection);
    // The leaders send the measurements: the busiest endpoint sends far more than the average.
    expect(cooperating.echoRequestsPerEndpointPerDay.max).toBeGreaterThan(
      20 * cooperating.echoRequestsPerEndpointPerDay.mean,
    );
  });

  it('agent: a table valid longer than the run is measured once per subnet; one valid 5 s is measured for nearly every selection', async () => {
    const fleet = generateFleet({ clients: 600, subnets: 6, relays: 30, seed: 4 });
    const run = async (leaseSeconds: number) => {
      const tuned = settings({ peer: { ...settings().peer, leaseSeconds } });
      const result = await simulateFleet({
        fleet,
        settings: tuned,
        scenario: planScenario('steady', tuned, { days: 1 }),
        models: ['default', 'agent'],
      });
      return { alone: result.models.default!, cooperating: result.models.agent! };
    };
    // 5 days of validity: the leaders measured during the warm-up; in the measured day only the
    // followers' confirmations remain, one echo each (a leader selects 4 or 5 times a day).
    const long = await run(86_400);
    const leaderSelections = 6 * (86_400 / settings().intervalSeconds + 1);
    expect(long.cooperating.totals.echoRequests).toBeLessThanOrEqual(long.cooperating.selections);
    expect(long.cooperating.totals.echoRequests).toBeGreaterThanOrEqual(long.cooperating.selections - leaderSelections);
    expect(long.cooperating.totals.timeExceeded).toBe(0);
    // 5 s of validity: two selections of one subnet rarely fall within 5 s, so nearly each one is
    // measured, and the followers' confirmations come on top.
    const short = await run(1);
    expect(short.cooperating.totals.echoRequests).toBeGreaterThan(0.9 * short.alone.totals.echoRequests);
    expect(short.cooperating.totals.echoRequests).toBeLessThanOrEqual(
      short.alone.totals.echoRequests + short.alone.selections,
    );
  });

  it("the agent model's table validity is the peer service's", async () => {
    const leaseSeconds = 42;
    const service = await startPeerService(
      {
        key: Buffer.alloc(32, 1),
        link: { family: 4, interfaceName: 's0', address: '198.18.255.2' },
        port: 52312,
        leaseMs: leaseSeconds * 1000,
        group: 'g',
        onTableNeeded: () => undefined,
        onEvent: () => undefined,
      },
      {
        clock: systemClock,
        openSocket: () => Promise.resolve({ endpoint: 'nowhere', send: () => undefined, close: () => undefined }),
      },
    );
    service.close();
    expect(peerTableValiditySeconds(settings({ peer: { ...settings().peer, leaseSeconds } })) * 1000).toBe(
      service.tableValidityMs,
    );
    expect(PEER_TABLE_VALIDITY_LEASES * leaseSeconds * 1000).toBe(service.tableValidityMs);
  });
});
