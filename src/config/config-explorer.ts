/**
 * cosmiconfig's explorer for relay-select's config files, loaded only when it has something to do.
 * Loading cosmiconfig (its YAML, JavaScript and TypeScript loaders) costs more than the rest of a cron
 * no-op, and most endpoints give it nothing to do: no file of its search places in any directory
 * searched, and at most one JSON file (/etc/relay-select/config.json or `--config FILE.json`). So this
 * explorer looks first. A directory holding none of the search places is "nothing found" without
 * cosmiconfig, and a `.json` file is read as cosmiconfig would read it with our JSON loader. Everything
 * else — other formats, `$import`, package.json, and any cosmiconfig meta config (package.json,
 * package.yaml or .config/config.* in the working directory, which can change the search places) — goes
 * to cosmiconfig itself. test/config/config-explorer.test.ts compares both on the cases that differ.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { CosmiconfigResult, PublicExplorer } from 'cosmiconfig';

const MODULE_NAME = 'relay-select';

/** cosmiconfig's `getDefaultSearchPlaces('relay-select')` (test/config/config-explorer.test.ts checks that). */
export const CONFIG_SEARCH_PLACES: readonly string[] = [
  'package.json',
  ...['', '.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map((extension) => `.${MODULE_NAME}rc${extension}`),
  ...['', '.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map((extension) => `.config/${MODULE_NAME}rc${extension}`),
  ...['.js', '.ts', '.cjs', '.mjs'].map((extension) => `${MODULE_NAME}.config${extension}`),
];

/** Where cosmiconfig looks for its own meta config, in the working directory (its `metaSearchPlaces`). */
export const META_CONFIG_PLACES: readonly string[] = [
  'package.json',
  'package.yaml',
  ...['.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map((extension) => `.config/config${extension}`),
];

/** JSON with the line and column of a syntax error (V8 reports only a character offset). */
function loadJson(_filepath: string, content: string): unknown {
  try {
    return JSON.parse(content);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = /position (\d+)/.exec(message);
    if (offset === null) throw new Error(`invalid JSON: ${message}`);
    const before = content.slice(0, Number(offset[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new Error(`invalid JSON at line ${line} column ${column}: ${message.replace(/\s*in JSON at position \d+.*$/s, '')}`);
  }
}

/**
 * Whether `directory` holds any of `places` (names, or `.config/` names). A directory that cannot be
 * listed for another reason than not existing counts as holding them, so cosmiconfig decides.
 */
async function holdsAny(directory: string, places: readonly string[]): Promise<boolean> {
  const list = async (path: string): Promise<Set<string> | 'unknown'> => {
    try {
      return new Set(await readdir(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? new Set() : 'unknown';
    }
  };
  const names = await list(directory);
  if (names === 'unknown') return true;
  if (places.some((place) => names.has(place))) return true;
  if (!names.has('.config')) return false;
  const configNames = await list(join(directory, '.config'));
  return configNames === 'unknown' || places.some((place) => place.startsWith('.config/') && configNames.has(place.slice('.config/'.length)));
}

function workingDirectoryHoldsMetaConfig(): Promise<boolean> {
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    // cosmiconfig itself fails the same way.
    return Promise.resolve(true);
  }
  return holdsAny(cwd, META_CONFIG_PLACES);
}

/** The two calls of cosmiconfig's explorer that loading the settings makes. */
interface ConfigExplorer {
  /** The config in `file`, as cosmiconfig's `load`. */
  load(file: string): Promise<CosmiconfigResult>;
  /** The config file in `directory` only (no walking up), as cosmiconfig's `search` with `searchStrategy: 'none'`. */
  search(directory: string): Promise<CosmiconfigResult>;
}

export function createConfigExplorer(): ConfigExplorer {
  let explorer: Promise<PublicExplorer> | undefined;
  let metaConfig: Promise<boolean> | undefined;
  const cosmiconfigExplorer = (): Promise<PublicExplorer> =>
    (explorer ??= import('cosmiconfig').then(({ cosmiconfig, defaultLoaders }) =>
      cosmiconfig(MODULE_NAME, { searchStrategy: 'none', cache: false, loaders: { ...defaultLoaders, '.json': loadJson } }),
    ));
  const cosmiconfigNeeded = (): Promise<boolean> => (metaConfig ??= workingDirectoryHoldsMetaConfig());

  return {
    async load(file) {
      const filepath = resolve(file);
      if ((await cosmiconfigNeeded()) || extname(filepath) !== '.json' || basename(filepath) === 'package.json') {
        return (await cosmiconfigExplorer()).load(filepath);
      }
      const contents = await readFile(filepath, { encoding: 'utf-8' });
      if (contents.trim() === '') return { config: undefined, filepath, isEmpty: true };
      let config: unknown;
      try {
        config = loadJson(filepath, contents);
      } catch (error) {
        throw Object.assign(error as Error, { filepath });
      }
      if (config === null) return null;
      if (typeof config === 'object' && Object.hasOwn(config, '$import')) return (await cosmiconfigExplorer()).load(filepath);
      return { config, filepath };
    },
    async search(directory) {
      if (!(await cosmiconfigNeeded()) && !(await holdsAny(resolve(directory), CONFIG_SEARCH_PLACES))) return null;
      return (await cosmiconfigExplorer()).search(directory);
    },
  };
}
