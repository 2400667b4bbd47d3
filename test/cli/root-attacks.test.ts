/**
 * relay-select runs as root on every endpoint; another local user (here uid 65534, planting with
 * setpriv) must not be able to make it run their code, read their settings, or write through their
 * links (issue 8, DESIGN §12). Each attack is planted as that user, the real CLI runs as root, and the
 * test checks the refusal — exit status, the message naming the path, what was found and the fix — and
 * that no file outside the state directory changed (nor inside it, where the refusal is of the state
 * directory itself).
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLabRecord } from '../../src/lab/lab-record.js';
import { privateNetworkPrefix, runCli, type CliRun } from '../helpers/cli.js';
import { AS_NOBODY, NOBODY_UID } from '../helpers/readable-copy.js';
import { isRoot } from '../helpers/root.js';

const PRIVATE_NETWORK = privateNetworkPrefix();
const skipReason = !isRoot
  ? 'needs root: the attacks are planted as uid 65534 against relay-select running as root'
  : spawnSync('setpriv', ['--version']).status !== 0
    ? 'needs setpriv (util-linux) to plant files as uid 65534'
    : PRIVATE_NETWORK === undefined
      ? 'needs unshare(1) to run the CLI in a network namespace of its own'
      : undefined;

let world: string;
/** A file the attacks point their links at: root's, and it must never change. */
let victim: string;
/** What planted code would create if it ever ran as root. */
let marker: string;
/** A relay list and settings root trusts. */
let trustedList: string;
let trustedConfig: string;

/** Runs a shell script as uid 65534 without groups: how every attack is planted. */
function asNobody(script: string): void {
  execFileSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), 'sh', '-ec', script], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A directory of the world for one attack, owned by `uid`, mode `mode`. */
function directory(name: string, uid = 0, mode = 0o755): string {
  const target = path.join(world, name);
  mkdirSync(target, { recursive: true });
  chownSync(target, uid, uid);
  chmodSync(target, mode);
  return target;
}

interface EntrySnapshot {
  kind: string;
  mode: number;
  uid: number;
  content: string;
}

/** Every entry below the world but `exceptState` (a state directory the run may write): kind, mode, owner, content. */
function snapshot(exceptState?: string): Map<string, EntrySnapshot> {
  const entries = new Map<string, EntrySnapshot>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const entry = path.join(current, name);
      if (entry === exceptState) continue;
      const info = lstatSync(entry);
      const kind = info.isSymbolicLink() ? 'link' : info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other';
      const content =
        kind === 'link'
          ? readlinkSync(entry)
          : kind === 'file'
            ? createHash('sha256').update(readFileSync(entry)).digest('hex')
            : '';
      entries.set(entry, { kind, mode: info.mode & 0o7777, uid: info.uid, content });
      if (kind === 'dir') walk(entry);
    }
  };
  walk(world);
  return entries;
}

/** The CLI as root, in a network namespace of its own; asserts the world outside `stateDir` is as it was. */
async function runAsRoot<Json = unknown>(
  args: readonly string[],
  options: { cwd?: string; stateDir?: string } = {},
): Promise<CliRun<Json>> {
  const before = snapshot(options.stateDir);
  const run = await runCli<Json>(args, { cwd: options.cwd ?? world, prefix: PRIVATE_NETWORK, timeoutMs: 20_000 });
  const after = snapshot(options.stateDir);
  expect(after, `files outside ${options.stateDir ?? 'the world'} changed`).toEqual(before);
  expect(readFileSync(victim, 'utf8')).toBe('root only\n');
  expect(statSync(victim).uid).toBe(0);
  expect(existsSync(marker), 'planted code ran as root').toBe(false);
  expect(run.stderr).not.toMatch(/\n\s+at |internal error/);
  return run;
}

/** A cron `run` on the trusted relay list with `stateDir`, registering nowhere. */
const cronRun = (stateDir: string): string[] => [
  'run',
  '--relays',
  trustedList,
  '--state-dir',
  stateDir,
  '--set',
  'register.mode=none',
];

/** `plan` on the trusted relay list, then `more`. */
const trustedPlan = (...more: string[]): string[] => ['plan', '--relays', trustedList, ...more];

/** A forced `run` on the trusted relay list with `stateDir`, registering over HTTPS with these `register.tls.*` settings. */
const httpsRun = (stateDir: string, ...tlsSettings: string[]): string[] => [
  'run',
  '--force',
  '--relays',
  trustedList,
  '--state-dir',
  stateDir,
  '--set',
  'register.scheme=https',
  ...tlsSettings.flatMap((setting) => ['--set', `register.tls.${setting}`]),
];

/** Code that, run as root, would leave the marker behind. */
const plantedCode = (): string =>
  `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'planted code ran as root');\nmodule.exports = {};\n`;

beforeAll(() => {
  if (skipReason !== undefined) return;
  world = mkdtempSync(path.join(tmpdir(), 'relay-select-attacks-'));
  chmodSync(world, 0o755);
  victim = path.join(world, 'victim.txt');
  writeFileSync(victim, 'root only\n', { mode: 0o644 });
  marker = path.join(world, 'PLANTED-CODE-RAN');
  const trusted = directory('trusted');
  trustedList = path.join(trusted, 'Relay.dat');
  writeFileSync(trustedList, '198.18.0.1\n');
  trustedConfig = path.join(trusted, 'config.json');
  writeFileSync(trustedConfig, '{"maximumTtlToPing": 30}\n');
});
afterAll(() => {
  if (world !== undefined) rmSync(world, { recursive: true, force: true });
});

describe.skipIf(skipReason !== undefined)(
  `attacks planted by another user against relay-select as root${skipReason === undefined ? '' : ` — skipped: ${skipReason}`}`,
  () => {
    it('a code config planted in a parent directory of the working directory is never searched for, let alone run', async () => {
      const parent = directory('parent-code', NOBODY_UID);
      asNobody(`mkdir ${parent}/work && cat > ${parent}/.relay-selectrc.cjs <<'EOF'\n${plantedCode()}EOF`);
      const run = await runAsRoot(trustedPlan('--verbose'), { cwd: path.join(parent, 'work') });
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(
        /running as root: settings come from \/etc\/relay-select\/config\.json or --config only, never from a search of the working directory/,
      );
      // Named with --config, it is refused as untrusted code.
      const named = await runAsRoot(trustedPlan('--config', path.join(parent, '.relay-selectrc.cjs')));
      expect(named.code).toBe(78);
      expect(named.stderr).toContain(
        `JavaScript config ${parent}/.relay-selectrc.cjs is not trusted: owned by uid 65534, mode 0644 — chown root ${parent}/.relay-selectrc.cjs`,
      );
    });

    it('a .config/config.js and a package.json in the working directory are not read with --config', async () => {
      const cwd = directory('cwd-meta', NOBODY_UID);
      asNobody(
        `mkdir ${cwd}/.config && cat > ${cwd}/.config/config.js <<'EOF'\n${plantedCode()}EOF\necho '{"cosmiconfig": {"searchPlaces": [".config/config.js"]}, "relay-select": {"register": {"mode": "command", "command": "touch ${marker}"}}}' > ${cwd}/package.json`,
      );
      const run = await runAsRoot<{ maximumTtlToPing: number }>(trustedPlan('--config', trustedConfig, '--json'), {
        cwd,
      });
      expect(run.code).toBe(0);
      // The setting of the trusted --config (30, not the default 255) is the one in force.
      expect(run.json.maximumTtlToPing).toBe(30);
    });

    it('$import of a planted JavaScript file is refused, naming it, its owner and the fix', async () => {
      const theirs = directory('import-theirs', NOBODY_UID);
      asNobody(
        `cat > ${theirs}/evil.cjs <<'EOF'\n${plantedCode()}EOF\necho '{"maximumTtlToPing": 3}' > ${theirs}/data.json`,
      );
      const config = path.join(directory('import-ours'), 'config.json');
      writeFileSync(config, JSON.stringify({ $import: path.join(theirs, 'evil.cjs') }));
      const code = await runAsRoot(trustedPlan('--config', config));
      expect(code.code).toBe(78);
      expect(code.stderr).toContain(
        `JavaScript config ${theirs}/evil.cjs is not trusted: owned by uid 65534, mode 0644 — chown root ${theirs}/evil.cjs`,
      );
      // As root, settings data from another user is refused too.
      writeFileSync(config, JSON.stringify({ $import: [path.join(theirs, 'data.json')] }));
      const data = await runAsRoot(trustedPlan('--config', config));
      expect(data.code).toBe(78);
      expect(data.stderr).toContain(`settings file ${theirs}/data.json is not trusted: owned by uid 65534`);
    });

    it('a world-writable config with a register.command is refused before anything runs', async () => {
      const shared = directory('writable-config', 0, 0o1777);
      asNobody(
        `umask 0; echo '{"register": {"mode": "command", "command": "touch ${marker}"}}' > ${shared}/config.json`,
      );
      const state = path.join(directory('writable-config-state', 0, 0o700), 'state');
      const theirs = await runAsRoot(
        ['run', '--force', '--relays', trustedList, '--config', path.join(shared, 'config.json'), '--state-dir', state],
        { stateDir: state },
      );
      expect(theirs.code).toBe(78);
      expect(theirs.stderr).toContain(
        `settings file ${shared}/config.json is not trusted: owned by uid 65534, mode 0666 — chown root ${shared}/config.json && chmod go-w ${shared}/config.json`,
      );
      // Root's file, left writable by everyone and filled by another user: refused just the same.
      const ours = path.join(directory('writable-config-ours'), 'config.json');
      writeFileSync(ours, '{}');
      chmodSync(ours, 0o666);
      asNobody(`echo '{"register": {"mode": "command", "command": "touch ${marker}"}}' > ${ours}`);
      const filled = await runAsRoot(
        ['run', '--force', '--relays', trustedList, '--config', ours, '--state-dir', state],
        { stateDir: state },
      );
      expect(filled.code).toBe(78);
      expect(filled.stderr).toContain(
        `settings file ${ours} is not trusted: owned by uid 0, mode 0666 — chmod go-w ${ours}`,
      );
      expect(existsSync(state)).toBe(false);
    });

    it('a planted relay list, clientsettings.cfg or TLS CA is refused (78), a readable TLS key too', async () => {
      const theirs = directory('inputs-theirs', NOBODY_UID);
      asNobody(
        `echo 198.18.0.66 > ${theirs}/Relay.dat; echo _BESClient_RelaySelect_MaximumTTLToPing=2 > ${theirs}/clientsettings.cfg; echo not-a-ca > ${theirs}/ca.pem`,
      );
      const state = path.join(directory('inputs-state', 0, 0o700), 'state');
      const list = await runAsRoot(['plan', '--relays', path.join(theirs, 'Relay.dat')]);
      expect(list.code).toBe(78);
      expect(list.stderr).toContain(`relay list ${theirs}/Relay.dat is not trusted: owned by uid 65534`);
      const client = await runAsRoot(trustedPlan('--client-settings', path.join(theirs, 'clientsettings.cfg')));
      expect(client.code).toBe(78);
      expect(client.stderr).toContain(
        `clientsettings file ${theirs}/clientsettings.cfg is not trusted: owned by uid 65534`,
      );
      const ca = await runAsRoot(httpsRun(state, `ca=${theirs}/ca.pem`), { stateDir: state });
      expect(ca.code).toBe(78);
      expect(ca.stderr).toContain(`register.tls.ca ${theirs}/ca.pem is not trusted: owned by uid 65534`);
      const keyDirectory = directory('inputs-key');
      writeFileSync(path.join(keyDirectory, 'client.pem'), 'x');
      writeFileSync(path.join(keyDirectory, 'client.key'), 'x', { mode: 0o644 });
      const key = await runAsRoot(
        httpsRun(state, `cert=${keyDirectory}/client.pem`, `key=${keyDirectory}/client.key`),
        { stateDir: state },
      );
      expect(key.code).toBe(78);
      expect(key.stderr).toContain(
        `register.tls.key ${keyDirectory}/client.key is not trusted: owned by uid 0, mode 0644 — chmod 600 ${keyDirectory}/client.key`,
      );
    });

    it('symbolic links planted as the cache, state, lock, client id and temporary names of a 0777 state directory: refused, nothing written through them', async () => {
      const base = directory('links');
      const state = directory('links/state', 0, 0o777);
      const elsewhere = directory('links/elsewhere', NOBODY_UID);
      const names = [
        'relay-list.cache',
        'state.json',
        'client-id',
        '.state.json.0123456789abcdef.tmp',
        'state.json.4242',
        '.run.lock.1.x',
      ];
      asNobody(
        `${names.map((name) => `ln -s ${victim} ${state}/${name}`).join('; ')}; ln -s ${elsewhere} ${state}/run.lock`,
      );
      for (const args of [
        cronRun(state),
        ['run', '--dry-run', '--relays', trustedList, '--state-dir', state],
        ['status', '--state-dir', state],
        ['report-failure', '--state-dir', state],
      ]) {
        // The state directory itself is refused, so nothing in it may change either.
        const run = await runAsRoot(args);
        expect(run.code, args.join(' ')).toBe(73);
        expect(run.stderr).toContain(
          `state directory ${state} is not trusted: owned by uid 0, mode 0777 — chmod go-w ${state}`,
        );
      }
      // Root closes the directory but leaves what was planted: each link is still refused, by name.
      chmodSync(state, 0o700);
      const stateLink = await runAsRoot(cronRun(state));
      expect(stateLink.code).toBe(73);
      // The lock is taken first: run.lock is refused as a link before anything is read.
      expect(stateLink.stderr).toContain(
        `the run lock ${state}/run.lock is a symbolic link, not a regular file — rm ${state}/run.lock`,
      );
      rmSync(path.join(state, 'run.lock'));
      const afterLock = await runAsRoot(cronRun(state));
      expect(afterLock.code).toBe(73);
      expect(afterLock.stderr).toContain(
        `the state file ${state}/state.json is a symbolic link, not a regular file — rm ${state}/state.json (relay-select writes its own)`,
      );
      expect(existsSync(path.join(state, 'run.lock')), 'the lock is released').toBe(false);
      rmSync(path.join(state, 'state.json'));
      const cache = await runAsRoot(cronRun(state));
      expect(cache.code).toBe(73);
      expect(cache.stderr).toMatch(
        new RegExp(
          `(the client id file ${state}/client-id|the cached relay list ${state}/relay-list\\.cache) is a symbolic link`,
        ),
      );
      const status = await runAsRoot(['status', '--state-dir', state]);
      expect(status.code).toBe(0);
      expect(readdirSync(base).sort()).toEqual(['elsewhere', 'state']);
    });

    it('a state directory owned by another user, or below one, is refused with the chown that fixes it', async () => {
      const theirs = directory('owned-state', NOBODY_UID, 0o755);
      const run = await runAsRoot(cronRun(theirs));
      expect(run.code).toBe(73);
      expect(run.stderr).toContain(
        `state directory ${theirs} is not trusted: owned by uid 65534, mode 0755 — chown root ${theirs}`,
      );
      const parent = directory('owned-parent', NOBODY_UID, 0o755);
      const below = path.join(parent, 'state');
      mkdirSync(below, { mode: 0o700 });
      const nested = await runAsRoot(['status', '--state-dir', below]);
      expect(nested.code).toBe(73);
      expect(nested.stderr).toContain(
        `state directory ${below}: ${parent} is not trusted: owned by uid 65534, mode 0755 — chown root ${parent}`,
      );
    });

    it("a state file planted as another user's is refused; a run writes only root's own files, 0600", async () => {
      const state = directory('planted-state', 0, 0o777);
      asNobody(
        `echo '{"version": 1, "clientId": "theirs", "current": null, "lastSelectionAt": null, "lastAttemptAt": null, "failingSince": null, "retry": null}' > ${state}/state.json`,
      );
      chmodSync(state, 0o700);
      const planted = await runAsRoot(['status', '--state-dir', state]);
      expect(planted.code).toBe(73);
      expect(planted.stderr).toContain(
        `the state file ${state}/state.json is not trusted: owned by uid 65534, mode 0644 — chown root ${state}/state.json`,
      );
      rmSync(path.join(state, 'state.json'));
      const clean = path.join(directory('clean-state-parent', 0, 0o755), 'state');
      const run = await runAsRoot(
        [
          'run',
          '--force',
          '--relays',
          trustedList,
          '--state-dir',
          clean,
          '--seek-list',
          'nomatch',
          '--set',
          'failoverRelays=127.0.0.1:9',
          '--set',
          'register.mode=none',
        ],
        { stateDir: clean },
      );
      expect(run.code).toBe(69);
      for (const name of readdirSync(clean)) {
        const info = lstatSync(path.join(clean, name));
        expect({ name, uid: info.uid, mode: info.mode & 0o777, file: info.isFile() }).toEqual({
          name,
          uid: 0,
          mode: 0o600,
          file: true,
        });
      }
      expect(readdirSync(clean).sort()).toEqual(['client-id', 'relay-list.cache', 'state.json']);
      expect(statSync(clean).mode & 0o777).toBe(0o700);
    });

    it("lab records are written only where no other user can plant a record for 'lab down' to act on", () => {
      const theirs = directory('lab-records', NOBODY_UID, 0o755);
      const record = {
        prefix: 'rsattack',
        topology: 'x',
        namespaces: [],
        pids: [],
        directory: path.join(tmpdir(), 'relay-select-lab-rsattack-x'),
        createdAt: new Date().toISOString(),
        kept: false,
      };
      expect(() => writeLabRecord(record, theirs)).toThrow(
        expect.objectContaining({
          code: 'STATE_UNTRUSTED',
          message: `lab record directory ${theirs} is not trusted: owned by uid 65534, mode 0755`,
        }),
      );
      expect(readdirSync(theirs)).toEqual([]);
    });
  },
);
