/** What `plan` shows: the pools, relays, failover order and probe budget of a selection (pure). */
import { isIP } from 'node:net';
import { buildPools } from '../../../relays/pools.js';
import { isAutoSelectable, relayKey, type Pool, type Relay } from '../../../relays/relay.js';
import { estimateProbeBudget } from '../../../probe/index.js';
import type { Settings } from '../../../config/settings.js';
import type { CliContext } from '../../context.js';
import { renderTable } from '../../../format.js';

interface PlanRelayView {
  host: string;
  port: number;
  name: string | null;
  address: string | null;
  priority: number;
  weight: number;
  groups: string[];
  /** false: `autoselect=false` in the list; automatic selection passes it over (a failover or manual relay may name it). */
  autoselect: boolean;
}

export interface PlanView {
  relayList: string;
  seekList: string[];
  strategy: Settings['probe']['strategy'];
  maximumTtlToPing: number;
  pools: { name: string; relays: PlanRelayView[]; budget: ReturnType<typeof estimateProbeBudget> }[];
  failover: string[];
  rootServer: string | null;
  manual: { automatic: boolean; relays: string[] };
  budget: {
    firstPoolRelays: number;
    allPoolsRelays: number;
    inference: { firstPoolPackets: number; worstCasePackets: number };
    rounds: { firstPoolWorstCasePackets: number; worstCasePackets: number; ttls: number[] };
  };
  warnings: string[];
}

function relayView(relay: Relay): PlanRelayView {
  return {
    host: relay.host,
    port: relay.port,
    name: relay.name ?? null,
    address: isIP(relay.host) ? relay.host : null,
    priority: relay.priority,
    weight: relay.weight,
    groups: relay.groups,
    autoselect: isAutoSelectable(relay),
  };
}

/** Pure: the plan of a selection from the settings and the parsed relay list. */
export function buildPlanView(settings: Settings, relays: Relay[], warnings: string[]): PlanView {
  const pools: Pool[] = buildPools(relays, settings.seekList);
  const budgetOf = (count: number) => estimateProbeBudget(count, settings.probe.strategy, settings.maximumTtlToPing, settings.probe.verifyMargin);
  // Relays marked autoselect=false are listed but not probed: the budget counts the others.
  const poolViews = pools.map((pool) => ({ name: pool.name, relays: pool.relays.map(relayView), budget: budgetOf(pool.relays.filter(isAutoSelectable).length) }));
  const first = poolViews.find((pool) => pool.relays.some((relay) => relay.autoselect));
  const sum = (pick: (budget: ReturnType<typeof estimateProbeBudget>) => number): number => poolViews.reduce((total, pool) => total + pick(pool.budget), 0);
  return {
    relayList: settings.relayList,
    seekList: settings.seekList,
    strategy: settings.probe.strategy,
    maximumTtlToPing: settings.maximumTtlToPing,
    pools: poolViews,
    failover: settings.failoverRelays,
    rootServer: settings.rootServer ?? null,
    manual: { automatic: settings.automatic, relays: settings.manualRelays },
    budget: {
      firstPoolRelays: first?.relays.filter((relay) => relay.autoselect).length ?? 0,
      allPoolsRelays: new Set(pools.flatMap((pool) => pool.relays.filter(isAutoSelectable).map(relayKey))).size,
      inference: { firstPoolPackets: first?.budget.inference.packets ?? 0, worstCasePackets: sum((budget) => budget.inference.packets) },
      rounds: {
        firstPoolWorstCasePackets: first?.budget.rounds.worstCasePackets ?? 0,
        worstCasePackets: sum((budget) => budget.rounds.worstCasePackets),
        ttls: first?.budget.rounds.ttls ?? [],
      },
    },
    warnings,
  };
}

export function renderPlanText(view: PlanView, color: CliContext['output']['color']): string[] {
  const lines: string[] = [];
  lines.push(`${color.bold('Relay list')} ${view.relayList}; seek list ${view.seekList.length > 0 ? view.seekList.join(';') : '(empty: one pool of all relays)'}; strategy ${view.strategy}; TTLs up to ${view.maximumTtlToPing - 1}`);
  if (!view.manual.automatic) lines.push(color.yellow(`Manual mode: relays ${view.manual.relays.join(', ') || '(none)'} in order; pools below are not used.`));
  view.pools.forEach((pool, index) => {
    lines.push('');
    lines.push(`${color.bold(`${index + 1}. pool ${pool.name}`)}  ${pool.relays.length} relay${pool.relays.length === 1 ? '' : 's'}; probe budget: inference ≈ ${pool.budget.inference.packets} packets, rounds ≤ ${pool.budget.rounds.worstCasePackets}`);
    if (pool.relays.length === 0) {
      lines.push(color.dim('   (no relay advertises this group: skipped)'));
      return;
    }
    const rows = pool.relays.map((relay) => [
      relay.autoselect ? (relay.name ?? relay.host) : `${relay.name ?? relay.host} ${color.yellow('(autoselect=false: not chosen automatically)')}`,
      String(relay.port),
      relay.address ?? color.dim('(DNS at probe time)'),
      String(relay.priority),
      String(relay.weight),
      relay.groups.length > 0 ? relay.groups.join(';') : '*',
    ]);
    lines.push(...renderTable(['relay', 'port', 'address', 'priority', 'weight', 'groups'], rows, { indent: 3 }));
  });
  lines.push('');
  lines.push(`${color.bold('Then failover')}: ${view.failover.length > 0 ? view.failover.join(', ') : '(none)'}`);
  lines.push(`${color.bold('Then root server')}: ${view.rootServer ?? '(none)'}`);
  lines.push('');
  const { budget } = view;
  lines.push(`${color.bold('Probe budget')} (first pool, ${budget.firstPoolRelays} relays): inference ≈ ${budget.inference.firstPoolPackets} packets; rounds ≤ ${budget.rounds.firstPoolWorstCasePackets} packets worst case (${budget.rounds.ttls.length} TTLs: ${budget.rounds.ttls.join(',')})`);
  lines.push(`   every pool probed (nothing answers): inference ≈ ${budget.inference.worstCasePackets}, rounds ≤ ${budget.rounds.worstCasePackets}`);
  return lines;
}

