import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { getDefaultSearchPlaces } from 'cosmiconfig';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSettingsError as loadError } from '../helpers/settings.js';
import { loadSettings, type LoadSettingsOptions } from '../../src/config/load.js';
import { isRoot } from '../helpers/root.js';

let root: string;
let cwd: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'relay-select-config-files-'));
  cwd = join(root, 'work');
  await mkdir(cwd);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const options = (overrides: Partial<LoadSettingsOptions> = {}): LoadSettingsOptions => ({
  cwd,
  env: {},
  uid: 1000,
  searchStopDir: root,
  systemConfigFile: join(root, 'etc', 'config.json'),
  ...overrides,
});

describe('$import', () => {
  it('reads the imported files first, in order, then the file itself on top; paths relative to the importing file', async () => {
    await mkdir(join(root, 'shared'));
    await writeFile(
      join(root, 'shared', 'base.yaml'),
      'probe:\n  strategy: rounds\n  timeoutMs: 500\nseekList: [a, b]\njitter: 0.2\n',
    );
    await writeFile(
      join(root, 'shared', 'site.json'),
      JSON.stringify({ $import: 'base.yaml', probe: { timeoutMs: 700 } }),
    );
    await writeFile(
      join(cwd, 'config.json'),
      JSON.stringify({ $import: ['../shared/site.json'], seekList: 'c', probe: { retries: 3 } }),
    );
    const { settings, notes } = await loadSettings(options({ configFile: 'config.json' }));
    expect(settings.probe).toMatchObject({ strategy: 'rounds', timeoutMs: 700, retries: 3 });
    expect(settings.seekList).toEqual(['c']);
    expect(settings.jitter).toBe(0.2);
    expect(notes).toContain(`${join(cwd, 'config.json')} imports ${join(root, 'shared', 'site.json')}`);
  });

  it('an imported file with an unknown setting is reported as the top file, the setting named', async () => {
    await writeFile(join(cwd, 'base.json'), JSON.stringify({ maximumTTLToPing: 3 }));
    await writeFile(join(cwd, 'config.json'), JSON.stringify({ $import: 'base.json' }));
    expect((await loadError(options({ configFile: 'config.json' }))).message).toMatch(
      /config\.json: unknown setting "maximumTTLToPing"/,
    );
  });
});

describe('where settings come from', () => {
  it('as root, never from a search of the working directory upward: only the system file or --config', async () => {
    await writeFile(join(cwd, '.relay-selectrc.json'), JSON.stringify({ maximumTtlToPing: 9 }));
    await writeFile(join(root, 'package.json'), JSON.stringify({ 'relay-select': { maximumTtlToPing: 8 } }));
    const asRoot = await loadSettings(options({ uid: 0 }));
    expect(asRoot.settings.maximumTtlToPing).toBe(255);
    expect(asRoot.sources).toEqual([]);
    expect(asRoot.notes[0]).toMatch(
      /^running as root: settings come from .*etc\/config\.json or --config only, never from a search of the working directory/,
    );
    await mkdir(join(root, 'etc'));
    await writeFile(join(root, 'etc', 'config.json'), JSON.stringify({ maximumTtlToPing: 7 }));
    expect((await loadSettings(options({ uid: 0 }))).settings.maximumTtlToPing).toBe(7);
    // Other users search as before.
    expect((await loadSettings(options())).settings.maximumTtlToPing).toBe(9);
  });

  // The search places are written out in config-files.ts so that a search need not load cosmiconfig: each of cosmiconfig's must be found.
  it.each(getDefaultSearchPlaces('relay-select'))(
    "the search (non-root) finds a settings file at cosmiconfig's place %s",
    async (place) => {
      const file = join(cwd, place);
      await mkdir(dirname(file), { recursive: true });
      const extension = extname(place);
      const text =
        place === 'package.json'
          ? JSON.stringify({ name: 'x', 'relay-select': { maximumTtlToPing: 12 } })
          : extension === '.js' || extension === '.cjs'
            ? 'module.exports = { maximumTtlToPing: 12 };\n'
            : extension === '.mjs' || extension === '.ts'
              ? 'export default { maximumTtlToPing: 12 };\n'
              : extension === '.json'
                ? '{"maximumTtlToPing": 12}\n'
                : 'maximumTtlToPing: 12\n';
      await writeFile(file, text);
      const loaded = await loadSettings(options());
      expect(loaded.settings.maximumTtlToPing).toBe(12);
      expect(loaded.sources).toEqual([file]);
    },
  );

  it('the search skips a directory named like a config file', async () => {
    await mkdir(join(cwd, '.relay-selectrc.json'));
    await writeFile(join(root, '.relay-selectrc.yaml'), 'maximumTtlToPing: 11\n');
    expect((await loadSettings(options())).settings.maximumTtlToPing).toBe(11);
  });
});

describe.skipIf(!isRoot)(`file trust ${isRoot ? '' : '(skipped: needs root to give files to other users)'}`, () => {
  it('as root, a settings file another user owns or can write is refused (FILE_UNTRUSTED) with the fix', async () => {
    const file = join(cwd, 'config.json');
    await writeFile(file, '{}');
    await chown(file, 65534, 65534);
    const error = await loadError(options({ uid: 0, configFile: file }));
    expect(error.code).toBe('FILE_UNTRUSTED');
    expect(error.message).toBe(`settings file ${file} is not trusted: owned by uid 65534, mode 0644`);
    expect(error.hint).toMatch(new RegExp(`^chown root ${file} \\(as root`));
    await chown(file, 0, 0);
    await chmod(file, 0o664);
    expect((await loadError(options({ uid: 0, configFile: file }))).hint).toMatch(new RegExp(`^chmod go-w ${file}`));
  });

  it('code runs only from trusted files, whoever runs relay-select; data of another user is read by a user who is not root', async () => {
    const code = join(cwd, 'relay-select.config.cjs');
    await writeFile(code, 'module.exports = { maximumTtlToPing: 12 };\n');
    await chown(code, 1001, 1001);
    const error = await loadError(options());
    expect(error.code).toBe('FILE_UNTRUSTED');
    expect(error.message).toBe(`JavaScript config ${code} is not trusted: owned by uid 1001, mode 0644`);
    await chown(code, 1000, 1000);
    expect((await loadSettings(options())).settings.maximumTtlToPing).toBe(12);
    await rm(code);
    const data = join(cwd, '.relay-selectrc.json');
    await writeFile(data, JSON.stringify({ maximumTtlToPing: 13 }));
    await chown(data, 1001, 1001);
    expect((await loadSettings(options())).settings.maximumTtlToPing).toBe(13);
  });

  it('as root, a clientsettings.cfg another user owns is refused', async () => {
    const file = join(cwd, 'clientsettings.cfg');
    await writeFile(file, '_BESClient_RelaySelect_MaximumTTLToPing=7\n');
    await chown(file, 65534, 65534);
    const error = await loadError(options({ uid: 0, clientSettingsFile: file }));
    expect(error).toMatchObject({
      code: 'FILE_UNTRUSTED',
      message: `clientsettings file ${file} is not trusted: owned by uid 65534, mode 0644`,
    });
  });
});
