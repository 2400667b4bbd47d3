/**
 * The metrics of an endpoint (issue 12, "fleet visibility"): what a node_exporter textfile collector
 * shows for each endpoint, built from the state after a run and the facts of that run. Pure.
 */
import { isAvoidedAt } from '../cycle/avoided-relays.js';
import type { State } from '../cycle/state.js';
import { zeroCounters } from '../cycle/state-check.js';
import type { MetricFamily } from './prometheus-text.js';

/** What a run saw that the state does not keep. */
export interface RunMetricFacts {
  /** When the run ended. */
  now: Date;
  /** What the run did (`selected`, `kept`, `waiting`, `failed`) and the rule that decided. */
  action: string;
  rule: string;
  /** When the next run has something to do. */
  nextDueAt: Date;
  /** Lines of the relay list in use skipped as bad: counted when it was last parsed, which a run that takes it unchanged does not (State.relayListRefusedLines). */
  relayListRefusedLines: number;
  /** The relay list was refused as a whole and the cached copy used. */
  relayListRefused: boolean;
}

const seconds = (iso: string | null | undefined): number => (iso == null ? 0 : Date.parse(iso) / 1000);

function gauge(name: string, help: string, value: number | null, labels?: Record<string, string>): MetricFamily {
  return {
    name,
    help,
    type: 'gauge',
    samples: value === null ? [] : [{ value, ...(labels === undefined ? {} : { labels }) }],
  };
}

function counter(name: string, help: string, value: number, labels?: Record<string, string>): MetricFamily {
  return { name, help, type: 'counter', samples: [{ value, ...(labels === undefined ? {} : { labels }) }] };
}

/** The metric families of one endpoint, in the order they are written. */
export function buildRunMetrics(state: State, facts: RunMetricFacts): MetricFamily[] {
  const counters = state.counters ?? zeroCounters();
  const current = state.current;
  const healthy = state.lastHealthCheck?.result === 'healthy' ? seconds(state.lastHealthCheck.at) : 0;
  const lastSuccess = Math.max(seconds(state.lastSelectionAt), healthy);
  const avoided = (state.avoidedRelays ?? []).filter((entry) => isAvoidedAt(entry, facts.now)).length;
  const jump = state.lastDistanceJump;
  return [
    gauge(
      'relay_select_relay_info',
      'The current relay (1), by host, port, pool and how it was found; absent when there is none.',
      current === null ? null : 1,
      current === null
        ? undefined
        : { host: current.host, port: String(current.port), pool: current.pool, method: current.method },
    ),
    gauge(
      'relay_select_relay_distance_hops',
      'Routers between the endpoint and its current relay; absent when unknown.',
      current?.distance ?? null,
    ),
    gauge(
      'relay_select_relay_rtt_seconds',
      'Round-trip time to the current relay when it was selected; absent when unknown.',
      current?.rttMs == null ? null : current.rttMs / 1000,
    ),
    gauge(
      'relay_select_relay_upstream_down',
      '1 while the current relay reports its upstream server down (HTTP 503).',
      current === null ? null : current.upstreamDown === true ? 1 : 0,
    ),
    {
      name: 'relay_select_selections_total',
      help: 'Selections by result: selected (a relay registered), kept (the periodic re-selection kept the current relay, switchMarginHops), failed (no relay registered).',
      type: 'counter',
      samples: (['selected', 'kept', 'failed'] as const).map((result) => ({
        labels: { result },
        value: counters.selections[result],
      })),
    },
    counter('relay_select_echo_requests_total', 'ICMP echo requests sent.', counters.echoRequests),
    counter(
      'relay_select_tcp_checks_total',
      'TCP connects and HTTP health checks made (health checks, TCP fallback, failover liveness).',
      counters.tcpChecks,
    ),
    gauge(
      'relay_select_failing_since_timestamp_seconds',
      'When the failure clock of the current relay started (Unix time); 0 while it is stopped.',
      seconds(state.failingSince),
    ),
    gauge(
      'relay_select_last_success_timestamp_seconds',
      'Last registration or passing health check (Unix time); 0 when never.',
      lastSuccess,
    ),
    gauge(
      'relay_select_retry_due_timestamp_seconds',
      'When the pending retry of a failed selection is due (Unix time); 0 when none is pending.',
      seconds(state.retry?.nextAt),
    ),
    gauge(
      'relay_select_next_due_timestamp_seconds',
      'When the next run has something to do (Unix time).',
      facts.nextDueAt.getTime() / 1000,
    ),
    counter(
      'relay_select_distance_jumps_total',
      'Selections whose relay was more than 2 hops further than the relay of the selection before.',
      counters.distanceJumps,
    ),
    gauge(
      'relay_select_last_distance_jump_hops',
      'Hops the distance grew by at the last distance jump; 0 when there was none.',
      jump === undefined ? 0 : jump.toHops - jump.fromHops,
    ),
    gauge(
      'relay_select_avoided_relays',
      'Relays passed over because they answered full (HTTP 429), until their Retry-After.',
      avoided,
    ),
    {
      name: 'relay_select_refused_inputs',
      help: 'Inputs refused by the last run: relay-list lines skipped as bad (relay-list-line), the relay list refused as a whole and the cached copy used (relay-list).',
      type: 'gauge',
      samples: [
        { labels: { input: 'relay-list-line' }, value: facts.relayListRefusedLines },
        { labels: { input: 'relay-list' }, value: facts.relayListRefused ? 1 : 0 },
      ],
    },
    counter(
      'relay_select_state_files_refused_total',
      'State files refused (corrupt, or of another version) and moved aside.',
      counters.stateFilesMovedAside,
    ),
    gauge('relay_select_last_run_info', 'What the last run did (1), by action and the rule that decided.', 1, {
      action: facts.action,
      rule: facts.rule,
    }),
    gauge(
      'relay_select_last_run_timestamp_seconds',
      'When the last run ended (Unix time): an old value means runs stopped.',
      facts.now.getTime() / 1000,
    ),
  ];
}
