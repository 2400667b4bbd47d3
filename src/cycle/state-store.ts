import type { Stats } from 'node:fs';
import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { link, lstat, mkdir, readdir, rename, stat, syncDirectory, unlink, writeNewFile } from '../sync-fs.js';
import path from 'node:path';
import { RelaySelectError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { randomUuid } from '../random-bytes.js';
import {
  findEntryProblem,
  findTrustProblem,
  processTrustPolicy,
  readFileBounded,
  untrustedFileError,
  type TrustOptions,
} from '../trust.js';
import { acceptState } from './state-check.js';
import type { State } from './state.js';
import type * as AtomicFile from '../atomic-file.js';

/**
 * The files of `stateDir` (DESIGN §7, §12): `state.json`, `client-id` and the cached relay list.
 *
 * Every write is atomic and durable (src/atomic-file.ts: a temporary file with a random name, created
 * exclusively and never through a symbolic link, fsynced, renamed over the target, the directory
 * fsynced). A failed write always throws `STATE_UNWRITABLE`. Files are read without
 * following a symbolic link and must be regular files; nothing is ever chowned, so every file is the
 * writer's own. As root, the directory (and every directory above it) must be root's and writable by
 * nobody else, and so must each file in it: otherwise `STATE_UNTRUSTED` (exit 73) with the fix. A
 * read-only store (status, run --dry-run) never creates, renames or removes anything.
 */
const STATE_FILE_NAME = 'state.json';
const CLIENT_ID_FILE_NAME = 'client-id';
export const RELAY_LIST_CACHE_FILE_NAME = 'relay-list.cache';
/** The state may reveal the network layout: owner only. */
const STATE_FILE_MODE = 0o600;
const STATE_DIR_MODE = 0o700;
/** A state file is a few kilobytes; a bigger one is not ours. The cached relay list is capped like a relay list. */
const MAX_STATE_FILE_BYTES = 1024 * 1024;
const MAX_CACHED_RELAY_LIST_BYTES = 64 * 1024 * 1024;
const MAX_CLIENT_ID_FILE_BYTES = 4096;

/** How files are replaced (src/atomic-file.ts), loaded with the first write: `status` only reads. */
const atomicFile = (): Promise<typeof AtomicFile> => import('../atomic-file.js');

/** node:crypto, loaded on first use: `status` only reads the state, and loading it costs that command a tenth of its time. */
function crypto(): typeof Crypto {
  return createRequire(import.meta.url)('node:crypto') as typeof Crypto;
}

export interface StateReadResult {
  /** null when there is no state file yet, or the file was unusable. */
  state: State | null;
  /**
   * Set when the file was corrupt or of another version: moved aside (`movedTo`) by a store that may
   * write, left in place (`movedTo` null) by a read-only one. The run continues from a clean state.
   */
  recovered?: { movedTo: string | null; reason: string };
}

export interface StateStore {
  /** `stateDir/state.json`. */
  readonly path: string;
  read(): Promise<StateReadResult>;
  write(state: State): Promise<void>;
}

export interface StateAccessOptions {
  /** Whose files to trust. @default as root, root's (trustPolicyOf the effective user); otherwise no check */
  trust?: TrustOptions;
}

export interface StateStoreOptions extends StateAccessOptions {
  /** Names the `.corrupt-<timestamp>` copy. @default systemClock */
  clock?: Clock;
  /** Never create, rename or remove anything: for `status` and `run --dry-run`. @default false */
  readOnly?: boolean;
}

function trustOf(options: StateAccessOptions): TrustOptions | undefined {
  return 'trust' in options ? options.trust : processTrustPolicy();
}

export function createStateStore(stateDir: string, options: StateStoreOptions = {}): StateStore {
  const clock = options.clock ?? systemClock;
  const statePath = path.join(stateDir, STATE_FILE_NAME);
  const trust = trustOf(options);
  const readOnly = options.readOnly === true;

  return {
    path: statePath,

    async read() {
      if (!(await checkStateDir(stateDir, trust))) return { state: null };
      if (!readOnly) await removeLeftoverTemporaryFiles(stateDir, clock.now());
      const read = await readStateFile(statePath, trust, MAX_STATE_FILE_BYTES, 'the state file');
      if (read.kind === 'missing') return { state: null };
      const unusable = (reason: string): Promise<StateReadResult> =>
        readOnly
          ? Promise.resolve({ state: null, recovered: { movedTo: null, reason } })
          : moveAside(statePath, reason, clock.now());
      if (read.kind === 'too-large')
        return unusable(`${read.size} bytes, more than a state file holds (${MAX_STATE_FILE_BYTES})`);
      let decoded: unknown;
      try {
        decoded = JSON.parse(read.text);
      } catch (error) {
        return unusable(`not valid JSON: ${errorMessage(error)}`);
      }
      const parsed = await parseStateLazily(decoded);
      if (!parsed.ok) return unusable(parsed.reason);
      return { state: parsed.state };
    },

    async write(state) {
      if (readOnly)
        throw new RelaySelectError('INTERNAL', `a read-only state store was asked to write ${statePath}`, {
          file: statePath,
        });
      const parsed = await parseStateLazily(state);
      if (!parsed.ok) {
        // Never write what the next read would move aside.
        throw new RelaySelectError('INTERNAL', `refusing to write an invalid state: ${parsed.reason}`, {
          file: statePath,
        });
      }
      await writeAtomically(stateDir, STATE_FILE_NAME, `${JSON.stringify(parsed.state, null, 2)}\n`, trust);
    },
  };
}

/** `parseState` of state.ts, which loads zod only for a state that `acceptState` leaves to it. */
async function parseStateLazily(value: unknown): Promise<{ ok: true; state: State } | { ok: false; reason: string }> {
  const accepted = acceptState(value);
  if (accepted !== undefined) return { ok: true, state: accepted as State };
  const { parseState } = await import('./state.js');
  return parseState(value);
}

async function moveAside(statePath: string, reason: string, now: Date): Promise<StateReadResult> {
  // Colons are legal on Linux but awkward in shells and illegal on some file systems.
  const movedTo = `${statePath}.corrupt-${now.toISOString().replace(/:/g, '-')}`;
  try {
    await rename(statePath, movedTo);
  } catch (error) {
    throw unwritable(
      `the state file ${statePath} is unusable (${reason}) and could not be moved aside: ${errorMessage(error)}`,
      statePath,
      error,
    );
  }
  return { state: null, recovered: { movedTo, reason } };
}

type StateFileRead = { kind: 'text'; text: string } | { kind: 'missing' } | { kind: 'too-large'; size: number };

/** A file of the state directory: never through a symbolic link, only a regular file, as root only a trusted one. */
async function readStateFile(
  filePath: string,
  trust: TrustOptions | undefined,
  maxBytes: number,
  what: string,
): Promise<StateFileRead> {
  let read;
  try {
    read = await readFileBounded(filePath, { followLinks: false, trust, maxBytes });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { kind: 'missing' };
    throw unwritable(`cannot read ${what} ${filePath}: ${errorMessage(error)}`, filePath, error);
  }
  // Whatever is there where a file of ours belongs (a link, a FIFO) is not ours: the fix is to remove it.
  if (!read.ok)
    throw untrustedFileError(
      'STATE_UNTRUSTED',
      what,
      filePath,
      read.problem.wrongKind ? { ...read.problem, fix: `rm ${filePath} (relay-select writes its own)` } : read.problem,
    );
  if (read.tooLarge) return { kind: 'too-large', size: read.size };
  return { kind: 'text', text: read.bytes.toString('utf8') };
}

/**
 * Whether `stateDir` exists (false: nothing to read), refusing one that is not a directory or, with
 * `trust`, that another user could change (STATE_UNTRUSTED, with the chown/chmod that fixes it).
 */
async function checkStateDir(stateDir: string, trust: TrustOptions | undefined): Promise<boolean> {
  let info: Stats;
  try {
    info = await stat(stateDir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw unwritable(`cannot examine the state directory ${stateDir}: ${errorMessage(error)}`, stateDir, error);
  }
  const problem =
    trust !== undefined
      ? findTrustProblem(stateDir, { ...trust, expect: 'directory' })
      : info.isDirectory()
        ? null
        : findEntryProblem(stateDir, info, { uid: -1, expect: 'directory' });
  if (problem !== null) throw untrustedFileError('STATE_UNTRUSTED', 'state directory', stateDir, problem);
  return true;
}

/**
 * The client id, generated once (random UUID) and kept in `stateDir/client-id`. Two processes creating
 * it at once agree on one id: the file appears through link(2), which fails when it already exists.
 */
export async function loadOrCreateClientId(stateDir: string, options: StateAccessOptions = {}): Promise<string> {
  const trust = trustOf(options);
  const idPath = path.join(stateDir, CLIENT_ID_FILE_NAME);
  await prepareStateDir(stateDir, idPath, trust);
  const existing = await readClientIdFile(idPath, trust);
  if (existing.kind === 'valid') return existing.clientId;

  const clientId = randomUuid();
  if (existing.kind === 'invalid') {
    // An empty or garbled file (e.g. truncated by a full disk) is replaced, not trusted.
    await writeAtomically(stateDir, CLIENT_ID_FILE_NAME, `${clientId}\n`, trust);
    return clientId;
  }
  const { temporaryName } = await atomicFile();
  const temporaryPath = path.join(stateDir, temporaryName(CLIENT_ID_FILE_NAME));
  try {
    await writeNewFile(temporaryPath, `${clientId}\n`, { mode: STATE_FILE_MODE });
    try {
      // link(2) never follows a link at the new name: it fails when anything is there.
      await link(temporaryPath, idPath);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      const winner = await readClientIdFile(idPath, trust);
      if (winner.kind === 'valid') return winner.clientId;
      throw error;
    }
    await syncDirectory(stateDir);
    return clientId;
  } catch (error) {
    if (error instanceof RelaySelectError) throw error;
    throw unwritable(`cannot create the client id file ${idPath}: ${errorMessage(error)}`, idPath, error);
  } finally {
    await unlink(temporaryPath).catch(() => undefined);
  }
}

/**
 * The client id kept in `stateDir/client-id`, without creating anything (for dry runs).
 * @returns null when the file is missing or does not hold a usable id
 * @throws RelaySelectError STATE_UNWRITABLE when the file exists but cannot be read, STATE_UNTRUSTED when it is not ours
 */
export async function readClientId(stateDir: string, options: StateAccessOptions = {}): Promise<string | null> {
  const trust = trustOf(options);
  if (!(await checkStateDir(stateDir, trust))) return null;
  const read = await readClientIdFile(path.join(stateDir, CLIENT_ID_FILE_NAME), trust);
  return read.kind === 'valid' ? read.clientId : null;
}

type ClientIdRead = { kind: 'valid'; clientId: string } | { kind: 'missing' } | { kind: 'invalid' };

async function readClientIdFile(idPath: string, trust: TrustOptions | undefined): Promise<ClientIdRead> {
  const read = await readStateFile(idPath, trust, MAX_CLIENT_ID_FILE_BYTES, 'the client id file');
  if (read.kind === 'missing') return { kind: 'missing' };
  if (read.kind === 'too-large') return { kind: 'invalid' };
  const clientId = read.text.trim();
  return /^[\x21-\x7e]{1,200}$/.test(clientId) ? { kind: 'valid', clientId } : { kind: 'invalid' };
}

/** Keeps the last relay list that parsed, so a broken new list never leaves the endpoint stranded. */
export async function cacheRelayList(
  stateDir: string,
  text: string,
  options: StateAccessOptions & { digest?: string } = {},
): Promise<void> {
  const digest = options.digest ?? digestRelayList(text);
  const header = `# relay-select: last good relay list, ${Buffer.byteLength(text, 'utf8')} bytes, sha256 ${digest}\n`;
  await writeAtomically(stateDir, RELAY_LIST_CACHE_FILE_NAME, `${header}${text}`, trustOf(options));
}

/** The cached copy of the last good relay list. */
export interface CachedRelayList {
  /** The list's text, as its file held it. */
  text: string;
  /**
   * Its digest, as the cache's first line records it (written with the text, in one atomic replacement):
   * a run that finds the list unchanged need not hash it, nor load node:crypto to. null for a cache
   * written before that line existed, or one whose text is not the length the line says.
   */
  digest: string | null;
}

/** The first line of the cache file (cacheRelayList): the length and digest of the text that follows. */
const RELAY_LIST_CACHE_HEADER = /^# relay-select: last good relay list, (\d+) bytes, sha256 ([0-9a-f]{64})\n/;

/** The cached relay list, or null when none was cached yet. */
export async function readCachedRelayList(
  stateDir: string,
  options: StateAccessOptions = {},
): Promise<CachedRelayList | null> {
  const trust = trustOf(options);
  if (!(await checkStateDir(stateDir, trust))) return null;
  const cachePath = path.join(stateDir, RELAY_LIST_CACHE_FILE_NAME);
  const read = await readStateFile(cachePath, trust, MAX_CACHED_RELAY_LIST_BYTES, 'the cached relay list');
  if (read.kind !== 'text') return null;
  const header = RELAY_LIST_CACHE_HEADER.exec(read.text);
  if (header === null) return { text: read.text, digest: null };
  const text = read.text.slice(header[0].length);
  return { text, digest: Buffer.byteLength(text, 'utf8') === Number(header[1]) ? header[2]! : null };
}

/** What a running `relay-select agent` publishes of its peers for `status` (src/agent/peer-view-file.ts). */
const PEER_VIEW_FILE_NAME = 'peer.json';
/** A peer view is a few hundred bytes. */
const MAX_PEER_VIEW_FILE_BYTES = 64 * 1024;

export async function writePeerViewFile(
  stateDir: string,
  text: string,
  options: StateAccessOptions = {},
): Promise<void> {
  await writeAtomically(stateDir, PEER_VIEW_FILE_NAME, text, trustOf(options));
}

/** The peer view's text, or null when no agent wrote one (read as every state file: no link, regular, trusted as root). */
export async function readPeerViewFile(stateDir: string, options: StateAccessOptions = {}): Promise<string | null> {
  const trust = trustOf(options);
  if (!(await checkStateDir(stateDir, trust))) return null;
  const read = await readStateFile(
    path.join(stateDir, PEER_VIEW_FILE_NAME),
    trust,
    MAX_PEER_VIEW_FILE_BYTES,
    'the peer view',
  );
  return read.kind === 'text' ? read.text : null;
}

/** Removed when the agent stops, so `status` does not show peers of an agent that is gone. */
export async function removePeerViewFile(stateDir: string): Promise<void> {
  await unlink(path.join(stateDir, PEER_VIEW_FILE_NAME)).catch((error: unknown) => {
    if (errnoCode(error) !== 'ENOENT')
      throw unwritable(`cannot remove the peer view in ${stateDir}: ${errorMessage(error)}`, stateDir, error);
  });
}

/** sha256 (hex) of a relay list's text, for `State.relayListDigest`. */
export function digestRelayList(text: string): string {
  return crypto().createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Makes sure `stateDir` exists — created mode 0700 (parents too) when missing; an existing directory
 * keeps its mode — and, with `trust`, that no other user can change it.
 */
export async function prepareStateDir(
  stateDir: string,
  forFile: string = stateDir,
  trust: TrustOptions | undefined = processTrustPolicy(),
): Promise<void> {
  try {
    await mkdir(stateDir, { recursive: true, mode: STATE_DIR_MODE });
  } catch (error) {
    throw unwritable(`cannot create the state directory ${stateDir}: ${errorMessage(error)}`, forFile, error);
  }
  await checkStateDir(stateDir, trust);
}

async function writeAtomically(
  stateDir: string,
  name: string,
  text: string,
  trust: TrustOptions | undefined,
): Promise<void> {
  const filePath = path.join(stateDir, name);
  await prepareStateDir(stateDir, filePath, trust);
  try {
    await (await atomicFile()).writeFileAtomically(stateDir, name, text, { mode: STATE_FILE_MODE });
  } catch (error) {
    throw unwritable(`cannot write ${filePath}: ${errorMessage(error)}`, filePath, error);
  }
}

function unwritable(message: string, file: string, cause: unknown): RelaySelectError {
  return new RelaySelectError('STATE_UNWRITABLE', message, {
    cause,
    file,
    hint: 'check that the state directory exists, is writable by this user and its file system is not full or read-only (setting stateDir)',
  });
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const ATOMICALLY_WRITTEN_FILE_NAMES = [
  STATE_FILE_NAME,
  RELAY_LIST_CACHE_FILE_NAME,
  CLIENT_ID_FILE_NAME,
  PEER_VIEW_FILE_NAME,
];

/** A temporary file older than this was left by a killed writer, not by one still writing. */
const LEFTOVER_TEMPORARY_FILE_AGE_MS = 10 * 60 * 1000;

/** The file a leftover temporary file was for: ours (`.NAME.<hex>.tmp`), or an older version's (`NAME.<digits>`, `client-id.<pid>.<uuid>.tmp`). */
function temporaryFileTarget(
  name: string,
  temporaryNameTarget: (name: string) => string | undefined,
): string | undefined {
  const target =
    temporaryNameTarget(name) ??
    /^(.+)\.\d+$/.exec(name)?.[1] ??
    /^(client-id)\.\d+\.[0-9a-f-]{36}\.tmp$/.exec(name)?.[1];
  return target !== undefined && ATOMICALLY_WRITTEN_FILE_NAMES.includes(target) ? target : undefined;
}

/**
 * Temporary files stay behind when a writer is killed (SIGKILL, power cut). Removed when old, best
 * effort: a crash must not fill the state directory over the years. unlink(2) removes a link itself,
 * never what it points to.
 */
async function removeLeftoverTemporaryFiles(stateDir: string, now: Date): Promise<void> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  const { temporaryNameTarget } = await atomicFile();
  for (const name of names) {
    if (temporaryFileTarget(name, temporaryNameTarget) === undefined) continue;
    const filePath = path.join(stateDir, name);
    const info = await lstat(filePath).catch(() => null);
    if (info !== null && now.getTime() - info.mtimeMs > LEFTOVER_TEMPORARY_FILE_AGE_MS) {
      await unlink(filePath).catch(() => undefined);
    }
  }
}
