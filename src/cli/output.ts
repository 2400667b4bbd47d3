interface OutputOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** chalk, when colour may be shown ({@link openOutput} loads it then); without it, everything is plain text. */
  chalk?: typeof import('chalk');
}

/** The styles the CLI's text uses: a chalk instance fits, and so does plain text. */
export interface Style {
  bold: (text: string) => string;
  dim: (text: string) => string;
  green: (text: string) => string;
  yellow: (text: string) => string;
  red: (text: string) => string;
  cyan: (text: string) => string;
}

const plain = (text: string): string => text;
const PLAIN_STYLE: Style = { bold: plain, dim: plain, green: plain, yellow: plain, red: plain, cyan: plain };

/**
 * Everything the CLI writes goes through here: data to stdout, diagnostics to stderr, colour only on a
 * TTY and never with NO_COLOR, a progress line only on a TTY and never with --json.
 */
export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly color: Style;
  /** A line of the human result (stdout); suppressed by --json and --quiet. */
  line(text?: string): void;
  /** A line of the human result that --quiet keeps (a failure, a warning worth cron mail). */
  important(text: string): void;
  /** The one JSON object of --json (stdout). */
  data(value: unknown): void;
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
}

const FORMATTED_DIAGNOSTIC = /^\S.*:\d+:\d+: (error|warning): /;

/** Characters per write of a streamed result: few system calls, and no string big enough to linger in the heap. */
const BATCH_CHARS = 64 * 1024;

/** Resolves when `stream` can take more, rejects when it fails (e.g. EPIPE: the reader went away). */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(new Error('stdout was closed'));
    stream.on('drain', onDrain).on('error', onError).on('close', onClose);
  });
}

/** Writes `pieces` in batches of about BATCH_CHARS, waiting for the stream whenever it asks to. */
async function writeBatched(stream: NodeJS.WritableStream, pieces: Iterable<string>): Promise<void> {
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length < BATCH_CHARS) continue;
    if (!stream.write(batch)) await drained(stream);
    batch = '';
  }
  if (batch !== '' && !stream.write(batch)) await drained(stream);
}

function* withNewlines(texts: Iterable<string>): Generator<string> {
  for (const text of texts) yield `${text}\n`;
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
  const color = styleOf(options.chalk, json ? 0 : colorLevel(env, stdout.isTTY));
  const errColor = styleOf(options.chalk, colorLevel(env, stderr.isTTY));
  const showProgress = !json && !quiet && stderr.isTTY === true;
  let progressShown = false;

  const clear = (): void => {
    if (progressShown) {
      stderr.write('\r\x1b[2K');
      progressShown = false;
    }
  };
  const toStderr = (text: string): void => {
    clear();
    stderr.write(`${text}\n`);
  };

  return {
    json,
    quiet,
    verbose,
    color,
    line(text = '') {
      if (json || quiet) return;
      clear();
      stdout.write(`${text}\n`);
    },
    important(text) {
      if (json) return;
      clear();
      stdout.write(`${text}\n`);
    },
    data(value) {
      clear();
      stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    async lines(texts) {
      if (json || quiet) return;
      clear();
      await writeBatched(stdout, withNewlines(texts));
    },
    async dataText(pieces) {
      clear();
      await writeBatched(stdout, pieces);
    },
    warn(text) {
      toStderr(FORMATTED_DIAGNOSTIC.test(text) ? text : `${errColor.yellow('warning:')} ${text}`);
    },
    info(text) {
      if (!quiet) toStderr(text);
    },
    debug(text) {
      if (verbose) toStderr(errColor.dim(text));
    },
    error(text) {
      toStderr(`relay-select: ${errColor.red('error:')} ${text}`);
    },
    progress(text) {
      if (!showProgress) return;
      const width = Math.max(20, ((stderr as { columns?: number }).columns || 80) - 1);
      stderr.write(`\r\x1b[2K${text.slice(0, width)}`);
      progressShown = true;
    },
    endProgress: clear,
  };
}
