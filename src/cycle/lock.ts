import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, unlink, writeFile } from '../sync-fs.js';
import { hostname } from 'node:os';
import path from 'node:path';
import { RelaySelectError } from '../errors.js';
import { randomUuid } from '../random-bytes.js';
import {
  processTrustPolicy,
  readFileBounded,
  symbolicLinkProblem,
  untrustedFileError,
  type TrustOptions,
} from '../trust.js';
import { prepareStateDir } from './state-store.js';
import { isProcessAlive } from '../process-alive.js';

/**
 * The run lock of `stateDir` (DESIGN §7): two runs never overlap, a lock left by a dead process is
 * taken over at once, and nobody waits.
 *
 * Not proper-lockfile: measured here, two processes meeting the same stale lock both "acquired" it
 * in 1 of 50 trials (its take-over is stat, rmdir, mkdir — a second rmdir can remove the first
 * winner's fresh lock); it also judges staleness by mtime only, so a dead run blocks the next one
 * for the stale period, a live run whose event loop stalls loses its lock, and it cannot say which
 * pid holds it.
 *
 * How this one stays race-free, with three atomic operations:
 * - the lock is the directory `run.lock` holding exactly one file, `owner.<token>`, with the holder's
 *   pid. It appears complete: it is built under a private name and renamed into place, and rename(2)
 *   of a directory fails when the target is a non-empty directory — at most one run succeeds;
 * - a lock whose holder is dead is taken over by unlink(2) of that holder's own owner file (only one
 *   contender can unlink a given file), then rmdir(2), which only removes an empty directory and so
 *   never removes a live holder's lock; then everyone retries the rename;
 * - liveness = the pid exists (kill 0) and, where /proc is readable, is not a zombie and has the same
 *   start time and boot id as when it took the lock, so a recycled pid after a reboot is not trusted.
 *
 * As root the state directory must be trusted (state-store.ts), and `run.lock` must be a directory,
 * not a link: a take-over unlinks a file inside it, which must never be a file somewhere else.
 */
export const RUN_LOCK_DIR_NAME = 'run.lock';
const STAGING_PREFIX = '.run.lock.';
const MAX_ACQUIRE_ATTEMPTS = 20;
/** An owner record is one line of JSON. */
const MAX_OWNER_RECORD_BYTES = 4096;

interface RunLock {
  /** `stateDir/run.lock`. */
  readonly path: string;
  /** Idempotent; never removes a lock that another run has since taken over. */
  release(): Promise<void>;
}

interface OwnerRecord {
  pid: number;
  hostname: string;
  acquiredAt: string;
  bootId?: string;
  startTicks?: string;
}

interface RunLockOptions {
  /** Whose files to trust. @default as root, root's (trustPolicyOf the effective user); otherwise no check */
  trust?: TrustOptions;
}

export async function acquireRunLock(stateDir: string, options: RunLockOptions = {}): Promise<RunLock> {
  const lockPath = path.join(stateDir, RUN_LOCK_DIR_NAME);
  await prepareStateDir(stateDir, lockPath, 'trust' in options ? options.trust : processTrustPolicy());
  await refuseLinkedLock(lockPath);
  await removeDeadStagingDirectories(stateDir);

  const token = randomUuid();
  const ownerName = `owner.${token}`;
  const stagingPath = path.join(stateDir, `${STAGING_PREFIX}${process.pid}.${token}`);
  const self: OwnerRecord = {
    pid: process.pid,
    hostname: hostname(),
    acquiredAt: new Date().toISOString(),
    ...optional('bootId', await readBootId()),
    ...optional('startTicks', await readStartTicks(process.pid)),
  };
  let acquired = false;
  try {
    await mkdir(stagingPath, { mode: 0o700 });
    await writeFile(path.join(stagingPath, ownerName), `${JSON.stringify(self)}\n`, { mode: 0o600, flag: 'wx' });

    for (let attempt = 0; attempt < MAX_ACQUIRE_ATTEMPTS; attempt++) {
      try {
        await rename(stagingPath, lockPath);
        acquired = true;
        return createHandle(lockPath, ownerName);
      } catch (error) {
        const code = errnoCode(error);
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
      await refuseLinkedLock(lockPath);
      const holder = await readHolder(lockPath);
      if (holder.kind === 'none') continue;
      if (holder.record !== null && (await isAlive(holder.record))) {
        throw new RelaySelectError(
          'LOCKED',
          `another relay-select run holds the lock (pid ${holder.record.pid}${holder.record.hostname === self.hostname ? '' : ` on ${holder.record.hostname}`})`,
          {
            file: lockPath,
            hint: 'wait for that run to finish; a lock left by a process that no longer exists is taken over automatically',
          },
        );
      }
      await unlink(path.join(lockPath, holder.ownerName)).catch(ignoreCodes('ENOENT'));
      await rmdir(lockPath).catch(ignoreCodes('ENOENT', 'ENOTEMPTY', 'EEXIST'));
    }
    throw new RelaySelectError(
      'LOCKED',
      `the lock ${lockPath} is contended: gave up after ${MAX_ACQUIRE_ATTEMPTS} attempts`,
      { file: lockPath },
    );
  } catch (error) {
    if (error instanceof RelaySelectError) throw error;
    throw new RelaySelectError(
      'STATE_UNWRITABLE',
      `cannot take the run lock ${lockPath}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
        file: lockPath,
        hint: 'check that the state directory is writable by this user (setting stateDir)',
      },
    );
  } finally {
    if (!acquired) await rm(stagingPath, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** `run.lock` is a directory relay-select made, or nothing: a link or a file there is refused (STATE_UNTRUSTED). */
async function refuseLinkedLock(lockPath: string): Promise<void> {
  const info = await lstat(lockPath).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  });
  if (info === null || info.isDirectory()) return;
  const problem = info.isSymbolicLink()
    ? symbolicLinkProblem(lockPath)
    : { path: lockPath, found: 'not a directory', fix: `rm ${lockPath}`, wrongKind: true as const };
  throw untrustedFileError('STATE_UNTRUSTED', 'the run lock', lockPath, problem);
}

function createHandle(lockPath: string, ownerName: string): RunLock {
  let released = false;
  return {
    path: lockPath,
    async release() {
      if (released) return;
      released = true;
      // Only our own owner file, then rmdir of what must be empty: a lock taken over meanwhile survives.
      await unlink(path.join(lockPath, ownerName)).catch(ignoreCodes('ENOENT'));
      await rmdir(lockPath).catch(ignoreCodes('ENOENT', 'ENOTEMPTY', 'EEXIST'));
    },
  };
}

type Holder = { kind: 'none' } | { kind: 'owner'; ownerName: string; record: OwnerRecord | null };

async function readHolder(lockPath: string): Promise<Holder> {
  let names: string[];
  try {
    names = await readdir(lockPath);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return { kind: 'none' };
    throw error;
  }
  const ownerName = names.find((name) => name.startsWith('owner.'));
  // An empty directory is a take-over in progress (or one whose taker died): the rename replaces it.
  if (ownerName === undefined) return { kind: 'none' };
  let read;
  try {
    read = await readFileBounded(path.join(lockPath, ownerName), {
      followLinks: false,
      maxBytes: MAX_OWNER_RECORD_BYTES,
    });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { kind: 'none' };
    throw error;
  }
  // Anything but a small regular file is no record of a live run: taken over like garbage.
  const text = read.ok && !read.tooLarge ? read.bytes.toString('utf8') : '';
  return { kind: 'owner', ownerName, record: parseOwnerRecord(text) };
}

function parseOwnerRecord(text: string): OwnerRecord | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const record = value as Partial<OwnerRecord>;
    if (!Number.isInteger(record.pid) || (record.pid ?? 0) <= 0 || typeof record.hostname !== 'string') return null;
    return record as OwnerRecord;
  } catch {
    // Owner files are complete before the lock appears: garbage here is disk damage, not a live run.
    return null;
  }
}

async function isAlive(record: OwnerRecord): Promise<boolean> {
  // Another machine sharing the state directory: its processes cannot be checked from here.
  if (record.hostname !== hostname()) return true;
  const bootId = await readBootId();
  if (record.bootId !== undefined && bootId !== undefined && record.bootId !== bootId) return false;
  if (!isProcessAlive(record.pid)) return false;
  if (record.startTicks !== undefined) {
    const startTicks = await readStartTicks(record.pid);
    if (startTicks === undefined && (await procAvailable())) return false;
    if (startTicks !== undefined && startTicks !== record.startTicks) return false;
  }
  return true;
}

async function readBootId(): Promise<string | undefined> {
  const text = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); undefined for a zombie or no /proc. */
async function readStartTicks(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const processState = fields[0];
  if (processState === 'Z' || processState === 'X') return undefined;
  return fields[19];
}

async function procAvailable(): Promise<boolean> {
  return (await readFile('/proc/self/stat', 'utf8').catch(() => undefined)) !== undefined;
}

/** Staging directories of runs killed between mkdir and rename. */
async function removeDeadStagingDirectories(stateDir: string): Promise<void> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  for (const name of names) {
    const match = /^\.run\.lock\.(\d+)\./.exec(name);
    if (match === null || isProcessAlive(Number(match[1]))) continue;
    await rm(path.join(stateDir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function ignoreCodes(...codes: string[]): (error: unknown) => void {
  return (error) => {
    if (!codes.includes(errnoCode(error) ?? '')) throw error;
  };
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
