import type * as ChalkModule from 'chalk';
import {
  PLAIN_STYLE,
  redactUrlCredentials,
  stripTerminalControls,
  stripTerminalControlsButColor,
  type Style,
} from '../format.js';

/**
 * What the output writes to: a stream (tests pass their own), or a {@link StandardStream} that makes
 * process.stdout or process.stderr on the first write.
 */
export interface OutputStream {
  write(text: string): boolean;
  on(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): this;
  off(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): this;
  listenerCount(event: 'error'): number;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly destroyed?: boolean;
}

interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** `json`: log lines (warnings, errors, info, debug, events) as one JSON object per line. @default 'text' */
  logFormat?: 'text' | 'json';
  stdout: OutputStream;
  stderr: OutputStream;
  env: NodeJS.ProcessEnv;
  /** chalk, when colour may be shown ({@link openOutput} loads it then); without it, everything is plain text. */
  chalk?: typeof ChalkModule;
}

/**
 * Everything the CLI writes goes through here: data to stdout, diagnostics to stderr, colour only on a
 * TTY and never with NO_COLOR, a progress line only on a TTY and never with --json. Every text is made
 * safe on its way out, whoever built it: terminal control sequences that came from a relay list, a
 * relay, a hook or a state file are removed (our own colours stay), and credentials in URLs are
 * redacted — in --json and in streamed results too. A reader that goes away (`| head -1`) ends the
 * output quietly, streamed results included.
 */
export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly logFormat: 'text' | 'json';
  readonly color: Style;
  /** A line of the human result (stdout); suppressed by --json and --quiet. */
  line(text?: string): void;
  /** A line of the human result that --quiet keeps (a failure, a warning worth cron mail). */
  important(text: string): void;
  /** The one JSON object of --json (stdout). */
  data(value: unknown): void;
  /** One JSON object on one line (stdout): a long-running command's --json events, one per line. */
  record(value: unknown): void;
  /**
   * Lines of the human result (stdout), as `line` writes them, for results too long to hold as one
   * string: written in batches, waiting whenever stdout is behind. Suppressed by --json and --quiet.
   */
  lines(texts: Iterable<string>): Promise<void>;
  /** The --json object as text already rendered (e.g. by a streaming renderer), in pieces, batched like `lines`. */
  dataText(pieces: Iterable<string>): Promise<void>;
  /** A warning on stderr; a diagnostic already formatted as `file:line:column: severity: …` is printed as it is. */
  warn(text: string): void;
  info(text: string): void;
  debug(text: string): void;
  error(text: string): void;
  /** Overwrite the progress line (TTY stderr only). */
  progress(text: string): void;
  /** Clear the progress line, if one is drawn. */
  endProgress(): void;
  /**
   * One decision as a log line on stdout: the text line, or with `--log-format json` one JSON object with
   * `fields` flattened in. `info` events are suppressed by --quiet (and by --json, which prints data instead).
   */
  event(level: LogLevel, text: string, fields: Readonly<Record<string, unknown>>): void;
}

type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/**
 * One log record as a line of JSON: `time` (ISO 8601), `level`, `msg`, then the fields. Flat and on one
 * line, so journald keeps it as one MESSAGE and shippers (Vector, Fluent Bit, Promtail) parse it as is.
 */
function renderLogRecord(
  level: LogLevel,
  text: string,
  fields: Readonly<Record<string, unknown>> = {},
  now: Date = new Date(),
): string {
  return JSON.stringify({ time: now.toISOString(), level, msg: text, ...fields });
}

const FORMATTED_DIAGNOSTIC = /^\S.*:\d+:\d+: (error|warning): /;

/** Characters per write of a streamed result: few system calls, and no string big enough to linger in the heap. */
const BATCH_CHARS = 64 * 1024;

/**
 * Resolves true when `stream` can take more, false when it will take nothing more: it failed (EPIPE, the
 * reader went away) or closed. There is nobody left to tell, so a streamed result just stops.
 */
function drained(stream: OutputStream): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (writable: boolean): void => {
      stream.off('drain', onDrain);
      stream.off('error', onEnd);
      stream.off('close', onEnd);
      resolve(writable);
    };
    const onDrain = (): void => settle(true);
    const onEnd = (): void => settle(false);
    stream.on('drain', onDrain).on('error', onEnd).on('close', onEnd);
  });
}

/** Writes `pieces` in batches of about BATCH_CHARS, waiting for the stream whenever it asks to; stops quietly when it closes. */
async function writeBatched(stream: OutputStream, pieces: Iterable<string>): Promise<void> {
  const closed = (): boolean => stream.destroyed === true;
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length < BATCH_CHARS) continue;
    if (closed() || (!stream.write(batch) && !(await drained(stream)))) return;
    batch = '';
  }
  if (batch !== '' && !closed() && !stream.write(batch)) await drained(stream);
}

function colorLevel(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const forced = env.FORCE_COLOR;
  if (forced !== undefined && forced !== '' && forced !== '0' && forced !== 'false') return 1;
  return isTTY ? 1 : 0;
}

function styleOf(chalk: OutputOptions['chalk'], level: 0 | 1 | 2 | 3): Style {
  return chalk === undefined || level === 0 ? PLAIN_STYLE : new chalk.Chalk({ level });
}

/**
 * {@link createOutput}, with chalk loaded only when some colour will show (a TTY, or FORCE_COLOR):
 * loading it costs more than the rest of what cron's `run` and monitoring's `status` do.
 */
export async function openOutput(options: Omit<OutputOptions, 'chalk'>): Promise<Output> {
  const colour = colorLevel(options.env, options.stdout.isTTY) > 0 || colorLevel(options.env, options.stderr.isTTY) > 0;
  return createOutput({ ...options, ...(colour ? { chalk: await import('chalk') } : {}) });
}

export function createOutput(options: OutputOptions): Output {
  const { json, quiet, verbose, stdout, stderr, env } = options;
  const logFormat = options.logFormat ?? 'text';
  const jsonLogs = logFormat === 'json';
  const stdoutLevel = options.chalk === undefined || json ? 0 : colorLevel(env, stdout.isTTY);
  const stderrLevel = options.chalk === undefined || jsonLogs ? 0 : colorLevel(env, stderr.isTTY);
  const color = styleOf(options.chalk, stdoutLevel);
  const errColor = styleOf(options.chalk, stderrLevel);
  const showProgress = !json && !quiet && !jsonLogs && stderr.isTTY === true;
  /** Strips the colour a text line may carry: a JSON log field is plain text. */
  // eslint-disable-next-line no-control-regex -- the escape character is what this removes
  const withoutColor = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');
  const logToStderr = (level: LogLevel, text: string): void => toStderr(renderLogRecord(level, withoutColor(text)));
  let progressShown = false;
  const forStdout = (text: string): string =>
    redactUrlCredentials(stdoutLevel > 0 ? stripTerminalControlsButColor(text) : stripTerminalControls(text));
  const forStderr = (text: string): string =>
    redactUrlCredentials(stderrLevel > 0 ? stripTerminalControlsButColor(text) : stripTerminalControls(text));
  function* safeLines(texts: Iterable<string>): Generator<string> {
    for (const text of texts) yield `${forStdout(text)}\n`;
  }
  function* redacted(pieces: Iterable<string>): Generator<string> {
    // JSON escapes control characters itself; only credentials need hiding. A renderer never cuts a string value in two.
    for (const piece of pieces) yield redactUrlCredentials(piece);
  }

  const clear = (): void => {
    if (progressShown) {
      stderr.write('\r\x1b[2K');
      progressShown = false;
    }
  };
  const toStderr = (text: string): void => {
    clear();
    stderr.write(`${forStderr(text)}\n`);
  };

  return {
    json,
    quiet,
    verbose,
    logFormat,
    color,
    line(text = '') {
      if (json || quiet) return;
      clear();
      stdout.write(`${forStdout(text)}\n`);
    },
    important(text) {
      if (json) return;
      clear();
      stdout.write(`${forStdout(text)}\n`);
    },
    data(value) {
      clear();
      // JSON escapes control characters itself; only credentials need hiding.
      stdout.write(`${redactUrlCredentials(JSON.stringify(value, null, 2))}\n`);
    },
    record(value) {
      clear();
      stdout.write(`${redactUrlCredentials(JSON.stringify(value))}\n`);
    },
    async lines(texts) {
      if (json || quiet) return;
      clear();
      await writeBatched(stdout, safeLines(texts));
    },
    async dataText(pieces) {
      clear();
      await writeBatched(stdout, redacted(pieces));
    },
    warn(text) {
      if (jsonLogs) logToStderr('warning', text);
      else toStderr(FORMATTED_DIAGNOSTIC.test(text) ? text : `${errColor.yellow('warning:')} ${text}`);
    },
    info(text) {
      if (quiet) return;
      if (jsonLogs) logToStderr('info', text);
      else toStderr(text);
    },
    debug(text) {
      if (!verbose) return;
      if (jsonLogs) logToStderr('debug', text);
      else toStderr(errColor.dim(text));
    },
    error(text) {
      if (jsonLogs) logToStderr('error', text);
      else toStderr(`relay-select: ${errColor.red('error:')} ${text}`);
    },
    event(level, text, fields) {
      if (json || (quiet && (level === 'info' || level === 'debug'))) return;
      clear();
      stdout.write(
        `${jsonLogs ? redactUrlCredentials(renderLogRecord(level, withoutColor(text), fields)) : forStdout(text)}\n`,
      );
    },
    progress(text) {
      if (!showProgress) return;
      const width = Math.max(20, (stderr.columns || 80) - 1);
      stderr.write(`\r\x1b[2K${forStderr(text).slice(0, width)}`);
      progressShown = true;
    },
    endProgress: clear,
  };
}

/**
 * A reader that goes away (`relay-select plan | head -1`) closes the pipe: further writes fail with
 * EPIPE, emitted as an error event that would otherwise end the process with a stack trace. There is
 * nobody left to tell, so the output ends quietly and the command finishes as it would have.
 */
export function endQuietlyOnClosedPipe(stream: OutputStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', () => undefined);
}
