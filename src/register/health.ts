import { connect } from 'node:net';
import { abortedError } from '../abort.js';
import { isRelaySelectError } from '../errors.js';
import type { Settings } from '../config/settings.js';
// http-exchange.ts and tls.ts load node:http, node:https and node:tls: imported only by the checks
// that need them, so a healthy TCP check (the cron no-op) does without.
import type { TlsMaterial } from './tls.js';
import type { ReadFile, RegisterTarget, RelayHealth } from './types.js';
import { buildHealthUrl, buildRegisterUrl, stripBrackets } from './url.js';

const HEALTH_CHECK_ABORTED = 'health check aborted';

interface RelayHealthReport {
  health: RelayHealth;
  /** One line: "HTTP 200", "HTTP 503", "connection refused", "TCP connect ok", … */
  detail: string;
}

export interface CheckRelayHealthDeps {
  readFile?: ReadFile;
  tls?: TlsMaterial;
  signal?: AbortSignal;
}

/**
 * Health from an HTTP status. A relay without the health endpoint still answers (404, 405): any
 * answer below 500 proves it alive; 503 is the relay's way of saying its upstream is down.
 */
export function classifyHealthStatus(statusCode: number): RelayHealth {
  if (statusCode === 503) return 'upstream-down';
  return statusCode < 500 ? 'healthy' : 'failing';
}

function connectTcp(
  host: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<RelayHealthReport> {
  if (signal?.aborted) return Promise.reject(abortedError(signal, HEALTH_CHECK_ABORTED));
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy(new Error('timeout'));
    }, timeoutMs);
    // Stopped by a signal, the check has no result: the caller must not record a failure.
    const onAbort = (): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(abortedError(signal, HEALTH_CHECK_ABORTED));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (report: RelayHealthReport): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(report);
    };
    socket.once('connect', () => finish({ health: 'healthy', detail: 'TCP connect ok' }));
    socket.once('error', (error) => {
      const context = { host, timeoutMs, timedOut, https: false, handshakeDone: false, hasClientCertificate: false };
      void import('./http-exchange.js').then(({ describeTransportError }) =>
        finish({ health: 'failing', detail: describeTransportError(error, context) }),
      );
    });
  });
}

/**
 * The cheap health check of the current relay (DESIGN §7), with a one-line reason. For
 * `register.mode: http`, a GET of `/relay-select/v1/health` next to the register URL (deadline
 * `register.timeoutMs`); for the other modes, a TCP connect to the relay's port (deadline
 * `probe.tcpTimeoutMs`). Connection failures are `failing`; only a bad TLS setting (CONFIG_INVALID,
 * FILE_UNTRUSTED) or the abort of `deps.signal` (ABORTED: no result at all) throws.
 */
export async function checkRelayHealthDetailed(
  target: RegisterTarget,
  settings: Settings,
  deps: CheckRelayHealthDeps = {},
): Promise<RelayHealthReport> {
  const register = settings.register;
  if (register.mode !== 'http') {
    return connectTcp(
      stripBrackets(target.address ?? target.host),
      target.port,
      settings.probe.tcpTimeoutMs,
      deps.signal,
    );
  }
  const url = buildHealthUrl(buildRegisterUrl(register.url, register.scheme, target));
  const tls =
    url.protocol === 'https:'
      ? (deps.tls ?? (await (await import('./tls.js')).loadTlsMaterial(register.tls, deps.readFile)))
      : undefined;
  const { exchangeHttp } = await import('./http-exchange.js');
  const result = await exchangeHttp({
    method: 'GET',
    url,
    address: target.address,
    tls,
    timeoutMs: register.timeoutMs,
    signal: deps.signal,
    userAgent: 'relay-select',
  }).catch((error: unknown) => {
    throw isRelaySelectError(error) && error.code === 'ABORTED'
      ? abortedError(deps.signal, HEALTH_CHECK_ABORTED)
      : error;
  });
  if (result.kind === 'error') return { health: 'failing', detail: result.detail };
  return { health: classifyHealthStatus(result.statusCode), detail: `HTTP ${result.statusCode}` };
}

/** `checkRelayHealthDetailed` without the reason. */
export async function checkRelayHealth(
  target: RegisterTarget,
  settings: Settings,
  deps: CheckRelayHealthDeps = {},
): Promise<RelayHealth> {
  return (await checkRelayHealthDetailed(target, settings, deps)).health;
}
