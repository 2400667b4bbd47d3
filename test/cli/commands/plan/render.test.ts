/**
 * `plan` renders a million relays by streaming: the JSON must be exactly what JSON.stringify of the
 * whole view gives (DESIGN §9 contract), the text the table it always was, and neither may hold every
 * relay's view or spread a relay array into a call (which overflowed the stack past ~120,000 relays).
 */
import { describe, expect, it } from 'vitest';
import { buildPlan, renderPlanJson, renderPlanText, toPlanView } from '../../../../src/cli/commands/plan/render.js';
import { PLAIN_STYLE } from '../../../../src/format.js';
import type { Relay } from '../../../../src/relays/relay.js';
import { settings } from '../../../helpers/settings.js';

function relay(index: number, overrides: Partial<Relay> = {}): Relay {
  const kinds = [
    `198.18.${index >> 8}.${index & 255}`,
    `2001:db8::${index.toString(16)}`,
    `relay-${index}.corp.example`,
  ];
  return {
    host: kinds[index % 3]!,
    port: 52311,
    groups: index % 4 === 0 ? [] : index % 4 === 1 ? ['hq', 'dmz'] : [`branch-${index % 7}`],
    priority: index % 3,
    weight: 100,
    ...overrides,
  };
}

const relays = (count: number): Relay[] => Array.from({ length: count }, (_, index) => relay(index));

describe('renderPlanJson', () => {
  it.each([
    ['one pool of 1 relay', relays(1), []],
    ['one pool of 450 relays (several chunks)', relays(450), []],
    ['seek-list pools, one of them empty', relays(300), ['branch-3', 'hq', '*', 'nobody']],
  ])('is JSON.stringify of the whole view for %s', (_name, list, seekList) => {
    const plan = buildPlan(settings({ seekList }), list, ['relays.dat:3:1: warning: something']);
    expect([...renderPlanJson(plan)].join('')).toBe(`${JSON.stringify(toPlanView(plan), null, 2)}\n`);
  });

  it('keeps names of every kind as JSON.stringify writes them, and values that look like its markers', () => {
    const names = [
      'quote " and backslash \\',
      'tab\tnewline\n',
      'escape \u001b[31mred',
      'emoji 😀 and a lone \ud800',
      'nul \u0000relays-0',
    ];
    const list = names.map((name, index) => relay(index, { name }));
    const plan = buildPlan(settings({ failoverRelays: ['relay.example:52311'] }), list, [
      '"\u0000relays-0"',
      '\\u0000relays-1',
    ]);
    expect([...renderPlanJson(plan)].join('')).toBe(`${JSON.stringify(toPlanView(plan), null, 2)}\n`);
  });

  it('adds fields after the view, as `plan --probe --json` adds the ranking', () => {
    const plan = buildPlan(settings({ seekList: ['hq', 'branch-1'] }), relays(40), []);
    const ranking = {
      pools: [{ name: 'hq', reachable: 1, ranked: [] }],
      chosen: null,
      reason: 'none',
      packetsSent: 12,
    };
    expect([...renderPlanJson(plan, { ranking })].join('')).toBe(
      `${JSON.stringify({ ...toPlanView(plan), ranking }, null, 2)}\n`,
    );
  });

  it('renders 150,000 relays in pieces, none of them the whole text', () => {
    const plan = buildPlan(settings(), relays(150_000), []);
    let pieces = 0;
    let longest = 0;
    let total = 0;
    for (const piece of renderPlanJson(plan)) {
      pieces++;
      longest = Math.max(longest, piece.length);
      total += piece.length;
    }
    expect(pieces).toBeGreaterThan(700);
    expect(longest).toBeLessThan(total / 100);
    expect(plan.budget.allPoolsRelays).toBe(150_000);
  });
});

describe('renderPlanText', () => {
  it('shows pools, relays in aligned columns, failover and budget', () => {
    const list = [relay(0, { name: 'hq-relay' }), relay(1), relay(2, { port: 8080 })];
    const lines = [...renderPlanText(buildPlan(settings({ seekList: ['hq', '*'] }), list, []), PLAIN_STYLE)];
    expect(lines).toEqual([
      'Relay list /etc/relay-select/Relay.dat; seek list hq;*; strategy inference; TTLs up to 254',
      '',
      '1. pool hq  1 relay; probe budget: inference ≈ 3 packets, rounds ≤ 19',
      '   relay        port   address      priority  weight  groups',
      '   2001:db8::1  52311  2001:db8::1  1         100     hq;dmz',
      '',
      '2. pool *  1 relay; probe budget: inference ≈ 3 packets, rounds ≤ 19',
      '   relay     port   address     priority  weight  groups',
      '   hq-relay  52311  198.18.0.0  0         100     *',
      '',
      'Then failover: (none)',
      'Then root server: (none)',
      '',
      'Probe budget (first pool, 1 relays): inference ≈ 3 packets; rounds ≤ 19 packets worst case (19 TTLs: 1,2,3,4,5,6,8,10,12,16,20,24,32,48,64,96,128,192,254)',
      '   every pool probed (nothing answers): inference ≈ 6, rounds ≤ 38',
    ]);
  });

  it('lists 150,000 relays, one line each, without overflowing the stack', () => {
    const lines = [...renderPlanText(buildPlan(settings(), relays(150_000), []), PLAIN_STYLE)];
    expect(lines.filter((line) => /^ {3}\S+ +52311 /.test(line))).toHaveLength(150_000);
    expect(lines.find((line) => line.includes('relay-2.corp.example'))).toMatch(/\(DNS at probe time\)/);
  });
});
