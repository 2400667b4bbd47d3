import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { isRelaySelectError } from '../../src/errors.js';
import { startStubServer, type StubServer, type StubServerOptions } from '../../src/lab/stub-relay/stub-server.js';
import { describeTransportError } from '../../src/register/http-exchange.js';
import { interpretRegisterResponse, parseRetryAfterSeconds, registerHttp } from '../../src/register/http.js';
import { buildHealthUrl, buildRegisterUrl } from '../../src/register/url.js';
import { registerSettings } from '../helpers/settings.js';
import { registrationBody } from './builders.js';

const open: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

async function stub(options: Partial<StubServerOptions> = {}): Promise<StubServer> {
  const server = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'ok', name: 'relay-a', ...options });
  open.push(server);
  return server;
}

/** A relay that answers every request with a fixed status and body. */
async function fixedServer(status: number, body: string): Promise<number> {
  const server = http.createServer((_request, response) =>
    response.writeHead(status, { connection: 'close' }).end(body),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise((resolve) => server.close(() => resolve())) });
  return (server.address() as AddressInfo).port;
}

const hasIpv6Loopback = Object.values(networkInterfaces()).some((addresses) =>
  addresses?.some((a) => a.address === '::1'),
);

describe('registerHttp against the stub relay', () => {
  it('registers on 200 {"accepted":true} and sends every body field', async () => {
    const relay = await stub();
    const body = registrationBody();
    const outcome = await registerHttp({ host: '127.0.0.1', port: relay.port }, body, registerSettings());
    expect(outcome).toEqual({ status: 'registered', detail: 'HTTP 200, accepted by relay-a' });
    expect(relay.registrations).toHaveLength(1);
    const entry = relay.registrations[0]!;
    expect(entry.body).toEqual(body);
    expect(Object.keys(entry.body as object)).toEqual(['clientId', 'hostname', 'distance', 'rttMs', 'pool', 'version']);
    expect(entry.hostHeader).toBe(`127.0.0.1:${relay.port}`);
  });

  it('sends null distance and rtt as JSON null', async () => {
    const relay = await stub();
    await registerHttp(
      { host: '127.0.0.1', port: relay.port },
      registrationBody({ distance: null, rttMs: null, pool: 'failover' }),
      registerSettings(),
    );
    expect(relay.registrations[0]!.body).toMatchObject({ distance: null, rttMs: null, pool: 'failover' });
  });

  it('maps 503 to upstream-down', async () => {
    const relay = await stub({ mode: '503' });
    const outcome = await registerHttp({ host: '127.0.0.1', port: relay.port }, registrationBody(), registerSettings());
    expect(outcome.status).toBe('upstream-down');
    expect(outcome.detail).toMatch(/^HTTP 503: relay alive, upstream server down/);
    expect(relay.registrations[0]!.status).toBe(503);
  });

  it('maps 500 to failed "HTTP 500"', async () => {
    const relay = await stub({ mode: '500' });
    const outcome = await registerHttp({ host: '127.0.0.1', port: relay.port }, registrationBody(), registerSettings());
    expect(outcome).toEqual({ status: 'failed', detail: 'HTTP 500' });
  });

  it('fails with the timeout message when the relay never answers', async () => {
    const relay = await stub({ mode: 'slow' });
    const started = performance.now();
    const outcome = await registerHttp(
      { host: '127.0.0.1', port: relay.port },
      registrationBody(),
      registerSettings({ timeoutMs: 300 }),
    );
    const elapsedMs = performance.now() - started;
    expect(outcome).toEqual({ status: 'failed', detail: 'timed out after 300 ms' });
    expect(elapsedMs).toBeGreaterThanOrEqual(290);
    expect(elapsedMs).toBeLessThan(2000);
    // The request reached the relay: the deadline covers the response, not only the connect.
    expect(relay.registrations).toHaveLength(1);
  });

  it('fails with "connection refused" when nothing listens', async () => {
    const relay = await stub({ mode: 'down' });
    const outcome = await registerHttp({ host: '127.0.0.1', port: relay.port }, registrationBody(), registerSettings());
    expect(outcome).toEqual({ status: 'failed', detail: 'connection refused' });
  });

  it('connects to the given address but keeps the relay name in the Host header', async () => {
    const relay = await stub();
    const outcome = await registerHttp(
      { host: 'localhost', port: relay.port, address: '127.0.0.1' },
      registrationBody(),
      registerSettings(),
    );
    expect(outcome.status).toBe('registered');
    expect(relay.registrations[0]!.hostHeader).toBe(`localhost:${relay.port}`);
    expect(relay.registrations[0]!.remoteAddress).toBe('127.0.0.1');
  });

  it.skipIf(!hasIpv6Loopback)(
    `brackets IPv6 literals${hasIpv6Loopback ? '' : ' — skipped: no ::1 loopback'}`,
    async () => {
      const relay = await stub({ host: '::1' });
      const outcome = await registerHttp({ host: '::1', port: relay.port }, registrationBody(), registerSettings());
      expect(outcome.status).toBe('registered');
      expect(relay.registrations[0]!.hostHeader).toBe(`[::1]:${relay.port}`);
    },
  );

  it('fails a 2xx answer that does not accept, saying why', async () => {
    const refusing = await fixedServer(200, JSON.stringify({ accepted: false, reason: 'relay full' }));
    expect(await registerHttp({ host: '127.0.0.1', port: refusing }, registrationBody(), registerSettings())).toEqual({
      status: 'failed',
      detail: 'HTTP 200 but the relay did not accept the registration: relay full',
    });
    const html = await fixedServer(200, '<html>welcome</html>');
    expect(await registerHttp({ host: '127.0.0.1', port: html }, registrationBody(), registerSettings())).toEqual({
      status: 'failed',
      detail: 'HTTP 200 but the answer is not JSON',
    });
  });

  it('follows the URL template, including a custom path', async () => {
    const relay = await fixedServer(404, 'no');
    const outcome = await registerHttp(
      { host: '127.0.0.1', port: relay },
      registrationBody(),
      registerSettings({ url: 'http://{host}:{port}/custom/register' }),
    );
    expect(outcome).toEqual({ status: 'failed', detail: 'HTTP 404' });
  });

  it('throws CONFIG_INVALID for a template that is not an http(s) URL', async () => {
    const attempt = registerHttp(
      { host: '127.0.0.1', port: 1 },
      registrationBody(),
      registerSettings({ url: 'ftp://{host}:{port}/' }),
    );
    await expect(attempt).rejects.toSatisfy(
      (error: unknown) => isRelaySelectError(error) && error.code === 'CONFIG_INVALID',
    );
  });

  it('rejects with ABORTED when the signal fires', async () => {
    const relay = await stub({ mode: 'slow' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const attempt = registerHttp({ host: '127.0.0.1', port: relay.port }, registrationBody(), registerSettings(), {
      signal: controller.signal,
    });
    await expect(attempt).rejects.toSatisfy((error: unknown) => isRelaySelectError(error) && error.code === 'ABORTED');
  });
});

describe('interpretRegisterResponse', () => {
  it.each([
    [200, '{"accepted":true}', { status: 'registered', detail: 'HTTP 200' }],
    [201, '{"accepted":true,"relay":"r1"}', { status: 'registered', detail: 'HTTP 201, accepted by r1' }],
    [
      200,
      '{"accepted":"true"}',
      { status: 'failed', detail: 'HTTP 200 but the relay did not accept the registration (no "accepted": true)' },
    ],
    [200, '[1]', { status: 'failed', detail: 'HTTP 200 but the answer is not a JSON object' }],
    [503, '', { status: 'upstream-down', detail: 'HTTP 503: relay alive, upstream server down' }],
    [
      503,
      '{"reason":"server 10.0.0.1 unreachable"}',
      { status: 'upstream-down', detail: 'HTTP 503: relay alive, upstream server down (server 10.0.0.1 unreachable)' },
    ],
    [302, '', { status: 'failed', detail: 'HTTP 302' }],
    [403, '{"accepted":true}', { status: 'failed', detail: 'HTTP 403' }],
    [502, '', { status: 'failed', detail: 'HTTP 502' }],
  ])('HTTP %i %s', (status, body, expected) => {
    expect(interpretRegisterResponse(status, body)).toEqual(expected);
  });

  it('keeps relay-supplied text to one printable line', () => {
    const outcome = interpretRegisterResponse(
      200,
      JSON.stringify({ accepted: false, reason: `bad\u001b[31m\nsecond line ${'x'.repeat(300)}` }),
    );
    expect(outcome.detail).not.toContain('\n');
    expect(outcome.detail).not.toContain('\u001b');
    expect(outcome.detail).not.toContain('second line');
    expect(outcome.detail!.length).toBeLessThan(200);
  });
});

describe('register URLs', () => {
  it('fills the template and brackets IPv6 literals', () => {
    const template = '{scheme}://{host}:{port}/relay-select/v1/register';
    expect(buildRegisterUrl(template, 'https', { host: 'relay.corp.example', port: 52311 }).href).toBe(
      'https://relay.corp.example:52311/relay-select/v1/register',
    );
    expect(buildRegisterUrl(template, 'http', { host: '2001:db8::20', port: 52311 }).href).toBe(
      'http://[2001:db8::20]:52311/relay-select/v1/register',
    );
    expect(buildRegisterUrl(template, 'http', { host: '[2001:db8::20]', port: 80 }).host).toBe('[2001:db8::20]');
  });

  it('puts the health endpoint next to the register endpoint', () => {
    expect(buildHealthUrl(new URL('http://r:1/relay-select/v1/register')).href).toBe(
      'http://r:1/relay-select/v1/health',
    );
    expect(buildHealthUrl(new URL('https://r:1/api/register?x=1')).href).toBe('https://r:1/api/health');
  });
});

describe('describeTransportError', () => {
  const context = {
    host: 'relay.corp.example',
    timeoutMs: 5000,
    timedOut: false,
    https: true,
    handshakeDone: false,
    hasClientCertificate: false,
  };
  const failure = (code: string, message = 'x', reason?: string) => Object.assign(new Error(message), { code, reason });

  it.each([
    [failure('EHOSTUNREACH'), context, 'host unreachable'],
    [failure('ENETUNREACH'), context, 'network unreachable'],
    [failure('ENOTFOUND'), context, 'cannot resolve relay.corp.example'],
    [failure('CERT_HAS_EXPIRED'), context, 'TLS: relay certificate has expired'],
    [
      failure('ECONNRESET'),
      { ...context, handshakeDone: true, hasClientCertificate: true },
      'TLS: relay closed the connection after the handshake (client certificate rejected? check its CA)',
    ],
    [
      failure('ECONNRESET'),
      { ...context, handshakeDone: true },
      'TLS: relay closed the connection after the handshake (it may require a client certificate; none configured)',
    ],
    [
      failure(
        'EPROTO',
        'write EPROTO 80:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl.c:1601:\nSSL alert number 40',
      ),
      context,
      'TLS: sslv3 alert handshake failure (the relay may require a client certificate; none configured)',
    ],
    [failure('ECONNREFUSED'), { ...context, timedOut: true }, 'timed out after 5000 ms'],
    [failure('EWHATEVER', 'first line\nsecond line'), context, 'EWHATEVER: first line'],
  ])('%s', (error, errorContext, expected) => {
    expect(describeTransportError(error, errorContext)).toBe(expected);
  });
});

describe('full relays: 429 and Retry-After', () => {
  it('maps 429 to full with the Retry-After seconds, from a stub whose capacity is reached', async () => {
    const relay = await stub({ capacity: 1, retryAfterSeconds: 600 });
    const first = await registerHttp(
      { host: '127.0.0.1', port: relay.port },
      registrationBody({ clientId: 'client-1' }),
      registerSettings(),
    );
    const second = await registerHttp(
      { host: '127.0.0.1', port: relay.port },
      registrationBody({ clientId: 'client-2' }),
      registerSettings(),
    );
    const firstAgain = await registerHttp(
      { host: '127.0.0.1', port: relay.port },
      registrationBody({ clientId: 'client-1' }),
      registerSettings(),
    );
    expect(first.status).toBe('registered');
    expect(second).toEqual({
      status: 'full',
      detail: 'HTTP 429: relay alive but full; Retry-After 600 s',
      retryAfterSeconds: 600,
    });
    expect(firstAgain.status).toBe('registered');
    expect(relay.registrations.map((entry) => entry.status)).toEqual([200, 429, 200]);
  });

  it('maps 429 without Retry-After to full without a delay, from a stub in mode full', async () => {
    const relay = await stub({ mode: 'full' });
    const outcome = await registerHttp({ host: '127.0.0.1', port: relay.port }, registrationBody(), registerSettings());
    expect(outcome).toEqual({ status: 'full', detail: 'HTTP 429: relay alive but full' });
  });

  it('reads Retry-After as seconds or as an HTTP-date, at most a day', () => {
    const now = new Date('2024-03-01T12:00:00.000Z');
    expect(parseRetryAfterSeconds('120', now)).toBe(120);
    expect(parseRetryAfterSeconds(' 0 ', now)).toBe(0);
    expect(parseRetryAfterSeconds('Fri, 01 Mar 2024 12:10:00 GMT', now)).toBe(600);
    expect(parseRetryAfterSeconds('Fri, 01 Mar 2024 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterSeconds('99999999', now)).toBe(86_400);
    expect(parseRetryAfterSeconds('soon', now)).toBeUndefined();
    expect(parseRetryAfterSeconds('-5', now)).toBeUndefined();
    expect(parseRetryAfterSeconds(undefined, now)).toBeUndefined();
  });
});
