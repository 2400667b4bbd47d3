import { Chalk, type ChalkInstance } from 'chalk';
import { redactUrlCredentials, stripTerminalControls, stripTerminalControlsButColor } from '../format.js';

interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** `json`: log lines (warnings, errors, info, debug, events) as one JSON object per line. @default 'text' */
  logFormat?: 'text' | 'json';
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/**
 * Everything the CLI writes goes through here: data to stdout, diagnostics to stderr, colour only on a
 * TTY and never with NO_COLOR, a progress line only on a TTY and never with --json. Every text is made
 * safe on its way out, whoever built it: terminal control sequences that came from a relay list, a
 * relay, a hook or a state file are removed (our own colours stay), and credentials in URLs are
 * redacted — in --json too.
 */
export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly logFormat: 'text' | 'json';
  readonly color: ChalkInstance;
  /** A line of the human result (stdout); suppressed by --json and --quiet. */
  line(text?: string): void;
  /** A line of the human result that --quiet keeps (a failure, a warning worth cron mail). */
  important(text: string): void;
  /** The one JSON object of --json (stdout). */
  data(value: unknown): void;
  /** One JSON object on one line (stdout): a long-running command's --json events, one per line. */
  record(value: unknown): void;
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
function renderLogRecord(level: LogLevel, text: string, fields: Readonly<Record<string, unknown>> = {}, now: Date = new Date()): string {
  return JSON.stringify({ time: now.toISOString(), level, msg: text, ...fields });
}

const FORMATTED_DIAGNOSTIC = /^\S.*:\d+:\d+: (error|warning): /;

function colorLevel(env: NodeJS.ProcessEnv, isTTY: boolean | undefined): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const forced = env.FORCE_COLOR;
  if (forced !== undefined && forced !== '' && forced !== '0' && forced !== 'false') return 1;
  return isTTY ? 1 : 0;
}

export function createOutput(options: OutputOptions): Output {
  const { json, quiet, verbose, stdout, stderr, env } = options;
  const logFormat = options.logFormat ?? 'text';
  const jsonLogs = logFormat === 'json';
  const color = new Chalk({ level: json ? 0 : colorLevel(env, stdout.isTTY) });
  const errColor = new Chalk({ level: jsonLogs ? 0 : colorLevel(env, stderr.isTTY) });
  const showProgress = !json && !quiet && !jsonLogs && stderr.isTTY === true;
  /** Strips the colour a text line may carry: a JSON log field is plain text. */
  const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');
  const logToStderr = (level: LogLevel, text: string): void => toStderr(renderLogRecord(level, plain(text)));
  let progressShown = false;
  const forStdout = (text: string): string => redactUrlCredentials(color.level > 0 ? stripTerminalControlsButColor(text) : stripTerminalControls(text));
  const forStderr = (text: string): string => redactUrlCredentials(errColor.level > 0 ? stripTerminalControlsButColor(text) : stripTerminalControls(text));

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
      stdout.write(`${JSON.stringify(value)}\n`);
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
      stdout.write(`${jsonLogs ? renderLogRecord(level, plain(text), fields) : text}\n`);
    },
    progress(text) {
      if (!showProgress) return;
      const width = Math.max(20, ((stderr as { columns?: number }).columns || 80) - 1);
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
export function endQuietlyOnClosedPipe(stream: NodeJS.WritableStream): void {
  if (stream.listenerCount('error') > 0) return;
  stream.on('error', () => undefined);
}
