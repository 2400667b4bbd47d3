import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { abortedError } from '../abort.js';
import { RelaySelectError } from '../errors.js';
import type { TlsMaterial } from './tls.js';
import { stripBrackets } from './url.js';

/** A relay's answer is small JSON; anything bigger is cut off rather than buffered. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

interface ExchangeOptions {
  method: 'GET' | 'POST';
  url: URL;
  /** Connect here instead of resolving the URL's host; Host header and TLS identity stay the URL's host. */
  address?: string | null;
  /** JSON text to send. */
  body?: string;
  /** Required for https URLs. */
  tls?: TlsMaterial;
  /** Covers connect, TLS handshake, request and the whole response. */
  timeoutMs: number;
  signal?: AbortSignal;
  userAgent: string;
}

type ExchangeResult =
  | {
      kind: 'response';
      statusCode: number;
      bodyText: string;
      truncated: boolean;
      /** The Retry-After header as sent (429 and 503 answers may carry one). */
      retryAfter: string | undefined;
    }
  | { kind: 'error'; detail: string };

/** What the transport knew when an error happened; it decides the wording. */
interface TransportErrorContext {
  host: string;
  timeoutMs: number;
  timedOut: boolean;
  https: boolean;
  /** The TLS handshake had completed (TLS 1.3 servers check the client certificate after it). */
  handshakeDone: boolean;
  hasClientCertificate: boolean;
}

const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
]);

/** One line, printable, bounded: safe to put text that came from a peer or OpenSSL into a detail. */
export function toDetailLine(text: string, maxLength = 160): string {
  const line = (text.split(/\r?\n/, 1)[0] ?? '').replace(/[^\x20-\x7e]/g, '?').trim();
  return line.length > maxLength ? `${line.slice(0, maxLength - 1)}…` : line;
}

/** OpenSSL messages start with "80xx:error:0A00…:SSL routines:fn:"; the reason after that is what a person needs. */
function openSslReason(error: NodeJS.ErrnoException & { reason?: unknown }): string {
  if (typeof error.reason === 'string' && error.reason !== '') return error.reason;
  const match = /SSL routines:[^:]*:([^:]+)/.exec(error.message);
  return match?.[1] ?? error.message;
}

/**
 * Turns a socket, TLS or HTTP-parser error into a short one-line detail. Pure: the context says
 * what the transport observed.
 */
export function describeTransportError(error: unknown, context: TransportErrorContext): string {
  if (context.timedOut) return `timed out after ${context.timeoutMs} ms`;
  const failure = (error ?? {}) as NodeJS.ErrnoException & { reason?: unknown };
  const code = typeof failure.code === 'string' ? failure.code : '';
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `cannot resolve ${context.host}`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS: relay certificate does not name ${context.host}`;
    case 'CERT_HAS_EXPIRED':
      return 'TLS: relay certificate has expired';
    case 'CERT_NOT_YET_VALID':
      return 'TLS: relay certificate is not valid yet';
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      return context.hasClientCertificate
        ? 'TLS: certificate required by relay (ours was not sent or not accepted)'
        : 'TLS: certificate required by relay (no client certificate configured)';
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return 'TLS: relay rejected our client certificate (unknown CA)';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'TLS: relay does not speak TLS on this port (plain http?)';
  }
  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return `TLS: relay certificate not trusted (${code}); set register.tls.ca to the CA that signed it`;
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_')) {
    const reason = toDetailLine(openSslReason(failure));
    if (/wrong version number/i.test(reason)) return 'TLS: relay does not speak TLS on this port (plain http?)';
    if (/handshake failure/i.test(reason) && !context.hasClientCertificate) {
      return `TLS: ${reason} (the relay may require a client certificate; none configured)`;
    }
    return `TLS: ${reason}`;
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    if (context.https && context.handshakeDone) {
      return context.hasClientCertificate
        ? 'TLS: relay closed the connection after the handshake (client certificate rejected? check its CA)'
        : 'TLS: relay closed the connection after the handshake (it may require a client certificate; none configured)';
    }
    if (context.https) return 'TLS: connection reset during the handshake (is the relay speaking https on this port?)';
    return 'connection reset by relay (an https-only relay does this to plain http)';
  }
  if (code.startsWith('HPE_')) return `invalid HTTP response (${code})`;
  return toDetailLine(code === '' ? message : `${code}: ${message}`);
}

export const REGISTRATION_ABORTED = 'registration aborted';

/**
 * One HTTP(S) request with a deadline. Network trouble becomes `{ kind: 'error', detail }`; only an
 * abort through `signal` rejects (RelaySelectError ABORTED), so the caller can stop a run.
 */
export function exchangeHttp(options: ExchangeOptions): Promise<ExchangeResult> {
  const { url, signal } = options;
  if (signal?.aborted) return Promise.reject(abortedError(signal, REGISTRATION_ABORTED));
  const isHttps = url.protocol === 'https:';
  const host = stripBrackets(url.hostname);
  const context: TransportErrorContext = {
    host,
    timeoutMs: options.timeoutMs,
    timedOut: false,
    https: isHttps,
    handshakeDone: false,
    hasClientCertificate: options.tls?.hasClientCertificate ?? false,
  };
  const headers: http.OutgoingHttpHeaders = {
    host: url.host,
    'user-agent': options.userAgent,
    accept: 'application/json',
    connection: 'close',
  };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(options.body);
  }
  const requestOptions: https.RequestOptions = {
    method: options.method,
    host: options.address ? stripBrackets(options.address) : host,
    port: url.port === '' ? (isHttps ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers,
    // A fresh connection per request: no keep-alive socket outlives the run.
    agent: false,
  };
  if (isHttps) {
    Object.assign(requestOptions, {
      ca: options.tls?.ca,
      cert: options.tls?.cert,
      key: options.tls?.key,
      // SNI must be a name (RFC 6066); the identity check always uses the relay-list host, even when
      // connecting to a probed address.
      servername: isIP(host) === 0 ? host : undefined,
      checkServerIdentity: (_name: string, certificate: Parameters<typeof checkServerIdentity>[1]) =>
        checkServerIdentity(host, certificate),
    });
  }

  return new Promise<ExchangeResult>((resolve, reject) => {
    let settled = false;
    const request = (isHttps ? https : http).request(requestOptions);
    const finish = (outcome: ExchangeResult | RelaySelectError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      request.destroy();
      if (outcome instanceof RelaySelectError) reject(outcome);
      else resolve(outcome);
    };
    const fail = (error: unknown): void => finish({ kind: 'error', detail: describeTransportError(error, context) });
    const onAbort = (): void => finish(abortedError(signal, REGISTRATION_ABORTED));
    const timer = setTimeout(() => {
      context.timedOut = true;
      fail(new Error('timeout'));
    }, options.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    request.on('socket', (socket) => socket.once('secureConnect', () => (context.handshakeDone = true)));
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const complete = (): void =>
        finish({
          kind: 'response',
          statusCode: response.statusCode ?? 0,
          bodyText: Buffer.concat(chunks).toString('utf8'),
          truncated,
          retryAfter: typeof response.headers['retry-after'] === 'string' ? response.headers['retry-after'] : undefined,
        });
      response.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = MAX_RESPONSE_BYTES - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (chunk.length > room) {
          truncated = true;
          complete();
        }
      });
      response.on('end', complete);
      response.on('error', fail);
      response.on('aborted', () => fail(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
    });
    request.end(options.body);
  });
}
