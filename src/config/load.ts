import { dirname, resolve } from 'node:path';
import { RelaySelectError } from '../errors.js';
import { readFileBounded, trustPolicyOf, untrustedFileError } from '../trust.js';
import { formatDiagnostic } from '../relays/relay.js';
import { findConfigFile, unreadable } from './config-files.js';
import { DEFAULT_SETTINGS, PROFILES, SYSTEM_CONFIG_FILE, defaultStateDir } from './defaults.js';
import type { SettingProblem, SettingsInput, SettingsLayer } from './schema.js';
import {
  acceptSettingsInput,
  describePeerKeyProblem,
  describeRetryOrderProblem,
  labelFunction,
  type SourceLabel,
} from './setting-checks.js';
import { ENVIRONMENT_PREFIX, PATH_SETTINGS, SETTING_DOCS, assignAtPath, valueAtPath } from './setting-docs.js';
import type { ProfileName, Settings } from './settings.js';
import { isObject } from '../plain-object.js';

export { SETTING_DOCS } from './setting-docs.js';

/** A clientsettings.cfg is a few kilobytes; anything near this is not one. */
const MAX_CLIENT_SETTINGS_BYTES = 16 * 1024 * 1024;

/** How a command-line value is named when the caller does not say: the generic `--set path=value`. */
function flagNameOf(path: string): string {
  return `--set ${path}`;
}

export interface LoadSettingsOptions {
  /** Where the search starts and what relative paths of the environment and flags resolve against. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /**
   * The effective user. Decides the default `stateDir`; as root (0) settings come only from
   * `systemConfigFile` or `configFile`, and every file must be trusted (src/trust.ts).
   */
  uid: number;
  /** `--config FILE`: read this file instead of searching. */
  configFile?: string;
  /** `--client-settings FILE`: a BigFix clientsettings.cfg (`name=value` lines) or besclient.config (INI) to import. */
  clientSettingsFile?: string;
  /**
   * The command-line layer, the highest precedence. Checked like every other source, so it may also be
   * raw values (`--set path=value` parsed as JSON).
   */
  cliOverrides?: SettingsInput | Readonly<Record<string, unknown>>;
  /** The search (not as root) goes up from `cwd` to this directory (inclusive). @default the file-system root */
  searchStopDir?: string;
  /** Read when the search finds nothing; as root, the only file besides `configFile`. @default '/etc/relay-select/config.json' */
  systemConfigFile?: string;
  /** How a problem in `cliOverrides` names its flag. @default {@link flagNameOf} */
  flagNameOf?: (path: string) => string;
  /** Non-setting `RELAY_SELECT_*` variables of the caller, not to be reported as unknown. */
  environmentAllow?: readonly string[];
}

export interface LoadedSettings {
  settings: Settings;
  /** Where settings came from, lowest precedence first: `profile large`, files, `environment`, `command line`. */
  sources: string[];
  /** Formatted warnings (misspelt clientsettings.cfg names, an empty config file). */
  warnings: string[];
  /** What `--verbose` adds: where settings were looked for and why there; how many of the vendor's other client settings were passed over. */
  notes: string[];
}

/** One source of settings, already validated. */
interface SettingsSourceLayer {
  /** Shown in `sources`: a file path, `environment`, `command line`. */
  source: string;
  /** How a problem found after merging names this source (a file, or a variable per setting). */
  label: SourceLabel;
  values: SettingsLayer;
}

type ResolveResult =
  { ok: true; settings: Settings; origins: Record<string, string> } | { ok: false; problems: SettingProblem[] };

/** `values` without its undefined properties, so spreading it keeps what lies underneath. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** One layer over the settings below it: leaves replace leaves (lists whole), `probe` and `register` merge. */
function applyLayer(settings: Settings, layer: SettingsLayer): Settings {
  const { probe, register, peer, ...top } = structuredClone(layer);
  const { tls, ...registerTop } = register ?? {};
  return {
    ...settings,
    ...definedOnly(top),
    probe: { ...settings.probe, ...definedOnly(probe ?? {}) },
    register: {
      ...settings.register,
      ...definedOnly(registerTop),
      tls: { ...settings.register.tls, ...definedOnly(tls ?? {}) },
    },
    peer: { ...settings.peer, ...definedOnly(peer ?? {}) },
  };
}

/** Records, for every leaf a layer sets, where its value came from. */
function recordOrigins(
  values: object,
  origins: Record<string, string>,
  labelOf: (path: string) => string,
  prefix = '',
): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const path = `${prefix}${key}`;
    if (isObject(value)) recordOrigins(value, origins, labelOf, `${path}.`);
    else origins[path] = labelOf(path);
  }
}

/**
 * Merges validated layers, lowest precedence first, over the defaults and the profile. The profile is
 * the `profile` of the highest layer that sets one; its values sit just above the defaults, so any
 * explicit setting wins. Pure; checks the rules that span settings (min <= max retry) on the result.
 */
export function resolveSettings(
  layers: readonly SettingsSourceLayer[],
  defaults: Readonly<Settings> = DEFAULT_SETTINGS,
): ResolveResult {
  let profile: ProfileName = defaults.profile;
  for (const layer of layers) if (layer.values.profile !== undefined) profile = layer.values.profile;
  const origins: Record<string, string> = {};
  for (const doc of SETTING_DOCS) origins[doc.path] = 'defaults';
  let settings = applyLayer(structuredClone(defaults), PROFILES[profile]);
  recordOrigins(PROFILES[profile], origins, () => `profile ${profile}`);
  for (const layer of layers) {
    settings = applyLayer(settings, layer.values);
    recordOrigins(layer.values, origins, labelFunction(layer.label));
  }
  settings.profile = profile;

  const minSeconds = settings.minRetryIntervalSeconds;
  const maxSeconds = settings.maxRetryIntervalSeconds;
  const problem = describeRetryOrderProblem(minSeconds, maxSeconds);
  if (problem !== undefined) {
    const minOrigin = origins.minRetryIntervalSeconds!;
    const maxOrigin = origins.maxRetryIntervalSeconds!;
    return {
      ok: false,
      problems: [
        {
          path: 'minRetryIntervalSeconds',
          message: `${minOrigin}: minRetryIntervalSeconds: ${minSeconds} is greater than maxRetryIntervalSeconds ${maxSeconds} (from ${maxOrigin}); allowed minRetryIntervalSeconds <= maxRetryIntervalSeconds`,
        },
      ],
    };
  }
  const peerProblem = describePeerKeyProblem(settings.peer.enabled, settings.peer.keyFile);
  if (peerProblem !== undefined) {
    return { ok: false, problems: [{ path: 'peer.enabled', message: `${origins['peer.enabled']!}: ${peerProblem}` }] };
  }
  return { ok: true, settings, origins };
}

type ValidationResult = { ok: true; value: SettingsLayer } | { ok: false; problems: SettingProblem[] };

/**
 * Checks one source's settings: without zod when every setting is valid (the common case, and the
 * cheap one), else with the schema, whose problems name the setting, the value and the allowed range.
 */
async function validateLayer(input: unknown, sourceLabel: SourceLabel): Promise<ValidationResult> {
  const accepted = acceptSettingsInput(input);
  if (accepted !== undefined) return { ok: true, value: accepted };
  const { validateSettingsInput } = await import('./schema.js');
  return validateSettingsInput(input, sourceLabel);
}

/** Relative paths in a source resolve against `baseDirectory` (a config file's directory, or the cwd). */
function resolvePaths(values: SettingsLayer, baseDirectory: string): SettingsLayer {
  const copy = structuredClone(values) as Record<string, unknown>;
  for (const path of PATH_SETTINGS) {
    const value = valueAtPath(copy, path);
    if (typeof value === 'string') assignAtPath(copy, path, resolve(baseDirectory, value));
  }
  return copy;
}

function invalid(problems: readonly SettingProblem[], options: { file?: string; hint: string }): RelaySelectError {
  const [first, ...rest] = problems;
  const more = rest.length === 0 ? '' : ` (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})`;
  return new RelaySelectError('CONFIG_INVALID', `${first!.message}${more}`, options);
}

/** clientsettings.cfg as text: UTF-8, or UTF-16LE with a BOM as Windows tools write it. As root, only a trusted file. */
async function readClientSettingsText(file: string, uid: number): Promise<string> {
  let read;
  try {
    read = await readFileBounded(file, { trust: trustPolicyOf(uid), maxBytes: MAX_CLIENT_SETTINGS_BYTES });
  } catch (error) {
    throw unreadable(file, error, 'read the client settings');
  }
  if (!read.ok) throw untrustedFileError('FILE_UNTRUSTED', 'clientsettings file', file, read.problem);
  if (read.tooLarge) {
    throw unreadable(
      file,
      new Error(`the file is ${read.size} bytes; a clientsettings.cfg is at most ${MAX_CLIENT_SETTINGS_BYTES}`),
      'read the client settings',
    );
  }
  const bytes = read.bytes;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes.includes(0))
    throw unreadable(file, new Error('it is not a text file (it contains NUL bytes)'), 'read the client settings');
  return bytes.toString('utf8');
}

/**
 * Loads the settings (DESIGN §4): defaults < profile < config file < clientsettings.cfg <
 * environment < command line. The config file is the first cosmiconfig `relay-select` file found from
 * `cwd` upward (not as root: see config-files.ts), else `/etc/relay-select/config.json`; `configFile`
 * replaces the search. As root, a file another user could change is refused (FILE_UNTRUSTED). Relative paths
 * in a config file resolve against that file's directory; in the environment and flags, against `cwd`.
 *
 * @throws RelaySelectError `CONFIG_UNREADABLE` (a file cannot be read or parsed) or `CONFIG_INVALID`
 *   (a bad name or value), with a one-line message that starts with the file, `environment
 *   RELAY_SELECT_X` or the flag. Nothing invalid is ever replaced by a default.
 */
export async function loadSettings(options: LoadSettingsOptions): Promise<LoadedSettings> {
  const layers: SettingsSourceLayer[] = [];
  const warnings: string[] = [];
  const { found, notes } = await findConfigFile({
    cwd: options.cwd,
    uid: options.uid,
    configFile: options.configFile,
    searchStopDir: options.searchStopDir,
    systemConfigFile: options.systemConfigFile ?? SYSTEM_CONFIG_FILE,
  });
  if (found !== null) {
    const file = found.file;
    if (found.data === undefined) {
      warnings.push(`${file}: the file is empty; no settings read from it`);
    } else {
      const checked = await validateLayer(found.data, file);
      if (!checked.ok) {
        throw invalid(checked.problems, {
          file,
          hint: `Fix the setting in ${file}; relay-select.conf(5) lists every setting and its allowed values.`,
        });
      }
      layers.push({ source: file, label: file, values: resolvePaths(checked.value, dirname(file)) });
    }
  }

  if (options.clientSettingsFile !== undefined) {
    const file = options.clientSettingsFile;
    const text = await readClientSettingsText(resolve(options.cwd, file), options.uid);
    const { parseClientSettings } = await import('./client-settings.js');
    const parsed = parseClientSettings(text, { file });
    const errors = parsed.diagnostics.filter((diagnostic) => diagnostic.severity === 'error');
    if (errors.length > 0) {
      throw invalid(
        errors.map((diagnostic) => ({ path: '', message: formatDiagnostic(diagnostic) })),
        {
          file,
          hint: `Fix the value in ${file}; relay-select.conf(5) lists the clientsettings.cfg names relay-select reads and their ranges.`,
        },
      );
    }
    for (const diagnostic of parsed.diagnostics) warnings.push(formatDiagnostic(diagnostic));
    notes.push(
      `${file} (${parsed.form} form): ${parsed.read} relay-selection setting${parsed.read === 1 ? '' : 's'} read, ${parsed.ignored} other client setting${parsed.ignored === 1 ? '' : 's'} of the vendor passed over`,
    );
    const checked = await validateLayer(parsed.values, file);
    if (!checked.ok) throw invalid(checked.problems, { file, hint: `Fix the value in ${file}.` });
    layers.push({ source: file, label: file, values: checked.value });
  }

  // Most endpoints set no RELAY_SELECT_* variable: then the environment reader (and the schema it checks with) is not loaded.
  const environment = Object.keys(options.env).some((name) => name.startsWith(ENVIRONMENT_PREFIX))
    ? (await import('./env.js')).settingsFromEnvironment(options.env, { allow: options.environmentAllow ?? [] })
    : { values: {}, variables: {} as Record<string, string>, problems: [] as string[] };
  const variableOf = (path: string) => `environment ${environment.variables[path] ?? 'RELAY_SELECT_*'}`;
  if (environment.problems.length > 0) {
    const problems = environment.problems.map((message) => ({ path: '', message }));
    throw invalid(problems, {
      hint: 'Fix or unset the variable; relay-select.conf(5) lists the RELAY_SELECT_* variables.',
    });
  }
  if (Object.keys(environment.values).length > 0) {
    const checked = await validateLayer(environment.values, variableOf);
    if (!checked.ok)
      throw invalid(checked.problems, {
        hint: 'Fix or unset the variable; relay-select.conf(5) lists the RELAY_SELECT_* variables.',
      });
    layers.push({ source: 'environment', label: variableOf, values: resolvePaths(checked.value, options.cwd) });
  }

  if (options.cliOverrides !== undefined && Object.keys(options.cliOverrides).length > 0) {
    const flagOf = options.flagNameOf ?? flagNameOf;
    const checked = await validateLayer(options.cliOverrides, flagOf);
    if (!checked.ok)
      throw invalid(checked.problems, {
        hint: 'Fix the value on the command line; relay-select --help lists the options.',
      });
    layers.push({ source: 'command line', label: flagOf, values: resolvePaths(checked.value, options.cwd) });
  }

  const resolved = resolveSettings(layers, {
    ...DEFAULT_SETTINGS,
    stateDir: defaultStateDir(options.env, options.uid),
  });
  if (!resolved.ok) {
    const hint =
      resolved.problems[0]!.path === 'peer.enabled'
        ? 'Set peer.keyFile to a file of at least 16 random bytes (head -c 32 /dev/urandom | base64 > /etc/relay-select/peer.key; chmod 600 /etc/relay-select/peer.key), the same on every peer.'
        : 'Make minRetryIntervalSeconds at most maxRetryIntervalSeconds.';
    throw invalid(resolved.problems, { hint });
  }
  const sources = layers.map((layer) => layer.source);
  if (resolved.settings.profile !== 'default') sources.unshift(`profile ${resolved.settings.profile}`);
  return { settings: resolved.settings, sources, warnings, notes };
}
