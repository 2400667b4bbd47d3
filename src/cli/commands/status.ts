import { clampFutureTimes, describeClampedTime } from '../../cycle/clamp-future.js';
import { computeNextDueAt } from '../../cycle/decide.js';
import { createStateStore, readPeerViewFile } from '../../cycle/state-store.js';
import { describePeerStatus, type PeerStatus } from '../../agent/peer-status.js';
import type { State } from '../../cycle/state.js';
import { relayKey } from '../../relays/relay.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { formatDuration, formatHops, formatLocalTime } from '../../format.js';
import { loadCliSettings } from '../load-cli-settings.js';
import { isProcessAlive } from '../../process-alive.js';

export type StatusOptions = CommandOptions<'status'>;

/** The `status --json` object (DESIGN §9); `peer` is null unless an agent with peer.enabled runs. */
export function renderStatusJson(
  state: State | null,
  nextDueAt: Date,
  stateFile: string,
  now: Date = new Date(),
  peer: PeerStatus | null = null,
) {
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
    peer,
  };
}

/** `2024-03-01 13:05 UTC+01:00 (in 2 h 12 min)`: when, and how far from now. */
function formatWhen(iso: string, now: Date): string {
  const seconds = (Date.parse(iso) - now.getTime()) / 1000;
  const relative =
    Math.abs(seconds) < 1 ? 'now' : seconds > 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(-seconds)} ago`;
  return `${formatLocalTime(iso)} (${relative})`;
}

export function renderStatusText(view: ReturnType<typeof renderStatusJson>, now: Date = new Date()): string[] {
  const lines: string[] = [];
  const relay = view.relay;
  lines.push(
    relay
      ? `relay:          ${relayKey(relay)}${relay.address && relay.address !== relay.host ? ` (${relay.address})` : ''}, ${formatHops(relay.distance)}, pool ${relay.pool}, via ${relay.method}${relay.upstreamDown ? ', upstream server down' : ''}`
      : 'relay:          none selected yet',
  );
  lines.push(`last selection: ${view.lastSelectionAt ? formatWhen(view.lastSelectionAt, now) : 'never'}`);
  lines.push(`next due:       ${formatWhen(view.nextDueAt, now)}`);
  lines.push(
    `failure clock:  ${view.failingSince ? `running since ${formatWhen(view.failingSince, now)}` : 'stopped'}`,
  );
  lines.push(
    view.retry
      ? `retry:          attempt ${view.retry.attempt} at ${formatWhen(view.retry.nextAt, now)}: ${view.retry.reason}`
      : 'retry:          none pending',
  );
  if (view.upstreamBackoff) lines.push(`upstream down:  next check ${formatWhen(view.upstreamBackoff.nextAt, now)}`);
  for (const avoided of view.avoidedRelays)
    lines.push(`avoided:        ${relayKey(avoided)} ${avoided.reason}, until ${formatWhen(avoided.until, now)}`);
  if (view.network?.ipv4)
    lines.push(
      `network:        IPv4 default route ${view.network.ipv4.gateway === null ? 'straight onto' : `via ${view.network.ipv4.gateway} on`} ${view.network.ipv4.interface}${view.network.source?.address ? `; source ${view.network.source.address}` : ''}`,
    );
  if (view.lastDistanceJump)
    lines.push(
      `distance jump:  ${view.lastDistanceJump.fromHops} → ${view.lastDistanceJump.toHops} hops at ${formatWhen(view.lastDistanceJump.at, now)}`,
    );
  lines.push(`peers:          ${describePeerStatus(view.peer)}`);
  lines.push(`state file:     ${view.stateFile}`);
  return lines;
}

/**
 * Read-only: `status` never creates, renames or rewrites anything in the state directory. A corrupt or
 * foreign-version state file is reported and left for the next real run (which holds the lock) to move
 * aside; times from the future are shown clamped, and saved clamped by the next run.
 */
export async function run(options: StatusOptions, context: CliContext): Promise<number> {
  const settings = await loadCliSettings(options, context);
  const store = createStateStore(settings.stateDir, { readOnly: true });
  const read = await store.read();
  if (read.recovered) {
    context.output.warn(
      `the state file ${store.path} is unusable (${read.recovered.reason}); left in place: the next run moves it aside and starts from a clean state`,
    );
  }
  const now = new Date();
  let state = read.state;
  if (state !== null) {
    const clamp = clampFutureTimes(state, settings, now);
    for (const time of clamp.clamped)
      context.output.warn(`${describeClampedTime(time)}; shown clamped, saved so by the next run`);
    state = clamp.state;
  }
  const view = renderStatusJson(
    state,
    state === null ? now : computeNextDueAt(state, settings, now),
    store.path,
    now,
    await readRunningAgentPeers(settings.stateDir),
  );
  if (context.output.json) context.output.data(view);
  else for (const line of renderStatusText(view, now)) context.output.line(line);
  return exitCode('ok');
}

/** The peer view of the agent that runs on this state directory; null when none does (or it is gone). */
async function readRunningAgentPeers(stateDir: string): Promise<PeerStatus | null> {
  const text = await readPeerViewFile(stateDir);
  if (text === null) return null;
  const { parsePeerViewFile } = await import('../../agent/peer-view-file.js');
  const parsed = parsePeerViewFile(text);
  if (parsed === null || !isProcessAlive(parsed.pid)) return null;
  return parsed.status;
}
