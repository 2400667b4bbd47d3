import { RelaySelectError } from '../errors.js';
import { loadSettings } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import type { CliContext, GlobalArguments } from './context.js';

/** Turns `--set a.b=value` into a nested object; values are JSON when they parse as JSON, else strings. */
export function parseSetFlags(assignments: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) {
      throw new RelaySelectError('USAGE', `--set ${assignment}: expected KEY=VALUE, e.g. --set probe.timeoutMs=500`);
    }
    const path = assignment.slice(0, equals).trim().split('.');
    const raw = assignment.slice(equals + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // A bare word is a string value (e.g. --set probe.strategy=rounds).
    }
    let node = result;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return result;
}

/** The CLI flags layer of the settings (DESIGN §4: the highest precedence). */
export function settingsFromFlags(args: GlobalArguments): Record<string, unknown> {
  const overrides = parseSetFlags(args.set ?? []);
  if (args.relays !== undefined) overrides.relayList = args.relays;
  if (args.stateDir !== undefined) overrides.stateDir = args.stateDir;
  if (args.seekList !== undefined) overrides.seekList = args.seekList;
  if (args.profile !== undefined) overrides.profile = args.profile;
  if (args.strategy !== undefined) {
    overrides.probe = { ...((overrides.probe as Record<string, unknown> | undefined) ?? {}), strategy: args.strategy };
  }
  return overrides;
}

export async function loadCliSettings(args: GlobalArguments, context: CliContext): Promise<Settings> {
  const { settings, sources, warnings } = await loadSettings({
    cwd: context.cwd,
    env: context.env,
    uid: context.uid,
    configFile: args.config,
    clientSettingsFile: args.clientSettings,
    cliOverrides: settingsFromFlags(args) as never,
  });
  for (const warning of warnings) context.output.warn(warning);
  context.output.debug(`settings from: ${sources.length > 0 ? sources.join(', ') : 'defaults'}`);
  return settings;
}
