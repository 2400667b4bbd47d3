/**
 * What `relay-select doctor` looks at, one function per check: the running Node, its code cache, the ICMP
 * addon, which ICMP sockets would open, the trust of the settings files and the state directory
 * (src/trust.ts, as a root run applies it), free space, the relay list, one TCP connect to the current
 * relay, and the clock against the state's times. Reads only: nothing is created, moved or written (a
 * corrupt state file is reported, not moved aside).
 */
import { constants as fsConstants } from 'node:fs';
import { access, stat, statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Settings } from '../../../config/settings.js';
import type { State } from '../../../cycle/state.js';
import { createStateStore } from '../../../cycle/state-store.js';
import { isRelaySelectError } from '../../../errors.js';
import { loadIcmpAddon, NATIVE_ADDON_HINT } from '../../../probe/icmp-addon.js';
import { openIcmpTransport, readPingGroupRange } from '../../../probe/icmp-socket-transport.js';
import { connectTcp } from '../../../probe/tcp-connect.js';
import { loadRelayListFile } from '../../../relays/load.js';
import { relayKey } from '../../../relays/relay.js';
import { describeTrustProblem, findTrustProblem, formatMode } from '../../../trust.js';
import {
  checkCodeCache,
  describeAge,
  fail,
  formatBytes,
  pass,
  type CodeCacheFacts,
  type DoctorCheck,
} from './checks.js';

/** Less free space than this in the state directory's file system fails: a state write could fail any run. */
const MIN_FREE_BYTES = 1024 * 1024;
const MIN_FREE_INODES = 16;

function errorText(error: unknown): { message: string; hint: string | undefined } {
  if (isRelaySelectError(error)) return { message: error.message, hint: error.hint };
  return { message: error instanceof Error ? error.message : String(error), hint: undefined };
}

/** This build's V8 code cache for the running Node, as bin/load-cli.cjs would judge it. */
export function inspectCodeCache(): DoctorCheck {
  const loader = createRequire(import.meta.url)('../../../../bin/load-cli.cjs') as {
    findCodeCache(): CodeCacheFacts;
  };
  return checkCodeCache(loader.findCodeCache(), process.version);
}

export function inspectAddon(): DoctorCheck {
  try {
    loadIcmpAddon();
    return pass('addon', 'the ICMP addon (build/Release/relay_select_icmp.node) loads');
  } catch (error) {
    return fail('addon', errorText(error).message, NATIVE_ADDON_HINT);
  }
}

/** Which kind of ICMP socket a probe would open now, and why; closes it at once. */
export function inspectIcmp(settings: Settings, addonLoads: boolean): DoctorCheck {
  if (!addonLoads)
    return fail('icmp', 'cannot tell which ICMP sockets would open: the addon does not load', NATIVE_ADDON_HINT);
  const range = readPingGroupRange();
  const groups = [
    ...new Set([process.getegid?.(), ...(process.getgroups?.() ?? [])].filter((gid) => gid !== undefined)),
  ].join(', ');
  const setting = `probe.transport ${settings.probe.transport}`;
  try {
    const transport = openIcmpTransport({ kind: settings.probe.transport, families: [4] });
    const kind = transport.description?.kind ?? settings.probe.transport;
    transport.close();
    if (kind === 'ping')
      return pass(
        'icmp',
        `ping sockets (${setting}): net.ipv4.ping_group_range "${range ?? '?'}" admits group ${groups}; no privilege needed`,
      );
    const why =
      settings.probe.transport === 'raw'
        ? 'chosen by the setting'
        : `ping sockets refused (net.ipv4.ping_group_range "${range ?? '?'}" leaves out group ${groups})`;
    return pass('icmp', `raw sockets (${setting}): ${why}; this process has CAP_NET_RAW`);
  } catch (error) {
    const { message, hint } = errorText(error);
    return fail('icmp', message, hint ?? 'see relay-select(1), probing without root');
  }
}

/** The settings files in force and whether each is trusted; `loadError` when they did not load at all. */
export function inspectSettings(sources: readonly string[], loadError: unknown, cwd: string, uid: number): DoctorCheck {
  if (loadError !== undefined) {
    const { message, hint } = errorText(loadError);
    return fail(
      'settings',
      `${message} (the other checks use the defaults and the command line)`,
      hint ?? 'fix the settings file named',
    );
  }
  const files = sources.filter(
    (source) => source !== 'environment' && source !== 'command line' && !source.startsWith('profile '),
  );
  for (const file of files) {
    const path = resolve(cwd, file);
    let problem;
    try {
      problem = findTrustProblem(path, { uid });
    } catch (error) {
      return fail(
        'settings',
        `${path}: cannot be examined (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        `make ${path} readable by uid ${uid}`,
      );
    }
    if (problem !== null)
      return fail(
        'settings',
        `${describeTrustProblem(problem)} (another user could change where this endpoint registers)`,
        problem.fix,
      );
  }
  const described = sources.length === 0 ? 'defaults only' : sources.join(', ');
  return pass(
    'settings',
    `${described}${files.length > 0 ? `; ${files.length === 1 ? 'the file is' : 'every file is'} trusted (owner root or uid ${uid}, not writable by others)` : ''}`,
  );
}

/** The state directory: trusted, writable by us, and room on its file system. */
export async function inspectStateDir(stateDir: string, uid: number): Promise<DoctorCheck> {
  let info;
  try {
    info = await stat(stateDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      return fail(
        'state-dir',
        `${stateDir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        `make ${stateDir} reachable by uid ${uid}`,
      );
    return pass('state-dir', `${stateDir} does not exist yet; the first run creates it (mode 0700)`);
  }
  const problem = findTrustProblem(stateDir, { uid, expect: 'directory' });
  if (problem !== null) return fail('state-dir', describeTrustProblem(problem), problem.fix);
  try {
    await access(stateDir, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    return fail(
      'state-dir',
      `${stateDir} is not writable by uid ${uid} (owned by uid ${info.uid}, mode ${formatMode(info.mode)})`,
      `chown ${uid === 0 ? 'root' : uid} ${stateDir}, or point stateDir (--state-dir) at a directory this user owns`,
    );
  }
  const space = await statfs(stateDir);
  const freeBytes = space.bavail * space.bsize;
  const where = `${stateDir} (owned by uid ${info.uid}, mode ${formatMode(info.mode)})`;
  if (freeBytes < MIN_FREE_BYTES || (space.files > 0 && space.ffree < MIN_FREE_INODES)) {
    const left = space.files > 0 && space.ffree < MIN_FREE_INODES ? `${space.ffree} inodes` : formatBytes(freeBytes);
    return fail(
      'state-dir',
      `${where}: only ${left} free; a state write would fail`,
      `free space on the file system of ${stateDir}, or point stateDir at another one`,
    );
  }
  return pass('state-dir', `${where}: ${formatBytes(freeBytes)} free`);
}

export async function inspectRelayList(relayList: string, now: Date, uid: number): Promise<DoctorCheck> {
  try {
    const list = await loadRelayListFile(relayList);
    const info = await stat(relayList);
    // Whoever can write the relay list decides where this endpoint registers.
    const problem = findTrustProblem(relayList, { uid });
    if (problem !== null)
      return fail(
        'relay-list',
        `${describeTrustProblem(problem)} (another user could change where this endpoint registers)`,
        problem.fix,
      );
    const errors = list.diagnostics.filter((diagnostic) => diagnostic.severity === 'error').length;
    const warnings = list.diagnostics.length - errors;
    const problems =
      errors + warnings === 0
        ? ''
        : `; ${errors} line${errors === 1 ? '' : 's'} skipped, ${warnings} warning${warnings === 1 ? '' : 's'} (relay-select plan shows them)`;
    return pass(
      'relay-list',
      `${relayList}: ${list.relays.length} relay${list.relays.length === 1 ? '' : 's'}${problems}; modified ${describeAge(info.mtime, now)}`,
    );
  } catch (error) {
    const { message, hint } = errorText(error);
    return fail('relay-list', message, hint ?? 'see relay-select.dat(5)');
  }
}

/**
 * The state as it is on disk, read as `status` reads it (a read-only store: never through a link, never a
 * FIFO, as root only a trusted file), without moving a bad file aside (that is a run's business).
 */
export async function readStateQuietly(stateDir: string): Promise<{ state: State | null; problem?: string }> {
  try {
    const read = await createStateStore(stateDir, { readOnly: true }).read();
    return read.recovered === undefined
      ? { state: read.state }
      : { state: null, problem: `the state file is unusable (${read.recovered.reason}); the next run moves it aside` };
  } catch (error) {
    return { state: null, problem: errorText(error).message };
  }
}

export async function inspectCurrentRelay(state: State | null, settings: Settings): Promise<DoctorCheck> {
  const current = state?.current ?? null;
  if (current === null) return pass('current-relay', 'no relay selected yet: nothing to connect to');
  const address = current.address ?? current.host;
  const target = `${relayKey(current)}${current.address !== null && current.address !== current.host ? ` (${current.address})` : ''}`;
  const connected = await connectTcp({
    address: address.replace(/^\[|\]$/g, ''),
    port: current.port,
    timeoutMs: settings.probe.tcpTimeoutMs,
  });
  return connected
    ? pass('current-relay', `${target} accepts TCP connections`)
    : fail(
        'current-relay',
        `${target} does not accept a TCP connection within ${settings.probe.tcpTimeoutMs} ms`,
        'check the relay and the network to it; relay-select run --force selects another relay now',
      );
}
