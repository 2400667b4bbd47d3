import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectedDistances,
  formatTopologyProblem,
  parseTopology,
  parseTopologyText,
  type TopologyProblem,
} from '../../src/lab/topology.js';
import { displayPath, resolveTopologyPath } from '../../src/lab/topology-load.js';

const labsDirectory = join(import.meta.dirname, '..', '..', 'relay-samples', 'labs');

/** A small valid topology, with overrides per test. */
function topology(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'small',
    routers: ['r1', 'r2', 'r3'],
    endpoint: { attach: 'r1' },
    links: [
      { from: 'r1', to: 'r2', delayMs: 5 },
      { from: 'r2', to: 'r3' },
    ],
    relays: [
      { name: 'near', attach: 'r2' },
      { name: 'far', attach: 'r3', groups: ['DMZ'], priority: 1 },
    ],
    expect: 'near',
    ...overrides,
  };
}

function problemsOf(value: unknown): TopologyProblem[] {
  return parseTopology(value, 'test').problems;
}

describe('parseTopology', () => {
  it('accepts a valid topology and fills in defaults', () => {
    const { topology: parsed, problems } = parseTopology(topology(), 'test');
    expect(problems).toEqual([]);
    expect(parsed?.endpoint).toEqual({ name: 'endpoint', attach: 'r1', delayMs: 0, lossPercent: 0 });
    expect(parsed?.relays[0]).toMatchObject({
      port: 52311,
      weight: 100,
      priority: 0,
      registration: 'ok',
      dropsIcmp: false,
      groups: [],
    });
    expect(parsed?.links[0]?.delayMs).toBe(5);
  });

  it('computes the distance as the routers on the shortest path', () => {
    const parsed = parseTopology(
      topology({
        links: [
          { from: 'r1', to: 'r2' },
          { from: 'r2', to: 'r3' },
          { from: 'r1', to: 'r3' },
        ],
      }),
      'test',
    ).topology!;
    expect(Object.fromEntries(expectedDistances(parsed))).toEqual({ near: 2, far: 2 });
  });

  it('names an unknown router in a link by its field path', () => {
    const problems = problemsOf(
      topology({
        links: [
          { from: 'r1', to: 'r2' },
          { from: 'r2', to: 'r9' },
        ],
      }),
    );
    expect(problems[0]?.path).toBe('links[1].to');
    expect(formatTopologyProblem('labs/x.json', problems[0]!)).toMatch(
      /^labs\/x\.json: links\[1\]\.to: unknown router "r9"/,
    );
  });

  it('refuses duplicate names across routers, relays and the endpoint', () => {
    expect(problemsOf(topology({ routers: ['r1', 'r2', 'r3', 'r2'] }))[0]).toMatchObject({
      path: 'routers[3]',
      message: expect.stringMatching(/duplicate name "r2"/),
    });
    const relayClash = problemsOf(
      topology({
        relays: [
          { name: 'near', attach: 'r2' },
          { name: 'near', attach: 'r3' },
        ],
      }),
    );
    expect(relayClash[0]?.path).toBe('relays[1].name');
    expect(problemsOf(topology({ relays: [{ name: 'r3', attach: 'r2' }] }))[0]?.message).toMatch(
      /duplicate name "r3" \(first used at routers\[2\]\)/,
    );
  });

  it('refuses a cycle of routers with no route to the endpoint', () => {
    const problems = problemsOf(
      topology({
        routers: ['r1', 'r2', 'r3', 'c1', 'c2', 'c3'],
        links: [
          { from: 'r1', to: 'r2' },
          { from: 'r2', to: 'r3' },
          { from: 'c1', to: 'c2' },
          { from: 'c2', to: 'c3' },
          { from: 'c3', to: 'c1' },
        ],
      }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('routers[3]');
    expect(problems[0]?.message).toMatch(/not reachable from the endpoint.*cycle c1 - c2 - c3 - c1/);
  });

  it('refuses a relay behind an unreachable router', () => {
    const problems = problemsOf(
      topology({ routers: ['r1', 'r2', 'r3', 'lone'], relays: [{ name: 'near', attach: 'lone' }], expect: null }),
    );
    expect(problems.map((problem) => problem.path)).toEqual(['routers[3]', 'relays[0].attach']);
  });

  it.each([
    [-1, /out of range/],
    ['20', /expected a number/],
    [10_001, /out of range \(0 to 10000\)/],
    [null, /expected a number/],
  ])('refuses delayMs %j', (delayMs, message) => {
    const problems = problemsOf(
      topology({
        links: [
          { from: 'r1', to: 'r2' },
          { from: 'r2', to: 'r3', delayMs },
        ],
      }),
    );
    expect(problems[0]).toMatchObject({ path: 'links[1].delayMs', message: expect.stringMatching(message) });
  });

  it('refuses unknown keys at every level', () => {
    expect(problemsOf(topology({ colour: 'red' }))[0]?.path).toBe('colour');
    expect(problemsOf(topology({ relays: [{ name: 'near', attach: 'r2', wieght: 5 }] }))[0]?.path).toBe(
      'relays[0].wieght',
    );
    expect(
      problemsOf(
        topology({
          links: [
            { from: 'r1', to: 'r2', delay: 5 },
            { from: 'r2', to: 'r3' },
          ],
        }),
      )[0]?.path,
    ).toBe('links[0].delay');
  });

  it('checks settings that name relays and settings the lab sets itself', () => {
    expect(problemsOf(topology({ settings: { failoverRelays: ['nowhere'] } }))[0]?.path).toBe(
      'settings.failoverRelays[0]',
    );
    expect(problemsOf(topology({ settings: { stateDir: '/tmp/x' } }))[0]?.path).toBe('settings.stateDir');
    expect(problemsOf(topology({ expect: 'ghost' }))[0]).toMatchObject({
      path: 'expect',
      message: expect.stringMatching(/unknown relay "ghost"/),
    });
  });

  it('refuses a bad registration behaviour, a self link and a duplicate link', () => {
    expect(problemsOf(topology({ relays: [{ name: 'near', attach: 'r2', registration: 'maybe' }] }))[0]?.path).toBe(
      'relays[0].registration',
    );
    expect(problemsOf(topology({ links: [{ from: 'r1', to: 'r1' }] }))[0]?.path).toBe('links[0].to');
    expect(
      problemsOf(
        topology({
          links: [
            { from: 'r1', to: 'r2' },
            { from: 'r2', to: 'r1' },
            { from: 'r2', to: 'r3' },
          ],
        }),
      )[0]?.path,
    ).toBe('links[1]');
  });

  it('reports JSON syntax errors as one problem', () => {
    const { problems } = parseTopologyText('{"routers": [', 'x');
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^not valid JSON/);
  });
});

describe('bundled lab topologies', () => {
  const files = readdirSync(labsDirectory).filter((file) => file.endsWith('.json'));

  it('include the three the issue names', () => {
    expect(files).toEqual(
      expect.arrayContaining(['branch-office.json', 'internet-dmz.json', 'server-outage.json', 'relay-full.json']),
    );
  });

  it.each(files)('%s parses and names the relay a correct run chooses', (file) => {
    const { topology: parsed, problems } = parseTopologyText(readFileSync(join(labsDirectory, file), 'utf8'), file);
    expect(problems).toEqual([]);
    expect(parsed?.relays.map((relay) => relay.name)).toContain(parsed?.expect);
  });

  it('branch-office puts the data-centre relay farther by hops than the branch relay, but with less delay', () => {
    const parsed = parseTopologyText(
      readFileSync(join(labsDirectory, 'branch-office.json'), 'utf8'),
      'branch-office',
    ).topology!;
    const distances = expectedDistances(parsed);
    expect(distances.get('relay-branch')).toBe(2);
    expect(distances.get('relay-dc')!).toBeGreaterThan(distances.get('relay-branch')!);
    const delayed = parsed.links.filter((link) => link.delayMs > 0);
    expect(delayed.every((link) => [link.from, link.to].includes('branch-core'))).toBe(true);
    expect(delayed.length).toBeGreaterThan(0);
  });
});

describe('resolveTopologyPath', () => {
  it('maps a bare name to the bundled topology and keeps paths as paths', () => {
    expect(resolveTopologyPath(undefined, '/cwd', '/pkg')).toBe('/pkg/relay-samples/labs/branch-office.json');
    expect(resolveTopologyPath('internet-dmz', '/cwd', '/pkg')).toBe('/pkg/relay-samples/labs/internet-dmz.json');
    expect(resolveTopologyPath('mine.json', '/cwd', '/pkg')).toBe('/cwd/mine.json');
    expect(displayPath('/cwd/labs/a.json', '/cwd')).toBe('labs/a.json');
    expect(displayPath('/elsewhere/a.json', '/cwd')).toBe('/elsewhere/a.json');
  });
});
