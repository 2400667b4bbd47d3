import { describe, expect, it } from 'vitest';
import type { ProbeResult, ProbeTarget } from '../../src/probe/types.js';
import type { Pool, Relay } from '../../src/relays/relay.js';
import { selectRelay } from '../../src/select/select-relay.js';
import type {
  Candidate,
  HostResolution,
  ProbeContext,
  RegisterOutcome,
  SelectionEvent,
  SelectionOutcome,
  SelectRelayDeps,
} from '../../src/select/types.js';
import type { Settings } from '../../src/config/settings.js';
import { settings } from '../helpers/settings.js';
import { relay } from './builders.js';

type Answer = { distance: number | null; rttMs?: number; method?: ProbeResult['method'] };

/** An in-memory network: which hosts answer probes, resolve, and accept registration. */
interface WorldSpec {
  answers?: Record<string, Answer>;
  registrations?: Record<string, RegisterOutcome | 'throw'>;
  unresolved?: string[];
  alive?: Record<string, boolean>;
}

function world(spec: WorldSpec) {
  const probeCalls: { targets: ProbeTarget[]; pool: Pool; context: ProbeContext }[] = [];
  const registerCalls: Candidate[] = [];
  const resolveCalls: string[][] = [];
  const aliveCalls: { host: string; port: number; address: string }[] = [];
  const events: SelectionEvent[] = [];
  const deps: SelectRelayDeps = {
    probe(targets, pool, context) {
      probeCalls.push({ targets, pool, context });
      return Promise.resolve({
        results: targets.map((target): ProbeResult => {
          const answer = spec.answers?.[target.host];
          const { key, host, address } = target;
          return answer === undefined
            ? { key, host, address, distance: null, rttMs: null, method: 'unreachable' }
            : {
                key,
                host,
                address,
                distance: answer.distance,
                rttMs: answer.rttMs ?? 1,
                method: answer.method ?? (answer.distance === null ? 'tcp' : 'echo-ttl'),
              };
        }),
        packetsSent: targets.length,
        tcpAttempts: 0,
        wallMs: 1,
      });
    },
    resolve(hosts) {
      resolveCalls.push(hosts);
      return Promise.resolve(
        hosts.map((host): HostResolution =>
          spec.unresolved?.includes(host)
            ? { host, address: null, error: 'ENOTFOUND' }
            : { host, address: host.startsWith('198.') ? host : `198.19.0.${hosts.indexOf(host) + 1}`, family: 4 },
        ),
      );
    },
    register(candidate) {
      registerCalls.push(candidate);
      const outcome = spec.registrations?.[candidate.relay.host];
      if (outcome === 'throw') return Promise.reject(new Error('connect ECONNREFUSED'));
      return Promise.resolve(outcome ?? { status: 'failed', detail: 'HTTP 500' });
    },
    onEvent: (event) => events.push(event),
  };
  if (spec.alive !== undefined) {
    const alive = spec.alive;
    deps.checkAlive = (target) => {
      aliveCalls.push(target);
      return Promise.resolve(alive[target.host] ?? false);
    };
  }
  return { deps, probeCalls, registerCalls, resolveCalls, aliveCalls, events };
}

const OK: RegisterOutcome = { status: 'registered' };

function chosenHost(outcome: SelectionOutcome): string | undefined {
  return outcome.status === 'selected' ? outcome.chosen.relay.host : undefined;
}

function run(relays: Relay[], overrides: Partial<Settings>, spec: WorldSpec, clientId = 'client-1') {
  const fake = world(spec);
  return { fake, outcome: selectRelay({ relays, settings: settings(overrides), clientId }, fake.deps) };
}

describe('selectRelay, automatic mode', () => {
  const lyonNear = relay({ host: 'lyon-near', groups: ['lyon'] });
  const lyonFar = relay({ host: 'lyon-far', groups: ['lyon'] });
  const dmz = relay({ host: 'dmz', groups: ['dmz'] });
  const plain = relay({ host: 'plain' });
  const relays = [lyonFar, lyonNear, dmz, plain];
  const seekList = ['lyon', 'dmz', '*'];
  /** Every relay answers: lyon-near is the nearest of the first pool. */
  const allAnswer: Record<string, Answer> = {
    'lyon-near': { distance: 1 },
    'lyon-far': { distance: 4 },
    dmz: { distance: 0 },
    plain: { distance: 0 },
  };

  it('registers with the nearest relay of the first pool and does not probe later pools', async () => {
    const { fake, outcome } = run(
      relays,
      { seekList },
      {
        answers: allAnswer,
        registrations: { 'lyon-near': OK, 'lyon-far': OK, dmz: OK, plain: OK },
      },
    );
    const result = await outcome;
    expect(result.status).toBe('selected');
    if (result.status !== 'selected') return;
    expect(result.chosen).toMatchObject({ pool: 'lyon', distance: 1, method: 'echo-ttl', address: expect.any(String) });
    expect(result.chosen.relay.host).toBe('lyon-near');
    expect(result.registration).toEqual(OK);
    expect(fake.probeCalls).toHaveLength(1);
    expect(fake.probeCalls[0]!.targets.map((target) => target.host).sort()).toEqual(['lyon-far', 'lyon-near']);
    expect(fake.probeCalls[0]!.context).toEqual({ purpose: 'pool', preferAmong: expect.any(Function) });
    expect(fake.registerCalls).toHaveLength(1);
    expect(result.pools).toEqual([
      { name: 'lyon', probed: true, reachable: 2, relayCount: 2 },
      { name: 'dmz', probed: false, reachable: 0, relayCount: 1 },
      { name: '*', probed: false, reachable: 0, relayCount: 1 },
    ]);
    expect(result.attempts).toHaveLength(1);
    expect(result.attempts[0]!.reason).toBe('pool lyon: priority 0, 1 hop, no competition');
    expect(result.probes).toHaveLength(2);
  });

  it('tells the probe which of equally near relays it will register with (the one the probe verifies)', async () => {
    const tied = ['t1', 't2', 't3', 't4', 't5'].map((host) => relay({ host, weight: host === 't3' ? 300 : 100 }));
    for (const clientId of ['client-1', 'client-2', 'client-3', 'client-4']) {
      const { fake, outcome } = run(
        tied,
        {},
        {
          answers: Object.fromEntries(tied.map((entry) => [entry.host, { distance: 2 }])),
          registrations: Object.fromEntries(tied.map((entry) => [entry.host, OK])),
        },
        clientId,
      );
      const result = await outcome;
      const { targets, context } = fake.probeCalls[0]!;
      const preferred = context.preferAmong!(targets.map((target) => ({ key: target.key, rttMs: 1 })));
      expect(chosenHost(result)).toBe(targets.find((target) => target.key === preferred)!.host);
    }
    const random = run(tied, { tieBreak: 'random' }, { answers: { t1: { distance: 1 } }, registrations: { t1: OK } });
    await random.outcome;
    expect(random.fake.probeCalls[0]!.context.preferAmong).toBeUndefined();
  });

  it('falls through to the next pool when no relay of a pool is reachable', async () => {
    const { fake, outcome } = run(
      relays,
      { seekList },
      {
        answers: { dmz: { distance: 3 }, plain: { distance: 0 } },
        registrations: { dmz: OK, plain: OK },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe('dmz');
    expect(fake.probeCalls.map((call) => call.pool.name)).toEqual(['lyon', 'dmz']);
    expect(result.pools.map((pool) => [pool.name, pool.probed, pool.reachable])).toEqual([
      ['lyon', true, 0],
      ['dmz', true, 1],
      ['*', false, 0],
    ]);
  });

  it('tries the next-ranked relay of the same pool when registration fails, then the next pool', async () => {
    const sameFirst = run(
      relays,
      { seekList },
      {
        answers: { 'lyon-near': { distance: 1 }, 'lyon-far': { distance: 4 }, dmz: { distance: 0 } },
        registrations: { 'lyon-near': { status: 'failed', detail: 'HTTP 500' }, 'lyon-far': OK, dmz: OK },
      },
    );
    const first = await sameFirst.outcome;
    expect(chosenHost(first)).toBe('lyon-far');
    expect(sameFirst.fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual(['lyon-near', 'lyon-far']);
    expect(sameFirst.fake.probeCalls).toHaveLength(1);
    expect(first.attempts.map((attempt) => attempt.outcome.status)).toEqual(['failed', 'registered']);

    const nextPool = run(
      relays,
      { seekList },
      {
        answers: allAnswer,
        registrations: { 'lyon-near': 'throw', dmz: OK, plain: OK },
      },
    );
    const second = await nextPool.outcome;
    expect(chosenHost(second)).toBe('dmz');
    expect(nextPool.fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual([
      'lyon-near',
      'lyon-far',
      'dmz',
    ]);
    expect(second.attempts[0]!.outcome).toEqual({ status: 'failed', detail: 'connect ECONNREFUSED' });
    expect(nextPool.fake.probeCalls.map((call) => call.pool.name)).toEqual(['lyon', 'dmz']);
  });

  it('asks a relay that sits in two pools to register only once', async () => {
    const both = relay({ host: 'both', groups: ['lyon', 'dmz'] });
    const { fake, outcome } = run(
      [both, dmz],
      { seekList: ['lyon', 'dmz'] },
      {
        answers: { both: { distance: 0 }, dmz: { distance: 5 } },
        registrations: { dmz: OK },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe('dmz');
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual(['both', 'dmz']);
    expect(result.attempts.map((attempt) => attempt.outcome.status)).toEqual(['failed', 'skipped', 'registered']);
    // Each host is resolved once per selection, however many pools name it.
    expect(fake.resolveCalls).toEqual([['both'], ['dmz']]);
  });

  it('keeps a relay whose upstream server is down and tries no other', async () => {
    const { fake, outcome } = run(
      relays,
      { seekList },
      {
        answers: { 'lyon-near': { distance: 1 }, 'lyon-far': { distance: 4 } },
        registrations: { 'lyon-near': { status: 'upstream-down', detail: 'HTTP 503' }, 'lyon-far': OK },
        alive: {},
      },
    );
    const result = await outcome;
    expect(result.status).toBe('selected');
    if (result.status !== 'selected') return;
    expect(result.chosen.relay.host).toBe('lyon-near');
    expect(result.registration).toEqual({ status: 'upstream-down', detail: 'HTTP 503' });
    expect(fake.registerCalls).toHaveLength(1);
  });

  it('ranks a TCP-only relay after measured ones and records the method', async () => {
    const icmpBlocked = relay({ host: 'icmp-blocked' });
    const measured = relay({ host: 'measured', priority: 2 });
    const { outcome } = run(
      [icmpBlocked, measured],
      {},
      {
        answers: { 'icmp-blocked': { distance: null }, measured: { distance: 9 } },
        registrations: { 'icmp-blocked': OK, measured: { status: 'failed', detail: 'HTTP 403' } },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe('icmp-blocked');
    if (result.status !== 'selected') return;
    expect(result.chosen.method).toBe('tcp');
    expect(result.chosen.distance).toBeNull();
    expect(result.attempts.map((attempt) => attempt.candidate.relay.host)).toEqual(['measured', 'icmp-blocked']);
  });

  it('reports relays that do not resolve as unreachable without probing them', async () => {
    const { fake, outcome } = run(
      [relay({ host: 'ghost.test' }), relay({ host: 'real.test' })],
      {},
      {
        unresolved: ['ghost.test'],
        answers: { 'real.test': { distance: 2 } },
        registrations: { 'real.test': OK },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe('real.test');
    expect(fake.probeCalls[0]!.targets.map((target) => target.host)).toEqual(['real.test']);
    expect(result.probes.find((probe) => probe.host === 'ghost.test')).toMatchObject({
      method: 'unreachable',
      address: null,
      note: 'did not resolve: ENOTFOUND',
    });
  });

  it('uses the tie-break from the settings inside the competition', async () => {
    const slow = relay({ host: 'slow' });
    const fast = relay({ host: 'fast' });
    const { outcome } = run(
      [slow, fast],
      { tieBreak: 'rtt' },
      {
        answers: { slow: { distance: 2, rttMs: 20 }, fast: { distance: 2, rttMs: 2 } },
        registrations: { slow: OK, fast: OK },
      },
    );
    expect(chosenHost(await outcome)).toBe('fast');
  });

  it('spreads equally near relays over clients and keeps each client on its relay', async () => {
    const equal = [relay({ host: 'e1' }), relay({ host: 'e2' })];
    const spec: WorldSpec = {
      answers: { e1: { distance: 1 }, e2: { distance: 1 } },
      registrations: { e1: OK, e2: OK },
    };
    const picks = new Set<string | undefined>();
    for (let index = 0; index < 40; index++) {
      const clientId = `fleet-${index}`;
      const once = chosenHost(await run(equal, {}, spec, clientId).outcome);
      expect(chosenHost(await run(equal, {}, spec, clientId).outcome)).toBe(once);
      picks.add(once);
    }
    expect(picks).toEqual(new Set(['e1', 'e2']));
  });

  it('emits progress events in order', async () => {
    const { fake, outcome } = run(
      relays,
      { seekList },
      {
        answers: { 'lyon-near': { distance: 1 } },
        registrations: { 'lyon-near': OK },
      },
    );
    await outcome;
    expect(fake.events.map((event) => event.type)).toEqual([
      'stage',
      'pool-start',
      'pool-probed',
      'register-start',
      'register-done',
    ]);
  });

  it('lets a probe error (e.g. no raw-socket permission) propagate', async () => {
    const fake = world({});
    fake.deps.probe = () => Promise.reject(new Error('EPERM'));
    await expect(selectRelay({ relays, settings: settings({ seekList }), clientId: 'c' }, fake.deps)).rejects.toThrow(
      'EPERM',
    );
  });
});

describe('selectRelay, failover and root', () => {
  const unreachable = [relay({ host: 'silent-1' }), relay({ host: 'silent-2' })];

  it('registers with failover relays in order without probing them', async () => {
    const { fake, outcome } = run(
      unreachable,
      { failoverRelays: ['fo-1.test', 'http://fo-2.test:8080/bfmirror/', 'fo-3.test'] },
      {
        registrations: { 'fo-1.test': { status: 'failed', detail: 'timeout' }, 'fo-2.test': OK, 'fo-3.test': OK },
      },
    );
    const result = await outcome;
    expect(result.status).toBe('selected');
    if (result.status !== 'selected') return;
    expect(result.chosen).toMatchObject({
      relay: { host: 'fo-2.test', port: 8080 },
      pool: 'failover',
      method: 'failover',
      distance: null,
    });
    expect(result.chosen.address).not.toBeNull();
    expect(fake.probeCalls).toHaveLength(1);
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual(['fo-1.test', 'fo-2.test']);
    expect(result.attempts.map((attempt) => attempt.reason)).toEqual([
      'failover relay 1 of 3',
      'failover relay 2 of 3',
    ]);
  });

  it('skips a failover relay that fails the liveness check or does not resolve', async () => {
    const { fake, outcome } = run(
      unreachable,
      { failoverRelays: ['dead.test', 'ghost.test', 'alive.test:52311'] },
      {
        unresolved: ['ghost.test'],
        alive: { 'dead.test': false, 'alive.test': true },
        registrations: { 'dead.test': OK, 'ghost.test': OK, 'alive.test': OK },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe('alive.test');
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual(['alive.test']);
    // The liveness check gets the address already resolved, so it need not resolve again.
    expect(fake.aliveCalls).toEqual([
      { host: 'dead.test', port: 52311, address: '198.19.0.1' },
      { host: 'alive.test', port: 52311, address: '198.19.0.1' },
    ]);
    expect(result.attempts.map((attempt) => attempt.outcome)).toEqual([
      { status: 'skipped', detail: 'no TCP answer on port 52311' },
      { status: 'skipped', detail: 'did not resolve: ENOTFOUND' },
      OK,
    ]);
  });

  it('falls back to the root server after the failover relays', async () => {
    const { fake, outcome } = run(
      unreachable,
      { failoverRelays: ['fo.test'], rootServer: 'root.test:52311' },
      {
        registrations: { 'root.test': OK },
      },
    );
    const result = await outcome;
    expect(result.status).toBe('selected');
    if (result.status !== 'selected') return;
    expect(result.chosen).toMatchObject({ relay: { host: 'root.test', port: 52311 }, pool: 'root', method: 'root' });
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual(['fo.test', 'root.test']);
  });

  it('fails with every step explained when nothing registers', async () => {
    const { fake, outcome } = run(
      unreachable,
      { seekList: ['*'], failoverRelays: ['fo.test', 'not a host'], rootServer: 'root.test' },
      {
        answers: { 'silent-2': { distance: 1 } },
      },
    );
    const result = await outcome;
    expect(result.status).toBe('failed');
    expect(result.attempts.map((attempt) => [attempt.candidate.pool, attempt.outcome.status])).toEqual([
      ['*', 'failed'],
      ['failover', 'failed'],
      ['failover', 'skipped'],
      ['root', 'failed'],
    ]);
    expect(result.attempts[2]!.outcome).toMatchObject({ detail: expect.stringContaining('not host[:port]') });
    expect(result.pools).toEqual([{ name: '*', probed: true, reachable: 1, relayCount: 2 }]);
    expect(result.probes).toHaveLength(2);
    expect(fake.registerCalls).toHaveLength(3);
  });

  it('fails without any network call when there is nothing to try', async () => {
    const { fake, outcome } = run([], {}, {});
    const result = await outcome;
    expect(result.status).toBe('failed');
    expect(fake.probeCalls).toHaveLength(0);
    expect(fake.registerCalls).toHaveLength(0);
  });
});

describe('selectRelay, manual mode', () => {
  const listed = [relay({ host: 'listed', groups: [] })];

  it('checks manual relays in order with one probe each and registers with the first that answers', async () => {
    const { fake, outcome } = run(
      listed,
      { automatic: false, manualRelays: ['m1.test', 'm2.test:1234', 'm3.test'] },
      {
        answers: { 'm2.test': { distance: 3 }, 'm3.test': { distance: 0 }, listed: { distance: 0 } },
        registrations: { 'm2.test': OK, 'm3.test': OK, listed: OK },
      },
    );
    const result = await outcome;
    expect(result.status).toBe('selected');
    if (result.status !== 'selected') return;
    expect(result.chosen).toMatchObject({
      relay: { host: 'm2.test', port: 1234 },
      pool: 'manual',
      method: 'manual',
      distance: 3,
    });
    expect(fake.probeCalls.map((call) => call.targets.map((target) => target.host))).toEqual([
      ['m1.test'],
      ['m2.test'],
    ]);
    expect(fake.probeCalls.every((call) => call.context.purpose === 'manual')).toBe(true);
    expect(result.attempts.map((attempt) => attempt.outcome.status)).toEqual(['skipped', 'registered']);
    expect(result.attempts[0]!.outcome).toEqual({ status: 'skipped', detail: 'no answer to an echo at TTL 254' });
    expect(result.pools).toEqual([{ name: 'manual', probed: true, reachable: 1, relayCount: 3 }]);
  });

  it('names the TTL the probe really used (never below 1) when a manual relay is silent', async () => {
    const { outcome } = run(listed, { automatic: false, manualRelays: ['m1.test'], maximumTtlToPing: 1 }, {});
    expect((await outcome).attempts[0]!.outcome).toEqual({
      status: 'skipped',
      detail: 'no answer to an echo at TTL 1',
    });
  });

  it('moves to the next manual relay when registration fails, then to failover and root', async () => {
    const { fake, outcome } = run(
      listed,
      { automatic: false, manualRelays: ['m1.test'], failoverRelays: ['fo.test'], rootServer: 'root.test' },
      {
        answers: { 'm1.test': { distance: 1 } },
        registrations: { 'm1.test': { status: 'failed', detail: 'HTTP 500' }, 'root.test': OK },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe('root.test');
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual(['m1.test', 'fo.test', 'root.test']);
    expect(fake.probeCalls).toHaveLength(1);
  });
});

describe('selectRelay, relays that must not be auto-selected (autoselect=false)', () => {
  const hidden = relay({ host: '198.18.50.1', autoselect: false });
  const far = relay({ host: '198.18.50.2' });

  it('neither probes nor chooses the relay, even when it would be nearest', async () => {
    const { fake, outcome } = run(
      [hidden, far],
      {},
      {
        answers: { [hidden.host]: { distance: 0 }, [far.host]: { distance: 3 } },
        registrations: { [hidden.host]: OK, [far.host]: OK },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe(far.host);
    expect(fake.probeCalls[0]!.targets.map((target) => target.host)).toEqual([far.host]);
    expect(result.pools).toEqual([{ name: '*all*', probed: true, reachable: 1, relayCount: 1 }]);
  });

  it('still uses it as a failover relay the settings name', async () => {
    const { outcome } = run(
      [hidden, far],
      { failoverRelays: [`${hidden.host}:52311`] },
      {
        answers: { [hidden.host]: { distance: 0 }, [far.host]: { distance: 3 } },
        registrations: { [hidden.host]: OK, [far.host]: { status: 'failed', detail: 'HTTP 500' } },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe(hidden.host);
    expect(result.status === 'selected' && result.chosen.pool).toBe('failover');
  });
});

describe('selectRelay, full relays (HTTP 429)', () => {
  const near = relay({ host: '198.18.51.1' });
  const next = relay({ host: '198.18.51.2' });

  it('registers with the next-ranked relay in the same run, asking the full one once', async () => {
    const full: RegisterOutcome = {
      status: 'full',
      detail: 'HTTP 429: relay alive but full; Retry-After 600 s',
      retryAfterSeconds: 600,
    };
    const { fake, outcome } = run(
      [near, next],
      {},
      {
        answers: { [near.host]: { distance: 1 }, [next.host]: { distance: 2 } },
        registrations: { [near.host]: full, [next.host]: OK },
      },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe(next.host);
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual([near.host, next.host]);
    expect(result.attempts.map((attempt) => attempt.outcome.status)).toEqual(['full', 'registered']);
  });

  it('passes over a relay it is told to avoid, saying why, without asking it', async () => {
    const fake = world({
      answers: { [near.host]: { distance: 1 }, [next.host]: { distance: 2 } },
      registrations: { [near.host]: OK, [next.host]: OK },
    });
    const result = await selectRelay(
      {
        relays: [near, next],
        settings: settings(),
        clientId: 'c',
        avoid: new Map([[`${near.host}:52311`, 'full (HTTP 429); avoided until 2024-03-01T13:00:00.000Z']]),
      },
      fake.deps,
    );
    expect(chosenHost(result)).toBe(next.host);
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual([next.host]);
    expect(result.attempts[0]!.outcome).toEqual({
      status: 'skipped',
      detail: 'full (HTTP 429); avoided until 2024-03-01T13:00:00.000Z',
    });
  });
});

describe('selectRelay, switch margin of the periodic re-selection (stickTo)', () => {
  const current = relay({ host: '198.18.52.3' });
  const oneNearer = relay({ host: '198.18.52.2' });
  const twoNearer = relay({ host: '198.18.52.1' });
  const select = (
    relays: Relay[],
    answers: Record<string, Answer>,
    registrations: Record<string, RegisterOutcome> = {},
  ) => {
    const fake = world({
      answers,
      registrations: { [current.host]: OK, [oneNearer.host]: OK, [twoNearer.host]: OK, ...registrations },
    });
    return {
      fake,
      outcome: selectRelay(
        {
          relays,
          settings: settings({ switchMarginHops: 1 }),
          clientId: 'c',
          stickTo: { host: current.host, port: 52311 },
        },
        fake.deps,
      ),
    };
  };

  it('keeps the current relay when the best is only 1 hop nearer, and says so', async () => {
    const result = await select([current, oneNearer], {
      [current.host]: { distance: 3 },
      [oneNearer.host]: { distance: 2 },
    }).outcome;
    expect(chosenHost(result)).toBe(current.host);
    expect(result.status === 'selected' && result.switchMargin).toEqual({
      kept: true,
      reason: `kept ${current.host}:52311: ${oneNearer.host}:52311 is only 1 hop nearer (switchMarginHops 1)`,
    });
  });

  it('switches when the best is 2 hops nearer', async () => {
    const result = await select([current, twoNearer], {
      [current.host]: { distance: 3 },
      [twoNearer.host]: { distance: 1 },
    }).outcome;
    expect(chosenHost(result)).toBe(twoNearer.host);
    expect(result.status === 'selected' && result.switchMargin).toEqual({
      kept: false,
      reason: `switched from ${current.host}:52311: ${twoNearer.host}:52311 is 2 hops nearer (switchMarginHops 1)`,
    });
  });

  it('tries the best when the kept relay answers full, and says it was not kept', async () => {
    const { fake, outcome } = select(
      [current, oneNearer],
      { [current.host]: { distance: 3 }, [oneNearer.host]: { distance: 2 } },
      { [current.host]: { status: 'full', detail: 'HTTP 429' } },
    );
    const result = await outcome;
    expect(chosenHost(result)).toBe(oneNearer.host);
    expect(fake.registerCalls.map((candidate) => candidate.relay.host)).toEqual([current.host, oneNearer.host]);
    expect(result.status === 'selected' && result.switchMargin?.kept).toBe(false);
  });

  it('weighs nothing when the current relay did not answer', async () => {
    const result = await select([current, oneNearer], { [oneNearer.host]: { distance: 2 } }).outcome;
    expect(chosenHost(result)).toBe(oneNearer.host);
    expect(result.status === 'selected' && result.switchMargin).toBeUndefined();
  });
});
