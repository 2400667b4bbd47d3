/**
 * The calls of node:fs/promises that a cron run makes on its settings files and its state directory, made
 * synchronously behind the same promise-returning signatures (the same results; the same errors, as
 * rejections). A run makes some fifty of them on small local files and directories — the settings search,
 * the lock, the state, the relay-list cache, /proc — and a round trip through libuv's thread pool for each
 * cost more than the system calls themselves (bench/results/startup.md); a cron no-op need not load
 * node:fs/promises at all. Nothing here waits on anything but the local file system.
 */
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  fsyncSync,
  fchmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type MakeDirectoryOptions,
  type RmOptions,
  type Stats,
  type WriteFileOptions,
} from 'node:fs';

/** `call` made now; its result, or what it threw, as a settled promise (as node:fs/promises would give it). */
function now<T>(call: () => T): Promise<T> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

export const access = (path: string, mode?: number): Promise<void> => now(() => accessSync(path, mode));
export const lstat = (path: string): Promise<Stats> => now(() => lstatSync(path));
export const stat = (path: string): Promise<Stats> => now(() => statSync(path));
export const mkdir = (path: string, options?: MakeDirectoryOptions): Promise<string | undefined> =>
  now(() => mkdirSync(path, options));
export const readdir = (path: string): Promise<string[]> => now(() => readdirSync(path));
export const readFile = (path: string, encoding: 'utf8'): Promise<string> => now(() => readFileSync(path, encoding));
export const rename = (from: string, to: string): Promise<void> => now(() => renameSync(from, to));
export const rm = (path: string, options?: RmOptions): Promise<void> => now(() => rmSync(path, options));
export const rmdir = (path: string): Promise<void> => now(() => rmdirSync(path));
export const unlink = (path: string): Promise<void> => now(() => unlinkSync(path));
export const link = (existing: string, created: string): Promise<void> => now(() => linkSync(existing, created));
export const writeFile = (path: string, data: string, options: WriteFileOptions): Promise<void> =>
  now(() => writeFileSync(path, data, options));

/**
 * Creates `path` exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing file, never through a link)
 * with `mode` whatever the umask, writes `data`, and fsyncs it when `durable`.
 */
export function writeNewFile(
  path: string,
  data: string | Uint8Array,
  options: { mode: number; durable?: boolean },
): Promise<void> {
  return now(() => writeNewFileNow(path, data, options));
}

function writeNewFileNow(path: string, data: string | Uint8Array, options: { mode: number; durable?: boolean }): void {
  const fd = openSync(
    path,
    fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
    options.mode,
  );
  try {
    fchmodSync(fd, options.mode);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written, bytes.length - written);
    if (options.durable !== false) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a directory: makes a rename or link in it survive a power cut. */
export function syncDirectory(directory: string): Promise<void> {
  return now(() => syncDirectoryNow(directory));
}

function syncDirectoryNow(directory: string): void {
  const fd = openSync(directory, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
