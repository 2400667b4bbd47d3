/**
 * File trust for a process that runs as root on a fleet (DESIGN §12), the habit of sshd's StrictModes
 * and sudo: a file is trusted only if it, and every directory above it up to `/`, is owned by root or the
 * effective user and writable by nobody else. A world-writable directory with the sticky bit (`/tmp`) is
 * allowed only above an entry owned by the effective user, since others can neither rename nor replace
 * that entry. Both the path as given and the path its symbolic links resolve to must pass: a link in a
 * directory another user controls could be pointed anywhere.
 *
 * This module reads metadata only; callers decide when trust applies (every input as root, secrets
 * always) and turn a {@link TrustProblem} into their own error code.
 */
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

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
function checkDirectory(directory: string, stats: Stats, child: Stats | undefined, options: TrustOptions): TrustProblem | null {
  const fixes: string[] = [];
  if (stats.uid !== 0 && stats.uid !== options.uid) fixes.push(ownerFix(directory, options.uid));
  if ((stats.mode & WRITABLE_BY_OTHERS) !== 0) {
    const stickyOverOwnEntry = (stats.mode & STICKY) !== 0 && child !== undefined && child.uid === options.uid;
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
  const expect = options.expect ?? 'file';
  const linkStats = lstatSync(absolute);
  const stats = linkStats.isSymbolicLink() ? statSync(absolute) : linkStats;
  const isExpectedKind = expect === 'file' ? stats.isFile() : stats.isDirectory();
  if (!isExpectedKind) {
    const kind = stats.isDirectory() ? 'a directory' : stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a regular file';
    return { path: absolute, found: `${kind}, not a ${expect === 'file' ? 'regular file' : 'directory'}`, fix: `replace ${quote(absolute)} with a ${expect === 'file' ? 'regular file' : 'directory'}` };
  }
  const own = checkEntry(absolute, stats, options) ?? checkChain(absolute, linkStats.isSymbolicLink() ? linkStats : stats, { ...options, secret: false });
  if (own !== null || !linkStats.isSymbolicLink()) return own;
  const real = realpathSync(absolute);
  return checkChain(real, stats, { ...options, secret: false });
}

/** The first half of a one-line error: "PATH is not trusted: owned by uid 65534, mode 0666"; the fix goes in the hint. */
export function describeTrustProblem(problem: TrustProblem): string {
  return `${problem.path} is not trusted: ${problem.found}`;
}
