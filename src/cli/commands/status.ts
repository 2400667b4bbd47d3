import { computeNextDueAt } from '../../cycle/decide.js';
import { createStateStore } from '../../cycle/state-store.js';
import type { State } from '../../cycle/state.js';
import { relayKey } from '../../relays/relay.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { formatHops, formatLocalTime } from '../../format.js';
import { loadCliSettings } from '../load-cli-settings.js';

export type StatusOptions = CommandOptions<'status'>;

/** The `status --json` object (DESIGN §9). */
export function renderStatusJson(state: State | null, nextDueAt: Date, stateFile: string, now: Date = new Date()) {
  return {
    relay: state?.current ?? null,
    lastSelectionAt: state?.lastSelectionAt ?? null,
    lastAttemptAt: state?.lastAttemptAt ?? null,
    nextDueAt: nextDueAt.toISOString(),
    failingSince: state?.failingSince ?? null,
    retry: state?.retry ?? null,
    upstreamBackoff: state?.upstreamBackoff ?? null,
    lastHealthCheck: state?.lastHealthCheck ?? null,
    clientId: state?.clientId ?? null,
    network: state?.network ?? null,
    avoidedRelays: (state?.avoidedRelays ?? []).filter((entry) => Date.parse(entry.until) > now.getTime()),
    lastDistanceJump: state?.lastDistanceJump ?? null,
    counters: state?.counters ?? null,
    stateFile,
  };
}

export function renderStatusText(view: ReturnType<typeof renderStatusJson>): string[] {
  const lines: string[] = [];
  const relay = view.relay;
  lines.push(
    relay
      ? `relay:          ${relayKey(relay)}${relay.address && relay.address !== relay.host ? ` (${relay.address})` : ''}, ${formatHops(relay.distance)}, pool ${relay.pool}, via ${relay.method}${relay.upstreamDown ? ', upstream server down' : ''}`
      : 'relay:          none selected yet',
  );
  lines.push(`last selection: ${view.lastSelectionAt ? formatLocalTime(view.lastSelectionAt) : 'never'}`);
  lines.push(`next due:       ${formatLocalTime(view.nextDueAt)}`);
  lines.push(`failure clock:  ${view.failingSince ? `running since ${formatLocalTime(view.failingSince)}` : 'stopped'}`);
  lines.push(view.retry ? `retry:          attempt ${view.retry.attempt} at ${formatLocalTime(view.retry.nextAt)} (${view.retry.reason})` : 'retry:          none pending');
  if (view.upstreamBackoff) lines.push(`upstream down:  next check ${formatLocalTime(view.upstreamBackoff.nextAt)}`);
  for (const avoided of view.avoidedRelays) lines.push(`avoided:        ${relayKey(avoided)} ${avoided.reason}, until ${formatLocalTime(avoided.until)}`);
  if (view.network?.ipv4) lines.push(`network:        IPv4 default route ${view.network.ipv4.gateway === null ? 'straight onto' : `via ${view.network.ipv4.gateway} on`} ${view.network.ipv4.interface}${view.network.source?.address ? `; source ${view.network.source.address}` : ''}`);
  if (view.lastDistanceJump) lines.push(`distance jump:  ${view.lastDistanceJump.fromHops} → ${view.lastDistanceJump.toHops} hops at ${formatLocalTime(view.lastDistanceJump.at)}`);
  lines.push(`state file:     ${view.stateFile}`);
  return lines;
}

export async function run(options: StatusOptions, context: CliContext): Promise<number> {
  const settings = await loadCliSettings(options, context);
  const store = createStateStore(settings.stateDir);
  const { state, recovered } = await store.read();
  if (recovered) context.output.warn(`state file was unusable (${recovered.reason}); moved to ${recovered.movedTo}`);
  const view = renderStatusJson(state, state === null ? new Date() : computeNextDueAt(state, settings, new Date()), store.path);
  if (context.output.json) context.output.data(view);
  else for (const line of renderStatusText(view)) context.output.line(line);
  return exitCode('ok');
}
