import { checkSettingValue, editDistance, formatValue, type SettingsInput } from './schema.js';
import { ENVIRONMENT_PREFIX, SETTING_DOCS, assignAtPath, type SettingDoc } from './setting-docs.js';

/**
 * `RELAY_SELECT_*` variables that are not settings and are never read as such: the ones relay-select
 * puts into the environment of a `register.command` hook (src/register/command.ts). A hook that runs
 * relay-select again must not fail on them.
 */
export const NON_SETTING_ENVIRONMENT_VARIABLES: readonly string[] = Object.freeze([
  'RELAY_SELECT_HOST',
  'RELAY_SELECT_PORT',
  'RELAY_SELECT_ADDRESS',
  'RELAY_SELECT_DISTANCE',
  'RELAY_SELECT_RTT_MS',
  'RELAY_SELECT_POOL',
  'RELAY_SELECT_HOSTNAME',
  'RELAY_SELECT_VERSION',
]);

interface SettingsFromEnvironmentOptions {
  /** More `RELAY_SELECT_*` names to ignore (variables of the CLI that are not settings). */
  allow?: readonly string[];
}

interface EnvironmentSettings {
  values: SettingsInput;
  /** Setting path → the variable that set it, so a later problem can name the variable. */
  variables: Record<string, string>;
  /** One line each, starting with `environment RELAY_SELECT_X:`. Empty when all is well. */
  problems: string[];
}

const DOCS_BY_VARIABLE = new Map<string, SettingDoc>(SETTING_DOCS.map((doc) => [doc.environment, doc]));
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

function coerce(doc: SettingDoc, text: string): { value: unknown } | { error: string } {
  const trimmed = text.trim();
  switch (doc.kind) {
    case 'integer':
      return /^[+-]?\d{1,15}$/.test(trimmed)
        ? { value: Number(trimmed) }
        : { error: `${formatValue(text)} is not a whole number; allowed ${doc.range}` };
    case 'number': {
      const number = Number(trimmed);
      return trimmed !== '' && Number.isFinite(number)
        ? { value: number }
        : { error: `${formatValue(text)} is not a number; allowed ${doc.range}` };
    }
    case 'boolean': {
      const value = BOOLEAN_WORDS[trimmed.toLowerCase()];
      return value === undefined
        ? { error: `${formatValue(text)} is not true or false; allowed true, false, 1, 0, yes, no` }
        : { value };
    }
    default:
      return { value: text };
  }
}

function suggestVariable(name: string): string | undefined {
  // A cut-short name (RELAY_SELECT_MAXIMUM_TTL) is as likely as a misspelt one.
  const extended = [...DOCS_BY_VARIABLE.keys()].filter((variable) => variable.startsWith(`${name}_`));
  if (extended.length === 1) return extended[0];
  let best: string | undefined;
  let bestDistance = 4;
  for (const variable of DOCS_BY_VARIABLE.keys()) {
    const distance = editDistance(name, variable);
    if (distance < bestDistance) [best, bestDistance] = [variable, distance];
  }
  return best;
}

/**
 * The settings layer of the environment: each setting's path in upper snake case, nested levels joined
 * by `_`, after `RELAY_SELECT_` (`probe.tcpTimeoutMs` → `RELAY_SELECT_PROBE_TCP_TIMEOUT_MS`). Numbers
 * and booleans are read from text (`true`/`false`/`1`/`0`/`yes`/`no`); lists are `;`- or `,`-separated.
 * An unknown `RELAY_SELECT_*` name is a problem, so a misspelt variable is never silently ignored.
 * Pure: never throws, reads only `env`.
 */
export function settingsFromEnvironment(
  env: NodeJS.ProcessEnv,
  options: SettingsFromEnvironmentOptions = {},
): EnvironmentSettings {
  const allowed = new Set([...NON_SETTING_ENVIRONMENT_VARIABLES, ...(options.allow ?? [])]);
  const values: Record<string, unknown> = {};
  const variables: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const text = env[name];
    if (!name.startsWith(ENVIRONMENT_PREFIX) || text === undefined || allowed.has(name)) continue;
    const doc = DOCS_BY_VARIABLE.get(name);
    if (doc === undefined) {
      const suggestion = suggestVariable(name);
      problems.push(
        `environment ${name}: unknown variable${suggestion === undefined ? '; see relay-select.conf(5) for the RELAY_SELECT_* settings' : ` (did you mean ${suggestion}?)`}`,
      );
      continue;
    }
    const coerced = coerce(doc, text);
    if ('error' in coerced) {
      problems.push(`environment ${name}: ${coerced.error}`);
      continue;
    }
    const checked = checkSettingValue(doc.path, coerced.value);
    if ('error' in checked) {
      problems.push(`environment ${name}: ${checked.error}`);
      continue;
    }
    // The coerced, not the normalised, value goes into the layer: the loader validates the layer as a whole.
    assignAtPath(values, doc.path, coerced.value);
    variables[doc.path] = name;
  }
  return { values, variables, problems };
}
