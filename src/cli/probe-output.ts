/** How the CLI shows probing: the progress line while it runs, and the table of results. */
import { formatRtt } from '../format.js';
import type { ProbeResult } from '../probe/types.js';

/** Rows for a table of probe results: host, address, distance, RTT, method, note. */
export function probeRows(results: ProbeResult[]): string[][] {
  return results.map((result) => [
    result.host,
    result.address ?? '-',
    result.distance === null ? '-' : String(result.distance),
    formatRtt(result.rttMs),
    result.method,
    result.note ?? '',
  ]);
}

export const PROBE_HEADERS = ['host', 'address', 'hops', 'rtt', 'method', 'note'];

/** Redraws of the progress line at most this often: a terminal is slower than 1000 probes/s. */
const PROGRESS_REDRAW_MS = 100;

/** Keeps a progress line for a probe run from the library's callbacks. */
export function createProbeProgress(draw: (text: string) => void, label: string) {
  let sent = 0;
  let replies = 0;
  let round = 0;
  let drawnAtMs = 0;
  const redraw = (force = false): void => {
    const nowMs = performance.now();
    if (!force && nowMs - drawnAtMs < PROGRESS_REDRAW_MS) return;
    drawnAtMs = nowMs;
    draw(`${label}: ${sent} echo requests sent, ${replies} replies, round ${round}`);
  };
  return {
    onProbeSent: () => {
      sent += 1;
      redraw();
    },
    onReply: () => {
      replies += 1;
      redraw();
    },
    onRoundDone: (event: { round: number }) => {
      round = event.round;
      redraw(true);
    },
  };
}
