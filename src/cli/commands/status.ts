import { computeNextDueAt } from '../../cycle/decide.js';
import { createStateStore, readPeerViewFile } from '../../cycle/state-store.js';
import { describePeerStatus, parsePeerViewFile, type PeerStatus } from '../../agent/peer-view-file.js';
import type { State } from '../../cycle/state.js';
import { relayKey } from '../../relays/relay.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { exitCode } from '../exit-codes.js';
import { formatHops, formatLocalTime } from '../../format.js';
import { loadCliSettings } from '../load-cli-settings.js';

export type StatusOptions = CommandOptions<'status'>;

/** The `status --json` object (DESIGN §9); `peer` is null unless an agent with peer.enabled runs. */
export function renderStatusJson(state: State | null, nextDueAt: Date, stateFile: string, peer: PeerStatus | null = null) {
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
    stateFile,
    peer,
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
  lines.push(`peers:          ${describePeerStatus(view.peer)}`);
  lines.push(`state file:     ${view.stateFile}`);
  return lines;
}

export async function run(options: StatusOptions, context: CliContext): Promise<number> {
  const settings = await loadCliSettings(options, context);
  const store = createStateStore(settings.stateDir);
  const { state, recovered } = await store.read();
  if (recovered) context.output.warn(`state file was unusable (${recovered.reason}); moved to ${recovered.movedTo}`);
  const view = renderStatusJson(state, state === null ? new Date() : computeNextDueAt(state, settings, new Date()), store.path, await readRunningAgentPeers(settings.stateDir));
  if (context.output.json) context.output.data(view);
  else for (const line of renderStatusText(view)) context.output.line(line);
  return exitCode('ok');
}

/** The peer view of the agent that runs on this state directory; null when none does (or it is gone). */
async function readRunningAgentPeers(stateDir: string): Promise<PeerStatus | null> {
  const text = await readPeerViewFile(stateDir);
  const parsed = text === null ? null : parsePeerViewFile(text);
  if (parsed === null || !isProcessAlive(parsed.pid)) return null;
  return parsed.status;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (status run by someone else than the agent's user).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
