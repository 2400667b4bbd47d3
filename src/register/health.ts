import { connect } from 'node:net';
import type { Settings } from '../config/settings.js';
// http-exchange.ts and tls.ts load node:http, node:https and node:tls: imported only by the checks
// that need them, so a healthy TCP check (the cron no-op) does without.
import type { TlsMaterial } from './tls.js';
import type { ReadFile, RegisterTarget, RelayHealth } from './types.js';
import { buildHealthUrl, buildRegisterUrl, stripBrackets } from './url.js';

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
function classifyHealthStatus(statusCode: number): RelayHealth {
  if (statusCode === 503) return 'upstream-down';
  return statusCode < 500 ? 'healthy' : 'failing';
}

function connectTcp(host: string, port: number, timeoutMs: number): Promise<RelayHealthReport> {
  return new Promise((resolve) => {
    let timedOut = false;
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy(new Error('timeout'));
    }, timeoutMs);
    const finish = (report: RelayHealthReport): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(report);
    };
    socket.once('connect', () => finish({ health: 'healthy', detail: 'TCP connect ok' }));
    socket.once('error', (error) => {
      const context = { host, timeoutMs, timedOut, https: false, handshakeDone: false, hasClientCertificate: false };
      void import('./http-exchange.js').then(({ describeTransportError }) => finish({ health: 'failing', detail: describeTransportError(error, context) }));
    });
  });
}

/**
 * The cheap health check of the current relay (DESIGN §7), with a one-line reason. For
 * `register.mode: http`, a GET of `/relay-select/v1/health` next to the register URL (deadline
 * `register.timeoutMs`); for the other modes, a TCP connect to the relay's port (deadline
 * `probe.tcpTimeoutMs`). Connection failures are `failing`; only a bad TLS setting throws.
 */
export async function checkRelayHealthDetailed(
  target: RegisterTarget,
  settings: Settings,
  deps: CheckRelayHealthDeps = {},
): Promise<RelayHealthReport> {
  const register = settings.register;
  if (register.mode !== 'http') {
    return connectTcp(stripBrackets(target.address ?? target.host), target.port, settings.probe.tcpTimeoutMs);
  }
  const url = buildHealthUrl(buildRegisterUrl(register.url, register.scheme, target));
  const tls = url.protocol === 'https:' ? (deps.tls ?? (await (await import('./tls.js')).loadTlsMaterial(register.tls, deps.readFile))) : undefined;
  const { exchangeHttp } = await import('./http-exchange.js');
  const result = await exchangeHttp({
    method: 'GET',
    url,
    address: target.address,
    tls,
    timeoutMs: register.timeoutMs,
    signal: deps.signal,
    userAgent: 'relay-select',
  });
  if (result.kind === 'error') return { health: 'failing', detail: result.detail };
  return { health: classifyHealthStatus(result.statusCode), detail: `HTTP ${result.statusCode}` };
}

/** `checkRelayHealthDetailed` without the reason. */
export async function checkRelayHealth(target: RegisterTarget, settings: Settings, deps: CheckRelayHealthDeps = {}): Promise<RelayHealth> {
  return (await checkRelayHealthDetailed(target, settings, deps)).health;
}
