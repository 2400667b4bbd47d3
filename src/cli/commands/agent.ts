import { runAgent, type AgentEvent } from '../../agent/agent.js';
import { renderRunJson } from '../../cycle/run-json.js';
import type { RunReport } from '../../cycle/run-cycle.js';
import { RelaySelectError, isRelaySelectError } from '../../errors.js';
import { onReloadSignal } from '../../teardown.js';
import type { CommandOptions } from '../command-specs.js';
import type { CliContext } from '../context.js';
import { DEFAULT_HINT_BY_ERROR, exitCode } from '../exit-codes.js';
import { loadCliSettings } from '../load-cli-settings.js';
import type { Output } from '../output.js';
import { renderRunLine } from './run.js';

export type AgentOptions = CommandOptions<'agent'>;

const MAX_CHECK_INTERVAL_SECONDS = 86_400;

export async function run(options: AgentOptions, context: CliContext): Promise<number> {
  const checkIntervalSeconds = options.checkInterval ?? 300;
  if (
    !Number.isInteger(checkIntervalSeconds) ||
    checkIntervalSeconds < 1 ||
    checkIntervalSeconds > MAX_CHECK_INTERVAL_SECONDS
  ) {
    throw new RelaySelectError(
      'USAGE',
      `--check-interval ${checkIntervalSeconds}: expected whole seconds, 1..${MAX_CHECK_INTERVAL_SECONDS}`,
    );
  }
  const { output } = context;
  // SIGTERM is how a service manager stops the agent: once it has stopped cleanly, its status is 0 (the spec's stopSignal).
  await runAgent({
    loadSettings: () => loadCliSettings(options, context),
    version: context.version,
    checkIntervalSeconds,
    effectiveUid: context.uid,
    signal: context.signal,
    subscribeReload: onReloadSignal,
    onEvent: (event) => (output.json ? output.record(renderAgentEventJson(event)) : printAgentEvent(event, output)),
  });
  return exitCode('ok');
}

/** One `agent --json` line: `event` names what happened; a cycle carries the `run --json` fields. */
function renderAgentEventJson(event: AgentEvent): Record<string, unknown> {
  switch (event.type) {
    case 'started':
      return {
        event: 'started',
        pid: process.pid,
        stateDir: event.stateDir,
        checkIntervalSeconds: event.checkIntervalSeconds,
      };
    case 'peer-started':
      return {
        event: 'peer-started',
        endpoint: event.endpoint,
        interface: event.link.interfaceName,
        family: event.link.family,
        address: event.link.address,
        memberId: event.memberId,
        leaseSeconds: event.leaseSeconds,
      };
    case 'peer-unavailable':
      return { event: 'peer-unavailable', reason: event.reason };
    case 'peer':
      return renderPeerEventJson(event.event);
    case 'cycle':
      return { event: 'cycle', trigger: event.trigger, ...renderRunJson(event.report) };
    case 'cycle-failed':
      return { event: 'error', trigger: event.trigger, ...describeError(event.error) };
    case 'reloaded':
      return { event: 'reloaded' };
    case 'reload-failed':
      return { event: 'reload-failed', ...describeError(event.error) };
    case 'network-changed':
      return { event: 'network-changed', change: event.change };
    case 'stopped':
      return { event: 'stopped' };
  }
}

function renderPeerEventJson(event: Extract<AgentEvent, { type: 'peer' }>['event']): Record<string, unknown> {
  switch (event.type) {
    case 'view':
      return { event: 'peer', ...event.view };
    case 'rejected':
      return { event: 'peer-rejected', reason: event.reason, from: event.from, detail: event.detail };
    case 'table-published':
      return { event: 'table-published', pools: event.pools, bytes: event.bytes };
    case 'table-too-large':
      return { event: 'table-too-large', pools: event.pools };
    case 'socket-error':
      return { event: 'peer-socket-error', message: event.message };
  }
}

function describeError(error: unknown): { code: string; message: string; hint: string | null } {
  if (isRelaySelectError(error))
    return { code: error.code, message: error.message, hint: error.hint ?? DEFAULT_HINT_BY_ERROR[error.code] ?? null };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), hint: null };
}

function printAgentEvent(event: AgentEvent, output: Output): void {
  switch (event.type) {
    case 'started':
      output.line(
        `agent started (pid ${process.pid}): state in ${event.stateDir}; a cycle at least every ${event.checkIntervalSeconds} s`,
      );
      return;
    case 'peer-started':
      output.line(
        `peers: group ${event.endpoint} on ${event.link.interfaceName} (${event.link.address}), lease ${event.leaseSeconds} s`,
      );
      return;
    case 'peer-unavailable':
      output.warn(`peers: cooperation unavailable for now: ${event.reason}`);
      return;
    case 'peer':
      printPeerEvent(event.event, output);
      return;
    case 'cycle':
      printCycle(event.report, output);
      return;
    case 'cycle-failed':
    case 'reload-failed': {
      const { message, hint } = describeError(event.error);
      output.error(
        `${event.type === 'reload-failed' ? 'reload refused, keeping the previous settings: ' : ''}${message}${hint ? ` — ${hint}` : ''}`,
      );
      return;
    }
    case 'reloaded':
      output.line('settings and relay list reloaded');
      return;
    case 'network-changed':
      output.line(`network changed: ${event.change}`);
      return;
    case 'stopped':
      output.line('agent stopped');
      return;
  }
}

function printPeerEvent(event: Extract<AgentEvent, { type: 'peer' }>['event'], output: Output): void {
  switch (event.type) {
    case 'view': {
      const { role, leader, members } = event.view;
      const who =
        role === 'leader' ? 'leader' : role === 'alone' ? 'alone' : `follower of ${leader ?? 'a leader not yet known'}`;
      output.line(`peers: ${who}, ${members} member${members === 1 ? '' : 's'}`);
      return;
    }
    case 'rejected':
      output.warn(`peers: rejected a message from ${event.from} (${event.reason}): ${event.detail}`);
      return;
    case 'table-published':
      output.debug(`peers: shared the measurements of pool ${event.pools.join(', ')} (${event.bytes} bytes)`);
      return;
    case 'table-too-large':
      output.warn(
        `peers: the measurements of pool ${event.pools.join(', ')} are too large for one datagram; followers probe for themselves`,
      );
      return;
    case 'socket-error':
      output.warn(`peers: ${event.message}`);
      return;
  }
}

function printCycle(report: RunReport, output: Output): void {
  for (const warning of report.warnings) output.warn(warning);
  for (const note of report.peerNotes) output.info(`peers: ${note}`);
  const table = report.peerTable;
  const peer =
    table === null
      ? ''
      : ` [measurements of the leader ${table.from}, confirmed with ${table.confirmEchoes} echo${table.confirmEchoes === 1 ? '' : 'es'}]`;
  const line = `${renderRunLine(report)}${peer}`;
  if (report.action === 'failed') output.important(line);
  else output.line(line);
}
