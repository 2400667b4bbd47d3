/**
 * The judgements of `relay-select doctor`, pure: each takes what the probe of the system found and says
 * whether it passes, in one line, with the fix when it does not. doctor/inspect.ts gathers the facts.
 */
import type { State } from '../../../cycle/state.js';
import type { Settings } from '../../../config/settings.js';

export interface DoctorCheck {
  /** Stable, for scripts: `node`, `code-cache`, `addon`, `icmp`, `settings`, `state-dir`, `relay-list`, `current-relay`, `clock`. */
  name: string;
  ok: boolean;
  /** What was found, one line. */
  summary: string;
  /** What to do, when the check fails. */
  fix?: string;
}

export function pass(name: string, summary: string): DoctorCheck {
  return { name, ok: true, summary };
}

export function fail(name: string, summary: string, fix: string): DoctorCheck {
  return { name, ok: false, summary, fix };
}

/** `^20.19.0 || ^22.12.0 || ^24.0.0` (package.json engines): the caret alternatives only, which is all it uses. */
export function satisfiesEngines(version: string, range: string): boolean {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number) as [number, number, number];
  return range.split('||').some((alternative) => {
    const match = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(alternative);
    if (match === null) return false;
    const [wantMajor, wantMinor, wantPatch] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return major === wantMajor && (minor > wantMinor || (minor === wantMinor && patch >= wantPatch));
  });
}

export function checkNodeVersion(version: string, range: string): DoctorCheck {
  return satisfiesEngines(version, range)
    ? pass('node', `Node ${version} (supported: ${range})`)
    : fail(
        'node',
        `Node ${version} is not supported (supported: ${range})`,
        'install a supported Node (20.19 or later 20.x, 22.12 or later 22.x, or 24.x) and run relay-select with it',
      );
}

/** What bin/load-cli.cjs finds of this build's V8 code cache for the running Node (its `findCodeCache`). */
export interface CodeCacheFacts {
  state: 'usable' | 'missing' | 'refused' | 'no-bundle';
  path: string | undefined;
}

const REBUILD = 'npm rebuild relay-select writes it for the Node that runs it (npm run build in a checkout)';

/**
 * Whether a run starts from the V8 code cache: without one, every run compiles the CLI, correct but
 * slower to start (bench/results/startup.md) — what an upgrade of Node without `npm rebuild` leaves.
 */
export function checkCodeCache(found: CodeCacheFacts, nodeVersion: string): DoctorCheck {
  switch (found.state) {
    case 'usable':
      return pass('code-cache', `${found.path}: this build's V8 code cache for Node ${nodeVersion}`);
    case 'missing':
      return fail(
        'code-cache',
        `no V8 code cache for Node ${nodeVersion} and this build (${found.path}): every run compiles the CLI, correct but slower to start`,
        REBUILD,
      );
    case 'refused':
      return fail(
        'code-cache',
        `${found.path} is not used: a code cache must be a regular file, reached without a link, owned by root or by this user and writable by nobody else`,
        `remove it; ${REBUILD}`,
      );
    case 'no-bundle':
      return fail(
        'code-cache',
        'dist/cli.cjs, the CLI bundle the code cache belongs to, is missing or not one',
        REBUILD,
      );
  }
}

/** A state file written later than the clock says it is now is tolerated by this much (clock drift, NTP steps). */
const CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Whether this clock agrees with the times the state recorded: none of them may lie ahead of now, and a
 * pending retry may not be due later than the settings allow from now (a clock that ran fast wrote it).
 */
export function checkClock(
  state: State | null,
  now: Date,
  settings: Pick<Settings, 'maxRetryIntervalSeconds' | 'jitter' | 'intervalSeconds'>,
): DoctorCheck {
  if (state === null) return pass('clock', `${now.toISOString()}; no state yet to compare with`);
  const recorded: Array<[string, string | null | undefined]> = [
    ['lastSelectionAt', state.lastSelectionAt],
    ['lastAttemptAt', state.lastAttemptAt],
    ['current.registeredAt', state.current?.registeredAt],
    ['lastHealthCheck.at', state.lastHealthCheck?.at],
    ['failingSince', state.failingSince],
    ['failureReportedAt', state.failureReportedAt],
  ];
  const fix =
    'set the clock right (timedatectl set-ntp true, or chronyc makestep), then run relay-select run --force to record fresh times';
  for (const [field, value] of recorded) {
    if (value == null) continue;
    const aheadSeconds = (Date.parse(value) - now.getTime()) / 1000;
    if (aheadSeconds > CLOCK_TOLERANCE_SECONDS) {
      return fail(
        'clock',
        `the state's ${field} (${value}) is ${Math.round(aheadSeconds)} s ahead of this clock (${now.toISOString()}): the clock went back, or ran fast when the state was written`,
        fix,
      );
    }
  }
  const retryAt = state.retry?.nextAt;
  if (retryAt !== undefined) {
    const allowedSeconds = settings.maxRetryIntervalSeconds * (1 + settings.jitter) + CLOCK_TOLERANCE_SECONDS;
    const aheadSeconds = (Date.parse(retryAt) - now.getTime()) / 1000;
    if (aheadSeconds > allowedSeconds) {
      return fail(
        'clock',
        `the pending retry is due at ${retryAt}, ${Math.round(aheadSeconds)} s from now, more than maxRetryIntervalSeconds ${settings.maxRetryIntervalSeconds} allows`,
        fix,
      );
    }
  }
  return pass('clock', `${now.toISOString()}; agrees with the state's times`);
}

/** "3 h ago", "2 d ago", "in the future". */
export function describeAge(mtime: Date, now: Date): string {
  const seconds = (now.getTime() - mtime.getTime()) / 1000;
  if (seconds < -CLOCK_TOLERANCE_SECONDS) return `${Math.round(-seconds)} s in the future`;
  if (seconds < 120) return `${Math.max(0, Math.round(seconds))} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** A byte count as people read it: "512 KiB", "12.3 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
