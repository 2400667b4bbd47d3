import { createRequire } from 'node:module';
import { constants as fsConstants } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { RelaySelectError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { acceptState } from './state-check.js';
import type { State } from './state.js';

/**
 * The files of `stateDir` (DESIGN §7): `state.json`, `client-id` and the cached relay list.
 * Every write is atomic (temporary file, fsync, rename, then fsync of the directory so the rename
 * itself survives a power cut); a failed write always throws `STATE_UNWRITABLE`.
 */
const STATE_FILE_NAME = 'state.json';
const CLIENT_ID_FILE_NAME = 'client-id';
export const RELAY_LIST_CACHE_FILE_NAME = 'relay-list.cache';
/** The state may reveal the network layout: owner only. */
const STATE_FILE_MODE = 0o600;
const STATE_DIR_MODE = 0o700;

/** node:crypto, loaded on first use: `status` only reads the state, and loading it costs that command a tenth of its time. */
function crypto(): typeof import('node:crypto') {
  return createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
}

export interface StateReadResult {
  /** null when there is no state file yet, or the file was unusable and moved aside. */
  state: State | null;
  /** Set when a corrupt or foreign-version file was moved aside; the run continues from a clean state. */
  recovered?: { movedTo: string; reason: string };
}

export interface StateStore {
  /** `stateDir/state.json`. */
  readonly path: string;
  read(): Promise<StateReadResult>;
  write(state: State): Promise<void>;
}

export interface StateStoreOptions {
  /** Names the `.corrupt-<timestamp>` copy. @default systemClock */
  clock?: Clock;
}

export function createStateStore(stateDir: string, options: StateStoreOptions = {}): StateStore {
  const clock = options.clock ?? systemClock;
  const statePath = path.join(stateDir, STATE_FILE_NAME);

  return {
    path: statePath,

    async read() {
      await removeLeftoverTemporaryFiles(stateDir, clock.now());
      let text: string;
      try {
        text = await readFile(statePath, 'utf8');
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return { state: null };
        throw unwritable(`cannot read the state file ${statePath}: ${errorMessage(error)}`, statePath, error);
      }
      let decoded: unknown;
      try {
        decoded = JSON.parse(text);
      } catch (error) {
        return moveAside(statePath, `not valid JSON: ${errorMessage(error)}`, clock.now());
      }
      const parsed = await parseStateLazily(decoded);
      if (!parsed.ok) return moveAside(statePath, parsed.reason, clock.now());
      return { state: parsed.state };
    },

    async write(state) {
      const parsed = await parseStateLazily(state);
      if (!parsed.ok) {
        // Never write what the next read would move aside.
        throw new RelaySelectError('INTERNAL', `refusing to write an invalid state: ${parsed.reason}`, { file: statePath });
      }
      await writeAtomically(stateDir, statePath, `${JSON.stringify(parsed.state, null, 2)}\n`);
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
    throw unwritable(`the state file ${statePath} is unusable (${reason}) and could not be moved aside: ${errorMessage(error)}`, statePath, error);
  }
  return { state: null, recovered: { movedTo, reason } };
}

/**
 * The endpoint's client id, generated once (random UUID) and kept in `stateDir/client-id`.
 * Two processes creating it at once agree on one id: the file appears through link(2), which fails
 * when it already exists.
 */
export async function loadOrCreateClientId(stateDir: string): Promise<string> {
  const idPath = path.join(stateDir, CLIENT_ID_FILE_NAME);
  const existing = await readClientIdFile(idPath);
  if (existing.kind === 'valid') return existing.clientId;

  await ensureStateDir(stateDir, idPath);
  const clientId = crypto().randomUUID();
  if (existing.kind === 'invalid') {
    // An empty or garbled file (e.g. truncated by a full disk) is replaced, not trusted.
    await writeAtomically(stateDir, idPath, `${clientId}\n`);
    return clientId;
  }
  const temporaryPath = `${idPath}.${process.pid}.${crypto().randomUUID()}.tmp`;
  try {
    const handle = await open(temporaryPath, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, STATE_FILE_MODE);
    try {
      await handle.writeFile(`${clientId}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temporaryPath, idPath);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      const winner = await readClientIdFile(idPath);
      if (winner.kind === 'valid') return winner.clientId;
      throw error;
    }
    await syncDirectory(stateDir);
    return clientId;
  } catch (error) {
    throw unwritable(`cannot create the client id file ${idPath}: ${errorMessage(error)}`, idPath, error);
  } finally {
    await unlink(temporaryPath).catch(() => undefined);
  }
}

/**
 * The client id kept in `stateDir/client-id`, without creating anything (for dry runs).
 * @returns null when the file is missing or does not hold a usable id
 * @throws RelaySelectError STATE_UNWRITABLE when the file exists but cannot be read
 */
export async function readClientId(stateDir: string): Promise<string | null> {
  const read = await readClientIdFile(path.join(stateDir, CLIENT_ID_FILE_NAME));
  return read.kind === 'valid' ? read.clientId : null;
}

type ClientIdRead = { kind: 'valid'; clientId: string } | { kind: 'missing' } | { kind: 'invalid' };

async function readClientIdFile(idPath: string): Promise<ClientIdRead> {
  let text: string;
  try {
    text = await readFile(idPath, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { kind: 'missing' };
    throw unwritable(`cannot read the client id file ${idPath}: ${errorMessage(error)}`, idPath, error);
  }
  const clientId = text.trim();
  return /^[\x21-\x7e]{1,200}$/.test(clientId) ? { kind: 'valid', clientId } : { kind: 'invalid' };
}

/** Keeps the last relay list that parsed, so a broken new list never leaves the endpoint stranded. */
export async function cacheRelayList(stateDir: string, text: string): Promise<void> {
  await writeAtomically(stateDir, path.join(stateDir, RELAY_LIST_CACHE_FILE_NAME), text);
}

/** The cached relay list, or null when none was cached yet. */
export async function readCachedRelayList(stateDir: string): Promise<string | null> {
  const cachePath = path.join(stateDir, RELAY_LIST_CACHE_FILE_NAME);
  try {
    return await readFile(cachePath, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw unwritable(`cannot read the cached relay list ${cachePath}: ${errorMessage(error)}`, cachePath, error);
  }
}

/** sha256 (hex) of a relay list's text, for `State.relayListDigest`. */
export function digestRelayList(text: string): string {
  return crypto().createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Creates `stateDir` (mode 0700, parents too) when missing; an existing directory keeps its mode. */
export async function ensureStateDir(stateDir: string, forFile: string = stateDir): Promise<void> {
  try {
    await mkdir(stateDir, { recursive: true, mode: STATE_DIR_MODE });
  } catch (error) {
    throw unwritable(`cannot create the state directory ${stateDir}: ${errorMessage(error)}`, forFile, error);
  }
}

async function writeAtomically(stateDir: string, filePath: string, text: string): Promise<void> {
  await ensureStateDir(stateDir, filePath);
  try {
    // write-file-atomic: temp file in the same directory, write, fsync, chmod, rename. Loaded here, so
    // commands that only read the state (status) do not pay for it.
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(filePath, text, { mode: STATE_FILE_MODE, fsync: true, encoding: 'utf8' });
    await syncDirectory(stateDir);
  } catch (error) {
    throw unwritable(`cannot write ${filePath}: ${errorMessage(error)}`, filePath, error);
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
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
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const ATOMICALLY_WRITTEN_FILE_NAMES = [STATE_FILE_NAME, RELAY_LIST_CACHE_FILE_NAME, CLIENT_ID_FILE_NAME];

/** A temporary file older than this was left by a killed writer, not by one still writing. */
const LEFTOVER_TEMPORARY_FILE_AGE_MS = 10 * 60 * 1000;

/**
 * write-file-atomic's temporary files (`<name>.<number>`) stay behind when a writer is killed (SIGKILL,
 * power cut). Removed when old, best effort: a crash must not fill the state directory over the years.
 */
async function removeLeftoverTemporaryFiles(stateDir: string, now: Date): Promise<void> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  for (const name of names) {
    const target = /^(.+)\.\d+$/.exec(name)?.[1];
    if (target === undefined || !ATOMICALLY_WRITTEN_FILE_NAMES.includes(target)) continue;
    const filePath = path.join(stateDir, name);
    const info = await stat(filePath).catch(() => null);
    if (info !== null && now.getTime() - info.mtimeMs > LEFTOVER_TEMPORARY_FILE_AGE_MS) {
      await unlink(filePath).catch(() => undefined);
    }
  }
}
