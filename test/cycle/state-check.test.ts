/**
 * `acceptState` lets `status` and a run that is not due read the state without zod. It must never
 * accept what the schema refuses, must build what the schema builds (fields in its order), must take
 * every state relay-select writes, and must know every field of the schema.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { KNOWN_STATE_FIELDS, acceptState } from '../../src/cycle/state-check.js';
import { emptyState, stateSchema } from '../../src/cycle/state.js';

const iso = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());
const oddTimestamp = fc.constantFrom(
  '2024-02-30T00:00:00.000Z',
  '2024-02-29T00:00:00.000Z',
  '2023-02-29T00:00:00.000Z',
  '2024-01-01T24:00:00.000Z',
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00.000+02:00',
  '2024-01-01 00:00:00',
  '',
  'yesterday',
);
const timestamp = fc.oneof({ arbitrary: iso, weight: 30 }, { arbitrary: oddTimestamp, weight: 1 });
const odd = fc.constantFrom<unknown>(null, undefined, '', 'x', -1, 0, 1.5, Number.NaN, true, [], {});

/** A value: usually a valid one, sometimes a near miss. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: valid, weight: 40 }, { arbitrary: odd, weight: 1 });

const currentRelay = fc.record(
  {
    host: mostly(fc.constantFrom('relay.example', '198.18.0.1', '2001:db8::1')),
    port: mostly(fc.constantFrom(1, 52311, 65535, 65536)),
    address: mostly(fc.constantFrom(null, '198.18.0.1', '')),
    distance: mostly(fc.constantFrom(null, 0, 3, -1)),
    rttMs: mostly(fc.constantFrom(null, 0, 1.25, Number.POSITIVE_INFINITY)),
    pool: mostly(fc.constantFrom('*all*', '', 'failover')),
    method: mostly(fc.constantFrom('echo-ttl', 'tcp', '')),
    registeredAt: timestamp,
    upstreamDown: mostly(fc.boolean()),
  },
  { requiredKeys: ['host', 'port', 'address', 'distance', 'rttMs', 'pool', 'method', 'registeredAt'] },
);

/** Valid values most of the time, a near miss now and then: the state has many fields, and each near miss refuses the whole state. */
const nearly = <T>(valid: readonly T[], invalid: readonly unknown[]): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 60 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
const defaultRoute = fc.oneof(
  fc.constant(null),
  fc.record({
    gateway: nearly([null, '198.18.0.1', 'fe80::1'], [1, undefined]),
    interface: nearly(['eth0', 'wlan0'], [null]),
  }),
);
const network = fc.record({
  ipv4: defaultRoute,
  ipv6: defaultRoute,
  source: fc.oneof(
    fc.constant(null),
    fc.record({ toward: nearly(['198.18.9.1', '2001:db8::9'], [null]), address: nearly([null, '198.18.0.10'], [0]) }),
  ),
});
const avoidedRelay = fc.record({
  host: nearly(['relay.example', '198.18.0.1'], ['']),
  port: nearly([1, 52311, 65535], [0, 65536]),
  until: timestamp,
  reason: nearly(['full (HTTP 429)', ''], [null]),
});
const count = nearly([0, 1, 12345], [-1, 2.5]);
const counters = fc.record({
  selections: fc.record({ selected: count, kept: count, failed: count }),
  echoRequests: count,
  tcpChecks: count,
  distanceJumps: count,
  stateFilesMovedAside: count,
});

const state = fc
  .record(
    {
      version: fc.oneof(
        { arbitrary: fc.constant<unknown>(1), weight: 40 },
        { arbitrary: fc.constantFrom<unknown>(2, '1'), weight: 1 },
      ),
      clientId: mostly(fc.constantFrom('endpoint-1', '')),
      current: fc.oneof(
        { arbitrary: fc.constant(null), weight: 5 },
        { arbitrary: currentRelay, weight: 10 },
        { arbitrary: odd, weight: 1 },
      ),
      lastSelectionAt: fc.oneof(fc.constant(null), timestamp),
      lastAttemptAt: fc.oneof(fc.constant(null), timestamp),
      failingSince: fc.oneof(fc.constant(null), timestamp),
      failureReportedAt: fc.oneof(fc.constant(null), timestamp, fc.constant(undefined)),
      retry: fc.oneof(
        fc.constant(null),
        fc.record({
          attempt: mostly(fc.constantFrom(1, 4, 0)),
          nextAt: timestamp,
          delaySeconds: mostly(fc.constantFrom(60, 0.5, 0)),
          reason: mostly(fc.constantFrom('no relay answered', '')),
        }),
      ),
      upstreamBackoff: fc.oneof(
        fc.constant(null),
        fc.record({
          attempt: mostly(fc.constantFrom(1, 2)),
          nextAt: timestamp,
          delaySeconds: mostly(fc.constantFrom(60, -1)),
        }),
      ),
      lastHealthCheck: fc.record(
        {
          at: timestamp,
          result: mostly(fc.constantFrom('healthy', 'failing', 'upstream-down', 'sick')),
          detail: mostly(fc.constantFrom('HTTP 200', '')),
        },
        { requiredKeys: ['at', 'result'] },
      ),
      relayListDigest: mostly(fc.constantFrom('ab12', '')),
      network: mostly(network),
      avoidedRelays: mostly(fc.array(avoidedRelay, { maxLength: 2 })),
      lastDistanceJump: mostly(
        fc.record({
          at: timestamp,
          fromHops: count,
          toHops: count,
          from: nearly(['a:1', ''], [null]),
          to: nearly(['b:2'], [1]),
        }),
      ),
      counters: mostly(counters),
      relayListRefusedLines: mostly(fc.record({ digest: nearly(['ab12', ''], [1]), count })),
    },
    { requiredKeys: ['version', 'clientId', 'current', 'lastSelectionAt', 'lastAttemptAt', 'failingSince', 'retry'] },
  )
  .chain((value) =>
    fc.oneof(
      { arbitrary: fc.constant(value), weight: 20 },
      { arbitrary: fc.constant({ ...value, unknownField: 'from a newer version' }), weight: 1 },
    ),
  );

/** The field names of every object of a zod schema, by path (`''` for the top, `list[]` for a list's items), through nullable and optional. */
function schemaFields(schema: z.ZodTypeAny, path = '', into: Record<string, string[]> = {}): Record<string, string[]> {
  let inner = schema;
  while (inner instanceof z.ZodNullable || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodTypeAny;
  if (inner instanceof z.ZodArray) return schemaFields(inner.element as z.ZodTypeAny, `${path}[]`, into);
  if (inner instanceof z.ZodObject) {
    const shape = inner.shape as Record<string, z.ZodTypeAny>;
    into[path] = Object.keys(shape);
    for (const [key, child] of Object.entries(shape)) schemaFields(child, path === '' ? key : `${path}.${key}`, into);
  }
  return into;
}

describe('acceptState', () => {
  it('knows every field of the state schema, in its order', () => {
    expect(KNOWN_STATE_FIELDS).toEqual(schemaFields(stateSchema));
  });

  it('accepts only what the schema accepts, and builds what it builds', () => {
    let accepted = 0;
    fc.assert(
      fc.property(state, (value) => {
        const quick = acceptState(value);
        const parsed = stateSchema.safeParse(value);
        if (quick === undefined) return;
        accepted++;
        expect(parsed.success).toBe(true);
        expect(quick).toEqual(parsed.data);
        expect(JSON.stringify(quick)).toBe(JSON.stringify(parsed.data));
      }),
      { numRuns: 6000 },
    );
    expect(accepted).toBeGreaterThan(200);
  });

  it('takes every state written as relay-select writes it (toISOString timestamps, known fields)', () => {
    let taken = 0;
    fc.assert(
      fc.property(state, (value) => {
        const parsed = stateSchema.safeParse(value);
        if (!parsed.success) return;
        const written: unknown = JSON.parse(JSON.stringify(parsed.data));
        const timestamps = JSON.stringify(written).match(/\d{4}-\d\d-\d\dT[^"]*/g) ?? [];
        if (!timestamps.every((text) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(text))) return;
        taken++;
        expect(acceptState(written)).toEqual(written);
      }),
      { numRuns: 3000 },
    );
    expect(taken).toBeGreaterThan(100);
    expect(acceptState(emptyState('endpoint-1'))).toEqual(emptyState('endpoint-1'));
  });

  it('leaves a field it does not know to the schema, which drops it', () => {
    const value = { ...emptyState('endpoint-1'), addedLater: true };
    expect(acceptState(value)).toBeUndefined();
    expect(stateSchema.parse(value)).toEqual(emptyState('endpoint-1'));
  });
});
