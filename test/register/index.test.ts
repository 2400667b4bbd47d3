import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isRelaySelectError } from '../../src/errors.js';
import { startStubServer, type StubMode, type StubServer } from '../../src/lab/stub-relay/stub-server.js';
import {
  checkRelayHealth,
  checkRelayHealthDetailed,
  createRegistrar,
  prepareRegistrar,
} from '../../src/register/index.js';
import { settings } from '../helpers/settings.js';
import { candidate } from './builders.js';

const open: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

async function stub(mode: StubMode = 'ok'): Promise<StubServer> {
  const server = await startStubServer({ host: '127.0.0.1', port: 0, mode, name: 'relay-b' });
  open.push(server);
  return server;
}

const facts = { clientId: 'client-9', hostname: 'pc-9', version: '1.2.3' };

describe('createRegistrar', () => {
  it('mode http posts the candidate and the endpoint facts', async () => {
    const relay = await stub();
    const register = createRegistrar(settings(), facts);
    const outcome = await register(candidate({ port: relay.port, distance: 5, rttMs: 12.5, pool: '*' }));
    expect(outcome.status).toBe('registered');
    expect(relay.registrations[0]!.body).toEqual({
      clientId: 'client-9',
      hostname: 'pc-9',
      distance: 5,
      rttMs: 12.5,
      pool: '*',
      version: '1.2.3',
    });
  });

  it('mode none records only and sends nothing', async () => {
    const relay = await stub();
    const register = createRegistrar(settings({ register: { mode: 'none' } }), facts);
    expect(await register(candidate({ port: relay.port }))).toEqual({ status: 'registered', detail: 'recorded only' });
    expect(relay.registrations).toHaveLength(0);
  });

  it('mode command runs the hook with the candidate', async () => {
    const register = createRegistrar(
      settings({
        register: {
          mode: 'command',
          command: 'test "$RELAY_SELECT_POOL" = dmz && test "$RELAY_SELECT_CLIENT_ID" = client-9',
        },
      }),
      facts,
    );
    expect((await register(candidate({ pool: 'dmz' }))).status).toBe('registered');
    expect((await register(candidate({ pool: 'other' }))).status).toBe('failed');
  });

  it('prepareRegistrar rejects mode command without a command before any attempt', async () => {
    await expect(prepareRegistrar(settings({ register: { mode: 'command' } }), facts)).rejects.toSatisfy(
      (error: unknown) => isRelaySelectError(error) && error.code === 'CONFIG_INVALID',
    );
    const register = await prepareRegistrar(settings({ register: { mode: 'none' } }), facts);
    expect((await register(candidate())).status).toBe('registered');
  });
});

describe('checkRelayHealth', () => {
  it.each([
    ['ok', 'healthy', 'HTTP 200'],
    ['503', 'upstream-down', 'HTTP 503'],
    ['500', 'failing', 'HTTP 500'],
    ['down', 'failing', 'connection refused'],
  ] as const)('http: stub in mode %s is %s', async (mode, health, detail) => {
    const relay = await stub(mode);
    expect(await checkRelayHealthDetailed({ host: '127.0.0.1', port: relay.port }, settings())).toEqual({
      health,
      detail,
    });
    expect(relay.registrations).toHaveLength(0);
  });

  it('http: a relay that never answers is failing after register.timeoutMs', async () => {
    const relay = await stub('slow');
    expect(
      await checkRelayHealthDetailed(
        { host: '127.0.0.1', port: relay.port },
        settings({ register: { timeoutMs: 200 } }),
      ),
    ).toEqual({
      health: 'failing',
      detail: 'timed out after 200 ms',
    });
  });

  it('http: a relay without the health endpoint is healthy when it answers below 500', async () => {
    const paths: string[] = [];
    const server = http.createServer((request, response) => {
      paths.push(`${request.method} ${request.url}`);
      response.writeHead(404, { connection: 'close' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise((resolve) => server.close(() => resolve())) });
    const port = (server.address() as AddressInfo).port;
    expect(await checkRelayHealth({ host: '127.0.0.1', port }, settings())).toBe('healthy');
    expect(paths).toEqual(['GET /relay-select/v1/health']);
  });

  it('other modes: a TCP connect to the port', async () => {
    const relay = await stub('500');
    expect(
      await checkRelayHealthDetailed({ host: '127.0.0.1', port: relay.port }, settings({ register: { mode: 'none' } })),
    ).toEqual({
      health: 'healthy',
      detail: 'TCP connect ok',
    });
    await relay.setMode('down');
    expect(
      await checkRelayHealthDetailed(
        { host: 'relay.invalid', address: '127.0.0.1', port: relay.port },
        settings({ register: { mode: 'command', command: 'true' } }),
      ),
    ).toEqual({
      health: 'failing',
      detail: 'connection refused',
    });
  });
});
