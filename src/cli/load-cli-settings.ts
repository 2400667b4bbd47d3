import { RelaySelectError } from '../errors.js';
import { resolve } from 'node:path';
import { DEFAULT_SETTINGS, defaultStateDir } from '../config/defaults.js';
import { loadSettings, type LoadedSettings } from '../config/load.js';
import { assignAtPath } from '../config/setting-docs.js';
import type { Settings } from '../config/settings.js';
import type { GlobalOptions } from './command-specs.js';
import type { CliContext } from './context.js';

/** Settings that have a flag of their own (GLOBAL_OPTIONS); every other one is `--set path=value`. */
const SETTING_FLAGS = {
  relayList: 'relays',
  stateDir: 'stateDir',
  seekList: 'seekList',
  profile: 'profile',
  'probe.strategy': 'strategy',
} as const satisfies Record<string, keyof GlobalOptions>;

const kebab = (name: string): string => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** How an error names the flag a bad value came from. */
export function flagNameOf(path: string): string {
  const flag = Object.hasOwn(SETTING_FLAGS, path) ? SETTING_FLAGS[path as keyof typeof SETTING_FLAGS] : undefined;
  return flag === undefined ? `--set ${path}` : `--${kebab(flag)}`;
}

/** Turns `--set a.b=value` into a nested object; values are JSON when they parse as JSON, else strings. */
function parseSetFlags(assignments: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const setBy = new Map<string, string>();
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) {
      throw new RelaySelectError('USAGE', `--set ${assignment}: expected KEY=VALUE, e.g. --set probe.timeoutMs=500`);
    }
    const raw = assignment.slice(equals + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A bare word is a string value (e.g. --set probe.strategy=rounds).
    }
    const path = assignment.slice(0, equals).trim();
    const conflict = assignAtPath(result, path, value);
    if (conflict !== undefined) {
      throw new RelaySelectError(
        'CONFIG_INVALID',
        `--set ${path}: ${conflict} is already set to a value (${setBy.get(conflict) ?? `--set ${conflict}`}), so it has no settings below it`,
        {
          hint: 'set each setting once; relay-select.conf(5) lists the settings and their paths',
        },
      );
    }
    setBy.set(path, `--set ${assignment}`);
  }
  return result;
}

/** The CLI flags layer of the settings (DESIGN §4: the highest precedence). */
function settingsFromFlags(args: GlobalOptions): Record<string, unknown> {
  const overrides = parseSetFlags(args.set ?? []);
  for (const [path, flag] of Object.entries(SETTING_FLAGS)) {
    const value = args[flag];
    if (value !== undefined) assignAtPath(overrides, path, value);
  }
  return overrides;
}

export async function loadCliSettings(args: GlobalOptions, context: CliContext): Promise<Settings> {
  return (await loadCliSettingsWithSources(args, context)).settings;
}

/** {@link loadCliSettings}, also telling where the settings came from (for `doctor`). */
export async function loadCliSettingsWithSources(args: GlobalOptions, context: CliContext): Promise<LoadedSettings> {
  const loaded = await loadSettings({
    cwd: context.cwd,
    env: context.env,
    uid: context.uid,
    configFile: args.config,
    clientSettingsFile: args.clientSettings,
    cliOverrides: settingsFromFlags(args),
    flagNameOf,
  });
  for (const warning of loaded.warnings) context.output.warn(warning);
  for (const note of loaded.notes) context.output.debug(note);
  context.output.debug(`settings from: ${loaded.sources.length > 0 ? loaded.sources.join(', ') : 'defaults'}`);
  return loaded;
}

/** The settings the command line names without any file: what `doctor` checks with when the files do not load. */
export function settingsFromFlagsOnly(args: GlobalOptions, context: CliContext): Settings {
  const settings: Settings = {
    ...structuredClone(DEFAULT_SETTINGS),
    stateDir: defaultStateDir(context.env, context.uid),
  };
  if (args.relays !== undefined) settings.relayList = resolve(context.cwd, args.relays);
  if (args.stateDir !== undefined) settings.stateDir = resolve(context.cwd, args.stateDir);
  return settings;
}
