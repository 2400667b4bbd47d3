/**
 * The one way relay-select replaces a file it owns (DESIGN §12): the state directory's files, the
 * metrics file and the agent's peer view. A temporary file with an unguessable name is created
 * exclusively and never through a symbolic link (O_CREAT|O_EXCL|O_NOFOLLOW), written, renamed over the
 * target — rename(2) replaces a link, it never writes through one — so a reader sees the old file or the
 * new one, never half of one, and nothing another user planted is ever written to. Nothing is chowned:
 * every file is the writer's own. Whether the directory may be written at all (trust as root) is the
 * caller's check, made before.
 */
import { rename, syncDirectory, unlink, writeNewFile } from './sync-fs.js';
import path from 'node:path';
import { randomHex } from './random-bytes.js';

interface AtomicWriteOptions {
  /** Mode of the new file, exactly (not narrowed by the umask: a metrics file must stay readable by node_exporter). */
  mode: number;
  /**
   * fsync the file before the rename and the directory after it, so the new file survives a power cut.
   * Off for files the next run rewrites anyway (metrics). @default true
   */
  durable?: boolean;
}

const TEMPORARY_NAME = /^\.(.+)\.[0-9a-f]{16}\.tmp$/;

/** `.NAME.<random>.tmp`: unguessable, so nobody can plant anything under the name before it is created. */
export function temporaryName(name: string): string {
  return `.${name}.${randomHex(8)}.tmp`;
}

/** The file a temporary name of {@link temporaryName} was made for, or undefined for any other name. */
export function temporaryNameTarget(name: string): string | undefined {
  return TEMPORARY_NAME.exec(name)?.[1];
}

/**
 * Replaces `directory/name` with `data` atomically. The temporary file is removed when anything fails.
 * @throws the file system's error (ENOENT for a missing directory, EACCES, ENOSPC…); callers name the file's role
 */
export async function writeFileAtomically(
  directory: string,
  name: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<void> {
  const temporaryPath = path.join(directory, temporaryName(name));
  try {
    await writeNewFile(temporaryPath, data, options);
    await rename(temporaryPath, path.join(directory, name));
  } catch (error) {
    await unlink(temporaryPath).catch(() => undefined);
    throw error;
  }
  if (options.durable !== false) await syncDirectory(directory);
}
