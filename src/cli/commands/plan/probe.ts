import { runCycle } from '../../../cycle/run-cycle.js';
import type { Settings } from '../../../config/settings.js';
import { relayKey } from '../../../relays/relay.js';
import type { RankedRelay } from '../../../select/types.js';
import type { CliContext } from '../../context.js';
import { formatHops, formatRtt, renderTable } from '../../../format.js';
import { createProbeProgress } from '../../probe-output.js';
import { renderPlanText, type Plan } from './render.js';

export interface PlanRanking {
  pools: {
    name: string;
    reachable: number;
    ranked: {
      host: string;
      port: number;
      priority: number;
      weight: number;
      distance: number | null;
      rttMs: number | null;
      method: string;
      reason: string;
    }[];
  }[];
  chosen: { host: string; port: number; pool: string; distance: number | null; method: string } | null;
  reason: string;
  packetsSent: number;
}

/** `plan --probe`: a dry-run selection (probe and rank, no registration, no state written). */
export async function probePlan(settings: Settings, plan: Plan, context: CliContext): Promise<PlanRanking> {
  const { output } = context;
  const pools: PlanRanking['pools'] = [];
  try {
    const report = await runCycle({
      settings,
      force: true,
      dryRun: true,
      version: context.version,
      signal: context.signal,
      ...createProbeProgress((text) => output.progress(text), 'probing'),
      onSelectionEvent: (event) => {
        if (event.type !== 'pool-probed') return;
        pools.push({ name: event.pool, reachable: event.reachable, ranked: event.ranked.map(rankedView) });
      },
    });
    const ranking: PlanRanking = {
      pools,
      chosen: report.relay
        ? {
            host: report.relay.host,
            port: report.relay.port,
            pool: report.relay.pool,
            distance: report.relay.distance,
            method: report.relay.method,
          }
        : null,
      reason: report.reason,
      packetsSent: report.packetsSent,
    };
    if (!output.json) {
      await output.lines(renderPlanText(plan, output.color));
      for (const pool of pools) {
        output.line('');
        output.line(output.color.bold(`Measured ranking, pool ${pool.name} (${pool.reachable} reachable)`));
        const rows = pool.ranked.map((entry, index) => [
          String(index + 1),
          `${entry.host}:${entry.port}`,
          formatHops(entry.distance),
          formatRtt(entry.rttMs),
          entry.method,
          entry.reason,
        ]);
        for (const line of renderTable(['#', 'relay', 'distance', 'rtt', 'method', 'why'], rows, { indent: 3 }))
          output.line(line);
      }
      output.line('');
      output.line(
        ranking.chosen
          ? `would choose ${output.color.green(relayKey(ranking.chosen))} (${formatHops(ranking.chosen.distance)}, pool ${ranking.chosen.pool}); ${ranking.packetsSent} echo requests sent`
          : `no relay would be chosen: ${ranking.reason}`,
      );
    }
    return ranking;
  } finally {
    output.endProgress();
  }
}

function rankedView(entry: RankedRelay) {
  return {
    host: entry.relay.host,
    port: entry.relay.port,
    priority: entry.relay.priority,
    weight: entry.relay.weight,
    distance: entry.result.distance,
    rttMs: entry.result.rttMs,
    method: entry.result.method,
    reason: entry.reason,
  };
}
