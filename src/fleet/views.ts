/**
 * What `simulate` and `estimate` print: the JSON objects scripts rely on (DESIGN §14, issue 10's
 * contract; more fields may be added, none removed) and the compact terminal summary. Pure: results in,
 * data or lines out.
 */
import type { FleetEstimate } from './estimate.js';
import type { ModelName } from './models.js';
import type { ModelRun, SimulationResult } from './simulate.js';

/** Longest series a JSON answer carries; longer runs are folded, each point the worst minute it covers. */
export const JSON_SERIES_POINTS = 720;

export interface SimulationJson {
  clients: number;
  relays: number;
  scenario: string;
  subnets: number;
  routers: number;
  seed: number;
  durationSeconds: number;
  events: Array<{ atSeconds: number; kind: string; label: string }>;
  lostRelay: string | null;
  models: Partial<Record<ModelName, ModelJson>>;
  /** The worst minute's echo requests per second, bigfix over default, when both ran. */
  worstMomentRatio: number | null;
}

export interface ModelJson {
  summary: string;
  echoRequestsPerSecond: { mean: number; peak: number };
  timeExceededPerSecond: { mean: number; peak: number };
  ttlExpiredPerSecond: { mean: number; peak: number };
  peakAtSeconds: number;
  selections: number;
  totals: ModelRun['totals'];
  clientsPerRelay: {
    max: number;
    mean: number;
    relays: Array<{ relay: string; name: string | null; weight: number; clients: number }>;
  };
  secondsToRecover: number | null;
  busiestRouter: ModelRun['busiestRouter'];
  echoRequestsPerEndpointPerDay: { mean: number; max: number };
  endpointsWithoutRelay: number;
  probeEngineRuns: number;
  endpointRuns: number;
  series: {
    pointSeconds: number;
    echoRequestsPerSecond: number[];
    timeExceededPerSecond: number[];
    selections: number[];
  };
}

export function renderSimulationJson(result: SimulationResult): SimulationJson {
  const models: Partial<Record<ModelName, ModelJson>> = {};
  for (const [name, run] of Object.entries(result.models) as Array<[ModelName, ModelRun]>) {
    const fold = Math.max(1, Math.ceil(run.series.echoRequestsPerSecond.length / JSON_SERIES_POINTS));
    models[name] = {
      summary: run.summary,
      echoRequestsPerSecond: rounded(run.echoRequestsPerSecond),
      timeExceededPerSecond: rounded(run.timeExceededPerSecond),
      ttlExpiredPerSecond: rounded(run.ttlExpiredPerSecond),
      peakAtSeconds: run.peakAtSeconds,
      selections: run.selections,
      totals: run.totals,
      clientsPerRelay: {
        max: run.clientsPerRelay.max,
        mean: round(run.clientsPerRelay.mean),
        relays: run.clientsPerRelay.relays,
      },
      secondsToRecover: run.secondsToRecover,
      busiestRouter:
        run.busiestRouter === null
          ? null
          : {
              ...run.busiestRouter,
              timeExceededPerSecond: round(run.busiestRouter.timeExceededPerSecond),
              ttlExpiredPerSecond: round(run.busiestRouter.ttlExpiredPerSecond),
            },
      echoRequestsPerEndpointPerDay: rounded(run.echoRequestsPerEndpointPerDay),
      endpointsWithoutRelay: run.endpointsWithoutRelay,
      probeEngineRuns: run.probeEngineRuns,
      endpointRuns: run.endpointRuns,
      series: {
        pointSeconds: fold * result.bucketSeconds,
        echoRequestsPerSecond: foldMax(run.series.echoRequestsPerSecond, fold),
        timeExceededPerSecond: foldMax(run.series.timeExceededPerSecond, fold),
        selections: foldSum(run.series.selections, fold),
      },
    };
  }
  return {
    clients: result.clients,
    relays: result.relays,
    scenario: result.scenario,
    subnets: result.subnets,
    routers: result.routers,
    seed: result.seed,
    durationSeconds: result.durationSeconds,
    events: result.events,
    lostRelay: result.lostRelay,
    models,
    worstMomentRatio: worstMomentRatio(result),
  };
}

/** How many times more echo requests per second bigfix sends than default at its worst minute. */
export function worstMomentRatio(result: SimulationResult): number | null {
  const fleet = result.models.default;
  const classic = result.models.bigfix;
  if (fleet === undefined || classic === undefined || fleet.echoRequestsPerSecond.peak === 0) return null;
  return round(classic.echoRequestsPerSecond.peak / fleet.echoRequestsPerSecond.peak);
}

export function renderEstimateJson(estimate: FleetEstimate, extra: Record<string, unknown>): Record<string, unknown> {
  const models: Record<string, unknown> = {};
  for (const [name, model] of Object.entries(estimate.models)) {
    if (model === undefined) continue;
    models[name] = {
      steady: roundDeep(model.steady),
      worst: roundDeep(model.worst),
      scenarios: roundDeep(model.scenarios),
      perSelection: roundDeep(model.perSelection),
      periodSeconds: round(model.periodSeconds),
    };
  }
  return { clients: estimate.clients, ...extra, models };
}

/** A sparkline of `values` in `width` characters (each the largest value it covers), on a log scale. */
export function sparkline(values: ArrayLike<number>, width: number): string {
  const blocks = '▁▂▃▄▅▆▇█';
  const fold = Math.max(1, Math.ceil(values.length / width));
  const folded = foldMax(values, fold, false);
  const top = folded.reduce((highest, value) => Math.max(highest, value), Number.NEGATIVE_INFINITY);
  if (!(top > 0)) return blocks[0]!.repeat(folded.length);
  const floor = top / 1000;
  return folded
    .map((value) => {
      if (value <= 0) return ' ';
      const level = Math.log(Math.max(value, floor) / floor) / Math.log(top / floor);
      return blocks[Math.min(blocks.length - 1, Math.max(0, Math.round(level * (blocks.length - 1))))]!;
    })
    .join('');
}

/** The terminal summary of a simulation: a table per model, sparklines of the rates, the events. */
export function renderSimulationSummary(result: SimulationResult, width = 60): string[] {
  const lines: string[] = [];
  const hours = result.durationSeconds / 3600;
  lines.push(
    `${formatCount(result.clients)} endpoints in ${formatCount(result.subnets)} subnets, ${formatCount(result.relays)} relays, ${formatCount(result.routers)} routers; scenario ${result.scenario}, ${hours >= 48 ? `${(hours / 24).toFixed(1)} days` : `${hours.toFixed(1)} h`} (seed ${result.seed})`,
  );
  if (result.events.length > 0)
    lines.push(
      `events: ${result.events.map((event) => `${event.label} at ${formatDuration(event.atSeconds)}`).join(', ')}${result.lostRelay ? ` (${result.lostRelay})` : ''}`,
    );
  lines.push('');
  const header = [
    'model',
    'echo req/s mean',
    'peak',
    'Time Exc/s mean',
    'peak',
    'selections',
    'clients/relay max',
    'mean',
    'recovered after',
  ];
  const rows = (Object.entries(result.models) as Array<[ModelName, ModelRun]>).map(([name, run]) => [
    name,
    formatRate(run.echoRequestsPerSecond.mean),
    formatRate(run.echoRequestsPerSecond.peak),
    formatRate(run.timeExceededPerSecond.mean),
    formatRate(run.timeExceededPerSecond.peak),
    formatCount(run.selections),
    formatCount(run.clientsPerRelay.max),
    run.clientsPerRelay.mean.toFixed(0),
    run.secondsToRecover === null ? '-' : formatDuration(run.secondsToRecover),
  ]);
  const widths = header.map((cell, column) =>
    rows.reduce((widest, row) => Math.max(widest, row[column]!.length), cell.length),
  );
  const format = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ');
  lines.push(format(header));
  for (const row of rows) lines.push(format(row));
  lines.push('');
  for (const [name, run] of Object.entries(result.models) as Array<[ModelName, ModelRun]>) {
    lines.push(
      `${name.padEnd(8)} echo/s   ${sparkline(run.series.echoRequestsPerSecond, width)}  peak ${formatRate(run.echoRequestsPerSecond.peak)} at ${formatDuration(run.peakAtSeconds)}`,
    );
    lines.push(
      `${''.padEnd(8)} TimeEx/s ${sparkline(run.series.timeExceededPerSecond, width)}  peak ${formatRate(run.timeExceededPerSecond.peak)}`,
    );
  }
  const ratio = worstMomentRatio(result);
  if (ratio !== null)
    lines.push(
      '',
      `worst minute: bigfix sends ${ratio.toLocaleString('en-US')}× the echo requests per second of default. ${worstMomentReason(result.scenario)}`,
    );
  return lines;
}

/** Why the two models differ at their worst moment, in one sentence per scenario. */
export function worstMomentReason(scenario: string): string {
  switch (scenario) {
    case 'server-outage':
      return 'default keeps a relay that answers 503 and only re-checks it with a jittered back-off, so the outage sends no ICMP; bigfix counts the 503 as a failure, so the whole fleet re-selects with the TTL ladder when resist-failure runs out, and retries in step without jitter.';
    case 'flap':
      return 'both retry the selections that fell due while the network was down; bigfix climbs every rung of the TTL ladder to every relay each time, and retries in step.';
    case 'relay-loss':
      return "the lost relay's endpoints re-select together once resist-failure runs out; bigfix probes with the TTL ladder, default with one echo per relay and a few TTL-limited checks.";
    default:
      return 'default sends one echo per relay and a few TTL-limited checks; bigfix climbs the TTL ladder to every relay.';
  }
}

export function formatRate(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

function foldMax(values: ArrayLike<number>, fold: number, roundValues = true): number[] {
  const out: number[] = [];
  for (let start = 0; start < values.length; start += fold) {
    let top = 0;
    for (let index = start; index < Math.min(values.length, start + fold); index += 1)
      top = Math.max(top, values[index]!);
    out.push(roundValues ? round(top) : top);
  }
  return out;
}

function foldSum(values: ArrayLike<number>, fold: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < values.length; start += fold) {
    let sum = 0;
    for (let index = start; index < Math.min(values.length, start + fold); index += 1) sum += values[index]!;
    out.push(sum);
  }
  return out;
}

/** Three significant decimals are plenty for rates; JSON stays readable. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function rounded<T extends object>(value: T): T {
  return roundDeep(value) as T;
}

function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map(roundDeep);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, roundDeep(entry)]));
  return value;
}
