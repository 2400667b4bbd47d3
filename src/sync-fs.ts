/**
 * The calls of node:fs/promises that a cron run makes on its state directory, made synchronously behind
 * the same promise-returning signatures (the same results; the same errors, as rejections). A run makes
 * some fifty of them on small local files and directories — the lock, the state, the relay-list cache,
 * /proc — and a round trip through libuv's thread pool for each cost more than the system calls
 * themselves (bench/results/startup.md). Nothing here waits on anything but the local file system.
 */
import {
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

export const lstat = async (path: string): Promise<Stats> => lstatSync(path);
export const stat = async (path: string): Promise<Stats> => statSync(path);
export const mkdir = async (path: string, options?: MakeDirectoryOptions): Promise<string | undefined> =>
  mkdirSync(path, options);
export const readdir = async (path: string): Promise<string[]> => readdirSync(path);
export const readFile = async (path: string, encoding: 'utf8'): Promise<string> => readFileSync(path, encoding);
export const rename = async (from: string, to: string): Promise<void> => renameSync(from, to);
export const rm = async (path: string, options?: RmOptions): Promise<void> => rmSync(path, options);
export const rmdir = async (path: string): Promise<void> => rmdirSync(path);
export const unlink = async (path: string): Promise<void> => unlinkSync(path);
export const link = async (existing: string, created: string): Promise<void> => linkSync(existing, created);
export const writeFile = async (path: string, data: string, options: WriteFileOptions): Promise<void> =>
  writeFileSync(path, data, options);

/**
 * Creates `path` exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never an existing file, never through a link)
 * with `mode` whatever the umask, writes `data`, and fsyncs it when `durable`.
 */
export async function writeNewFile(
  path: string,
  data: string | Uint8Array,
  options: { mode: number; durable?: boolean },
): Promise<void> {
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
export async function syncDirectory(directory: string): Promise<void> {
  const fd = openSync(directory, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
