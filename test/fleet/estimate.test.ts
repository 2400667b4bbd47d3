import { describe, expect, it } from 'vitest';
import { estimateFleet } from '../../src/fleet/estimate.js';
import { estimateFootprint } from '../../src/fleet/footprint-estimate.js';
import { computeFleetPaths, generateFleet } from '../../src/fleet/fleet.js';
import { profileFromNearestHops, profileFromProbeJson, profilesOfFleet } from '../../src/fleet/fleet-input.js';
import { measureProbeFootprint } from '../../src/fleet/probe-footprint.js';
import { profileFleet } from '../../src/fleet/profile.js';
import { recommendSettings } from '../../src/fleet/recommend.js';
import { settings } from '../helpers/settings.js';

const LINUX = { burst: 6, perSecond: 1 };

describe('estimateFootprint (the closed-form cost of one probe)', () => {
  const base = settings();
  // 40 relays share a /24; 300 relays span two, with many relays of one prefix at one distance behind
  // different sites, so path verification splits groups where the ends' routers disagree.
  const fleets = [40, 300].map((relays) => {
    const fleet = generateFleet({ clients: 1000, subnets: 20, relays, seed: 11 });
    const paths = computeFleetPaths(fleet);
    return { relays, fleet, paths, profiles: profileFleet(fleet, paths, []) };
  });
  const cases = [
    { strategy: 'inference' as const, verify: 'paths' as const, down: [] as number[], linkUp: true },
    { strategy: 'inference' as const, verify: 'all' as const, down: [] as number[], linkUp: true },
    { strategy: 'rounds' as const, verify: 'paths' as const, down: [], linkUp: true },
    { strategy: 'inference' as const, verify: 'paths' as const, down: [0, 1, 2], linkUp: true },
    { strategy: 'inference' as const, verify: 'all' as const, down: [0, 1, 2], linkUp: true },
    { strategy: 'rounds' as const, verify: 'paths' as const, down: [0, 1, 2], linkUp: true },
    { strategy: 'inference' as const, verify: 'paths' as const, down: [], linkUp: false },
    { strategy: 'inference' as const, verify: 'all' as const, down: [], linkUp: false },
    { strategy: 'rounds' as const, verify: 'paths' as const, down: [], linkUp: false },
  ];

  it.each(cases.flatMap((entry) => fleets.map(({ relays }) => ({ ...entry, relays }))))(
    'agrees with the real engine packet for packet: $strategy (verify $verify), $relays relays, relays down $down, link up $linkUp',
    async ({ strategy, verify, down, linkUp, relays }) => {
      const { fleet, paths, profiles } = fleets.find((entry) => entry.relays === relays)!;
      const probe = { ...base.probe, verify };
      for (const subnet of [0, 7, 13]) {
        const estimate = estimateFootprint(
          profiles[subnet]!,
          { strategy, maximumTtlToPing: base.maximumTtlToPing, probe, timeExceededLimit: LINUX },
          { down: new Set(down), linkDown: !linkUp },
        );
        const measured = await measureProbeFootprint({
          relays: fleet.relays.map((relay, index) => ({
            target: {
              key: relay.key,
              host: relay.relay.host,
              address: relay.address,
              family: 4,
              port: relay.relay.port,
              priority: relay.relay.priority,
            },
            path: paths.paths[subnet]![index]!,
            answersIcmp: !down.includes(index),
            acceptsTcp: !down.includes(index),
          })),
          linkUp,
          options: { ...probe, strategy, maximumTtlToPing: base.maximumTtlToPing },
          routerAddresses: fleet.routers.map((router) => router.address),
        });
        expect({
          echo: estimate.echoRequests,
          expired: estimate.ttlExpired,
          timeExceeded: estimate.timeExceeded,
        }).toEqual({ echo: measured.echoRequests, expired: measured.ttlExpired, timeExceeded: measured.timeExceeded });
      }
    },
  );
});

describe('estimateFleet', () => {
  const base = settings();

  it('steady state: every endpoint selects once per interval, cron wait included', () => {
    const profile = profileFromNearestHops(
      3,
      12_000,
      Array.from({ length: 50 }, () => ({ priority: 0, weight: 100 })),
      base.probe.verifyMargin,
    );
    const estimate = estimateFleet({
      settings: base,
      profiles: [profile],
      scenarios: ['steady'],
      scenarioOptions: { days: 1 },
    });
    const model = estimate.models.default!;
    // 50 echoes at the maximum TTL, then TTL 4 and TTL 3 to the one relay within the margin.
    expect(model.perSelection.echoRequests).toBe(52);
    expect(model.periodSeconds).toBeGreaterThan(base.intervalSeconds);
    expect(model.periodSeconds).toBeLessThan(base.intervalSeconds + 300);
    expect(model.steady.echoRequestsPerSecond).toBeCloseTo((12_000 * 52) / model.periodSeconds, 6);
    // Everyone runs in the first minute of each 5-minute round: the worst minute is over 5× the mean.
    expect(model.scenarios.steady!.echoRequestsPerSecond.peak).toBeGreaterThan(5 * model.steady.echoRequestsPerSecond);
  });

  it('agent: the leader of each subnet measures at most once per table validity, each follower adds one echo', () => {
    const relays = Array.from({ length: 50 }, () => ({ priority: 0, weight: 100 }));
    // 12,000 endpoints measured at one endpoint stand for 240 subnets of 50 (a generated fleet's size).
    const profile = profileFromNearestHops(3, 12_000, relays, base.probe.verifyMargin);
    expect(profile.subnets).toBe(240);
    const estimateWith = (leaseSeconds: number) => {
      const tuned = settings({ peer: { ...base.peer, leaseSeconds } });
      return estimateFleet({
        settings: tuned,
        profiles: [profile],
        scenarios: ['steady'],
        scenarioOptions: { days: 1 },
        models: ['default', 'agent'],
      }).models;
    };
    const followerShare = 1 - 240 / 12_000;
    // Valid longer than the day: one measurement per subnet (52 echo requests), then confirmations only.
    const once = estimateWith(86_400);
    const selections = once.agent!.scenarios.steady!.selections;
    expect(once.agent!.scenarios.steady!.echoRequestsPerSecond.mean * 86_400).toBeCloseTo(
      240 * 52 + selections * followerShare,
      0,
    );
    // Valid 5 s: a subnet's 50 endpoints select about once in 7 minutes, so nearly every selection measures.
    const always = estimateWith(1).agent!;
    expect(always.perSelection.echoRequests).toBeGreaterThan(0.95 * 52);
    expect(always.perSelection.echoRequests).toBeLessThan(52 + followerShare);
    // The default lease (60 s, tables valid 5 minutes): in between, and the same selections as default.
    const usual = estimateWith(base.peer.leaseSeconds);
    expect(usual.agent!.perSelection.echoRequests).toBeGreaterThan(once.agent!.perSelection.echoRequests);
    expect(usual.agent!.perSelection.echoRequests).toBeLessThan(always.perSelection.echoRequests);
    expect(usual.agent!.scenarios.steady!.selections).toBeCloseTo(usual.default!.scenarios.steady!.selections, 6);
    expect(usual.agent!.steady.timeExceededPerSecond).toBeLessThan(usual.default!.steady.timeExceededPerSecond);
  });

  it('server-outage is the worst moment of bigfix, and far from it for default', () => {
    const fleet = generateFleet({ clients: 5000, subnets: 100, relays: 50, seed: 2 });
    const { profiles, withNewRelay } = profilesOfFleet(fleet, []);
    const estimate = estimateFleet({ settings: base, profiles, profilesWithNewRelay: withNewRelay });
    expect(estimate.models.bigfix!.worst.scenario).toBe('server-outage');
    expect(estimate.models.bigfix!.worst.echoRequestsPerSecond).toBeGreaterThan(
      10 * estimate.models.default!.scenarios['server-outage']!.echoRequestsPerSecond.peak,
    );
  });

  it('reads a distance profile from the JSON of probe --json', () => {
    const json = JSON.stringify({
      results: [
        { host: 'a', distance: 2, method: 'echo-ttl' },
        { host: 'b', distance: 5, method: 'echo-ttl' },
        { host: 'c', distance: null, method: 'tcp' },
      ],
    });
    const profile = profileFromProbeJson(json, 'here.json', 100);
    expect(profile.relays.map((relay) => [relay.hops, relay.answersIcmp])).toEqual([
      [2, true],
      [5, true],
      [7, false],
    ]);
    expect(() => profileFromProbeJson('{"results": []}', 'here.json', 100)).toThrow(/here.json: no measured relays/);
    expect(() => profileFromProbeJson('nope', 'here.json', 100)).toThrow(/here.json: not JSON/);
  });

  it('recommends gentler settings that bring the worst minute under the budget', () => {
    const fleet = generateFleet({ clients: 5000, subnets: 100, relays: 50, seed: 2 });
    const { profiles, withNewRelay } = profilesOfFleet(fleet, []);
    const before = estimateFleet({
      settings: base,
      profiles,
      profilesWithNewRelay: withNewRelay,
      scenarioOptions: { days: 1 },
      models: ['default'],
    }).models.default!.worst.echoRequestsPerSecond;
    const budget = before * 0.7;
    const recommendation = recommendSettings({
      settings: base,
      profiles,
      profilesWithNewRelay: withNewRelay,
      scenarioOptions: { days: 1 },
      budgetPps: budget,
      model: 'default',
    });
    expect(recommendation.met).toBe(true);
    expect(recommendation.after.echoRequestsPerSecond).toBeLessThanOrEqual(budget);
    expect(recommendation.settings.some((entry) => entry.value !== entry.was)).toBe(true);
    expect(recommendation.settings.find((entry) => entry.setting === 'intervalSeconds')?.clientSetting).toBe(
      '_BESClient_RelaySelect_IntervalSeconds',
    );
    // A relay's endpoints re-select together when resist-failure runs out: no timing setting spreads
    // that, so a tiny budget is said to be out of reach, with the reason.
    const tooLow = recommendSettings({
      settings: base,
      profiles,
      profilesWithNewRelay: withNewRelay,
      scenarios: ['relay-loss'],
      budgetPps: before / 10,
      model: 'default',
    });
    expect(tooLow.met).toBe(false);
    expect(tooLow.note).toMatch(/echo requests/);
    const impossible = recommendSettings({
      settings: base,
      profiles,
      profilesWithNewRelay: withNewRelay,
      scenarios: ['server-outage'],
      budgetPps: 1,
      model: 'bigfix',
    });
    expect(impossible.met).toBe(false);
    expect(impossible.note).toMatch(/in step/);
  });
});
