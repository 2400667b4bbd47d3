import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import type { Argv, Options, default as Yargs } from 'yargs';
import { RelaySelectError, isRelaySelectError } from '../errors.js';
import {
  COMMANDS,
  GLOBAL_OPTIONS,
  readCommandOptions,
  type CommandName,
  type CommandOptions,
  type CommandSpec,
  type OptionSpec,
} from './command-specs.js';
import type { CliContext } from './context.js';
import { DEFAULT_HINT_BY_ERROR, exitCode, exitCodeOfError, renderExitStatusHelp } from './exit-codes.js';
import { endQuietlyOnClosedPipe, openOutput, type Output, type OutputStream } from './output.js';
import { parseCommandLineQuickly, type ParsedCommandLine } from './quick-parse.js';
import { readableStack } from './stack-trace.js';
import { StandardStream } from './standard-stream.js';
import { abortOnSignals } from '../teardown.js';

interface MainIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The process's own: its streams made only when written to (a quiet cron no-op writes nothing). */
function processIo(): MainIo {
  return { stdout: new StandardStream(1), stderr: new StandardStream(2), env: process.env, cwd: process.cwd() };
}

/** A command module (src/cli/commands/NAME.ts): `run` takes the options its spec declares. */
interface CommandModule<Name extends CommandName> {
  run(options: CommandOptions<Name>, context: CliContext): Promise<number>;
}

/** Loaded lazily: a command pays only for its own imports. */
const loaders: { [Name in CommandName]: () => Promise<CommandModule<Name>> } = {
  run: () => import('./commands/run.js'),
  plan: () => import('./commands/plan/index.js'),
  probe: () => import('./commands/probe.js'),
  status: () => import('./commands/status.js'),
  'report-failure': () => import('./commands/report-failure.js'),
  lab: () => import('./commands/lab.js'),
  simulate: () => import('./commands/simulate.js'),
  estimate: () => import('./commands/estimate.js'),
  doctor: () => import('./commands/doctor/index.js'),
  agent: () => import('./commands/agent.js'),
};

/**
 * yargs, loaded only for a command line the quick parser leaves to it. Its ESM build wraps help text in
 * the middle of words (its cliui lacks wrap-ansi); the CommonJS build does not.
 */
function loadYargs(): typeof Yargs {
  return createRequire(import.meta.url)('yargs') as typeof Yargs;
}

function packageVersion(): string {
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
export async function main(argv: string[], io: MainIo = processIo()): Promise<number> {
  for (const stream of [io.stdout, io.stderr]) if (!(stream instanceof StandardStream)) endQuietlyOnClosedPipe(stream);
  const outcome: CommandOutcome = { output: undefined, status: exitCode('ok') };
  // For an error before the command opened its output (a usage error, say): read from argv as it stands.
  const fallbackOutput = async (): Promise<Output> =>
    outcome.output ??
    (await openOutput({
      json: argv.includes('--json'),
      quiet: false,
      verbose: false,
      logFormat: argv.some(
        (arg, index) => arg === '--log-format=json' || (arg === '--log-format' && argv[index + 1] === 'json'),
      )
        ? 'json'
        : 'text',
      stdout: io.stdout,
      stderr: io.stderr,
      env: io.env,
    }));

  // Held from the start: a signal at any moment of a command stops it with the signal's status, and
  // the lock, the namespaces and the hook's processes are released on the way out.
  const stop = abortOnSignals();
  let failure: { error: unknown } | undefined;
  try {
    const commandLine = parseCommandLineQuickly(argv) ?? (await parseWithYargs(argv, io));
    // Nothing to run: yargs printed the help or the version.
    if (commandLine !== undefined) await runCommand(commandLine.name, commandLine.parsed, io, outcome, stop.signal);
  } catch (error) {
    failure = { error };
  } finally {
    stop.dispose();
  }
  const received = stop.received();
  const stoppedAsDesigned = received !== null && received === outcome.stopSignal && failure === undefined;
  if (received !== null && !stoppedAsDesigned)
    return reportInterruption(received, failure?.error, await fallbackOutput());
  return failure === undefined ? outcome.status : reportError(failure.error, await fallbackOutput());
}

/**
 * The command line as yargs reads it, built from the command metadata: the command to run and its
 * options, or undefined when yargs printed the help or the version instead.
 * @throws RelaySelectError `USAGE` for what yargs refuses
 */
export async function parseWithYargs(
  argv: readonly string[],
  io: Pick<MainIo, 'stdout'>,
): Promise<ParsedCommandLine | undefined> {
  let parser: Argv = loadYargs()([...argv])
    .scriptName('relay-select')
    .usage(
      '$0 <command> [options]\n\nFind the nearest reachable relay by network hops, honour seek lists, priority and weight, and register with it.',
    )
    .version(packageVersion())
    .help()
    .alias('h', 'help')
    .strict()
    .recommendCommands()
    .demandCommand(1, 'name a command')
    .wrap(Math.min(110, io.stdout.columns ?? 110))
    .exitProcess(false)
    .env(false)
    .epilogue(
      `${renderExitStatusHelp()}\n\nSee relay-select(1), relay-select.conf(5), relay-select.dat(5), relay-select-lab(5).`,
    )
    .fail((message, error) => {
      // yargs reports its own findings (a missing option value, a bad choice) as YError; anything else came from a command.
      if (error && error.name !== 'YError') throw error;
      throw usageError(message ?? error?.message ?? 'bad usage');
    });
  for (const spec of GLOBAL_OPTIONS) parser = parser.option(spec.name, { ...toYargsOption(spec), global: true });

  let selected: ParsedCommandLine | undefined;
  for (const spec of COMMANDS) parser = addCommand(parser, spec.name, (commandLine) => (selected = commandLine));
  await parser.parseAsync();
  return selected;
}

/**
 * A command stopped by SIGINT or SIGTERM ends with 130 or 143, whatever it was doing: what it threw on
 * the way (a probe or a child process cut short) is a consequence, not the news.
 */
function reportInterruption(signal: NodeJS.Signals, error: unknown, output: Output): number {
  output.endProgress();
  const stopped =
    isRelaySelectError(error) && error.code === 'ABORTED' && !error.message.startsWith('interrupted by')
      ? `: ${error.message}`
      : '';
  output.error(`interrupted by ${signal}${stopped}`);
  if (output.verbose && error !== undefined && !(isRelaySelectError(error) && error.code === 'ABORTED'))
    output.debug(`while stopping: ${error instanceof Error ? error.message : inspect(error)}`);
  return exitCode(signal === 'SIGTERM' ? 'terminated' : 'interrupted');
}

/** yargs' words for a usage problem, as one line that names the option as it is typed. */
function usageError(message: string): RelaySelectError {
  const missing = /^Not enough arguments following: (.+)$/.exec(message.trim());
  if (missing !== null) {
    const name = missing[1]!;
    const options: readonly OptionSpec[] = [
      ...GLOBAL_OPTIONS,
      ...COMMANDS.flatMap((command): readonly OptionSpec[] => command.options),
    ];
    const spec = options.find((option) => option.name === name || option.alias === name);
    const flag = name.length === 1 ? `-${name}` : `--${name}`;
    const long = spec !== undefined && spec.name !== name ? ` (--${spec.name})` : '';
    return new RelaySelectError(
      'USAGE',
      `${flag}${long} needs a value${spec?.argument === undefined ? '' : `: ${flag} ${spec.argument}`}`,
    );
  }
  const line = message.replace(/\s*\n\s*/g, ' ').trim();
  const choice = /^Invalid values: Argument: (\S+), Given: (.+), Choices: (.+)$/.exec(line);
  if (choice !== null)
    return new RelaySelectError(
      'USAGE',
      `--${choice[1]!}: ${choice[2]!} is not allowed; allowed ${choice[3]!.replace(/"/g, '')}`,
    );
  return new RelaySelectError('USAGE', line);
}

/** What the command that ran left: its output (errors are reported through it) and its exit status. */
interface CommandOutcome {
  output: Output | undefined;
  status: number;
  /** The command's CommandSpec.stopSignal, once it runs. */
  stopSignal?: NodeJS.Signals;
}

/** Registers command `name` with yargs; its handler hands the parsed command line to `select`. */
function addCommand(parser: Argv, name: CommandName, select: (commandLine: ParsedCommandLine) => void): Argv {
  const spec: CommandSpec = COMMANDS.find((command) => command.name === name)!;
  const positional =
    spec.positional === undefined
      ? ''
      : spec.positional.variadic
        ? ` [${spec.positional.name}..]`
        : ` [${spec.positional.name}]`;
  return parser.command(
    `${spec.name}${positional}`,
    spec.summary,
    (sub) => {
      let built = sub;
      for (const option of spec.options) built = built.option(option.name, toYargsOption(option));
      for (const example of spec.examples) built = built.example(example.command, example.explanation);
      return built.usage(
        `$0 ${spec.name}${spec.positional ? ` ${spec.positional.usage}` : ''} [options]\n\n${spec.description}`,
      );
    },
    (args) => select({ name, parsed: args }),
  );
}

/** Runs command `name` with the options it declares, read from what the parser gave. */
async function runCommand<Name extends CommandName>(
  name: Name,
  parsed: Readonly<Record<string, unknown>>,
  io: MainIo,
  outcome: CommandOutcome,
  signal: AbortSignal,
): Promise<void> {
  const options = readCommandOptions(name, parsed);
  const output = await openOutput({
    json: options.json === true,
    quiet: options.quiet === true,
    verbose: options.verbose === true,
    logFormat: options.logFormat ?? 'text',
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
  });
  outcome.output = output;
  const spec: CommandSpec = COMMANDS.find((command) => command.name === name)!;
  if (spec.stopSignal !== undefined) outcome.stopSignal = spec.stopSignal;
  const context: CliContext = {
    output,
    env: io.env,
    cwd: io.cwd,
    uid: process.geteuid?.() ?? -1,
    // Read when a command asks (registration, the agent): status and a run that decides nothing never do.
    get version() {
      return packageVersion();
    },
    signal,
  };
  const module = await loaders[name]();
  outcome.status = await module.run(options, context);
}

/** The only place that turns an error into words and an exit status. */
export function reportError(error: unknown, output: Output): number {
  output.endProgress();
  if (isRelaySelectError(error)) {
    const hint = error.hint ?? DEFAULT_HINT_BY_ERROR[error.code];
    output.error(hint ? `${error.message} — ${hint}` : error.message);
    if (output.verbose && error.cause)
      output.debug(
        `cause: ${error.cause instanceof Error ? readableStack(error.cause.stack ?? error.cause.message) : inspect(error.cause)}`,
      );
    return exitCodeOfError(error.code);
  }
  const message = error instanceof Error ? error.message : String(error);
  output.error(`internal error: ${message} (please report it; run with --verbose for details)`);
  if (output.verbose && error instanceof Error) output.debug(readableStack(error.stack ?? ''));
  return exitCode('software');
}
