/**
 * Runs the stub relay as a process, e.g. inside a lab namespace:
 *
 *   node dist/lab/stub-relay/main.js --port N [--host ADDR] [--https --cert F --key F [--ca F]
 *     [--require-client-cert]] [--mode ok|503|500|down|slow|full] [--capacity N] [--retry-after SECONDS]
 *     [--name NAME] [--log FILE] [--mode-file FILE]
 *
 * `--capacity N`: the relay accepts N distinct clients; the N+1-th gets 429 (full), with `Retry-After`
 * when `--retry-after` is given.
 *
 * Prints `stub listening on PORT` to stdout once it accepts connections (`--port 0` picks a free port).
 * SIGTERM / SIGINT: close and exit 0. SIGUSR1 (or SIGHUP): with `--mode-file`, switch to the mode written in that
 * file; without it, toggle between `ok` and `503` (an upstream outage and its end). Each mode change
 * is reported on stderr as `stub mode MODE`.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { abortOnSignals, onReloadSignal } from '../../teardown.js';
import { STUB_MODES, startStubServer, type StubMode, type StubServerOptions } from './stub-server.js';

interface StubMainOptions {
  server: StubServerOptions;
  modeFile?: string;
}

function parseMode(text: string, where: string): StubMode {
  const mode = text.trim();
  const known = STUB_MODES.find((candidate) => candidate === mode);
  if (known === undefined) throw new Error(`${where}: "${mode}" is not a mode (expected ${STUB_MODES.join(', ')})`);
  return known;
}

function parseCount(text: string, option: string): number {
  const value = Number(text);
  if (!/^\d{1,9}$/.test(text) || !Number.isSafeInteger(value))
    throw new Error(`${option}: "${text}" is not a whole number >= 0`);
  return value;
}

/** Parses the command line; throws an Error with a usage message. Reads the TLS files it names. */
export function parseStubArgs(argv: string[]): StubMainOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      https: { type: 'boolean', default: false },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      'require-client-cert': { type: 'boolean', default: false },
      mode: { type: 'string', default: 'ok' },
      name: { type: 'string' },
      log: { type: 'string' },
      'mode-file': { type: 'string' },
      capacity: { type: 'string' },
      'retry-after': { type: 'string' },
    },
  });
  if (values.port === undefined) throw new Error('--port is required (0 = any free port)');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: "${values.port}" is not a port (0..65535)`);
  const server: StubServerOptions = { port, mode: parseMode(values.mode, '--mode') };
  if (values.host !== undefined) server.host = values.host;
  if (values.name !== undefined) server.name = values.name;
  if (values.log !== undefined) server.logFile = values.log;
  if (values.capacity !== undefined) server.capacity = parseCount(values.capacity, '--capacity');
  if (values['retry-after'] !== undefined)
    server.retryAfterSeconds = parseCount(values['retry-after'], '--retry-after');
  if (values.https) {
    if (values.cert === undefined || values.key === undefined) throw new Error('--https needs --cert and --key');
    if (values['require-client-cert'] && values.ca === undefined) throw new Error('--require-client-cert needs --ca');
    server.https = {
      cert: readFileSync(values.cert),
      key: readFileSync(values.key),
      ca: values.ca === undefined ? undefined : readFileSync(values.ca),
      requireClientCert: values['require-client-cert'],
    };
  } else if (values.cert !== undefined || values.key !== undefined || values['require-client-cert']) {
    throw new Error('--cert, --key and --require-client-cert need --https');
  }
  return { server, modeFile: values['mode-file'] };
}

async function runStubServerMain(argv: string[]): Promise<void> {
  let options: StubMainOptions;
  try {
    options = parseStubArgs(argv);
  } catch (error) {
    process.stderr.write(`stub-server: ${(error as Error).message}\n`);
    process.exitCode = 64;
    return;
  }
  const stub = await startStubServer(options.server);
  // In mode `down` nothing listens, and a process with no handle would exit at once.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let changing = Promise.resolve();
  const onModeSignal = (): void => {
    changing = changing.then(async () => {
      try {
        const next =
          options.modeFile === undefined
            ? stub.mode === 'ok'
              ? '503'
              : 'ok'
            : parseMode(readFileSync(options.modeFile, 'utf8'), options.modeFile);
        await stub.setMode(next);
        process.stderr.write(`stub mode ${next}\n`);
      } catch (error) {
        process.stderr.write(`stub-server: ${(error as Error).message}\n`);
      }
    });
  };
  // Installing a SIGUSR1 listener also keeps Node from starting its inspector on that signal.
  process.on('SIGUSR1', onModeSignal);
  onReloadSignal(onModeSignal);
  const stop = abortOnSignals();
  stop.signal.addEventListener(
    'abort',
    () => {
      void changing.then(async () => {
        await stub.close();
        clearInterval(keepAlive);
        stop.dispose();
        process.exitCode = 0;
      });
    },
    { once: true },
  );
  process.stdout.write(`stub listening on ${stub.port}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runStubServerMain(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`stub-server: ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
