/**
 * Finding and reading the settings file (DESIGN §4, §12): the edge that touches the disk for
 * src/config/load.ts.
 *
 * The names and loaders are cosmiconfig's (`getDefaultSearchPlaces`, its YAML and TypeScript loaders),
 * but not its explorer: creating one reads `package.json` and `.config/config.*` of the working
 * directory — running `.config/config.js` even when a file was named with `--config` — and its
 * `$import` runs whatever file it names. Here:
 * - as root, settings come from `/etc/relay-select/config.json` and `--config` only; other users also
 *   get the search from the working directory upward;
 * - as root, every file read — the settings file and each file it `$import`s — must be trusted
 *   (src/trust.ts): owned by root, writable by nobody else, in directories likewise;
 * - code (`.js`, `.mjs`, `.cjs`, `.ts`, also through `$import`) runs only from trusted files, whoever
 *   runs relay-select, since it runs with their privileges;
 * - a file is opened without blocking and must be a regular file of at most 1 MiB; what a loader
 *   returns becomes plain data through a bounded walk (config-data.ts) before anything looks at it.
 *
 * Cheap where most endpoints are (issue 13): JSON is parsed here, and cosmiconfig — whose YAML and
 * TypeScript loaders cost more to load than the rest of a cron no-op — is loaded only for a YAML or
 * TypeScript file. The search lists each directory once instead of trying every name in it.
 */
import { constants as fsConstants } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RelaySelectError } from '../errors.js';
import { access, lstat, readdir, stat } from '../sync-fs.js';
import { rejectIfNeverSettled } from '../teardown.js';
import { readFileBounded, untrustedFileError, type TrustOptions } from '../trust.js';
import { isObject } from '../plain-object.js';

const MODULE_NAME = 'relay-select';

/**
 * cosmiconfig's `getDefaultSearchPlaces('relay-select')`, in its order (test/config/config-files.test.ts finds a file
 * at each of cosmiconfig's places), written out so that a search need not load cosmiconfig.
 */
const CONFIG_SEARCH_PLACES: readonly string[] = [
  'package.json',
  ...['', '.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map((extension) => `.${MODULE_NAME}rc${extension}`),
  ...['', '.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map(
    (extension) => `.config/${MODULE_NAME}rc${extension}`,
  ),
  ...['.js', '.ts', '.cjs', '.mjs'].map((extension) => `${MODULE_NAME}.config${extension}`),
];
/** Settings files are a few kilobytes; a file near this is not one. */
const MAX_CONFIG_FILE_BYTES = 1024 * 1024;
const CODE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts']);
const YAML_EXTENSIONS = new Set(['.yaml', '.yml', '']);
/** `$import` chains and fan-out: a handful is a layout, more is a loop or a bomb. */
const MAX_IMPORT_DEPTH = 8;
const MAX_IMPORTED_FILES = 32;

interface ConfigFileOptions {
  /** Where the search starts (non-root only) and what `--config` resolves against. */
  cwd: string;
  /** The effective user: root gets no search, and every file judged; code is judged for any user. */
  uid: number;
  /** `--config FILE`. */
  configFile?: string;
  /** The search goes up from `cwd` to this directory (inclusive). @default the file-system root */
  searchStopDir?: string;
  /** Read when the search finds nothing (and, as root, the only file besides `--config`). */
  systemConfigFile: string;
}

interface FoundConfigFile {
  file: string;
  /** Plain data; undefined when the file is empty. */
  data: unknown;
}

interface ConfigFileSearch {
  found: FoundConfigFile | null;
  /** For `--verbose`: where settings were looked for, files imported. */
  notes: string[];
}

/** A settings file could not be read or parsed: CONFIG_UNREADABLE naming it, with a hint by format. */
export function unreadable(file: string, error: unknown, what: string): RelaySelectError {
  const extension = extname(file);
  const format = CODE_EXTENSIONS.has(extension)
    ? 'JavaScript'
    : extension === '.json'
      ? 'JSON'
      : extension === '.cfg'
        ? 'clientsettings.cfg'
        : 'YAML or JSON';
  const hint = what.startsWith('load')
    ? `Fix ${file}: it must load without error and export the settings object as its default; relay-select.conf(5) shows examples.`
    : what.startsWith('parse')
      ? `Fix the syntax of ${file} (it must be valid ${format}); relay-select.conf(5) shows examples.`
      : `Check that ${file} exists and is a readable file.`;
  return new RelaySelectError('CONFIG_UNREADABLE', `${file}: cannot ${what}: ${describeCause(error)}`, {
    file,
    cause: error,
    hint,
  });
}

function describeCause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = text.split('\n').find((line) => line.trim() !== '' && !line.includes('Error in ')) ?? text;
  const name = error instanceof SyntaxError ? 'SyntaxError: ' : '';
  const described =
    code !== undefined && !firstLine.includes(code) && !code.startsWith('ERR_')
      ? `${code}: ${firstLine.trim()}`
      : `${name}${firstLine.trim()}`;
  return described.length > 300 ? `${described.slice(0, 299)}…` : described;
}

/** JSON with the line and column of a syntax error (V8 reports only a character offset). */
function parseJson(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = /position (\d+)/.exec(message);
    if (offset === null) throw new Error(`invalid JSON: ${message}`, { cause: error });
    const before = content.slice(0, Number(offset[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new Error(
      `invalid JSON at line ${line} column ${column}: ${message.replace(/\s*in JSON at position \d+.*$/s, '')}`,
      { cause: error },
    );
  }
}

/** Directories from `start` up to `stop` (inclusive), or to the file-system root. */
function directoriesUpFrom(start: string, stop: string | undefined): string[] {
  const directories: string[] = [];
  let directory = resolve(start);
  const stopDirectory = stop === undefined ? undefined : resolve(stop);
  for (;;) {
    directories.push(directory);
    const parent = dirname(directory);
    if (directory === stopDirectory || parent === directory) return directories;
    directory = parent;
  }
}

/** How one load judges files: every file as root; code files for any user. */
interface ReadContext {
  uid: number;
  /** Set as root. */
  trust: TrustOptions | undefined;
  importedFiles: number;
  notes: string[];
}

/** The file's text; a file that is missing, unreadable, untrusted, not a regular file or too large throws. */
async function readConfigText(file: string, trust: TrustOptions | undefined, what: string): Promise<string> {
  let read;
  try {
    read = await readFileBounded(file, { trust, maxBytes: MAX_CONFIG_FILE_BYTES });
  } catch (error) {
    throw unreadable(file, error, 'read the config file');
  }
  if (!read.ok) throw untrustedFileError('FILE_UNTRUSTED', what, file, read.problem);
  if (read.tooLarge)
    throw unreadable(
      file,
      new Error(`the file is ${read.size} bytes; a settings file is at most ${MAX_CONFIG_FILE_BYTES}`),
      'read the config file',
    );
  const text = new TextDecoder('utf-8', { fatal: false }).decode(read.bytes);
  if (text.includes('\0'))
    throw unreadable(file, new Error('it is not a text file (it contains NUL bytes)'), 'parse the config file');
  return text;
}

/** Runs a code config and returns its default export; a module stuck on a top-level await is reported, not waited for. */
async function loadCodeConfig(file: string, text: string): Promise<unknown> {
  const stuck = (): Error => new Error('loading it never finishes (a top-level await that never settles?)');
  if (extname(file) === '.ts') {
    const { defaultLoaders } = await import('cosmiconfig');
    return rejectIfNeverSettled(Promise.resolve(defaultLoaders['.ts'](file, text)), stuck);
  }
  const namespace = await rejectIfNeverSettled(
    import(pathToFileURL(file).href) as Promise<{ default?: unknown }>,
    stuck,
  );
  return namespace.default;
}

/** One file's settings as plain data, without its imports; undefined when empty. */
async function loadOneFile(file: string, context: ReadContext): Promise<unknown> {
  const extension = extname(file);
  const isCode = CODE_EXTENSIONS.has(extension);
  // Code runs with our privileges: trusted files only, whoever we are.
  const trust = isCode ? (context.trust ?? { uid: context.uid }) : context.trust;
  const text = await readConfigText(file, trust, isCode ? 'JavaScript config' : 'settings file');
  if (text.trim() === '') return undefined;
  let loaded: unknown;
  try {
    if (extension === '.json') loaded = parseJson(text);
    else if (isCode) loaded = await loadCodeConfig(file, text);
    else if (YAML_EXTENSIONS.has(extension) || basename(file).startsWith('.'))
      loaded = (await import('cosmiconfig')).defaultLoaders['.yaml'](file, text);
    else throw new Error(`unknown kind of file "${extension}"; use .json, .yaml, .yml, .js, .mjs, .cjs or .ts`);
  } catch (error) {
    if (error instanceof RelaySelectError) throw error;
    throw unreadable(file, error, isCode ? 'load the config module' : 'parse the config file');
  }
  if (basename(file) === 'package.json')
    loaded = isObject(loaded) && Object.hasOwn(loaded, MODULE_NAME) ? loaded[MODULE_NAME] : undefined;
  if (loaded === undefined || loaded === null) return undefined;
  // The bounded walk is loaded with the first settings file: most root runs have none, or plain JSON only.
  const { toConfigData } = await import('./config-data.js');
  const data = toConfigData(loaded);
  if (!data.ok)
    throw unreadable(file, new Error(data.reason), isCode ? 'load the config module' : 'parse the config file');
  return data.value;
}

/**
 * One file's settings with what it `$import`s (a path or a list of paths, relative to the file): the
 * imported files first, in order, then the file's own settings on top (objects merge, lists replace).
 */
async function loadWithImports(file: string, context: ReadContext, chain: readonly string[]): Promise<unknown> {
  const data = await loadOneFile(file, context);
  if (!isObject(data) || !Object.hasOwn(data, '$import')) return data;
  const { $import: imports, ...own } = data;
  const paths =
    typeof imports === 'string'
      ? [imports]
      : Array.isArray(imports) && imports.every((entry) => typeof entry === 'string')
        ? imports
        : undefined;
  const fail = (reason: string): RelaySelectError =>
    new RelaySelectError('CONFIG_INVALID', `${file}: $import: ${reason}`, {
      file,
      hint: '$import takes a file path or a list of them, relative to the file; see relay-select.conf(5)',
    });
  if (paths === undefined) throw fail('expected a file path or a list of file paths');
  const { mergeConfigData } = await import('./config-data.js');
  let merged: unknown = {};
  for (const path of paths) {
    const imported = resolve(dirname(file), path);
    if (imported === file || chain.includes(imported))
      throw fail(`${imported} imports itself, directly or through other files`);
    if (chain.length + 1 >= MAX_IMPORT_DEPTH) throw fail(`imports nest deeper than ${MAX_IMPORT_DEPTH} files`);
    if (++context.importedFiles > MAX_IMPORTED_FILES) throw fail(`more than ${MAX_IMPORTED_FILES} files imported`);
    context.notes.push(`${file} imports ${imported}`);
    const importedData = await loadWithImports(imported, context, [...chain, file]);
    if (importedData !== undefined && !isObject(importedData))
      throw fail(`${imported} does not hold an object of settings`);
    merged = mergeConfigData(merged, importedData ?? {});
  }
  return mergeConfigData(merged, own);
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw unreadable(file, error, 'read the config file');
  }
}

async function load(file: string, context: ReadContext): Promise<FoundConfigFile> {
  return { file, data: await loadWithImports(file, context, []) };
}

/** Whether a place holds something to read: the search skips what is not there, a directory, or a file we may not read (as cosmiconfig's search does). */
async function isPresent(file: string): Promise<boolean> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) return false;
    await access(file, fsConstants.R_OK);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return false;
    throw unreadable(file, error, 'read the config file');
  }
}

/**
 * The search places `directory` may hold, in search order: each directory (and its `.config/`) is listed
 * once, and only the places listed are looked at. One that cannot be listed (no read permission) keeps
 * every place, which isPresent then judges one by one.
 */
async function searchPlacesIn(directory: string): Promise<readonly string[]> {
  const list = async (path: string): Promise<ReadonlySet<string> | undefined> => {
    try {
      return new Set(await readdir(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? new Set() : undefined;
    }
  };
  const names = await list(directory);
  if (names === undefined) return CONFIG_SEARCH_PLACES;
  const configNames = names.has('.config') ? await list(join(directory, '.config')) : new Set<string>();
  return CONFIG_SEARCH_PLACES.filter((place) =>
    place.startsWith('.config/')
      ? configNames === undefined || configNames.has(place.slice('.config/'.length))
      : names.has(place),
  );
}

/**
 * The settings file of this run and its data. `--config` is read alone; otherwise, for users other than
 * root, the first non-empty cosmiconfig `relay-select` file from `cwd` upward; else the system file.
 * @throws RelaySelectError CONFIG_UNREADABLE, CONFIG_INVALID (`$import`) or FILE_UNTRUSTED, naming the file
 */
export async function findConfigFile(options: ConfigFileOptions): Promise<ConfigFileSearch> {
  const context: ReadContext = {
    uid: options.uid,
    trust: options.uid === 0 ? { uid: 0 } : undefined,
    importedFiles: 0,
    notes: [],
  };
  const asRoot = options.uid === 0;
  if (options.configFile !== undefined) {
    const file = resolve(options.cwd, options.configFile);
    context.notes.push(
      `settings file: ${file} (--config)${asRoot ? '; as root it must be owned by root and writable by nobody else' : ''}`,
    );
    return { found: await load(file, context), notes: context.notes };
  }
  if (asRoot) {
    context.notes.push(
      `running as root: settings come from ${options.systemConfigFile} or --config only, never from a search of the working directory and its parents (relay-select.conf(5))`,
    );
  } else {
    for (const directory of directoriesUpFrom(options.cwd, options.searchStopDir)) {
      for (const place of await searchPlacesIn(directory)) {
        const file = join(directory, place);
        if (!(await isPresent(file))) continue;
        const found = await load(file, context);
        if (found.data !== undefined) {
          context.notes.push(`settings file: ${file} (found by searching from ${options.cwd} upward)`);
          return { found, notes: context.notes };
        }
      }
    }
  }
  if (!(await exists(options.systemConfigFile))) {
    context.notes.push(
      `no settings file (${options.systemConfigFile} does not exist): defaults, environment and flags only`,
    );
    return { found: null, notes: context.notes };
  }
  context.notes.push(`settings file: ${options.systemConfigFile}`);
  return { found: await load(options.systemConfigFile, context), notes: context.notes };
}
