import { systemClock, type Clock } from '../clock.js';
import type { RegisterSettings } from '../config/settings.js';
import { MAX_RESPONSE_BYTES, exchangeHttp, toDetailLine } from './http-exchange.js';
import { loadTlsMaterial, type TlsMaterial } from './tls.js';
import type { ReadFile, RegisterOutcome, RegisterTarget, RegistrationBody } from './types.js';
import { buildRegisterUrl } from './url.js';
import { isObject } from '../plain-object.js';

interface RegisterHttpDeps {
  /** Turns an HTTP-date Retry-After into seconds from now. @default systemClock */
  clock?: Clock;
  /** Reads `register.tls.*` files when `tls` is not given. @default fs.promises.readFile */
  readFile?: ReadFile;
  /** TLS files already read (createRegistrar reads them once per run). */
  tls?: TlsMaterial;
  /** Stops the attempt; the promise then rejects with RelaySelectError ABORTED. */
  signal?: AbortSignal;
}

/** A relay-supplied string, made safe for a one-line detail. */
function quoteField(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? toDetailLine(value, 80) : undefined;
}

/** A Retry-After a relay may send is cut to a day: a full relay must not shun an endpoint for years. */
const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * Seconds a Retry-After header asks to wait (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date counted from
 * `now` (a date in the past is 0). Undefined when absent or unreadable; at most a day.
 */
export function parseRetryAfterSeconds(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let seconds: number;
  if (/^\d{1,10}$/.test(text)) seconds = Number(text);
  else {
    const at = Date.parse(text);
    if (!/[A-Za-z]/.test(text) || !Number.isFinite(at)) return undefined;
    seconds = Math.max(0, Math.ceil((at - now.getTime()) / 1000));
  }
  return Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
}

/**
 * What an HTTP answer to `POST …/register` means (DESIGN §8). Pure, so every status and body shape
 * is testable without a server. `retryAfterSeconds` is the answer's Retry-After, already in seconds.
 */
export function interpretRegisterResponse(
  statusCode: number,
  bodyText: string,
  retryAfterSeconds?: number,
): RegisterOutcome {
  if (statusCode === 429) {
    const after = retryAfterSeconds === undefined ? '' : `; Retry-After ${retryAfterSeconds} s`;
    return {
      status: 'full',
      detail: `HTTP 429: relay alive but full${after}`,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    };
  }
  if (statusCode === 503) {
    const reason = (() => {
      try {
        const parsed: unknown = JSON.parse(bodyText);
        return isObject(parsed) ? quoteField(parsed.reason) : undefined;
      } catch {
        return undefined;
      }
    })();
    return {
      status: 'upstream-down',
      detail: `HTTP 503: relay alive, upstream server down${reason ? ` (${reason})` : ''}`,
    };
  }
  if (statusCode < 200 || statusCode > 299) return { status: 'failed', detail: `HTTP ${statusCode}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return { status: 'failed', detail: `HTTP ${statusCode} but the answer is not JSON` };
  }
  if (!isObject(parsed)) return { status: 'failed', detail: `HTTP ${statusCode} but the answer is not a JSON object` };
  if (parsed.accepted !== true) {
    const reason = quoteField(parsed.reason);
    return {
      status: 'failed',
      detail: `HTTP ${statusCode} but the relay did not accept the registration${reason ? `: ${reason}` : ' (no "accepted": true)'}`,
    };
  }
  const relayName = quoteField(parsed.relay);
  return {
    status: 'registered',
    detail: relayName ? `HTTP ${statusCode}, accepted by ${relayName}` : `HTTP ${statusCode}`,
  };
}

/** The body in its documented field order, whatever order the caller built it in. */
function serializeBody(body: RegistrationBody): string {
  const { clientId, hostname, distance, rttMs, pool, version } = body;
  return JSON.stringify({ clientId, hostname, distance, rttMs, pool, version });
}

/**
 * Registers with one relay over HTTP(S): `POST {scheme}://{host}:{port}/relay-select/v1/register`
 * (template `settings.url`). Network failures, TLS failures and timeouts are outcomes, not throws;
 * a bad setting or an unreadable TLS file throws RelaySelectError CONFIG_INVALID.
 */
export async function registerHttp(
  target: RegisterTarget,
  body: RegistrationBody,
  settings: RegisterSettings,
  deps: RegisterHttpDeps = {},
): Promise<RegisterOutcome> {
  const url = buildRegisterUrl(settings.url, settings.scheme, target);
  const tls =
    url.protocol === 'https:' ? (deps.tls ?? (await loadTlsMaterial(settings.tls, deps.readFile))) : undefined;
  const result = await exchangeHttp({
    method: 'POST',
    url,
    address: target.address,
    body: serializeBody(body),
    tls,
    timeoutMs: settings.timeoutMs,
    signal: deps.signal,
    userAgent: `relay-select/${body.version}`,
  });
  if (result.kind === 'error') return { status: 'failed', detail: result.detail };
  if (result.truncated && result.statusCode >= 200 && result.statusCode <= 299)
    return {
      status: 'failed',
      detail: `HTTP ${result.statusCode} but the answer is over ${MAX_RESPONSE_BYTES / 1024} KiB`,
    };
  return interpretRegisterResponse(
    result.statusCode,
    result.bodyText,
    parseRetryAfterSeconds(result.retryAfter, (deps.clock ?? systemClock).now()),
  );
}
