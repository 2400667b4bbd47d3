import { flagNameOf as cliFlagNameOf } from '../../src/cli/load-cli-settings.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, PROFILES } from '../../src/config/defaults.js';
import { loadSettingsError as loadError } from '../helpers/settings.js';
import { loadSettings, resolveSettings, type LoadSettingsOptions } from '../../src/config/load.js';

const samplesDirectory = fileURLToPath(new URL('../../relay-samples/', import.meta.url));
let root: string;
let project: string;
let workDirectory: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'relay-select-config-'));
  project = join(root, 'project');
  workDirectory = join(project, 'sub', 'deeper');
  await mkdir(workDirectory, { recursive: true });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function options(overrides: Partial<LoadSettingsOptions> = {}): LoadSettingsOptions {
  return {
    cwd: workDirectory,
    env: { HOME: join(root, 'home') },
    uid: 1000,
    searchStopDir: root,
    systemConfigFile: join(root, 'etc', 'config.json'),
    ...overrides,
  };
}

const writeJson = (path: string, value: unknown) => writeFile(path, JSON.stringify(value, null, 2));

describe('loadSettings precedence', () => {
  it('uses the defaults, with the user state directory, when nothing is configured', async () => {
    const { settings, sources, warnings } = await loadSettings(options());
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, stateDir: join(root, 'home', '.local', 'state', 'relay-select') });
    expect(sources).toEqual([]);
    expect(warnings).toEqual([]);
    expect((await loadSettings(options({ uid: 0 }))).settings.stateDir).toBe('/var/lib/relay-select');
  });

  it('lets each layer override the one before: profile < file < clientsettings.cfg < environment < flags', async () => {
    const configFile = join(project, '.relay-selectrc.json');
    await writeJson(configFile, {
      profile: 'large',
      maximumTtlToPing: 30,
      resistFailureIntervalSeconds: 700,
      minRetryIntervalSeconds: 100,
      intervalSeconds: 1000,
      jitter: 0.3,
      probe: { ratePps: 300, burst: 7 },
    });
    await writeFile(
      join(workDirectory, 'clientsettings.cfg'),
      '_BESClient_RelaySelect_MaximumTTLToPing=25\n_BESClient_RelaySelect_MinRetryIntervalSeconds=200\n_BESClient_RelaySelect_IntervalSeconds=2000\n',
    );
    const env = {
      HOME: join(root, 'home'),
      RELAY_SELECT_MAXIMUM_TTL_TO_PING: '22',
      RELAY_SELECT_INTERVAL_SECONDS: '3000',
      RELAY_SELECT_PROBE_RATE_PPS: '400',
    };
    const cliOverrides = { maximumTtlToPing: 21, probe: { strategy: 'rounds' as const } };

    const fileOnly = await loadSettings(options());
    expect(fileOnly.sources).toEqual(['profile large', configFile]);
    expect(fileOnly.settings).toMatchObject({
      profile: 'large',
      maximumTtlToPing: 30, // file beats profile (20)
      resistFailureIntervalSeconds: 700,
      maxRetryIntervalSeconds: PROFILES.large.maxRetryIntervalSeconds, // profile beats default
      intervalSeconds: 1000,
      probe: { ratePps: 300, burst: 7, strategy: 'inference', timeoutMs: DEFAULT_SETTINGS.probe.timeoutMs },
    });

    const withClient = await loadSettings(options({ clientSettingsFile: 'clientsettings.cfg' }));
    expect(withClient.settings).toMatchObject({
      maximumTtlToPing: 25,
      minRetryIntervalSeconds: 200,
      intervalSeconds: 2000,
      jitter: 0.3,
    });

    const withEnvironment = await loadSettings(options({ clientSettingsFile: 'clientsettings.cfg', env }));
    expect(withEnvironment.settings).toMatchObject({
      maximumTtlToPing: 22,
      minRetryIntervalSeconds: 200,
      intervalSeconds: 3000,
      probe: { ratePps: 400, burst: 7 },
    });

    const withFlags = await loadSettings(options({ clientSettingsFile: 'clientsettings.cfg', env, cliOverrides }));
    expect(withFlags.settings).toMatchObject({
      maximumTtlToPing: 21,
      intervalSeconds: 3000,
      probe: { strategy: 'rounds', ratePps: 400, burst: 7 },
    });
    expect(withFlags.sources).toEqual([
      'profile large',
      configFile,
      'clientsettings.cfg',
      'environment',
      'command line',
    ]);
  });

  it('takes the profile from the highest layer that names one', async () => {
    await writeJson(join(project, '.relay-selectrc.json'), { profile: 'large' });
    const fromFile = await loadSettings(options());
    expect(fromFile.settings).toMatchObject({ ...PROFILES.large, profile: 'large' });
    const overridden = await loadSettings(options({ env: { RELAY_SELECT_PROFILE: 'default' } }));
    expect(overridden.settings.maximumTtlToPing).toBe(DEFAULT_SETTINGS.maximumTtlToPing);
    const fromFlag = await loadSettings(
      options({ cliOverrides: { profile: 'large' }, systemConfigFile: join(root, 'none') }),
    );
    expect(fromFlag.settings.intervalSeconds).toBe(PROFILES.large.intervalSeconds);
  });

  it('finds the nearest file upward: a closer file wins, YAML and package.json#relay-select count', async () => {
    await writeJson(join(project, '.relay-selectrc.json'), { maximumTtlToPing: 30 });
    await writeFile(join(project, 'sub', '.relay-selectrc.yaml'), 'maximumTtlToPing: 40\nprobe:\n  strategy: rounds\n');
    const nearer = await loadSettings(options());
    expect(nearer.sources).toEqual([join(project, 'sub', '.relay-selectrc.yaml')]);
    expect(nearer.settings.maximumTtlToPing).toBe(40);
    await writeJson(join(workDirectory, 'package.json'), { name: 'x', 'relay-select': { maximumTtlToPing: 50 } });
    expect((await loadSettings(options())).settings.maximumTtlToPing).toBe(50);
  });

  it('reads relay-select.config.mjs', async () => {
    await writeFile(join(workDirectory, 'relay-select.config.mjs'), 'export default { maximumTtlToPing: 12 };\n');
    expect((await loadSettings(options())).settings.maximumTtlToPing).toBe(12);
  });

  it('falls back to the system file only when the search finds nothing', async () => {
    const systemFile = join(root, 'etc', 'config.json');
    await mkdir(join(root, 'etc'));
    await writeJson(systemFile, { maximumTtlToPing: 64 });
    const fallback = await loadSettings(options());
    expect(fallback.settings.maximumTtlToPing).toBe(64);
    expect(fallback.sources).toEqual([systemFile]);
    await writeJson(join(project, '.relay-selectrc.json'), { intervalSeconds: 5 });
    const searched = await loadSettings(options());
    expect(searched.settings.maximumTtlToPing).toBe(DEFAULT_SETTINGS.maximumTtlToPing);
  });

  it('reads --config instead of searching', async () => {
    await writeJson(join(project, '.relay-selectrc.json'), { maximumTtlToPing: 30 });
    await writeJson(join(root, 'explicit.json'), { intervalSeconds: 99 });
    const { settings, sources } = await loadSettings(options({ configFile: '../../../explicit.json' }));
    expect(sources).toEqual([join(root, 'explicit.json')]);
    expect(settings.maximumTtlToPing).toBe(DEFAULT_SETTINGS.maximumTtlToPing);
    expect(settings.intervalSeconds).toBe(99);
  });

  it('resolves relative paths in a file against its directory, and in the environment against the cwd', async () => {
    await writeJson(join(project, '.relay-selectrc.json'), {
      relayList: 'relays/Relay.dat',
      register: { tls: { ca: 'ca.pem' } },
    });
    const fromFile = await loadSettings(options());
    expect(fromFile.settings.relayList).toBe(join(project, 'relays', 'Relay.dat'));
    expect(fromFile.settings.register.tls).toEqual({ ca: join(project, 'ca.pem') });
    const fromEnvironment = await loadSettings(options({ env: { RELAY_SELECT_RELAY_LIST: 'here.dat' } }));
    expect(fromEnvironment.settings.relayList).toBe(join(workDirectory, 'here.dat'));
  });

  it("passes over the vendor's other clientsettings.cfg names quietly, counting them in a note, and warns on a typo", async () => {
    await writeFile(
      join(workDirectory, 'c.cfg'),
      '_BESClient_Download_RetryMinutes=5\n_BESClient_RelaySelect_MaximumTTLToPing=9\n_BESClient_RelaySelect_IntervalSecond=60\n',
    );
    const { settings, warnings, notes } = await loadSettings(options({ clientSettingsFile: 'c.cfg' }));
    expect(settings.maximumTtlToPing).toBe(9);
    expect(warnings).toEqual([
      'c.cfg:3:1: warning: unknown setting "_BESClient_RelaySelect_IntervalSecond" is ignored (did you mean "_BESClient_RelaySelect_IntervalSeconds"?)',
    ]);
    expect(notes.at(-1)).toBe(
      'c.cfg (clientsettings.cfg form): 1 relay-selection setting read, 1 other client setting of the vendor passed over',
    );
  });
});

describe('loadSettings errors', () => {
  it('rejects a typo in a setting name in a config file', async () => {
    const file = join(project, '.relay-selectrc.json');
    await writeJson(file, { maximumTTLToPing: 20 });
    const error = await loadError(options());
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(`${file}: unknown setting "maximumTTLToPing" (did you mean "maximumTtlToPing"?)`);
    expect(error.file).toBe(file);
    expect(error.hint).toContain('relay-select.conf(5)');
  });

  it('rejects maximumTtlToPing 0 and 256', async () => {
    const file = join(project, '.relay-selectrc.json');
    for (const value of [0, 256]) {
      await writeJson(file, { maximumTtlToPing: value });
      const error = await loadError(options());
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toBe(`${file}: maximumTtlToPing: ${value} is out of range; allowed 1..255`);
    }
  });

  it('rejects a non-numeric _BESClient_RelaySelect_MaximumTTLToPing in clientsettings.cfg', async () => {
    await writeFile(join(workDirectory, 'clientsettings.cfg'), '# x\n\n_BESClient_RelaySelect_MaximumTTLToPing=abc\n');
    const error = await loadError(options({ clientSettingsFile: 'clientsettings.cfg' }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      'clientsettings.cfg:3:41: error: _BESClient_RelaySelect_MaximumTTLToPing: "abc" is not a whole number; expected 1..255',
    );
    expect(error.file).toBe('clientsettings.cfg');
  });

  it('rejects minRetryIntervalSeconds greater than maxRetryIntervalSeconds, in one file or across layers', async () => {
    const file = join(project, '.relay-selectrc.json');
    await writeJson(file, { minRetryIntervalSeconds: 9000, maxRetryIntervalSeconds: 7200 });
    const inFile = await loadError(options());
    expect(inFile.code).toBe('CONFIG_INVALID');
    expect(inFile.message).toBe(
      `${file}: minRetryIntervalSeconds: 9000 is greater than maxRetryIntervalSeconds 7200; allowed minRetryIntervalSeconds <= maxRetryIntervalSeconds`,
    );
    await writeJson(file, { minRetryIntervalSeconds: 9000 });
    const acrossLayers = await loadError(options());
    expect(acrossLayers.message).toBe(
      `${file}: minRetryIntervalSeconds: 9000 is greater than maxRetryIntervalSeconds 7200 (from defaults); allowed minRetryIntervalSeconds <= maxRetryIntervalSeconds`,
    );
    const fromEnvironment = await loadError(options({ env: { RELAY_SELECT_MAX_RETRY_INTERVAL_SECONDS: '8000' } }));
    expect(fromEnvironment.message).toBe(
      `${file}: minRetryIntervalSeconds: 9000 is greater than maxRetryIntervalSeconds 8000 (from environment RELAY_SELECT_MAX_RETRY_INTERVAL_SECONDS); allowed minRetryIntervalSeconds <= maxRetryIntervalSeconds`,
    );
    // The profile raises the maximum to 14400, so the same minimum becomes valid.
    expect((await loadSettings(options({ cliOverrides: { profile: 'large' } }))).settings.minRetryIntervalSeconds).toBe(
      9000,
    );
  });

  it('reads the peer settings from any layer, and refuses peer.enabled without peer.keyFile with the fix', async () => {
    const file = join(project, '.relay-selectrc.json');
    await writeJson(file, { peer: { enabled: true, keyFile: 'peer.key', leaseSeconds: 3 } });
    const loaded = await loadSettings(options({ env: { RELAY_SELECT_PEER_PORT: '40000' } }));
    expect(loaded.settings.peer).toEqual({
      enabled: true,
      keyFile: join(project, 'peer.key'),
      port: 40000,
      leaseSeconds: 3,
    });
    await writeJson(file, { peer: { enabled: true } });
    const missingKey = await loadError(options());
    expect(missingKey.code).toBe('CONFIG_INVALID');
    expect(missingKey.message).toBe(
      `${file}: peer.enabled is true but peer.keyFile is not set; the peers authenticate every message with the key in that file`,
    );
    expect(missingKey.hint).toContain('chmod 600');
    await writeJson(file, { peer: { leaseSeconds: 1 } });
    expect((await loadError(options())).message).toBe(`${file}: peer.leaseSeconds: 1 is out of range; allowed 2..3600`);
  });

  it('rejects invalid JSON with the file, line and column', async () => {
    const file = join(project, '.relay-selectrc.json');
    await writeFile(file, '{\n  "maximumTtlToPing": 20,\n}\n');
    const error = await loadError(options());
    expect(error.code).toBe('CONFIG_UNREADABLE');
    expect(error.message).toMatch(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot parse the config file: invalid JSON at line 3 column 1: `,
      ),
    );
    expect(error.message).not.toContain('\n');
    expect(error.file).toBe(file);
  });

  it('rejects an environment variable with a bad value, and an unknown one', async () => {
    const bad = await loadError(options({ env: { RELAY_SELECT_MAXIMUM_TTL_TO_PING: 'abc' } }));
    expect(bad.code).toBe('CONFIG_INVALID');
    expect(bad.message).toBe(
      'environment RELAY_SELECT_MAXIMUM_TTL_TO_PING: "abc" is not a whole number; allowed 1..255',
    );
    const unknown = await loadError(options({ env: { RELAY_SELECT_PROBE_STRATEGIE: 'rounds' } }));
    expect(unknown.message).toBe(
      'environment RELAY_SELECT_PROBE_STRATEGIE: unknown variable (did you mean RELAY_SELECT_PROBE_STRATEGY?)',
    );
  });

  it('names the flag of a bad command-line value', async () => {
    const error = await loadError(
      options({ cliOverrides: { probe: { strategy: 'fast' } }, flagNameOf: cliFlagNameOf }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe('--strategy: probe.strategy: "fast" is not allowed; allowed inference, rounds');
  });

  it('without the CLI, a bad value is named by its --set path', async () => {
    const error = await loadError(options({ cliOverrides: { probe: { strategy: 'fast' } } }));
    expect(error.message).toBe(
      '--set probe.strategy: probe.strategy: "fast" is not allowed; allowed inference, rounds',
    );
  });

  it('reports a missing --config or clientsettings file as unreadable', async () => {
    const missingConfig = await loadError(options({ configFile: 'nope.json' }));
    expect(missingConfig.code).toBe('CONFIG_UNREADABLE');
    expect(missingConfig.message).toMatch(/nope\.json: cannot read the config file: ENOENT/);
    const missingClient = await loadError(options({ clientSettingsFile: 'nope.cfg' }));
    expect(missingClient.code).toBe('CONFIG_UNREADABLE');
    expect(missingClient.message).toMatch(/nope\.cfg: cannot read the client settings: ENOENT/);
  });

  it('refuses a binary clientsettings file but reads UTF-16LE with a BOM', async () => {
    await writeFile(join(workDirectory, 'bin.cfg'), Buffer.from([0x41, 0, 0x42, 0x3d, 0x31]));
    expect((await loadError(options({ clientSettingsFile: 'bin.cfg' }))).message).toContain('is not a text file');
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('_BESClient_RelaySelect_MaximumTTLToPing=7\r\n', 'utf16le'),
    ]);
    await writeFile(join(workDirectory, 'utf16.cfg'), utf16);
    expect((await loadSettings(options({ clientSettingsFile: 'utf16.cfg' }))).settings.maximumTtlToPing).toBe(7);
  });
});

describe('resolveSettings', () => {
  it('merges nested settings without losing siblings and replaces lists', () => {
    const result = resolveSettings([
      { source: 'a', label: 'a', values: { seekList: ['x', 'y'], register: { tls: { ca: '/ca' } } } },
      { source: 'b', label: 'b', values: { seekList: ['z'], register: { tls: { key: '/key' } } } },
    ]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.settings.seekList).toEqual(['z']);
    expect(result.settings.register).toEqual({ ...DEFAULT_SETTINGS.register, tls: { ca: '/ca', key: '/key' } });
    expect(result.origins['register.tls.ca']).toBe('a');
    expect(result.origins.seekList).toBe('b');
    expect(DEFAULT_SETTINGS.register.tls).toEqual({});
  });
});

describe('relay-samples', () => {
  it('loads relay-samples/.relay-selectrc.json and relay-samples/clientsettings.cfg without errors or warnings', async () => {
    const { settings, sources, warnings } = await loadSettings({
      cwd: samplesDirectory,
      env: {},
      uid: 1000,
      searchStopDir: samplesDirectory,
      systemConfigFile: join(root, 'none.json'),
      clientSettingsFile: 'clientsettings.cfg',
    });
    expect(warnings).toEqual([]);
    expect(sources).toEqual([join(samplesDirectory, '.relay-selectrc.json'), 'clientsettings.cfg']);
    expect(settings.relayList).toBe(resolve(samplesDirectory, 'branch-office.dat'));
    expect(settings.seekList).toEqual(['branch-lyon', 'hq', '*']);
    expect(settings.maximumTtlToPing).toBe(16);
    expect(settings.failoverRelays).toEqual([
      'relay-failover.corp.example:52311',
      'relay-hq.corp.example:52311',
      '198.18.100.20:52311',
    ]);
    expect(settings.manualRelays).toHaveLength(4);
  });

  it('loads relay-samples/large-fleet.relay-selectrc.json with the large profile', async () => {
    const { settings } = await loadSettings({
      cwd: root,
      env: {},
      uid: 0,
      configFile: join(samplesDirectory, 'large-fleet.relay-selectrc.json'),
    });
    expect(settings).toMatchObject({ profile: 'large', ...PROFILES.large, jitter: 0.25 });
    expect(settings.register.tls.key).toBe('/etc/relay-select/tls/client.key');
  });
});

describe("loadSettings, a real client's settings file", () => {
  it.each(['clientsettings.cfg', 'besclient.config'])(
    'imports relay-samples/%s with no warning, and both forms give the same settings',
    async (name) => {
      const loaded = await loadSettings({
        cwd: samplesDirectory,
        env: {},
        uid: 1000,
        clientSettingsFile: name,
        systemConfigFile: join(samplesDirectory, 'none.json'),
        searchStopDir: samplesDirectory,
        configFile: undefined,
      });
      expect(loaded.warnings).toEqual([]);
      expect(loaded.notes.slice(-1)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${name.replace('.', '\\.')} \\((clientsettings\\.cfg|besclient\\.config) form\\): 13 relay-selection settings read, 2[0-9] other client settings of the vendor passed over$`,
          ),
        ),
      ]);
      const other = await loadSettings({
        cwd: samplesDirectory,
        env: {},
        uid: 1000,
        clientSettingsFile: name === 'besclient.config' ? 'clientsettings.cfg' : 'besclient.config',
        systemConfigFile: join(samplesDirectory, 'none.json'),
        searchStopDir: samplesDirectory,
      });
      expect(loaded.settings).toEqual(other.settings);
      expect(loaded.settings).toMatchObject({
        maximumTtlToPing: 16,
        failoverRelays: ['relay-failover.corp.example:52311', 'relay-hq.corp.example:52311', '198.18.100.20:52311'],
      });
    },
  );
});
