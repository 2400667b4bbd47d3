import { appendFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/**
 * How the stub relay answers:
 * - `ok`: register → 200 `{"accepted":true,"relay":name}`, health → 200;
 * - `503`: both → 503 (relay alive, upstream server down);
 * - `500`: both → 500;
 * - `down`: not listening (connections are refused);
 * - `slow`: accepts and reads the request but never answers (client timeouts);
 * - `full`: register → 429 (alive but full, with `Retry-After` when `retryAfterSeconds` is set), health → 200.
 * In mode `ok` with a `capacity`, the relay is full for new clients once it has that many: a client id it
 * has not registered yet gets the `full` answer, the ones it took are still accepted.
 */
export const STUB_MODES = ['ok', '503', '500', 'down', 'slow', 'full'] as const;
export type StubMode = (typeof STUB_MODES)[number];

/** The stub relay as a program (main.ts built), relative to the package root: what `lab` starts and `lab down` recognises. */
export const STUB_RELAY_PROGRAM = 'dist/lab/stub-relay/main.js';

/** How the stub relay program (STUB_RELAY_PROGRAM) is to run: its command line, as main.ts reads it. Absent: null or undefined. */
interface StubRelayCommand {
  port: number;
  /** Listen on this address only. @default every address */
  host?: string | undefined;
  mode: StubMode;
  name: string;
  logFile: string;
  /** The mode to switch to on SIGUSR1 is read from this file. @default none: SIGUSR1 toggles ok/503 */
  modeFile?: string | undefined;
  capacity?: number | null | undefined;
  retryAfterSeconds?: number | null | undefined;
  /** Serve https; with `clientCaFile` require a client certificate it signed. @default plain http */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string | undefined } | undefined;
}

/** The program's arguments for `command` (after `node STUB_RELAY_PROGRAM`). */
export function stubRelayArgs(command: StubRelayCommand): string[] {
  const args = [
    '--port',
    String(command.port),
    '--mode',
    command.mode,
    '--name',
    command.name,
    '--log',
    command.logFile,
  ];
  const option = (flag: string, value: string | number | null | undefined): void => {
    if (value !== undefined && value !== null) args.push(flag, String(value));
  };
  option('--host', command.host);
  option('--mode-file', command.modeFile);
  option('--capacity', command.capacity);
  option('--retry-after', command.retryAfterSeconds);
  if (command.tls !== undefined) {
    args.push('--https', '--cert', command.tls.certFile, '--key', command.tls.keyFile);
    if (command.tls.clientCaFile !== undefined) args.push('--ca', command.tls.clientCaFile, '--require-client-cert');
  }
  return args;
}

export const REGISTER_PATH = '/relay-select/v1/register';
export const HEALTH_PATH = '/relay-select/v1/health';

export interface StubServerOptions {
  /** Listen address. @default all addresses (`::`, or `0.0.0.0` without IPv6) */
  host?: string;
  /** 0 = a free port. */
  port: number;
  /** Serve https with these PEM contents (not paths). */
  https?: {
    cert: string | Buffer;
    key: string | Buffer;
    /** CA that signs acceptable client certificates. */
    ca?: string | Buffer;
    /** Refuse the TLS connection of a client without a certificate signed by `ca`. @default false */
    requireClientCert?: boolean;
  };
  mode: StubMode;
  /** Named in the answer (`"relay": name`) and the log. @default 'stub' */
  name?: string;
  /** Append one JSON line per registration request, for tests in another process. */
  logFile?: string;
  /** Distinct client ids accepted in mode `ok`; the next new one gets 429. @default unlimited */
  capacity?: number;
  /** `Retry-After` (seconds) of a 429 answer. @default none sent */
  retryAfterSeconds?: number;
  /** Called for every request once it is read, before it is answered (or held, in `slow`): an event to wait on. */
  onRequest?: (method: string, path: string) => void;
}

/** One POST to the register endpoint, as the stub saw it. */
export interface RegistrationLogEntry {
  /** ISO-8601 time of arrival. */
  at: string;
  relay: string;
  mode: StubMode;
  /** Status answered; null when mode `slow` never answered. */
  status: number | null;
  /** Parsed JSON body, or null when it was not JSON. */
  body: unknown;
  bodyText: string;
  hostHeader: string | null;
  remoteAddress: string | null;
  /** TLS server name the client sent (SNI), when https. */
  servername: string | null;
  /** Subject CN of the verified client certificate, when mutual TLS. */
  clientCertificateCn: string | null;
}

export interface StubServer {
  /** The port actually bound (stays the same across `down` and back). */
  port: number;
  registrations: RegistrationLogEntry[];
  /** Changes the answers; `down` closes the listener and drops open connections, leaving `down` listens again. */
  setMode: (mode: StubMode) => Promise<void>;
  readonly mode: StubMode;
  close: () => Promise<void>;
}

const MAX_REQUEST_BYTES = 64 * 1024;

function answerFor(mode: StubMode, name: string): { status: number; body: unknown } | null {
  switch (mode) {
    case 'ok':
      return { status: 200, body: { accepted: true, relay: name } };
    case '503':
      return { status: 503, body: { accepted: false, reason: 'upstream server unreachable' } };
    case '500':
      return { status: 500, body: { error: 'internal error' } };
    case 'full':
      return { status: 429, body: { accepted: false, reason: 'relay full' } };
    default:
      return null;
  }
}

function describeClientCertificate(socket: Socket): string | null {
  const tlsSocket = socket as Partial<TLSSocket>;
  if (typeof tlsSocket.getPeerCertificate !== 'function' || !tlsSocket.authorized) return null;
  const cn = tlsSocket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : null;
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * A relay that speaks the registration protocol (DESIGN §8) and nothing else, for tests and labs.
 * Its modes make the outcomes the client must handle: accepted, upstream down, error, refused, timeout.
 */
export async function startStubServer(options: StubServerOptions): Promise<StubServer> {
  const name = options.name ?? 'stub';
  let mode = options.mode;
  const registrations: RegistrationLogEntry[] = [];
  const sockets = new Set<Socket>();
  const clients = new Set<string>();
  /** Mode `ok` with a capacity: a new client beyond it is answered as in mode `full`. */
  const answerRegistration = (clientId: unknown): { status: number; body: unknown } | null => {
    if (mode !== 'ok' || options.capacity === undefined) return answerFor(mode, name);
    const id = typeof clientId === 'string' ? clientId : '';
    if (clients.has(id)) return answerFor('ok', name);
    if (clients.size >= options.capacity) return answerFor('full', name);
    clients.add(id);
    return answerFor('ok', name);
  };

  const handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      options.onRequest?.(request.method ?? '', path);
      let answer = answerFor(mode === 'full' ? 'ok' : mode, name);
      if (request.method === 'POST' && path === REGISTER_PATH) {
        const bodyText = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(bodyText);
        } catch {
          body = null;
        }
        answer = answerRegistration((body as { clientId?: unknown } | null)?.clientId);
        const tlsSocket = request.socket as Partial<TLSSocket>;
        const entry: RegistrationLogEntry = {
          at: new Date().toISOString(),
          relay: name,
          mode,
          status: answer?.status ?? null,
          body,
          bodyText,
          hostHeader: request.headers.host ?? null,
          remoteAddress: request.socket.remoteAddress ?? null,
          servername: typeof tlsSocket.servername === 'string' ? tlsSocket.servername : null,
          clientCertificateCn: describeClientCertificate(request.socket),
        };
        registrations.push(entry);
        if (options.logFile !== undefined) appendFileSync(options.logFile, `${JSON.stringify(entry)}\n`);
      } else if (!(request.method === 'GET' && path === HEALTH_PATH)) {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
        return;
      }
      // `slow`: hold the request open; close() or a mode change drops it.
      if (answer === null) return;
      const text = request.method === 'GET' ? JSON.stringify({ relay: name, mode }) : JSON.stringify(answer.body);
      const retryAfter =
        answer.status === 429 && options.retryAfterSeconds !== undefined
          ? { 'retry-after': String(options.retryAfterSeconds) }
          : {};
      response
        .writeHead(answer.status, { 'content-type': 'application/json', connection: 'close', ...retryAfter })
        .end(text);
    });
  };

  const tlsOptions = options.https;
  const server: http.Server = tlsOptions
    ? https.createServer(
        {
          cert: tlsOptions.cert,
          key: tlsOptions.key,
          ca: tlsOptions.ca,
          requestCert: tlsOptions.requireClientCert ?? false,
          rejectUnauthorized: tlsOptions.requireClientCert ?? false,
        },
        handle,
      )
    : http.createServer(handle);
  // Raw TCP sockets (under TLS too), so `down` also drops connections still in the handshake.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Rejected client certificates are expected in tests; without a listener they would be unhandled.
  server.on('tlsClientError', () => undefined);

  const port = await listen(server, options.port, options.host);
  const dropConnections = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      dropConnections();
    });
  if (mode === 'down') await stopListening();

  let closed = false;
  return {
    port,
    registrations,
    get mode() {
      return mode;
    },
    async setMode(next) {
      if (closed) throw new Error('stub server is closed');
      const previous = mode;
      mode = next;
      if (next === 'down' && previous !== 'down') await stopListening();
      else if (next !== 'down' && !server.listening) await listen(server, port, options.host);
      else if (previous === 'slow') dropConnections();
    },
    async close() {
      closed = true;
      await stopListening();
    },
  };
}
