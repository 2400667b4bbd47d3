import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TlsSettings } from '../../src/config/settings.js';
import { isRelaySelectError, type RelaySelectError } from '../../src/errors.js';
import { startStubServer, type StubServer } from '../../src/lab/stub-relay/stub-server.js';
import { createRegistrar, prepareRegistrar } from '../../src/register/index.js';
import { registerHttp } from '../../src/register/http.js';
import { loadTlsMaterial } from '../../src/register/tls.js';
import type { RegisterOutcome } from '../../src/register/types.js';
import { generateTestPki, type TestPki } from '../helpers/tls.js';
import { registerSettings, settings } from '../helpers/settings.js';
import { candidate, registrationBody } from './builders.js';

let pki: TestPki;
beforeAll(() => {
  pki = generateTestPki();
});
afterAll(() => pki.remove());

const open: StubServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/** Everything a registration produced that a person or a log could see. */
const seen: string[] = [];
function record(value: unknown): void {
  seen.push(JSON.stringify(value), inspect(value, { depth: 5 }));
  if (value instanceof Error) {
    const cause = value.cause instanceof Error ? String(value.cause) : inspect(value.cause ?? '', { depth: 5 });
    seen.push(value.message, value.stack ?? '', cause);
  }
}

async function httpsStub(requireClientCert: boolean): Promise<StubServer> {
  const relay = await startStubServer({
    host: '127.0.0.1',
    port: 0,
    mode: 'ok',
    name: 'tls-relay',
    https: { cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requireClientCert },
  });
  open.push(relay);
  return relay;
}

async function register(relay: StubServer, tls: TlsSettings, host = 'localhost'): Promise<RegisterOutcome> {
  const outcome = await registerHttp(
    { host, port: relay.port, address: '127.0.0.1' },
    registrationBody(),
    registerSettings({ scheme: 'https', tls }),
  );
  record(outcome);
  return outcome;
}

async function configError(promise: Promise<unknown>): Promise<RelaySelectError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a CONFIG_INVALID error');
    },
    (failure: unknown) => failure,
  );
  record(error);
  if (!isRelaySelectError(error)) throw error;
  expect(error.code).toBe('CONFIG_INVALID');
  return error;
}

describe('registerHttp over https', () => {
  it('registers with a relay signed by register.tls.ca, checking the relay name, not the address', async () => {
    const relay = await httpsStub(false);
    expect(await register(relay, { ca: pki.ca.certFile })).toEqual({
      status: 'registered',
      detail: 'HTTP 200, accepted by tls-relay',
    });
    expect(relay.registrations[0]!.servername).toBe('localhost');
    expect(relay.registrations[0]!.hostHeader).toBe(`localhost:${relay.port}`);
  });

  it('registers with an IP-literal relay whose certificate names the IP', async () => {
    const relay = await httpsStub(false);
    expect((await register(relay, { ca: pki.ca.certFile }, '127.0.0.1')).status).toBe('registered');
  });

  it('fails clearly when the relay certificate is not trusted', async () => {
    const relay = await httpsStub(false);
    const outcome = await register(relay, {});
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toMatch(
      /^TLS: relay certificate not trusted \(SELF_SIGNED_CERT_IN_CHAIN\); set register\.tls\.ca/,
    );
  });

  it('fails clearly when the certificate does not name the relay', async () => {
    const relay = await httpsStub(false);
    const outcome = await register(relay, { ca: pki.ca.certFile }, 'relay.corp.example');
    expect(outcome).toEqual({ status: 'failed', detail: 'TLS: relay certificate does not name relay.corp.example' });
  });

  it('fails clearly when an https relay is spoken to in plain http', async () => {
    const relay = await httpsStub(false);
    const outcome = await registerHttp({ host: '127.0.0.1', port: relay.port }, registrationBody(), registerSettings());
    expect(outcome).toEqual({
      status: 'failed',
      detail: 'connection reset by relay (an https-only relay does this to plain http)',
    });
    expect(relay.registrations).toHaveLength(0);
  });

  it('fails clearly when https is spoken to a plain http relay', async () => {
    const relay = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'ok' });
    open.push(relay);
    const outcome = await register(relay, { ca: pki.ca.certFile });
    expect(outcome).toEqual({ status: 'failed', detail: 'TLS: relay does not speak TLS on this port (plain http?)' });
  });
});

describe('mutual TLS', () => {
  it('registers with the right client certificate, which the relay sees', async () => {
    const relay = await httpsStub(true);
    const outcome = await register(relay, { ca: pki.ca.certFile, cert: pki.client.certFile, key: pki.client.keyFile });
    expect(outcome.status).toBe('registered');
    expect(relay.registrations[0]!.clientCertificateCn).toBe('client');
  });

  it('fails with a clear detail when no client certificate is configured', async () => {
    const relay = await httpsStub(true);
    const outcome = await register(relay, { ca: pki.ca.certFile });
    expect(outcome).toEqual({
      status: 'failed',
      detail: 'TLS: certificate required by relay (no client certificate configured)',
    });
    expect(relay.registrations).toHaveLength(0);
  });

  it('fails when the client certificate comes from another CA', async () => {
    const relay = await httpsStub(true);
    const outcome = await register(relay, {
      ca: pki.ca.certFile,
      cert: pki.otherClient.certFile,
      key: pki.otherClient.keyFile,
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.detail).toMatch(/^TLS: .*client certificate/);
    expect(relay.registrations).toHaveLength(0);
  });
});

describe('TLS files', () => {
  it('a missing key file is CONFIG_INVALID naming the setting and the path', async () => {
    const missing = join(pki.dir, 'absent.key');
    const error = await configError(
      registerHttp(
        { host: 'localhost', port: 1 },
        registrationBody(),
        registerSettings({ scheme: 'https', tls: { cert: pki.client.certFile, key: missing } }),
      ),
    );
    expect(error.message).toBe(`register.tls.key: cannot read ${missing}: no such file`);
  });

  it('an unreadable CA file is CONFIG_INVALID', async () => {
    const error = await configError(loadTlsMaterial({ ca: pki.dir }));
    expect(error.message).toBe(`register.tls.ca: cannot read ${pki.dir}: is a directory`);
  });

  it('a certificate without a key (or the reverse) is CONFIG_INVALID', async () => {
    expect((await configError(loadTlsMaterial({ cert: pki.client.certFile }))).message).toMatch(
      /^register\.tls\.key: required/,
    );
    expect((await configError(loadTlsMaterial({ key: pki.client.keyFile }))).message).toMatch(
      /^register\.tls\.cert: required/,
    );
  });

  it('a key that does not match the certificate is CONFIG_INVALID', async () => {
    const error = await configError(loadTlsMaterial({ cert: pki.client.certFile, key: pki.otherClient.keyFile }));
    expect(error.message).toMatch(/^register\.tls\.cert and register\.tls\.key: .* does not match/);
  });

  it('a damaged key file is CONFIG_INVALID without quoting it', async () => {
    const lines = pki.client.keyPem.trim().split('\n');
    const damaged = join(pki.dir, 'damaged.key');
    writeFileSync(damaged, [lines[0], 'SECRET-MATERIAL-THAT-MUST-NOT-LEAK', ...lines.slice(2)].join('\n'), {
      mode: 0o600,
    });
    const error = await configError(loadTlsMaterial({ cert: pki.client.certFile, key: damaged }));
    expect(error.message).toBe(`register.tls.key: ${damaged} is not a usable private key`);
    expect(seen.join('\n')).not.toContain('SECRET-MATERIAL-THAT-MUST-NOT-LEAK');
  });

  it('loaded material does not show the key when inspected or serialized', async () => {
    const material = await loadTlsMaterial({ ca: pki.ca.certFile, cert: pki.client.certFile, key: pki.client.keyFile });
    expect(material.key?.toString('utf8')).toBe(pki.client.keyPem);
    record(material);
    expect(inspect(material)).not.toContain('BEGIN');
  });

  it('reads each TLS file once per registrar, however many relays it tries', async () => {
    const relay = await httpsStub(true);
    const reads: string[] = [];
    const { readFile } = await import('node:fs/promises');
    const registrar = createRegistrar(
      settings({
        register: { scheme: 'https', tls: { ca: pki.ca.certFile, cert: pki.client.certFile, key: pki.client.keyFile } },
      }),
      { clientId: 'c1', hostname: 'h1', version: '0.1.0' },
      { readFile: (path) => (reads.push(path), readFile(path)) },
    );
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await registrar(candidate({ host: 'localhost', port: relay.port, address: '127.0.0.1' }));
      record(outcome);
      expect(outcome.status).toBe('registered');
    }
    expect(reads.sort()).toEqual([pki.ca.certFile, pki.client.certFile, pki.client.keyFile].sort());
    expect(relay.registrations).toHaveLength(3);
  });

  it('prepareRegistrar reports a bad TLS file before any registration', async () => {
    const missing = join(pki.dir, 'nope.pem');
    const error = await configError(
      prepareRegistrar(settings({ register: { scheme: 'https', tls: { ca: missing } } }), {
        clientId: 'c1',
        hostname: 'h1',
        version: '0.1.0',
      }),
    );
    expect(error.message).toBe(`register.tls.ca: cannot read ${missing}: no such file`);
  });
});

// Last in the file: it checks everything the tests above produced.
describe('secrets', () => {
  it('no line of a private key appears in any outcome, detail or error', () => {
    expect(seen.length).toBeGreaterThan(20);
    const keyLines = [pki.client.keyPem, pki.otherClient.keyPem]
      .flatMap((pem) => pem.split('\n'))
      .filter((line) => line.length > 20 && !line.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(2);
    const everything = seen.join('\n');
    for (const line of keyLines) expect(everything).not.toContain(line);
  });
});
