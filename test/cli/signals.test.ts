/**
 * SIGINT and SIGTERM stop `relay-select run` wherever it waits — a health check or a registration that
 * never answers, a registration hook that ignores SIGTERM — within a second, with 130 or 143; the lock
 * is released, and nothing that did not happen is recorded (no failure clock, no retry), so the next
 * cron run goes on as if the stopped one had never started. The real CLI against a real stub relay on
 * loopback.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStubServer, type StubServer } from '../../src/lab/stub-relay/stub-server.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { isGoneWithin } from '../helpers/process-state.js';

let dir: string;
let stub: StubServer;
/** Set by a test: what to do when the stub receives a request. */
let onStubRequest: ((method: string, requestPath: string) => void) | undefined;

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'relay-select-signals-'));
  onStubRequest = undefined;
  stub = await startStubServer({
    host: '127.0.0.1',
    port: 0,
    mode: 'slow',
    name: 'stub',
    onRequest: (method, requestPath) => onStubRequest?.(method, requestPath),
  });
});
afterEach(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

const stateDir = (): string => path.join(dir, 'state');
const statePath = (): string => path.join(stateDir(), 'state.json');

/** A relay list with one relay that is never probed: the seek list names no group of it, so the stub is reached as a failover relay. */
function failoverArgs(): string[] {
  writeFileSync(path.join(dir, 'Relay.dat'), '198.18.0.1 affiliation=elsewhere\n');
  return [
    '--relays',
    path.join(dir, 'Relay.dat'),
    '--seek-list',
    'nomatch',
    '--set',
    `failoverRelays=127.0.0.1:${stub.port}`,
    '--state-dir',
    stateDir(),
  ];
}

/** Runs the CLI and sends `signal` when the stub receives a request for `requestPath`; the time from signal to exit comes back too. */
async function runAndSignal(
  args: readonly string[],
  signal: NodeJS.Signals,
  requestPath: string,
): Promise<CliRun & { afterSignalMs: number }> {
  let signalledAt: number | undefined;
  const run = await runCli(args, {
    cwd: dir,
    timeoutMs: 30_000,
    onSpawn: (child) => {
      onStubRequest = (_method, seen) => {
        if (seen !== requestPath || signalledAt !== undefined) return;
        signalledAt = performance.now();
        child.kill(signal);
      };
    },
  });
  expect(signalledAt, `no request for ${requestPath} reached the stub: ${run.stderr}`).toBeDefined();
  return { ...run, afterSignalMs: performance.now() - signalledAt! };
}

function writeCurrentRelayState(): string {
  const now = new Date().toISOString();
  const text = `${JSON.stringify({
    version: 1,
    clientId: 'signals',
    current: {
      host: '127.0.0.1',
      port: stub.port,
      address: '127.0.0.1',
      distance: 1,
      rttMs: 0.2,
      pool: '*',
      method: 'echo-ttl',
      registeredAt: now,
    },
    lastSelectionAt: now,
    lastAttemptAt: now,
    failingSince: null,
    retry: null,
  })}\n`;
  writeFileSync(path.join(dir, 'Relay.dat'), `127.0.0.1:${stub.port}\n`);
  // The directory as relay-select makes it: root's (as the test runs), 0700.
  mkdirSync(stateDir(), { mode: 0o700 });
  writeFileSync(statePath(), text, { mode: 0o600 });
  return text;
}

describe('a signal while a run waits on the network', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s during a health check that never answers: %i within a second, state untouched, lock released',
    async (signal, status) => {
      const before = writeCurrentRelayState();
      const run = await runAndSignal(
        [
          'run',
          '--relays',
          path.join(dir, 'Relay.dat'),
          '--state-dir',
          stateDir(),
          '--set',
          'register.timeoutMs=30000',
        ],
        signal,
        '/relay-select/v1/health',
      );
      expect(run.code).toBe(status);
      expect(run.afterSignalMs).toBeLessThan(1000);
      expect(run.stderr.trim()).toBe(`relay-select: error: interrupted by ${signal}: health check aborted`);
      expect(readFileSync(statePath(), 'utf8')).toBe(before);
      expect(readdirSync(stateDir())).not.toContain('run.lock');
      // The next cron run finds a healthy relay and keeps it: no failure clock was started.
      await stub.setMode('ok');
      const next = await runCli(['run', '--json', '--relays', path.join(dir, 'Relay.dat'), '--state-dir', stateDir()], {
        cwd: dir,
      });
      expect(next.code).toBe(0);
      expect(next.json).toMatchObject({ action: 'kept', rule: 'healthy' });
    },
  );

  it('SIGTERM during an HTTP registration that never answers: 143, no retry recorded, the next run selects at once', async () => {
    const run = await runAndSignal(
      ['run', '--force', ...failoverArgs(), '--set', 'register.timeoutMs=30000'],
      'SIGTERM',
      '/relay-select/v1/register',
    );
    expect(run.code).toBe(143);
    expect(run.afterSignalMs).toBeLessThan(1000);
    expect(run.stderr.trim()).toBe('relay-select: error: interrupted by SIGTERM: registration aborted');
    // No state written at all: the registration neither succeeded nor failed.
    expect(readdirSync(stateDir()).sort()).toEqual(['client-id', 'relay-list.cache']);
    await stub.setMode('ok');
    const next = await runCli(['run', '--json', ...failoverArgs()], { cwd: dir });
    expect(next.code).toBe(0);
    expect(next.json).toMatchObject({
      action: 'selected',
      rule: 'first-run',
      relay: { host: '127.0.0.1', port: stub.port, pool: 'failover' },
    });
  });

  it("SIGINT during a registration hook that ignores SIGTERM: 130 within a second, the hook's whole process group gone", async () => {
    const pids = path.join(dir, 'hook.pids');
    const hook = path.join(dir, 'hook.sh');
    // The hook starts a child of its own, ignores SIGTERM, says where it is, then waits for ever.
    writeFileSync(
      hook,
      `trap '' TERM\nsleep 600 &\necho "$$ $!" > ${pids}\n${process.execPath} -e "require('node:http').get('http://127.0.0.1:${stub.port}/hook-started').on('error', () => {})" &\nwait\n`,
    );
    const run = await runAndSignal(
      ['run', '--force', ...failoverArgs(), '--set', 'register.mode=command', '--set', `register.command=sh ${hook}`],
      'SIGINT',
      '/hook-started',
    );
    expect(run.code).toBe(130);
    expect(run.afterSignalMs).toBeLessThan(1000);
    expect(run.stderr.trim()).toBe('relay-select: error: interrupted by SIGINT: registration aborted');
    // SIGKILL was sent before relay-select exited; the kernel finishes the kill a moment later.
    for (const pid of readFileSync(pids, 'utf8').trim().split(' ').map(Number))
      expect(await isGoneWithin(pid, 1000), `hook process ${pid}`).toBe(true);
    expect(readdirSync(stateDir()).sort()).toEqual(['client-id', 'relay-list.cache']);
  });
});

describe('a signal while a run is stuck where no AbortSignal reaches', () => {
  it('SIGTERM while a config module waits for ever with a timer running: the process still ends within a second, of the signal', async () => {
    const config = path.join(dir, 'relay-select.config.mjs');
    writeFileSync(
      config,
      `await new Promise(() => { setInterval(() => {}, 1000); fetch('http://127.0.0.1:${stub.port}/config-loading').catch(() => {}); });\nexport default {};\n`,
    );
    const run = await runAndSignal(
      ['status', '--config', config, '--state-dir', stateDir()],
      'SIGTERM',
      '/config-loading',
    );
    // Ended by the signal itself, as without relay-select's handlers: a shell reports 143.
    expect({ code: run.code, signal: run.signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(run.afterSignalMs).toBeLessThan(1000);
  });
});
