/**
 * `relay-select doctor` through the real CLI, as root and as uid 65534 (a readable copy of the package, see
 * test/helpers/readable-copy.ts), each check failing once on purpose with a real cause: a world-writable
 * config file, a state directory owned by another user or on a full file system (a 1 MiB tmpfs in a mount
 * namespace of its own), a missing relay list, a relay port nobody listens on, a state written by a clock
 * that ran ahead, ICMP sockets closed by net.ipv4.ping_group_range in a namespace of this test, and a copy
 * of the package without its addon. The Node check fails only on an unsupported Node, which this machine
 * does not have: its judgement is a unit test (test/cli/doctor-checks.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, type LabNetwork } from '../../src/lab/netns/network.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { missingBuildReason } from '../helpers/e2e-lab.js';
import { AS_NOBODY, NOBODY_UID, createReadableCopy, type ReadableCopy } from '../helpers/readable-copy.js';
import { isRoot, NOT_ROOT_REASON } from '../helpers/root.js';

const ADDON_FILE = 'build/Release/relay_select_icmp.node';
const skipReason = !isRoot ? NOT_ROOT_REASON : missingBuildReason();

/** `text` as a regular expression that matches it literally. */
const literally = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

interface DoctorJson {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; summary: string; fix?: string }>;
}

describe.skipIf(skipReason !== undefined)(`relay-select doctor${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let root: string;
  /**
   * uid 65534's files: a directory it owns right under the sticky /tmp, as src/trust.ts requires of a
   * world-writable parent (only the owner of an entry in a sticky directory can rename it).
   */
  let nobodyRoot: string;
  let listener: Server;
  let listeningPort: number;
  let closedPort: number;
  let lab: LabNetwork;
  let copy: ReadableCopy;
  let copyWithoutAddon: ReadableCopy;

  const explain = (result: CliRun): string => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
  const checksOf = (result: CliRun): Record<string, { ok: boolean; summary: string; fix?: string }> =>
    Object.fromEntries((result.json as DoctorJson).checks.map((check) => [check.name, check]));
  const failed = (result: CliRun): string[] =>
    (result.json as DoctorJson).checks.filter((check) => !check.ok).map((check) => check.name);

  /** A setup every user can read: a trusted config, a relay list, a state directory, and a state whose relay listens. */
  function endpoint(
    name: string,
    state: Record<string, unknown> | null = healthyState(),
    base = root,
  ): { directory: string; config: string; relays: string; stateDir: string; args: string[] } {
    const directory = join(base, name);
    mkdirSync(directory, { mode: 0o755 });
    chmodSync(directory, 0o755);
    const config = join(directory, 'config.json');
    const relays = join(directory, 'Relay.dat');
    const stateDir = join(directory, 'state');
    writeFileSync(config, JSON.stringify({ probe: { tcpTimeoutMs: 500 } }), { mode: 0o644 });
    writeFileSync(relays, `127.0.0.1:${listeningPort} affiliation=Lab\n198.18.0.9\n`, { mode: 0o644 });
    mkdirSync(stateDir, { mode: 0o700 });
    if (state !== null) writeFileSync(join(stateDir, 'state.json'), JSON.stringify(state), { mode: 0o600 });
    return {
      directory,
      config,
      relays,
      stateDir,
      args: ['doctor', '--json', '--config', config, '--relays', relays, '--state-dir', stateDir],
    };
  }

  function healthyState(overrides: Record<string, unknown> = {}, port = listeningPort): Record<string, unknown> {
    const now = new Date().toISOString();
    return {
      version: 1,
      clientId: 'doctor-test',
      current: {
        host: '127.0.0.1',
        port,
        address: '127.0.0.1',
        distance: 0,
        rttMs: 0.1,
        pool: 'lab',
        method: 'echo-ttl',
        registeredAt: now,
      },
      lastSelectionAt: now,
      lastAttemptAt: now,
      failingSince: null,
      retry: null,
      ...overrides,
    };
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'relay-select-doctor-'));
    chmodSync(root, 0o755);
    nobodyRoot = mkdtempSync(join(tmpdir(), 'relay-select-doctor-nobody-'));
    chmodSync(nobodyRoot, 0o755);
    chownSync(nobodyRoot, NOBODY_UID, NOBODY_UID);
    listener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listeningPort = (listener.address() as { port: number }).port;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    // Two endpoints of this test's own: ping sockets open to every group in `open`, closed in `shut`.
    lab = await buildNetwork({
      routers: ['r'],
      hosts: [
        { name: 'open', attach: 'r' },
        { name: 'shut', attach: 'r' },
      ],
    });
    await lab.exec('open', ['sysctl', '-q', '-w', 'net.ipv4.ping_group_range=0 2147483647']);
    await lab.exec('shut', ['sysctl', '-q', '-w', 'net.ipv4.ping_group_range=1 0']);
    const made = createReadableCopy([ADDON_FILE]);
    if ('reason' in made) throw new Error(made.reason);
    copy = made;
    const bare = createReadableCopy();
    if ('reason' in bare) throw new Error(bare.reason);
    copyWithoutAddon = bare;
  }, 120_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => listener?.close(() => resolve()));
    await lab?.destroy();
    copy?.remove();
    copyWithoutAddon?.remove();
    if (root) rmSync(root, { recursive: true, force: true });
    if (nobodyRoot) rmSync(nobodyRoot, { recursive: true, force: true });
  }, 60_000);

  describe('as root', () => {
    it('passes every check on a sound endpoint and exits 0', async () => {
      const setup = endpoint('sound');
      const result = await runCli(setup.args);
      expect(result.code, explain(result)).toBe(0);
      expect((result.json as DoctorJson).ok).toBe(true);
      const checks = checksOf(result);
      expect(Object.keys(checks)).toEqual([
        'node',
        'code-cache',
        'addon',
        'icmp',
        'settings',
        'state-dir',
        'relay-list',
        'current-relay',
        'clock',
      ]);
      expect(checks.icmp!.summary).toMatch(/^(raw|ping) sockets \(probe\.transport auto\)/);
      expect(checks.settings!.summary).toContain(`${setup.config}, command line; the file is trusted`);
      expect(checks['relay-list']!.summary).toMatch(/: 2 relays; modified \d+ s ago$/);
      expect(checks['current-relay']!.summary).toBe(`127.0.0.1:${listeningPort} accepts TCP connections`);
      expect(checks['state-dir']!.summary).toMatch(/owned by uid 0, mode 0700\): .* free$/);
    });

    it('prints one line per check with ✔ or ✘ and the fix', async () => {
      const setup = endpoint('text');
      rmSync(setup.relays);
      const result = await runCli(setup.args.filter((arg) => arg !== '--json'));
      expect(result.code, explain(result)).toBe(1);
      const lines = result.stdout.trim().split('\n');
      expect(lines).toHaveLength(9);
      expect(lines.filter((line) => line.startsWith('✔ '))).toHaveLength(8);
      expect(lines).toContain(
        `✘ relay-list: ${setup.relays}: relay list not found — fix: create it (see relay-select.dat(5) for the format) or pass --relays FILE`,
      );
    });

    it('fails settings for a config file others can write, naming the chmod', async () => {
      const setup = endpoint('writable-config');
      chmodSync(setup.config, 0o666);
      const result = await runCli(setup.args);
      expect(result.code, explain(result)).toBe(1);
      expect(failed(result)).toEqual(['settings']);
      expect(checksOf(result).settings).toMatchObject({
        summary: expect.stringContaining(`${setup.config} is not trusted: owned by uid 0, mode 0666`),
        fix: expect.stringMatching(new RegExp(`^chmod go-w ${literally(setup.config)}\\b`)),
      });
    });

    it('fails state-dir for a state directory owned by another user', async () => {
      const setup = endpoint('foreign-state');
      chownSync(setup.stateDir, NOBODY_UID, NOBODY_UID);
      const result = await runCli(setup.args);
      expect(failed(result), explain(result)).toEqual(['state-dir']);
      expect(checksOf(result)['state-dir']).toMatchObject({
        summary: `${setup.stateDir} is not trusted: owned by uid ${NOBODY_UID}, mode 0700`,
        fix: `chown root ${setup.stateDir}`,
      });
    });

    it('fails state-dir for a full file system (a 1 MiB tmpfs, filled)', () => {
      const setup = endpoint('full-disk', null);
      const cli = ['node', join(process.cwd(), 'bin', 'relay-select.js'), ...setup.args]
        .map((arg) => `'${arg}'`)
        .join(' ');
      const script = `mount -t tmpfs -o size=1m,mode=0700 tmpfs '${setup.stateDir}' && (head -c 2097152 /dev/zero > '${setup.stateDir}/fill' 2>/dev/null || true) && NO_COLOR=1 exec ${cli}`;
      const result = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
        encoding: 'utf8',
        cwd: process.cwd(),
      });
      const json = JSON.parse(result.stdout) as DoctorJson;
      expect(
        json.checks.filter((check) => !check.ok).map((check) => check.name),
        result.stderr,
      ).toEqual(['state-dir']);
      expect(json.checks.find((check) => check.name === 'state-dir')).toMatchObject({
        summary: expect.stringMatching(/: only \d+ bytes free; a state write would fail$/),
        fix: expect.stringContaining('free space'),
      });
      expect(result.status).toBe(1);
    });

    it('fails relay-list for a list that does not parse', async () => {
      const setup = endpoint('bad-list');
      writeFileSync(setup.relays, 'this is = not a relay\n');
      const result = await runCli(setup.args);
      expect(failed(result), explain(result)).toEqual(['relay-list']);
      expect(checksOf(result)['relay-list']!.summary).toMatch(
        /Relay\.dat:1:6: error: unexpected "is"; expected key=value/,
      );
    });

    it('fails relay-list for a list others can write', async () => {
      const setup = endpoint('writable-list');
      chmodSync(setup.relays, 0o646);
      const result = await runCli(setup.args);
      expect(failed(result), explain(result)).toEqual(['relay-list']);
      expect(checksOf(result)['relay-list']).toMatchObject({
        summary: expect.stringContaining(`${setup.relays} is not trusted: owned by uid 0, mode 0646`),
        fix: expect.stringMatching(new RegExp(`^chmod go-w ${literally(setup.relays)}\\b`)),
      });
    });

    it('fails current-relay when nothing listens on the relay port', async () => {
      const setup = endpoint('dead-relay', healthyState({}, closedPort));
      const result = await runCli(setup.args);
      expect(failed(result), explain(result)).toEqual(['current-relay']);
      expect(checksOf(result)['current-relay']!.summary).toBe(
        `127.0.0.1:${closedPort} does not accept a TCP connection within 500 ms`,
      );
    });

    it('fails clock when the state was written a day ahead of this clock', async () => {
      const ahead = new Date(Date.now() + 86_400_000).toISOString();
      const setup = endpoint('clock', healthyState({ lastSelectionAt: ahead }));
      const result = await runCli(setup.args);
      expect(failed(result), explain(result)).toEqual(['clock']);
      expect(checksOf(result).clock).toMatchObject({
        summary: expect.stringContaining(`the state's lastSelectionAt (${ahead}) is 864`),
        fix: expect.stringContaining('timedatectl set-ntp true'),
      });
    });

    it('fails icmp when probe.transport is ping and ping_group_range leaves root out', async () => {
      const setup = endpoint('ping-only', null);
      const result = await runCli([...setup.args, '--set', 'probe.transport=ping'], {
        prefix: ['ip', 'netns', 'exec', lab.namespaceOf('shut')],
      });
      expect(failed(result), explain(result)).toEqual(['icmp']);
      expect(checksOf(result).icmp).toMatchObject({
        summary: expect.stringContaining('net.ipv4.ping_group_range is "1 0"'),
        fix: expect.stringContaining('sysctl -w net.ipv4.ping_group_range'),
      });
    });
  });

  describe('as uid 65534', () => {
    const asNobody = (namespace: string | null, args: string[], cli: () => string): Promise<CliRun> =>
      runCli(args, {
        cli: cli(),
        cwd: nobodyRoot,
        prefix: [...(namespace === null ? [] : ['ip', 'netns', 'exec', namespace]), ...AS_NOBODY],
      });

    it('passes with ping sockets where ping_group_range admits every group, and a state directory of its own', async () => {
      const setup = endpoint('nobody-sound', healthyState(), nobodyRoot);
      chownSync(setup.stateDir, NOBODY_UID, NOBODY_UID);
      chownSync(join(setup.stateDir, 'state.json'), NOBODY_UID, NOBODY_UID);
      const result = await asNobody(lab.namespaceOf('open'), setup.args, () => copy.cli);
      // The namespace has no route to 127.0.0.1's listener of the root namespace: the relay check fails there.
      expect(failed(result), explain(result)).toEqual(['current-relay']);
      expect(checksOf(result).icmp!.summary).toBe(
        `ping sockets (probe.transport auto): net.ipv4.ping_group_range "0 2147483647" admits group ${NOBODY_UID}; no privilege needed`,
      );
      expect(checksOf(result)['state-dir']!.summary).toContain(`owned by uid ${NOBODY_UID}, mode 0700`);
    });

    it('fails icmp where ping_group_range is closed: neither ping nor raw sockets', async () => {
      const setup = endpoint('nobody-shut', healthyState(), nobodyRoot);
      chownSync(setup.stateDir, NOBODY_UID, NOBODY_UID);
      chownSync(join(setup.stateDir, 'state.json'), NOBODY_UID, NOBODY_UID);
      const result = await asNobody(lab.namespaceOf('shut'), setup.args, () => copy.cli);
      expect(failed(result), explain(result)).toEqual(['icmp', 'current-relay']);
      expect(checksOf(result).icmp).toMatchObject({
        summary: expect.stringContaining('raw sockets need CAP_NET_RAW'),
        fix: expect.stringContaining('ping_group_range'),
      });
    });

    it('fails state-dir for a root-owned state directory it cannot write', async () => {
      const setup = endpoint('nobody-readonly', healthyState(), nobodyRoot);
      chmodSync(setup.stateDir, 0o755);
      chmodSync(join(setup.stateDir, 'state.json'), 0o644);
      const result = await asNobody(null, setup.args, () => copy.cli);
      expect(failed(result), explain(result)).toContain('state-dir');
      expect(checksOf(result)['state-dir']).toMatchObject({
        summary: `${setup.stateDir} is not writable by uid ${NOBODY_UID} (owned by uid 0, mode 0755)`,
        fix: expect.stringContaining('--state-dir'),
      });
    });

    it('fails addon (and so icmp) in a copy of the package without its addon', async () => {
      const setup = endpoint('nobody-no-addon', healthyState(), nobodyRoot);
      chownSync(setup.stateDir, NOBODY_UID, NOBODY_UID);
      chownSync(join(setup.stateDir, 'state.json'), NOBODY_UID, NOBODY_UID);
      const result = await asNobody(null, setup.args, () => copyWithoutAddon.cli);
      expect(result.code, explain(result)).toBe(1);
      expect(checksOf(result).addon).toMatchObject({
        ok: false,
        summary: expect.stringContaining('the ICMP addon is not built'),
        fix: expect.stringContaining('npm rebuild relay-select'),
      });
      expect(checksOf(result).icmp).toMatchObject({
        ok: false,
        summary: 'cannot tell which ICMP sockets would open: the addon does not load',
      });
    });
  });
});
