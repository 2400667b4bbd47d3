import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { renderPrometheusText } from '../../src/metrics/prometheus-text.js';
import { buildRunMetrics } from '../../src/metrics/run-metrics.js';
import { emptyState } from '../../src/cycle/state.js';
import { currentRelay, state } from '../cycle/builders.js';

describe('renderPrometheusText', () => {
  it('escapes HELP text and label values so a parser reads them back as written', () => {
    const text = renderPrometheusText([
      {
        name: 'x_info',
        help: 'a \\ backslash\nand a new line',
        type: 'gauge',
        samples: [{ labels: { host: 'r"1\\\n', pool: '*' }, value: 1 }],
      },
      { name: 'x_total', help: 'count', type: 'counter', samples: [{ value: 12 }] },
      {
        name: 'x_special',
        help: 'odd values',
        type: 'gauge',
        samples: [
          { labels: { kind: 'nan' }, value: Number.NaN },
          { labels: { kind: 'inf' }, value: Number.POSITIVE_INFINITY },
          { labels: { kind: 'small' }, value: 1.5e-7 },
        ],
      },
      { name: 'x_unknown', help: 'no sample now', type: 'gauge', samples: [] },
    ]);
    expect(text).toContain('# HELP x_info a \\\\ backslash\\nand a new line\n');
    expect(text).toContain('x_info{host="r\\"1\\\\\\n",pool="*"} 1\n');
    const parsed = parsePrometheusTextFormat(text);
    expect(parsed[0]).toEqual({
      name: 'x_info',
      help: 'a \\ backslash\nand a new line',
      type: 'GAUGE',
      metrics: [{ value: '1', labels: { host: 'r"1\\\n', pool: '*' } }],
    });
    expect(parsed[1]).toEqual({ name: 'x_total', help: 'count', type: 'COUNTER', metrics: [{ value: '12' }] });
    expect(parsed[2]!.metrics.map((sample) => sample.value)).toEqual(['NaN', '+Inf', '1.5e-7']);
    expect(text).toContain('# TYPE x_unknown gauge\n');
  });

  it('refuses a bad metric or label name (a bug, not data)', () => {
    expect(() => renderPrometheusText([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(
      /bad metric name/,
    );
    expect(() =>
      renderPrometheusText([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] }]),
    ).toThrow(/bad label name/);
  });
});

describe('buildRunMetrics', () => {
  const facts = {
    now: new Date('2024-03-01T12:05:00.000Z'),
    action: 'waiting',
    rule: 'retry-pending',
    nextDueAt: new Date('2024-03-01T13:00:00.000Z'),
    relayListRefusedLines: 0,
    relayListRefused: true,
  };

  it('leaves out the relay samples when there is no relay, and gives due times as Unix seconds', () => {
    const families = new Map(
      parsePrometheusTextFormat(
        renderPrometheusText(
          buildRunMetrics(
            {
              ...emptyState('c'),
              retry: { attempt: 1, nextAt: '2024-03-01T13:00:00.000Z', delaySeconds: 3300, reason: 'x' },
            },
            facts,
          ),
        ),
      ).map((family) => [family.name, family]),
    );
    expect(families.get('relay_select_relay_info')!.metrics).toEqual([]);
    expect(families.get('relay_select_relay_distance_hops')!.metrics).toEqual([]);
    expect(families.get('relay_select_retry_due_timestamp_seconds')!.metrics[0]!.value).toBe(
      String(Date.parse('2024-03-01T13:00:00.000Z') / 1000),
    );
    expect(families.get('relay_select_refused_inputs')!.metrics).toContainEqual({
      value: '1',
      labels: { input: 'relay-list' },
    });
  });

  it('counts only the avoided relays whose avoidance has not ended yet', () => {
    const avoiding = state({
      avoidedRelays: [
        { host: 'full-a.corp.example', port: 52311, until: '2024-03-01T12:30:00.000Z', reason: 'full (HTTP 429)' },
        { host: 'full-b.corp.example', port: 52311, until: facts.now.toISOString(), reason: 'full (HTTP 429)' },
        { host: 'full-c.corp.example', port: 52311, until: '2024-03-01T11:00:00.000Z', reason: 'full (HTTP 429)' },
      ],
    });
    const avoided = parsePrometheusTextFormat(renderPrometheusText(buildRunMetrics(avoiding, facts))).find(
      (family) => family.name === 'relay_select_avoided_relays',
    );
    expect(avoided?.metrics).toEqual([{ value: '1' }]);
  });

  it('gives the failure clock and an unknown distance as they are', () => {
    const failing = state({
      current: currentRelay({ distance: null, rttMs: null, method: 'tcp' }),
      failingSince: '2024-03-01T12:01:00.000Z',
    });
    const families = new Map(
      parsePrometheusTextFormat(renderPrometheusText(buildRunMetrics(failing, facts))).map((family) => [
        family.name,
        family,
      ]),
    );
    expect(families.get('relay_select_failing_since_timestamp_seconds')!.metrics[0]!.value).toBe(
      String(Date.parse('2024-03-01T12:01:00.000Z') / 1000),
    );
    expect(families.get('relay_select_relay_distance_hops')!.metrics).toEqual([]);
    expect(families.get('relay_select_relay_info')!.metrics[0]!.labels).toEqual({
      host: 'relay-a.corp.example',
      port: '52311',
      pool: '*',
      method: 'tcp',
    });
  });
});
