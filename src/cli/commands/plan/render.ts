/**
 * What `plan` shows: the pools, relays, failover order and probe budget of a selection (pure). A list
 * may hold a million relays (DESIGN §3), so the plan keeps the parsed relays as they are and both
 * renderers stream: text line by line, `--json` in pieces, each relay turned into its view only while
 * it is written.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { buildPools } from '../../../relays/pools.js';
import { isAutoSelectable, type Pool, type Relay } from '../../../relays/relay.js';
import { estimateProbeBudget } from '../../../probe/budget.js';
import type { Settings } from '../../../config/settings.js';
import type { Style } from '../../../format.js';
import { streamTable } from '../../../format.js';

/** One relay as `plan --json` shows it. */
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

type PoolBudget = ReturnType<typeof estimateProbeBudget>;

/** The plan with its relays still in their parsed form; `toPlanView` gives the shape `plan --json` prints. */
export interface Plan {
  relayList: string;
  seekList: string[];
  strategy: Settings['probe']['strategy'];
  maximumTtlToPing: number;
  pools: { name: string; relays: readonly Relay[]; budget: PoolBudget }[];
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

/** `isIP(host) !== 0`, without trying the long IPv6 pattern on names and IPv4 addresses (no `:`), which it cannot match. */
function isIpAddress(host: string): boolean {
  return host.includes(':') ? isIPv6(host) : isIPv4(host);
}

function relayView(relay: Relay): PlanRelayView {
  return {
    host: relay.host,
    port: relay.port,
    name: relay.name ?? null,
    address: isIpAddress(relay.host) ? relay.host : null,
    priority: relay.priority,
    weight: relay.weight,
    groups: relay.groups,
    autoselect: isAutoSelectable(relay),
  };
}

/** The relays automatic selection may choose (not `autoselect=false`), counted without copying the list. */
function countAutoSelectable(relays: readonly Relay[]): number {
  let count = 0;
  for (const relay of relays) if (isAutoSelectable(relay)) count++;
  return count;
}

/** Auto-selectable relays in at least one pool. The parser merges every spelling of one relay into one object, so objects count relays. */
function countRelaysInPools(pools: readonly Pool[]): number {
  if (pools.length === 1) return countAutoSelectable(pools[0]!.relays);
  const seen = new Set<Relay>();
  for (const pool of pools) for (const relay of pool.relays) if (isAutoSelectable(relay)) seen.add(relay);
  return seen.size;
}

/** Pure: the plan of a selection from the settings and the parsed relay list. */
export function buildPlan(settings: Settings, relays: readonly Relay[], warnings: string[]): Plan {
  const pools: Pool[] = buildPools(relays, settings.seekList);
  const budgetOf = (count: number) =>
    estimateProbeBudget(count, settings.probe.strategy, settings.maximumTtlToPing, settings.probe.verifyMargin);
  // Relays marked autoselect=false are listed but not probed: the budget counts the others.
  const probed = pools.map((pool) => countAutoSelectable(pool.relays));
  const planPools = pools.map((pool, index) => ({
    name: pool.name,
    relays: pool.relays,
    budget: budgetOf(probed[index]!),
  }));
  const firstIndex = probed.findIndex((count) => count > 0);
  const first = firstIndex === -1 ? undefined : planPools[firstIndex];
  const sum = (pick: (budget: PoolBudget) => number): number =>
    planPools.reduce((total, pool) => total + pick(pool.budget), 0);
  return {
    relayList: settings.relayList,
    seekList: settings.seekList,
    strategy: settings.probe.strategy,
    maximumTtlToPing: settings.maximumTtlToPing,
    pools: planPools,
    failover: settings.failoverRelays,
    rootServer: settings.rootServer ?? null,
    manual: { automatic: settings.automatic, relays: settings.manualRelays },
    budget: {
      firstPoolRelays: firstIndex === -1 ? 0 : probed[firstIndex]!,
      allPoolsRelays: countRelaysInPools(pools),
      inference: {
        firstPoolPackets: first?.budget.inference.packets ?? 0,
        worstCasePackets: sum((budget) => budget.inference.packets),
      },
      rounds: {
        firstPoolWorstCasePackets: first?.budget.rounds.worstCasePackets ?? 0,
        worstCasePackets: sum((budget) => budget.rounds.worstCasePackets),
        ttls: first?.budget.rounds.ttls ?? [],
      },
    },
    warnings,
  };
}

/**
 * The object `plan --json` prints (DESIGN §9). `relaysOf` gives each pool's `relays`: by default every
 * relay's view, which holds them all in memory; `renderPlanJson` puts a placeholder there instead.
 */
export function toPlanView(
  plan: Plan,
  relaysOf: (relays: readonly Relay[], poolIndex: number) => unknown = (relays) => relays.map(relayView),
) {
  return {
    ...plan,
    pools: plan.pools.map((pool, index) => ({
      name: pool.name,
      relays: relaysOf(pool.relays, index),
      budget: pool.budget,
    })),
  };
}

/** Relay views turned into JSON per chunk: small enough to stay out of the big-object heap, big enough to be fast. */
const JSON_CHUNK_RELAYS = 200;

/**
 * `relays` as the JSON array JSON.stringify(…, null, 2) writes where its opening bracket is indented by
 * `indent` spaces. Each chunk is stringified inside `indent / 2` wrapping arrays, so JSON.stringify itself
 * indents its elements, and the wrapping is cut off again.
 */
function* renderRelaysJson(relays: readonly Relay[], indent: number): Generator<string> {
  if (relays.length === 0) {
    yield '[]';
    return;
  }
  const depth = indent / 2;
  const wrap = (value: unknown): unknown => {
    let wrapped = value;
    for (let level = 0; level < depth; level++) wrapped = [wrapped];
    return wrapped;
  };
  // "[\n", "  [\n", "    [\n" … down to the chunk's own bracket, and as many characters to close them at the end.
  let wrapping = 0;
  for (let level = 0; level <= depth; level++) wrapping += level * 2 + 2;
  yield '[\n';
  for (let start = 0; start < relays.length; start += JSON_CHUNK_RELAYS) {
    const chunk = relays.slice(start, start + JSON_CHUNK_RELAYS).map(relayView);
    const text = JSON.stringify(wrap(chunk), null, 2);
    const elements = text.slice(wrapping, text.length - wrapping);
    yield start === 0 ? elements : `,\n${elements}`;
  }
  yield `\n${' '.repeat(indent)}]`;
}

/**
 * `plan --json` (with `extra` fields at the end, e.g. `ranking`), in pieces: exactly the text of
 * `JSON.stringify({ ...toPlanView(plan), ...extra }, null, 2)` and a newline, without ever holding
 * every relay's view, nor the whole text.
 */
export function* renderPlanJson(plan: Plan, extra: Readonly<Record<string, unknown>> = {}): Generator<string> {
  // Each pool's relays become a marker string no value of the plan can contain (a NUL, which every input refuses, and a random tag).
  const tag = `\u0000relays-${Math.random().toString(36).slice(2)}-`;
  const marker = (index: number): string => JSON.stringify(`${tag}${index}`);
  const skeleton = JSON.stringify({ ...toPlanView(plan, (_relays, index) => `${tag}${index}`), ...extra }, null, 2);
  let position = 0;
  for (const [index, pool] of plan.pools.entries()) {
    const at = skeleton.indexOf(marker(index), position);
    yield skeleton.slice(position, at);
    const indent = at - skeleton.lastIndexOf('\n', at) - 1 - '"relays": '.length;
    yield* renderRelaysJson(pool.relays, indent);
    position = at + marker(index).length;
  }
  yield `${skeleton.slice(position)}\n`;
}

const NOT_CHECKED = 0;
const IP_ADDRESS = 1;
const HOST_NAME = 2;

/**
 * The table rows of `relays`. The table reads them twice (widths, then lines); `addressKinds` keeps
 * whether each host is an address between the two, as the IPv6 pattern is the slowest part of a row.
 */
function* relayRows(relays: readonly Relay[], color: Style, addressKinds: Uint8Array): Generator<string[]> {
  const unresolved = color.dim('(DNS at probe time)');
  const notAutomatic = color.yellow('(autoselect=false: not chosen automatically)');
  for (let index = 0; index < relays.length; index++) {
    const relay = relays[index]!;
    if (addressKinds[index] === NOT_CHECKED) addressKinds[index] = isIpAddress(relay.host) ? IP_ADDRESS : HOST_NAME;
    yield [
      isAutoSelectable(relay) ? (relay.name ?? relay.host) : `${relay.name ?? relay.host} ${notAutomatic}`,
      String(relay.port),
      addressKinds[index] === IP_ADDRESS ? relay.host : unresolved,
      String(relay.priority),
      String(relay.weight),
      relay.groups.length > 0 ? relay.groups.join(';') : '*',
    ];
  }
}

/** `plan` for people, line by line. */
export function* renderPlanText(plan: Plan, color: Style): Generator<string> {
  yield `${color.bold('Relay list')} ${plan.relayList}; seek list ${plan.seekList.length > 0 ? plan.seekList.join(';') : '(empty: one pool of all relays)'}; strategy ${plan.strategy}; TTLs up to ${plan.maximumTtlToPing - 1}`;
  if (!plan.manual.automatic)
    yield color.yellow(
      `Manual mode: relays ${plan.manual.relays.join(', ') || '(none)'} in order; pools below are not used.`,
    );
  for (const [index, pool] of plan.pools.entries()) {
    yield '';
    yield `${color.bold(`${index + 1}. pool ${pool.name}`)}  ${pool.relays.length} relay${pool.relays.length === 1 ? '' : 's'}; probe budget: inference ≈ ${pool.budget.inference.packets} packets, rounds ≤ ${pool.budget.rounds.worstCasePackets}`;
    if (pool.relays.length === 0) {
      yield color.dim('   (no relay advertises this group: skipped)');
      continue;
    }
    const addressKinds = new Uint8Array(pool.relays.length);
    yield* streamTable(
      ['relay', 'port', 'address', 'priority', 'weight', 'groups'],
      () => relayRows(pool.relays, color, addressKinds),
      { indent: 3 },
    );
  }
  yield '';
  yield `${color.bold('Then failover')}: ${plan.failover.length > 0 ? plan.failover.join(', ') : '(none)'}`;
  yield `${color.bold('Then root server')}: ${plan.rootServer ?? '(none)'}`;
  yield '';
  const { budget } = plan;
  yield `${color.bold('Probe budget')} (first pool, ${budget.firstPoolRelays} relays): inference ≈ ${budget.inference.firstPoolPackets} packets; rounds ≤ ${budget.rounds.firstPoolWorstCasePackets} packets worst case (${budget.rounds.ttls.length} TTLs: ${budget.rounds.ttls.join(',')})`;
  yield `   every pool probed (nothing answers): inference ≈ ${budget.inference.worstCasePackets}, rounds ≤ ${budget.rounds.worstCasePackets}`;
}
