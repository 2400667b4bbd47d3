/**
 * The config explorer answers "nothing here" and reads plain JSON files without loading cosmiconfig;
 * everything else it hands to cosmiconfig. Its answers must be cosmiconfig's, in real directories,
 * with and without a cosmiconfig meta config in the working directory.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cosmiconfig, defaultLoaders, getDefaultSearchPlaces } from 'cosmiconfig';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_SEARCH_PLACES, META_CONFIG_PLACES, createConfigExplorer } from '../../src/config/config-explorer.js';

let root: string;
const startDirectory = process.cwd();

beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'relay-select-explorer-')));
  // No package.json or .config/ here, so the explorer may answer without cosmiconfig.
  process.chdir(root);
});

afterEach(async () => {
  process.chdir(startDirectory);
  await rm(root, { recursive: true, force: true });
});

/** cosmiconfig as the explorer configures it, except the JSON loader (ours adds line and column to errors). */
function reference() {
  return cosmiconfig('relay-select', { searchStrategy: 'none', cache: false, loaders: { ...defaultLoaders } });
}

async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { result: await run() };
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? 'parse error' };
  }
}

async function files(directory: string, entries: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(entries)) {
    await mkdir(join(directory, name, '..'), { recursive: true });
    await writeFile(join(directory, name), text);
  }
}

describe('createConfigExplorer', () => {
  it("looks where cosmiconfig looks: the same search places and meta-config places", async () => {
    expect([...CONFIG_SEARCH_PLACES].sort()).toEqual([...getDefaultSearchPlaces('relay-select')].sort());
    const { metaSearchPlaces } = (await import('cosmiconfig/dist/defaults.js')) as { metaSearchPlaces: string[] };
    expect([...META_CONFIG_PLACES].sort()).toEqual([...metaSearchPlaces].sort());
  });

  it.each<[string, Record<string, string>]>([
    ['an empty directory', {}],
    ['unrelated files', { 'notes.txt': 'x', '.config/other.json': '{}', 'relay-select.json': '{}' }],
    ['.relay-selectrc.json', { '.relay-selectrc.json': '{"jitter": 0.2}' }],
    ['.relay-selectrc (YAML)', { '.relay-selectrc': 'jitter: 0.3\n' }],
    ['.config/relay-selectrc.yaml', { '.config/relay-selectrc.yaml': 'probe:\n  retries: 2\n' }],
    ['package.json with a relay-select key', { 'package.json': '{"name": "x", "relay-select": {"jitter": 0.4}}' }],
    ['package.json without one', { 'package.json': '{"name": "x"}' }],
    ['an empty .relay-selectrc.json', { '.relay-selectrc.json': '  \n' }],
    ['a broken .relay-selectrc.json', { '.relay-selectrc.json': '{"jitter": ' }],
  ])('search finds what cosmiconfig finds in %s', async (_name, entries) => {
    const directory = join(root, 'project');
    await mkdir(directory);
    await files(directory, entries);
    expect(await outcome(() => createConfigExplorer().search(directory))).toEqual(await outcome(() => reference().search(directory)));
  });

  it('search of a directory that does not exist finds nothing, as cosmiconfig', async () => {
    const missing = join(root, 'missing');
    expect(await createConfigExplorer().search(missing)).toBeNull();
    expect(await reference().search(missing)).toBeNull();
  });

  it.each<[string, string, string]>([
    ['a JSON object', 'config.json', '{"jitter": 0.2, "probe": {"retries": 2}}'],
    ['an empty file', 'config.json', ' \n\t'],
    ['null', 'config.json', 'null'],
    ['false', 'config.json', 'false'],
    ['an array', 'config.json', '[1, 2]'],
    ['a file with $import', 'config.json', '{"$import": "base.json", "jitter": 0.2}'],
    ['broken JSON', 'config.json', '{"jitter": }'],
    ['a package.json', 'package.json', '{"relay-select": {"jitter": 0.5}}'],
    ['YAML', 'config.yaml', 'jitter: 0.1\n'],
  ])('load reads %s as cosmiconfig does', async (_name, fileName, text) => {
    await files(root, { [fileName]: text, 'base.json': '{"probe": {"retries": 3}}' });
    const file = join(root, fileName);
    expect(await outcome(() => createConfigExplorer().load(file))).toEqual(await outcome(() => reference().load(file)));
  });

  it('load of a missing file fails with ENOENT, as cosmiconfig', async () => {
    const file = join(root, 'absent.json');
    expect(await outcome(() => createConfigExplorer().load(file))).toEqual({ error: 'ENOENT' });
    expect(await outcome(() => reference().load(file))).toEqual({ error: 'ENOENT' });
  });

  it('reports broken JSON with the file, as the loader of load.ts did', async () => {
    await files(root, { 'config.json': '{\n  "jitter": ,\n}' });
    const error = await createConfigExplorer()
      .load(join(root, 'config.json'))
      .then(
        () => undefined,
        (failure: unknown) => failure as Error & { filepath?: string },
      );
    expect(error?.message).toMatch(/^invalid JSON/);
    expect(error?.filepath).toBe(join(root, 'config.json'));
  });

  it('hands everything to cosmiconfig when the working directory holds a cosmiconfig meta config', async () => {
    // The meta config adds a search place cosmiconfig would not otherwise look at.
    await files(root, { '.config/config.json': '{"cosmiconfig": {"searchPlaces": ["custom-place.json"]}}' });
    const directory = join(root, 'project');
    await files(directory, { 'custom-place.json': '{"jitter": 0.7}' });
    const found = await createConfigExplorer().search(directory);
    expect(found).toEqual(await reference().search(directory));
    expect(found?.config).toEqual({ jitter: 0.7 });
  });
});
