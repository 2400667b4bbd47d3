import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HEALTH_PATH,
  REGISTER_PATH,
  STUB_RELAY_PROGRAM,
  startStubServer,
  stubRelayArgs,
  type StubServer,
} from '../../../src/lab/stub-relay/stub-server.js';
import { parseStubArgs } from '../../../src/lab/stub-relay/main.js';
import { registerHttp } from '../../../src/register/http.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { generateTestPki, type TestPki } from '../../helpers/tls.js';
import { registerSettings } from '../../helpers/settings.js';
import { registrationBody } from '../../register/builders.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-select-stub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open: StubServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

function request(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('startStubServer', () => {
  it('answers register and health per mode, 404 elsewhere', async () => {
    const relay = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'ok', name: 'r1' });
    open.push(relay);
    expect(await request(relay.port, 'POST', REGISTER_PATH, '{"clientId":"x"}')).toEqual({
      status: 200,
      body: '{"accepted":true,"relay":"r1"}',
    });
    expect((await request(relay.port, 'GET', HEALTH_PATH)).status).toBe(200);
    expect((await request(relay.port, 'GET', REGISTER_PATH)).status).toBe(404);
    await relay.setMode('503');
    expect((await request(relay.port, 'POST', REGISTER_PATH, '{}')).status).toBe(503);
    expect((await request(relay.port, 'GET', HEALTH_PATH)).status).toBe(503);
    await relay.setMode('500');
    expect((await request(relay.port, 'POST', REGISTER_PATH, 'not json')).status).toBe(500);
    expect(relay.registrations.map((entry) => [entry.status, entry.body])).toEqual([
      [200, { clientId: 'x' }],
      [503, {}],
      [500, null],
    ]);
    expect(relay.registrations[2]!.bodyText).toBe('not json');
  });

  it('goes down and comes back on the same port', async () => {
    const relay = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'ok' });
    open.push(relay);
    await relay.setMode('down');
    await expect(request(relay.port, 'GET', HEALTH_PATH)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await relay.setMode('ok');
    expect((await request(relay.port, 'GET', HEALTH_PATH)).status).toBe(200);
  });

  it('slow mode holds the request until the mode changes', async () => {
    const relay = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'slow' });
    open.push(relay);
    const pending = request(relay.port, 'POST', REGISTER_PATH, '{}');
    let settled = false;
    void pending.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(settled).toBe(false);
    expect(relay.registrations[0]!.status).toBeNull();
    await relay.setMode('ok');
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('appends one JSON line per registration to the log file', async () => {
    const logFile = join(dir, 'in-process.log');
    const relay = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'ok', name: 'logged', logFile });
    open.push(relay);
    await registerHttp(
      { host: '127.0.0.1', port: relay.port },
      registrationBody({ clientId: 'a' }),
      registerSettings(),
    );
    await registerHttp(
      { host: '127.0.0.1', port: relay.port },
      registrationBody({ clientId: 'b' }),
      registerSettings(),
    );
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { relay: string; body: { clientId: string } });
    expect(lines.map((line) => [line.relay, line.body.clientId])).toEqual([
      ['logged', 'a'],
      ['logged', 'b'],
    ]);
  });
});

describe('parseStubArgs', () => {
  it('parses the documented flags', () => {
    expect(
      parseStubArgs(['--port', '0', '--mode', '503', '--name', 'n', '--log', '/tmp/x.log', '--host', '198.18.0.2']),
    ).toEqual({
      server: { port: 0, mode: '503', name: 'n', logFile: '/tmp/x.log', host: '198.18.0.2' },
      modeFile: undefined,
    });
  });

  it('reads back what stubRelayArgs writes (the command line the lab and the e2e tests start)', () => {
    expect(
      parseStubArgs(
        stubRelayArgs({
          port: 52311,
          host: '198.18.0.2',
          mode: 'full',
          name: 'n',
          logFile: '/tmp/x.log',
          modeFile: '/tmp/x.mode',
          capacity: 3,
          retryAfterSeconds: 30,
        }),
      ),
    ).toEqual({
      server: {
        port: 52311,
        host: '198.18.0.2',
        mode: 'full',
        name: 'n',
        logFile: '/tmp/x.log',
        capacity: 3,
        retryAfterSeconds: 30,
      },
      modeFile: '/tmp/x.mode',
    });
    const directory = mkdtempSync(join(tmpdir(), 'stub-args-'));
    try {
      const [certFile, keyFile, clientCaFile] = ['cert', 'key', 'ca'].map((name) => {
        writeFileSync(join(directory, name), name);
        return join(directory, name);
      });
      const plain = stubRelayArgs({ port: 1, mode: 'ok', name: 'n', logFile: '/tmp/x.log', capacity: null });
      expect(parseStubArgs(plain).server).toEqual({ port: 1, mode: 'ok', name: 'n', logFile: '/tmp/x.log' });
      const tls = stubRelayArgs({
        port: 1,
        mode: 'ok',
        name: 'n',
        logFile: '/tmp/x.log',
        tls: { certFile: certFile!, keyFile: keyFile!, clientCaFile },
      });
      expect(parseStubArgs(tls).server.https).toEqual({
        cert: Buffer.from('cert'),
        key: Buffer.from('key'),
        ca: Buffer.from('ca'),
        requireClientCert: true,
      });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it.each([
    [[], /--port is required/],
    [['--port', '70000'], /not a port/],
    [['--port', '1', '--mode', 'sideways'], /not a mode/],
    [['--port', '1', '--https'], /--https needs --cert and --key/],
    [['--port', '1', '--cert', 'c.pem'], /need --https/],
    [['--port', '1', '--bogus'], /bogus/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseStubArgs(argv)).toThrow(message);
  });
});

describe('the stub relay program (stub-relay/main.ts) as a process', () => {
  let compiledMain: string;
  let pki: TestPki;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    // The program `lab` starts, as `npm test` built it.
    compiledMain = join(REPO_ROOT, STUB_RELAY_PROGRAM);
    pki = generateTestPki();
  }, 60_000);

  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    pki?.remove();
  });

  async function startMain(args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
    const child = spawn(process.execPath, [compiledMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`stub exited ${code}: ${stderr}`)));
    });
    const match = /^stub listening on (\d+)$/.exec(first);
    expect(match, first).not.toBeNull();
    return { child, port: Number(match![1]), stderr: () => stderr };
  }

  function exitOf(child: ChildProcess): Promise<number | null> {
    return new Promise((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });
  }

  it('prints the ready line, writes the log file, toggles on SIGUSR1 and exits 0 on SIGTERM', async () => {
    const logFile = join(dir, 'child.log');
    const { child, port, stderr } = await startMain([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--name',
      'child-relay',
      '--log',
      logFile,
    ]);
    const first = await registerHttp(
      { host: '127.0.0.1', port },
      registrationBody({ clientId: 'from-test' }),
      registerSettings(),
    );
    expect(first).toEqual({ status: 'registered', detail: 'HTTP 200, accepted by child-relay' });
    const entry = JSON.parse(readFileSync(logFile, 'utf8').trim()) as { relay: string; body: unknown };
    expect(entry.relay).toBe('child-relay');
    expect(entry.body).toEqual(registrationBody({ clientId: 'from-test' }));

    child.kill('SIGUSR1');
    await expect.poll(stderr).toContain('stub mode 503');
    expect((await registerHttp({ host: '127.0.0.1', port }, registrationBody(), registerSettings())).status).toBe(
      'upstream-down',
    );

    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  });

  it('serves mutual TLS from files and follows a mode file', async () => {
    const modeFile = join(dir, 'mode');
    writeFileSync(modeFile, 'down\n');
    const { child, port, stderr } = await startMain([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--https',
      '--cert',
      pki.server.certFile,
      '--key',
      pki.server.keyFile,
      '--ca',
      pki.ca.certFile,
      '--require-client-cert',
      '--mode-file',
      modeFile,
    ]);
    const tls = registerSettings({
      scheme: 'https',
      tls: { ca: pki.ca.certFile, cert: pki.client.certFile, key: pki.client.keyFile },
    });
    expect(
      (await registerHttp({ host: 'localhost', port, address: '127.0.0.1' }, registrationBody(), tls)).status,
    ).toBe('registered');

    child.kill('SIGUSR1');
    await expect.poll(stderr).toContain('stub mode down');
    expect(await registerHttp({ host: 'localhost', port, address: '127.0.0.1' }, registrationBody(), tls)).toEqual({
      status: 'failed',
      detail: 'connection refused',
    });

    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
  });

  it('exits 64 with a message on bad arguments', async () => {
    const child = spawn(process.execPath, [compiledMain, '--mode', 'ok'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    expect(await exitOf(child)).toBe(64);
    expect(stderr).toContain('--port is required');
  });
});
