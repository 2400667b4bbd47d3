import { createRequire } from 'node:module';
import type { Argv, Options } from 'yargs';
import { RelaySelectError, isRelaySelectError } from '../errors.js';
import { COMMANDS, EXIT_STATUS_DOCS, GLOBAL_OPTIONS, type OptionSpec } from './command-specs.js';
import { DEFAULT_HINT_BY_ERROR, EXIT, EXIT_CODE_BY_ERROR } from './exit-codes.js';
import { createOutput, type Output } from './output.js';
import type { CliContext, CommandModule, GlobalArguments } from './context.js';

export interface MainIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const loaders: Record<string, () => Promise<CommandModule>> = {
  run: () => import('./commands/run.js'),
  plan: () => import('./commands/plan.js'),
  probe: () => import('./commands/probe.js'),
  status: () => import('./commands/status.js'),
  'report-failure': () => import('./commands/report-failure.js'),
  lab: () => import('./commands/lab.js'),
  simulate: () => import('./commands/simulate.js'),
  estimate: () => import('./commands/estimate.js'),
};

// yargs' ESM build wraps help text in the middle of words (its cliui lacks wrap-ansi); the CommonJS build does not.
const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;

export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

function toYargsOption(spec: OptionSpec): Options {
  const option: Options = { type: spec.type, describe: spec.description };
  if (spec.alias) option.alias = spec.alias;
  if (spec.choices) option.choices = [...spec.choices];
  if (spec.default !== undefined) option.default = spec.default;
  if (spec.argument) option.requiresArg = true;
  if (spec.type === 'array') option.string = true;
  return option;
}

/** Runs the CLI and returns the exit status; never calls process.exit, never throws. */
export async function main(argv: string[], io: MainIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }): Promise<number> {
  let exitCode: number = EXIT.ok;
  let output: Output | undefined;
  const wantsJson = argv.includes('--json');
  const fallbackOutput = (): Output =>
    output ?? createOutput({ json: wantsJson, quiet: false, verbose: false, stdout: io.stdout, stderr: io.stderr, env: io.env });

  let parser: Argv = yargs(argv)
    .scriptName('relay-select')
    .usage('$0 <command> [options]\n\nFind the nearest reachable relay by network hops, honour seek lists, priority and weight, and register with it.')
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command')
    .wrap(Math.min(110, (io.stdout as { columns?: number }).columns ?? 110))
    .exitProcess(false)
    .env(false)
    .epilogue(`Exit status:\n${EXIT_STATUS_DOCS.map((entry) => `  ${String(entry.code).padEnd(4)}${entry.meaning}`).join('\n')}\n\nSee relay-select(1), relay-select.conf(5), relay-select.dat(5), relay-select-lab(5).`)
    .fail((message, error) => {
      if (error) throw error;
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: …"): errors are one line.
      throw new RelaySelectError('USAGE', (message ?? 'bad usage').replace(/\s*\n\s*/g, ' '));
    });
  for (const spec of GLOBAL_OPTIONS) parser = parser.option(spec.name, { ...toYargsOption(spec), global: true });

  for (const spec of COMMANDS) {
    const command = spec.yargsPositional ? `${spec.name} ${spec.yargsPositional}` : spec.name;
    parser = parser.command(
      command,
      spec.summary,
      (sub) => {
        let built = sub;
        for (const option of spec.options) built = built.option(option.name, toYargsOption(option));
        for (const example of spec.examples) built = built.example(example.command, example.explanation);
        return built.usage(`$0 ${spec.name}${spec.positional ? ` ${spec.positional}` : ''} [options]\n\n${spec.description}`);
      },
      async (args) => {
        const globals = args as unknown as GlobalArguments;
        output = createOutput({ json: Boolean(globals.json), quiet: Boolean(globals.quiet), verbose: Boolean(globals.verbose), stdout: io.stdout, stderr: io.stderr, env: io.env });
        const context: CliContext = { output, env: io.env, cwd: io.cwd, uid: process.getuid?.() ?? -1, version: packageVersion() };
        const module = await loaders[spec.name]!();
        exitCode = await module.run(args as never, context);
      },
    );
  }

  try {
    await parser.parseAsync();
  } catch (error) {
    exitCode = reportError(error, fallbackOutput());
  }
  return exitCode;
}

/** The only place that turns an error into words and an exit status. */
export function reportError(error: unknown, output: Output): number {
  output.endProgress();
  if (isRelaySelectError(error)) {
    const hint = error.hint ?? DEFAULT_HINT_BY_ERROR[error.code];
    output.error(hint ? `${error.message} — ${hint}` : error.message);
    if (output.verbose && error.cause) output.debug(`cause: ${String((error.cause as Error).stack ?? error.cause)}`);
    return EXIT_CODE_BY_ERROR[error.code];
  }
  const message = error instanceof Error ? error.message : String(error);
  output.error(`internal error: ${message} (please report it; run with --verbose for details)`);
  if (output.verbose && error instanceof Error) output.debug(error.stack ?? '');
  return EXIT.software;
}
