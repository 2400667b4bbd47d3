/**
 * The picture of `simulate --svg FILE`: per model, echo requests/s and Time Exceeded/s over time (log
 * scale, the scenario's events marked), and clients per relay against the relay's weight. Hand-written
 * SVG 1.1, no script and no external resource, so any browser or image viewer renders it. Pure.
 */
import type { ModelName } from './models.js';
import type { ModelRun, SimulationResult } from './simulate.js';
import { formatCount, formatRate, worstMomentRatio, worstMomentReason } from './views.js';

const WIDTH = 1200;
const HEIGHT = 960;
const LEFT = 90;
const RIGHT = WIDTH - 40;
const COLORS: Record<ModelName, string> = { default: '#1f77b4', bigfix: '#d62728', agent: '#2ca02c' };
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

export function renderSimulationSvg(result: SimulationResult): string {
  const runs = Object.entries(result.models) as Array<[ModelName, ModelRun]>;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT} font-size="13">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(
      LEFT,
      32,
      `relay-select simulate — ${formatCount(result.clients)} endpoints, ${formatCount(result.subnets)} subnets, ${formatCount(result.relays)} relays — scenario ${result.scenario}`,
      { size: 18, weight: 'bold' },
    ),
    text(
      LEFT,
      52,
      `seed ${result.seed}; per second, averaged over each ${result.bucketSeconds}-second bucket; each point the worst minute of its 5-minute cron round; log scale`,
      { size: 12, fill: '#555' },
    ),
  );
  runs.forEach(([name, run], index) => {
    const x = LEFT + index * 330;
    parts.push(
      `<line x1="${x}" y1="70" x2="${x + 28}" y2="70" stroke="${COLORS[name]}" stroke-width="3"/>`,
      text(x + 36, 74, `${name}: worst minute ${formatRate(run.echoRequestsPerSecond.peak)} echo requests/s`, {
        size: 12,
      }),
    );
  });
  const panels = [
    timePanel(result, runs, 'echoRequestsPerSecond', 'echo requests / s', 110, 290),
    timePanel(result, runs, 'timeExceededPerSecond', 'Time Exceeded / s (routers)', 450, 190),
    relayPanel(runs, 700, 210),
    figuresPanel(result, runs, 700),
  ];
  for (const panel of panels) for (const part of panel) parts.push(part);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

type SeriesName = 'echoRequestsPerSecond' | 'timeExceededPerSecond';

function timePanel(
  result: SimulationResult,
  runs: Array<[ModelName, ModelRun]>,
  series: SeriesName,
  title: string,
  top: number,
  height: number,
): string[] {
  const bottom = top + height;
  const parts: string[] = [text(LEFT, top - 10, title, { size: 14, weight: 'bold' })];
  const values = runs.map(([, run]) => run.series[series]);
  let maximum = 0;
  let minimumPositive = Number.POSITIVE_INFINITY;
  for (const series of values) {
    for (const value of series) {
      if (value > maximum) maximum = value;
      if (value > 0 && value < minimumPositive) minimumPositive = value;
    }
  }
  if (!(maximum > 0)) {
    maximum = 1;
    minimumPositive = 1;
  }
  const lowPower = Math.floor(Math.log10(Math.min(minimumPositive, maximum)));
  const highPower = Math.max(lowPower + 1, Math.ceil(Math.log10(maximum)));
  const low = 10 ** lowPower;
  const yOf = (value: number): number =>
    bottom - ((Math.log10(Math.max(value, low)) - lowPower) / (highPower - lowPower)) * height;
  const duration = result.durationSeconds;
  const xOf = (seconds: number): number => LEFT + (seconds / duration) * (RIGHT - LEFT);

  parts.push(`<rect x="${LEFT}" y="${top}" width="${RIGHT - LEFT}" height="${height}" fill="#fafafa" stroke="#ccc"/>`);
  for (const span of result.spans)
    parts.push(
      `<rect x="${xOf(span.fromSeconds).toFixed(1)}" y="${top}" width="${Math.max(1, xOf(span.toSeconds) - xOf(span.fromSeconds)).toFixed(1)}" height="${height}" fill="#fde9c8" opacity="0.7"/>`,
    );
  for (let power = lowPower; power <= highPower; power += 1) {
    const y = yOf(10 ** power);
    parts.push(
      `<line x1="${LEFT}" y1="${y.toFixed(1)}" x2="${RIGHT}" y2="${y.toFixed(1)}" stroke="#e3e3e3"/>`,
      text(LEFT - 8, y + 4, formatPower(power), { anchor: 'end', size: 11, fill: '#555' }),
    );
  }
  for (const tick of timeTicks(duration)) {
    const x = xOf(tick.seconds);
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${bottom}" x2="${x.toFixed(1)}" y2="${bottom + 5}" stroke="#888"/>`,
      text(x, bottom + 18, tick.label, { anchor: 'middle', size: 11, fill: '#555' }),
    );
  }
  // Cron runs everyone in the first minute of each 5-minute round: a point per round (its worst minute) reads better than a comb.
  const perRound = Math.max(1, Math.round(300 / result.bucketSeconds));
  runs.forEach(([name], index) => {
    const points = downsample(values[index]!, RIGHT - LEFT, perRound)
      .map(
        (point) =>
          `${(LEFT + (point.index / values[index]!.length) * (RIGHT - LEFT)).toFixed(1)},${yOf(point.value).toFixed(1)}`,
      )
      .join(' ');
    parts.push(
      `<polyline fill="none" stroke="${COLORS[name]}" stroke-width="1.4" stroke-linejoin="round" points="${points}"/>`,
    );
  });
  result.events.forEach((event, index) => {
    const x = xOf(event.atSeconds);
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#8c564b" stroke-dasharray="5,4"/>`,
      text(x + 4, top + 14 + (index % 2) * 14, event.label, { size: 11, fill: '#8c564b' }),
    );
  });
  return parts;
}

function relayPanel(runs: Array<[ModelName, ModelRun]>, top: number, height: number): string[] {
  const left = LEFT;
  const right = 640;
  const bottom = top + height;
  const parts: string[] = [
    text(left, top - 10, 'clients per relay at the end, against the relay\u2019s weight', { size: 14, weight: 'bold' }),
  ];
  const loads = runs.flatMap(([model, run]) => run.clientsPerRelay.relays.map((relay) => ({ ...relay, model })));
  const maxWeight = loads.reduce((most, load) => Math.max(most, load.weight), 1);
  const maxClients = niceCeiling(loads.reduce((most, load) => Math.max(most, load.clients), 1));
  const xOf = (weight: number): number => left + 20 + (weight / maxWeight) * (right - left - 40);
  const yOf = (clients: number): number => bottom - (clients / maxClients) * height;
  parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${height}" fill="#fafafa" stroke="#ccc"/>`);
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const clients = Math.round(maxClients * fraction);
    parts.push(
      `<line x1="${left}" y1="${yOf(clients).toFixed(1)}" x2="${right}" y2="${yOf(clients).toFixed(1)}" stroke="#e3e3e3"/>`,
      text(left - 8, yOf(clients) + 4, formatCount(clients), { anchor: 'end', size: 11, fill: '#555' }),
    );
  }
  for (const weight of [...new Set(loads.map((load) => load.weight))].sort((a, b) => a - b)) {
    parts.push(text(xOf(weight), bottom + 18, String(weight), { anchor: 'middle', size: 11, fill: '#555' }));
  }
  parts.push(text((left + right) / 2, bottom + 36, 'relay weight', { anchor: 'middle', size: 11, fill: '#555' }));
  runs.forEach(([name], index) => {
    const offset = (index - (runs.length - 1) / 2) * 8;
    for (const load of loads.filter((entry) => entry.model === name)) {
      parts.push(
        `<circle cx="${(xOf(load.weight) + offset + spread(load.relay)).toFixed(1)}" cy="${yOf(load.clients).toFixed(1)}" r="3" fill="${COLORS[name]}" fill-opacity="0.45"/>`,
      );
    }
  });
  return parts;
}

function figuresPanel(result: SimulationResult, runs: Array<[ModelName, ModelRun]>, top: number): string[] {
  const left = 690;
  const parts: string[] = [text(left, top - 10, 'the worst minute', { size: 14, weight: 'bold' })];
  let y = top + 14;
  for (const [name, run] of runs) {
    parts.push(
      text(
        left,
        y,
        `${name}: ${formatRate(run.echoRequestsPerSecond.peak)} echo requests/s, ${formatRate(run.timeExceededPerSecond.peak)} Time Exceeded/s`,
        { fill: COLORS[name], weight: 'bold' },
      ),
    );
    y += 18;
    parts.push(
      text(
        left + 12,
        y,
        `mean ${formatRate(run.echoRequestsPerSecond.mean)}/s; ${formatCount(run.selections)} selections; clients per relay max ${formatCount(run.clientsPerRelay.max)}, mean ${run.clientsPerRelay.mean.toFixed(0)}`,
        { size: 12, fill: '#333' },
      ),
    );
    y += 16;
    if (run.secondsToRecover !== null) {
      parts.push(
        text(left + 12, y, `settled again ${formatDurationWords(run.secondsToRecover)} after the trouble ended`, {
          size: 12,
          fill: '#333',
        }),
      );
      y += 16;
    }
    y += 6;
  }
  const ratio = worstMomentRatio(result);
  if (ratio !== null) {
    parts.push(
      text(left, y + 4, `bigfix / default at the worst minute: ${ratio.toLocaleString('en-US')}×`, { weight: 'bold' }),
    );
    y += 22;
    for (const line of wrap(`Why: ${worstMomentReason(result.scenario)}`, 70)) {
      parts.push(text(left, y, line, { size: 12, fill: '#333' }));
      y += 16;
    }
  }
  return parts;
}

/** At most `width` points, each the largest value of the run of buckets it stands for (peaks survive). */
function downsample(
  values: ArrayLike<number>,
  width: number,
  minimumFold: number,
): Array<{ index: number; value: number }> {
  const fold = Math.max(minimumFold, Math.ceil(values.length / width));
  const points: Array<{ index: number; value: number }> = [];
  for (let start = 0; start < values.length; start += fold) {
    let top = 0;
    for (let index = start; index < Math.min(values.length, start + fold); index += 1)
      top = Math.max(top, values[index]!);
    points.push({ index: start, value: top });
  }
  return points;
}

function timeTicks(durationSeconds: number): Array<{ seconds: number; label: string }> {
  const hours = durationSeconds / 3600;
  const stepHours = hours <= 12 ? 1 : hours <= 36 ? 3 : hours <= 96 ? 12 : 24;
  const ticks: Array<{ seconds: number; label: string }> = [];
  for (let at = 0; at <= hours + 1e-9; at += stepHours)
    ticks.push({ seconds: at * 3600, label: stepHours >= 24 ? `day ${at / 24}` : `${at} h` });
  return ticks;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `value`, so the four grid steps read well. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 2.5, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

function formatPower(power: number): string {
  const labels: Record<number, string> = {
    [-3]: '0.001',
    [-2]: '0.01',
    [-1]: '0.1',
    0: '1',
    1: '10',
    2: '100',
    3: '1k',
    4: '10k',
    5: '100k',
    6: '1M',
    7: '10M',
    8: '100M',
  };
  return labels[power] ?? `1e${power}`;
}

function formatDurationWords(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${(seconds / 3600).toFixed(1)} hours`;
}

/** A small stable horizontal offset per relay so equal points do not hide each other. */
function spread(key: string): number {
  let hash = 0;
  for (let index = 0; index < key.length; index += 1) hash = (hash * 31 + key.charCodeAt(index)) | 0;
  return ((hash >>> 0) % 9) - 4;
}

function wrap(words: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words.split(' ')) {
    if (line.length + word.length + 1 > width && line !== '') {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function text(
  x: number,
  y: number,
  content: string,
  style: { size?: number; weight?: string; fill?: string; anchor?: 'start' | 'middle' | 'end' } = {},
): string {
  const attributes = [`x="${x.toFixed(1)}"`, `y="${y.toFixed(1)}"`];
  if (style.size !== undefined) attributes.push(`font-size="${style.size}"`);
  if (style.weight !== undefined) attributes.push(`font-weight="${style.weight}"`);
  if (style.fill !== undefined) attributes.push(`fill="${style.fill}"`);
  if (style.anchor !== undefined) attributes.push(`text-anchor="${style.anchor}"`);
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
