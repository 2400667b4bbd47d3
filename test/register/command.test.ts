import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRelaySelectError } from '../../src/errors.js';
import { buildCommandEnvironment, registerCommand } from '../../src/register/command.js';
import { isGoneWithin } from '../helpers/process-state.js';
import { registerSettings } from '../helpers/settings.js';
import { candidate } from './builders.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-select-command-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const facts = { clientId: 'client-7f3a', hostname: 'laptop-42', version: '0.1.0' };

function run(command: string, timeoutMs = 5000, env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal) {
  return registerCommand(
    candidate({ host: '2001:db8::20', port: 52311, address: '2001:db8::20', distance: 4, pool: 'branch-lyon' }),
    facts,
    registerSettings({ mode: 'command', command, timeoutMs }),
    { env, signal },
  );
}

describe('registerCommand', () => {
  it('passes the relay and the endpoint facts in RELAY_SELECT_* variables', async () => {
    const out = join(dir, 'env.txt');
    const outcome = await run('env | grep ^RELAY_SELECT_ | sort > "$OUT_FILE"', 5000, {
      ...process.env,
      OUT_FILE: out,
    });
    expect(outcome).toEqual({ status: 'registered', detail: 'register.command exited 0' });
    const variables = Object.fromEntries(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(variables).toEqual({
      RELAY_SELECT_HOST: '2001:db8::20',
      RELAY_SELECT_PORT: '52311',
      RELAY_SELECT_ADDRESS: '2001:db8::20',
      RELAY_SELECT_DISTANCE: '4',
      RELAY_SELECT_RTT_MS: '0.5',
      RELAY_SELECT_POOL: 'branch-lyon',
      RELAY_SELECT_CLIENT_ID: 'client-7f3a',
      RELAY_SELECT_HOSTNAME: 'laptop-42',
      RELAY_SELECT_VERSION: '0.1.0',
    });
  });

  it('gives empty strings for an unknown distance and address', () => {
    const env = buildCommandEnvironment(
      candidate({ host: '[2001:db8::1]', address: null, distance: null, rttMs: null }),
      facts,
    );
    expect(env).toMatchObject({
      RELAY_SELECT_HOST: '2001:db8::1',
      RELAY_SELECT_ADDRESS: '',
      RELAY_SELECT_DISTANCE: '',
      RELAY_SELECT_RTT_MS: '',
    });
  });

  it('maps exit 75 (EX_TEMPFAIL) to upstream-down', async () => {
    expect(await run('echo "server down" >&2; exit 75')).toEqual({
      status: 'upstream-down',
      detail: 'register.command exited 75 (EX_TEMPFAIL): server down',
    });
  });

  it('maps another exit code to failed with the first line of stderr', async () => {
    expect(await run('printf "relay refused\\nmore detail\\n" >&2; exit 3')).toEqual({
      status: 'failed',
      detail: 'register.command exited 3: relay refused',
    });
    expect(await run('exit 1')).toEqual({ status: 'failed', detail: 'register.command exited 1' });
  });

  it('reports a hook killed by a signal', async () => {
    expect(await run('kill -9 $$')).toEqual({ status: 'failed', detail: 'register.command killed by SIGKILL' });
  });

  it('stops a hook that outlives register.timeoutMs, children included', async () => {
    const pidFile = join(dir, 'child.pid');
    const started = performance.now();
    const outcome = await run(`sleep 30 & echo $! > "${pidFile}"; wait`, 300);
    expect(outcome).toEqual({ status: 'failed', detail: 'register.command timed out after 300 ms' });
    expect(performance.now() - started).toBeLessThan(3000);
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    expect(childPid).toBeGreaterThan(1);
    expect(await isGoneWithin(childPid, 3000)).toBe(true);
  });

  it('does not wait for a background child that keeps stderr open', async () => {
    const started = performance.now();
    const outcome = await run('(sleep 3 >/dev/null 2>&1 &) ; sleep 3 & exit 0', 5000);
    expect(outcome.status).toBe('registered');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('rejects with ABORTED when the signal fires', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(run('sleep 5', 5000, process.env, controller.signal)).rejects.toSatisfy(
      (error: unknown) => isRelaySelectError(error) && error.code === 'ABORTED',
    );
  });

  it('throws CONFIG_INVALID without register.command', async () => {
    await expect(registerCommand(candidate(), facts, registerSettings({ mode: 'command' }))).rejects.toSatisfy(
      (error: unknown) =>
        isRelaySelectError(error) && error.code === 'CONFIG_INVALID' && error.message.startsWith('register.command:'),
    );
  });
});
