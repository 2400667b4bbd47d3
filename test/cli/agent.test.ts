/**
 * `relay-select agent` as a process (bin/relay-select.js over dist/), on loopback: the cycle of `run` at
 * start, the run lock held for its whole life (a cron `run` exits 75, `status` works), SIGHUP reloading the
 * relay list (or refusing bad settings and keeping the old ones), SIGTERM ending it with exit 0 and the lock
 * released; and the refusals before it starts (an untrusted key file, a bad --check-interval).
 * The peers between real processes on a real link are test/lab/agent-peers.test.ts.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchAgentProcess, type AgentJsonEvent, type LabAgent } from '../../src/lab/agent-lab.js';
import { startStubServer, type StubServer } from '../../src/lab/stub-relay/stub-server.js';
import { CLI, cliEnvironment, REPO_ROOT, runCli } from '../helpers/cli.js';
import { missingBuildReason } from '../helpers/e2e-lab.js';
import { isRoot } from '../helpers/root.js';

const directory = mkdtempSync(join(tmpdir(), 'relay-select-agent-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const relaysFile = join(directory, 'Relay.dat');
const configFile = join(directory, 'config.json');
const stateDir = join(directory, 'state');
const fileArgs = ['--relays', relaysFile, '--config', configFile, '--state-dir', stateDir];
const config = {
  clientId: 'agent-cli',
  jitter: 0,
  probe: { timeoutMs: 500, tcpTimeoutMs: 500 },
  register: { timeoutMs: 2000 },
};
writeFileSync(configFile, JSON.stringify(config));

describe('relay-select agent refuses to start', () => {
  it('with a peer key file that others may read: exit 78, one line with the chmod that fixes it', async () => {
    const keyFile = join(directory, 'open.key');
    writeFileSync(keyFile, 'c2hhcmVkLXNlY3JldC1vZi10aGUtYnJhbmNoLW9mZmljZQ==\n');
    chmodSync(keyFile, 0o644);
    const result = await runCli([
      'agent',
      ...fileArgs,
      '--set',
      'peer.enabled=true',
      '--set',
      `peer.keyFile=${keyFile}`,
    ]);
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(
      `peer.keyFile ${keyFile} is not trusted: owned by uid ${process.geteuid!()}, mode 0644 — chmod 600 ${keyFile}`,
    );
  });

  it('with peer.enabled but no key file, or a bad --check-interval', async () => {
    const noKey = await runCli(['agent', ...fileArgs, '--set', 'peer.enabled=true']);
    expect(noKey.code).toBe(78);
    expect(noKey.stderr).toContain('peer.enabled is true but peer.keyFile is not set');
    const interval = await runCli(['agent', ...fileArgs, '--check-interval', '0']);
    expect(interval.code).toBe(64);
    expect(interval.stderr).toContain('--check-interval 0: expected whole seconds, 1..86400');
  });
});

const skipReason = !isRoot ? 'probes 127.0.0.1 through raw ICMP sockets, which need root here' : missingBuildReason();

describe.skipIf(skipReason !== undefined)(
  `relay-select agent on loopback${skipReason ? ` — skipped: ${skipReason}` : ''}`,
  () => {
    let first: StubServer;
    let second: StubServer;
    let agent: LabAgent;

    beforeAll(async () => {
      first = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'ok', name: 'first' });
      second = await startStubServer({ host: '127.0.0.1', port: 0, mode: 'ok', name: 'second' });
      writeFileSync(relaysFile, `127.0.0.1:${first.port}\n`);
      agent = watchAgentProcess(
        spawn(process.execPath, [CLI, 'agent', '--json', ...fileArgs, '--check-interval', '3600'], {
          cwd: REPO_ROOT,
          env: cliEnvironment(),
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
        'loopback',
      );
    });

    afterAll(async () => {
      agent?.kill('SIGKILL');
      await Promise.all([first?.close(), second?.close()]);
    });

    const nextCycle = (from: number): Promise<AgentJsonEvent> =>
      agent.waitFor((event) => event.event === 'cycle', 'a cycle', { from });

    it('selects and registers at start, like run', async () => {
      const cycle = await nextCycle(0);
      expect(cycle).toMatchObject({
        trigger: 'start',
        action: 'selected',
        rule: 'first-run',
        relay: { host: '127.0.0.1', port: first.port },
        peerTable: null,
      });
      expect(first.registrations).toHaveLength(1);
      expect(agent.events[0]).toMatchObject({ event: 'started', stateDir, checkIntervalSeconds: 3600 });
    });

    it('holds the run lock: a cron run exits 75, status still works and shows no peers', async () => {
      const cron = await runCli(['run', ...fileArgs]);
      expect(cron.code).toBe(75);
      const status = await runCli(['status', '--json', ...fileArgs]);
      expect(status.code).toBe(0);
      expect(status.json).toMatchObject({ relay: { host: '127.0.0.1', port: first.port }, peer: null });
    });

    it('on SIGHUP reads the relay list again and selects when its relay left it', async () => {
      writeFileSync(relaysFile, `127.0.0.1:${second.port}\n`);
      const mark = agent.events.length;
      agent.kill('SIGHUP');
      await agent.waitFor((event) => event.event === 'reloaded', 'the reload', { from: mark });
      const cycle = await nextCycle(mark);
      expect(cycle).toMatchObject({
        trigger: 'reload',
        action: 'selected',
        rule: 'relay-removed',
        relay: { port: second.port },
      });
      expect(second.registrations).toHaveLength(1);
    });

    it('on SIGHUP with bad settings keeps the old ones and goes on', async () => {
      writeFileSync(configFile, JSON.stringify({ ...config, maximumTtlToPing: 999 }));
      const mark = agent.events.length;
      agent.kill('SIGHUP');
      const refused = await agent.waitFor((event) => event.event === 'reload-failed', 'the refused reload', {
        from: mark,
      });
      expect(refused).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(refused.message).toContain('maximumTtlToPing: 999 is out of range');
      const cycle = await nextCycle(mark);
      expect(cycle).toMatchObject({ action: 'kept', rule: 'healthy', relay: { port: second.port } });
      writeFileSync(configFile, JSON.stringify(config));
    });

    it('stops on SIGTERM with exit 0 and releases the lock', async () => {
      agent.kill('SIGTERM');
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(agent.last('stopped')).toBeDefined();
      const cron = await runCli(['run', '--json', ...fileArgs]);
      expect(cron.code).toBe(0);
      expect(cron.json).toMatchObject({ action: 'kept', peerTable: null, peerNotes: [] });
    });
  },
);
