/**
 * File trust for a process that runs as root on a fleet (DESIGN §12), the habit of sshd's StrictModes
 * and sudo: a file is trusted only if it, and every directory above it up to `/`, is owned by root or the
 * effective user and writable by nobody else. A world-writable directory with the sticky bit (`/tmp`) is
 * allowed only above an entry owned by the effective user or root, since others can neither rename nor
 * replace that entry. Both the path as given and the path its symbolic links resolve to must pass: a link in a
 * directory another user controls could be pointed anywhere.
 *
 * This module reads metadata only; callers decide when trust applies (every input as root, secrets
 * always) and turn a {@link TrustProblem} into their own error code.
 */
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { RelaySelectError } from './errors.js';

export interface TrustOptions {
  /** The effective user whose files are trusted besides root's. */
  uid: number;
  /** What the path must be. @default 'file' */
  expect?: 'file' | 'directory';
  /**
   * A secret (a key): also owned by the effective user itself and neither readable nor writable by group
   * or others (mode 0600 or stricter). @default false
   */
  secret?: boolean;
}

/** Why a path is not trusted, in words fit for a one-line error. */
export interface TrustProblem {
  /** The path that fails (the file itself, or a directory above it). */
  path: string;
  /** What was found, e.g. "owned by uid 65534, mode 0666". */
  found: string;
  /** The command that fixes it, e.g. "chown root /etc/x && chmod go-w /etc/x". */
  fix: string;
  /** Set when the path is the wrong kind of thing (a FIFO, a device, a symbolic link), not a matter of owner or mode. */
  wrongKind?: true;
}

const WRITABLE_BY_OTHERS = 0o022;
const ACCESSIBLE_BY_OTHERS = 0o077;
const STICKY = 0o1000;

/** Octal mode as `ls -l` users read it: 0644, 1777. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function describe(stats: Stats): string {
  return `owned by uid ${stats.uid}, mode ${formatMode(stats.mode)}`;
}

function quote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

function ownerFix(path: string, uid: number): string {
  return `chown ${uid === 0 ? 'root' : uid} ${quote(path)}`;
}

/** The directories above `path` (which is absolute and normalised), nearest first, `/` last. */
function directoriesAbove(path: string): string[] {
  const directories: string[] = [];
  for (let current = dirname(path); ; current = dirname(current)) {
    directories.push(current);
    if (current === sep || dirname(current) === current) return directories;
  }
}

function describeKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'something else';
}

function kindProblem(path: string, stats: Stats, expect: 'file' | 'directory'): TrustProblem | null {
  const isExpectedKind = expect === 'file' ? stats.isFile() : stats.isDirectory();
  if (isExpectedKind) return null;
  const wanted = expect === 'file' ? 'regular file' : 'directory';
  return {
    path,
    found: `${describeKind(stats)}, not a ${wanted}`,
    fix: `replace ${quote(path)} with a ${wanted}`,
    wrongKind: true,
  };
}

function checkEntry(path: string, stats: Stats, options: TrustOptions): TrustProblem | null {
  const trustedOwner = stats.uid === 0 || stats.uid === options.uid;
  if (options.secret === true) {
    const fixes: string[] = [];
    if (stats.uid !== options.uid) fixes.push(ownerFix(path, options.uid));
    if ((stats.mode & ACCESSIBLE_BY_OTHERS) !== 0) fixes.push(`chmod 600 ${quote(path)}`);
    return fixes.length === 0 ? null : { path, found: describe(stats), fix: fixes.join(' && ') };
  }
  const fixes: string[] = [];
  if (!trustedOwner) fixes.push(ownerFix(path, options.uid));
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0) fixes.push(`chmod go-w ${quote(path)}`);
  return fixes.length === 0 ? null : { path, found: describe(stats), fix: fixes.join(' && ') };
}

/** `directory` holds `child`: trusted owner, and not writable by others unless sticky above our own entry. */
function checkDirectory(
  directory: string,
  stats: Stats,
  child: Stats | undefined,
  options: TrustOptions,
): TrustProblem | null {
  const fixes: string[] = [];
  if (stats.uid !== 0 && stats.uid !== options.uid) fixes.push(ownerFix(directory, options.uid));
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0) {
    // Sticky: only the entry's owner, the directory's owner or root may rename or remove the entry.
    const stickyOverOwnEntry =
      (stats.mode & STICKY) !== 0 && child !== undefined && (child.uid === options.uid || child.uid === 0);
    if (!stickyOverOwnEntry) fixes.push(`chmod go-w ${quote(directory)}`);
  }
  return fixes.length === 0 ? null : { path: directory, found: describe(stats), fix: fixes.join(' && ') };
}

function checkChain(path: string, entry: Stats, options: TrustOptions): TrustProblem | null {
  let child = entry;
  for (const directory of directoriesAbove(path)) {
    const stats = lstatSync(directory);
    // A symbolic link among the directories is judged where it points, by the resolved chain.
    const judged = stats.isSymbolicLink() ? statSync(directory) : stats;
    const problem = checkDirectory(directory, judged, child, options);
    if (problem !== null) return problem;
    child = judged;
  }
  return null;
}

/**
 * The first reason `path` is not to be trusted, or null when it is. Throws the file system's error
 * (ENOENT, EACCES…) when the path cannot be examined; a missing file is the caller's business.
 */
export function findTrustProblem(path: string, options: TrustOptions): TrustProblem | null {
  const absolute = resolve(path);
  return findTrustProblemOf(absolute, lstatSync(absolute), options);
}

/** {@link findTrustProblem} of an absolute path already lstat'ed (`linkStats`). */
function findTrustProblemOf(absolute: string, linkStats: Stats, options: TrustOptions): TrustProblem | null {
  const expect = options.expect ?? 'file';
  const stats = linkStats.isSymbolicLink() ? statSync(absolute) : linkStats;
  const wrongKind = kindProblem(absolute, stats, expect);
  if (wrongKind !== null) return wrongKind;
  const own =
    checkEntry(absolute, stats, options) ??
    checkChain(absolute, linkStats.isSymbolicLink() ? linkStats : stats, { ...options, secret: false });
  if (own !== null || !linkStats.isSymbolicLink()) return own;
  const real = realpathSync(absolute);
  return checkChain(real, stats, { ...options, secret: false });
}

/** The first half of a one-line error: "PATH is not trusted: owned by uid 65534, mode 0666"; the fix goes in the hint. */
export function describeTrustProblem(problem: TrustProblem): string {
  return problem.wrongKind ? `${problem.path} is ${problem.found}` : `${problem.path} is not trusted: ${problem.found}`;
}

/**
 * Whose files a process trusts (DESIGN §12): as root, root's own; otherwise undefined, and files are
 * not judged (a user's files are theirs to arrange).
 */
export function trustPolicyOf(effectiveUid: number): TrustOptions | undefined {
  return effectiveUid === 0 ? { uid: 0 } : undefined;
}

/** {@link trustPolicyOf} this process's effective user: the default of the edges that read and write files. */
export function processTrustPolicy(): TrustOptions | undefined {
  return trustPolicyOf(process.geteuid?.() ?? -1);
}

interface OpenForReadingOptions {
  /** Judge the file (and every directory above it) with these options first; undefined: no trust check. */
  trust?: TrustOptions;
  /** A symbolic link is refused rather than followed (files relay-select writes itself). @default true */
  followLinks?: boolean;
}

type OpenForReadingResult = { ok: true; fd: number; stats: Stats } | { ok: false; problem: TrustProblem };

/**
 * Opens a file to read the way a root process must: never blocking on a FIFO or a device (the open does
 * not wait and the opened file must be a regular file), without following a final symbolic link when
 * asked, and with `trust`, only a trusted file — judged by path before, and by what was actually
 * opened after, so nothing swapped in between is read. The caller closes the descriptor (closeSync).
 *
 * Synchronous system calls (readFileBounded keeps its promise): the files are local and small (settings,
 * state, relay lists), and a cron run reads a dozen of them, where a round trip through libuv's thread
 * pool for each open, fstat, read and close cost more than the reading (bench/results/startup.md).
 * @throws the file system's error (ENOENT, EACCES…) when the file cannot be opened at all
 */
function openForReading(path: string, options: OpenForReadingOptions): OpenForReadingResult {
  const absolute = resolve(path);
  // One lstat for both checks below.
  const linkStats = options.followLinks === false || options.trust !== undefined ? lstatSync(absolute) : undefined;
  // A link where a file of our own belongs is refused as a link, whatever it points to.
  if (options.followLinks === false && linkStats?.isSymbolicLink() === true)
    return { ok: false, problem: symbolicLinkProblem(absolute) };
  if (options.trust !== undefined && linkStats !== undefined) {
    const problem = findTrustProblemOf(absolute, linkStats, { ...options.trust, expect: 'file' });
    if (problem !== null) return { ok: false, problem };
  }
  const noFollow = options.followLinks === false ? fsConstants.O_NOFOLLOW : 0;
  let fd: number;
  try {
    fd = openSync(absolute, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY | noFollow);
  } catch (error) {
    if (noFollow !== 0 && (error as NodeJS.ErrnoException).code === 'ELOOP')
      return { ok: false, problem: symbolicLinkProblem(absolute) };
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    const problem =
      kindProblem(absolute, stats, 'file') ??
      (options.trust === undefined ? null : checkEntry(absolute, stats, options.trust));
    if (problem === null) return { ok: true, fd, stats };
    closeSync(fd);
    return { ok: false, problem };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** A symbolic link where relay-select keeps a file of its own: nothing of ours, so the fix is to remove it. */
export function symbolicLinkProblem(path: string): TrustProblem {
  return { path, found: 'a symbolic link, not a regular file', fix: `rm ${quote(path)}`, wrongKind: true };
}

/** Judges an entry already examined (fstat of an opened file): owner and mode as {@link findTrustProblem} does, without the directories above. */
export function findEntryProblem(path: string, stats: Stats, options: TrustOptions): TrustProblem | null {
  return kindProblem(path, stats, options.expect ?? 'file') ?? checkEntry(path, stats, options);
}

/**
 * The one-line error for a file relay-select refuses: `what` names the file's role ("settings file",
 * "relay list", "state directory"), the message the path and what was found, the hint the fix.
 * FILE_UNTRUSTED (78) for settings and inputs, STATE_UNTRUSTED (73) for the state directory and its files.
 */
export function untrustedFileError(
  code: 'FILE_UNTRUSTED' | 'STATE_UNTRUSTED',
  what: string,
  file: string,
  problem: TrustProblem,
): RelaySelectError {
  const subject =
    resolve(file) === problem.path
      ? `${what} ${describeTrustProblem(problem)}`
      : `${what} ${file}: ${describeTrustProblem(problem)}`;
  const why = problem.wrongKind
    ? ''
    : ' (as root, relay-select uses only files and directories that no other user can change)';
  return new RelaySelectError(code, subject, { file, hint: `${problem.fix}${why}` });
}

type ReadBoundedResult =
  | { ok: true; bytes: Buffer; tooLarge: false }
  | { ok: true; tooLarge: true; size: number }
  | { ok: false; problem: TrustProblem };

/**
 * {@link openForReading}, then the whole file — unless it holds more than `maxBytes`, which is never
 * read into memory (`tooLarge`, with the size found). Sizes are counted as read, since some files
 * (/proc, /sys) report 0.
 * @throws the file system's error when the file cannot be opened or read
 */
export async function readFileBounded(
  path: string,
  options: OpenForReadingOptions & { maxBytes: number },
): Promise<ReadBoundedResult> {
  return Promise.resolve(readFileBoundedSync(path, options));
}

function readFileBoundedSync(path: string, options: OpenForReadingOptions & { maxBytes: number }): ReadBoundedResult {
  const opened = openForReading(path, options);
  if (!opened.ok) return opened;
  const { fd, stats } = opened;
  try {
    if (stats.size > options.maxBytes) return { ok: true, tooLarge: true, size: stats.size };
    // One read of the size fstat reports (and one more to see the end) for a regular file; /proc and /sys
    // files report 0 and are read in chunks.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(
        Math.min(Math.max(stats.size + 1, 4096), 64 * 1024, options.maxBytes + 1 - total),
      );
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > options.maxBytes) return { ok: true, tooLarge: true, size: Math.max(stats.size, total) };
    }
    return { ok: true, bytes: Buffer.concat(chunks, total), tooLarge: false };
  } finally {
    closeSync(fd);
  }
}
