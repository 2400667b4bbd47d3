import { describe, expect, it } from 'vitest';
import { describeAttempt, explainSelection } from '../../src/select/explain.js';
import type { Candidate, SelectionOutcome } from '../../src/select/types.js';

const near: Candidate = {
  relay: { host: '198.18.0.1', port: 52311 },
  address: '198.18.0.1',
  distance: 1,
  rttMs: 1,
  pool: 'lyon',
  method: 'echo-ttl',
};
const far: Candidate = { ...near, relay: { host: '2001:db8::2', port: 52311 }, address: '2001:db8::2', distance: 4 };

describe('explainSelection', () => {
  it('tells pools, attempts and the verdict in order', () => {
    const outcome: SelectionOutcome = {
      status: 'selected',
      chosen: far,
      registration: { status: 'registered' },
      attempts: [
        {
          candidate: near,
          reason: 'pool lyon: priority 0, 1 hop, no competition',
          outcome: { status: 'failed', detail: 'HTTP 500' },
        },
        { candidate: far, reason: 'pool lyon: priority 0, 4 hops, no competition', outcome: { status: 'registered' } },
      ],
      probes: [],
      pools: [
        { name: 'lyon', probed: true, reachable: 2, relayCount: 3 },
        { name: '*', probed: false, reachable: 0, relayCount: 5 },
      ],
    };
    expect(explainSelection(outcome)).toEqual([
      'pool lyon: 2 of 3 relays reachable',
      'pool *: not probed (5 relays)',
      '198.18.0.1:52311: pool lyon: priority 0, 1 hop, no competition → registration failed: HTTP 500',
      '[2001:db8::2]:52311: pool lyon: priority 0, 4 hops, no competition → registered',
      'selected [2001:db8::2]:52311 (pool lyon, 4 hops, echo-ttl)',
    ]);
  });

  it('says when the relay is kept with its upstream down, and when selection failed', () => {
    const kept: SelectionOutcome = {
      status: 'selected',
      chosen: near,
      registration: { status: 'upstream-down', detail: 'HTTP 503' },
      attempts: [],
      probes: [],
      pools: [],
    };
    expect(explainSelection(kept).at(-1)).toBe(
      'selected 198.18.0.1:52311 (pool lyon, 1 hop, echo-ttl) (upstream server down: HTTP 503; kept)',
    );
    expect(explainSelection({ status: 'failed', attempts: [], probes: [], pools: [] })).toEqual([
      'no relay to try: selection failed',
    ]);
    expect(
      describeAttempt({
        candidate: { ...near, pool: 'failover', method: 'failover', distance: null },
        reason: 'failover relay 1 of 1',
        outcome: { status: 'skipped', detail: 'no TCP answer on port 52311' },
      }),
    ).toBe('198.18.0.1:52311: failover relay 1 of 1 → skipped: no TCP answer on port 52311');
  });
});
