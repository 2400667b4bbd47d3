/**
 * The command lines cron and monitoring run (`run --quiet`, `status --json --state-dir DIR`), read
 * without yargs: loading yargs costs more than the rest of such a run. Driven by the same command
 * metadata (command-specs.ts) as yargs, and deliberately narrow: it answers only for a line whose
 * meaning is certain — the command name first, then long options and single-letter aliases of that
 * command, each at most once, their values not starting with `-` and among the choices — and gives up
 * (undefined) on anything else, so yargs parses it and reports any problem in its own words.
 * test/cli/quick-parse.test.ts checks that wherever this answers, yargs gives the same options.
 */
import { COMMANDS, GLOBAL_OPTIONS, camelCase, type CommandName, type OptionSpec } from './command-specs.js';

/** What the command line asks for: a command and its options as yargs would hand them over (camelCase keys). */
export interface ParsedCommandLine {
  name: CommandName;
  parsed: Record<string, unknown>;
}

function findOption(
  options: readonly OptionSpec[],
  token: string,
): { option: OptionSpec; inlineValue: string | undefined } | undefined {
  if (token.startsWith('--')) {
    const equals = token.indexOf('=');
    const name = equals === -1 ? token.slice(2) : token.slice(2, equals);
    const option = options.find((candidate) => candidate.name === name);
    return option === undefined
      ? undefined
      : { option, inlineValue: equals === -1 ? undefined : token.slice(equals + 1) };
  }
  if (/^-[A-Za-z]$/.test(token)) {
    const option = options.find((candidate) => candidate.alias === token.slice(1));
    return option === undefined ? undefined : { option, inlineValue: undefined };
  }
  return undefined;
}

/** A value yargs would take as it is: present, not empty, not an option, and allowed. */
function isPlainValue(option: OptionSpec, value: string | undefined): value is string {
  if (value === undefined || value === '' || value.startsWith('-')) return false;
  return option.choices === undefined || option.choices.includes(value);
}

/**
 * The command and options of `argv`, when it is one of the simple lines this parser is sure about;
 * undefined means "ask yargs" (help, version, positional arguments, numbers, typos, anything unusual).
 */
export function parseCommandLineQuickly(argv: readonly string[]): ParsedCommandLine | undefined {
  const spec = COMMANDS.find((command) => command.name === argv[0]);
  // Commands with positional arguments (probe, lab) have number-like and variadic values yargs reads its own way.
  if (spec === undefined || 'positional' in spec) return undefined;
  const options: readonly OptionSpec[] = [...GLOBAL_OPTIONS, ...spec.options];
  const parsed: Record<string, unknown> = {};
  const seen = new Set<OptionSpec>();
  for (let index = 1; index < argv.length; index++) {
    const found = findOption(options, argv[index]!);
    if (found === undefined || seen.has(found.option)) return undefined;
    const { option, inlineValue } = found;
    seen.add(option);
    const key = camelCase(option.name);
    if (option.type === 'boolean') {
      if (inlineValue !== undefined) return undefined;
      parsed[key] = true;
      continue;
    }
    if (option.type === 'number') return undefined;
    const value = inlineValue ?? argv[++index];
    if (!isPlainValue(option, value)) return undefined;
    parsed[key] = option.type === 'array' ? [value] : value;
  }
  for (const option of options) {
    const key = camelCase(option.name);
    if (option.default !== undefined && parsed[key] === undefined) parsed[key] = option.default;
  }
  return { name: spec.name, parsed };
}
