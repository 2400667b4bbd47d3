import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import {
  chmod,
  chown,
  lstat,
  lutimes,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../helpers/fake-clock.js';
import { emptyState, stateSchema } from '../../src/cycle/state.js';
import {
  cacheRelayList,
  createStateStore,
  digestRelayList,
  loadOrCreateClientId,
  readCachedRelayList,
  readClientId,
  readPeerViewFile,
  writePeerViewFile,
} from '../../src/cycle/state-store.js';
import { isRelaySelectError } from '../../src/errors.js';
import { state } from './builders.js';
import { builtModule } from '../helpers/built.js';
import { isRoot } from '../helpers/root.js';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'relay-select-state-'));
});
afterEach(async () => {
  await chmod(directory, 0o700).catch(() => undefined);
  await rm(directory, { recursive: true, force: true });
});

function mode(info: { mode: number }): number {
  return info.mode & 0o777;
}

describe('state store', () => {
  it('reads null when there is no state yet', async () => {
    expect(await createStateStore(path.join(directory, 'missing')).read()).toEqual({ state: null });
  });

  it('round-trips a state, with file mode 0600 in a created 0700 directory', async () => {
    const stateDir = path.join(directory, 'deep', 'state');
    const store = createStateStore(stateDir);
    const written = state({
      failingSince: '2024-03-01T12:05:00.000Z',
      relayListDigest: 'ab12',
      lastHealthCheck: { at: '2024-03-01T12:05:00.000Z', result: 'failing', detail: 'timeout' },
    });
    await store.write(written);
    expect(await store.read()).toEqual({ state: written });
    expect(mode(await stat(stateDir))).toBe(0o700);
    expect(mode(await stat(store.path))).toBe(0o600);
    const text = await readFile(store.path, 'utf8');
    expect(JSON.parse(text)).toEqual(written);
    // Rewriting keeps the mode and leaves no temporary file.
    await store.write(emptyState('again'));
    expect(mode(await stat(store.path))).toBe(0o600);
    expect(await readdir(stateDir)).toEqual(['state.json']);
  });

  it('moves a corrupt file aside, reports it, and a clean state can be written after', async () => {
    const clock = createFakeClock('2024-05-06T07:08:09.010Z');
    const store = createStateStore(directory, { clock });
    await writeFile(store.path, '{"version": 1, "clientId": "trunc');
    const result = await store.read();
    expect(result.state).toBeNull();
    expect(result.recovered?.movedTo).toBe(path.join(directory, 'state.json.corrupt-2024-05-06T07-08-09.010Z'));
    expect(result.recovered?.reason).toMatch(/not valid JSON/);
    expect(await readFile(result.recovered!.movedTo!, 'utf8')).toBe('{"version": 1, "clientId": "trunc');
    await store.write(emptyState('fresh'));
    expect((await store.read()).state?.clientId).toBe('fresh');
  });

  it('moves a file of another version aside and names the version', async () => {
    const store = createStateStore(directory);
    await writeFile(store.path, JSON.stringify({ ...emptyState('x'), version: 2 }));
    const result = await store.read();
    expect(result.state).toBeNull();
    expect(result.recovered?.reason).toMatch(/unsupported state version 2 \(expected 1\)/);
    await expect(stat(store.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('moves a schema-invalid file aside and names the field', async () => {
    const store = createStateStore(directory);
    await writeFile(store.path, JSON.stringify({ ...emptyState('x'), failingSince: 'yesterday' }));
    const result = await store.read();
    expect(result.recovered?.reason).toMatch(/failingSince/);
  });

  it('removes temporary files a killed writer left behind once they are old, and nothing else', async () => {
    const clock = createFakeClock('2024-05-06T12:00:00.000Z');
    const elevenMinutesAgo = new Date('2024-05-06T11:49:00.000Z');
    const old = ['state.json.123', 'client-id.456', 'relay-list.cache.789', 'notes.txt.123'];
    for (const name of [...old, 'state.json.999']) await writeFile(path.join(directory, name), 'x');
    for (const name of old) await utimes(path.join(directory, name), elevenMinutesAgo, elevenMinutesAgo);
    await utimes(path.join(directory, 'state.json.999'), clock.now(), clock.now());
    await createStateStore(directory, { clock }).read();
    expect((await readdir(directory)).sort()).toEqual(['notes.txt.123', 'state.json.999']);
  });

  it.skipIf(isRoot)(
    `an unwritable directory throws STATE_UNWRITABLE${isRoot ? ' — skipped as root: root bypasses file modes' : ''}`,
    async () => {
      await chmod(directory, 0o500);
      const error = await createStateStore(directory)
        .write(emptyState('x'))
        .catch((e: unknown) => e);
      expect(isRelaySelectError(error) && error.code).toBe('STATE_UNWRITABLE');
    },
  );

  it('a state path that cannot be created throws STATE_UNWRITABLE (even as root)', async () => {
    const blocker = path.join(directory, 'not-a-dir');
    await writeFile(blocker, 'x');
    const error = await createStateStore(path.join(blocker, 'state'))
      .write(emptyState('x'))
      .catch((e: unknown) => e);
    expect(isRelaySelectError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('STATE_UNWRITABLE');
    expect((error as Error).message).toContain(blocker);
  });

  it('a failed rename (state.json is a directory) throws STATE_UNWRITABLE, not silence', async () => {
    const store = createStateStore(directory);
    await mkdir(path.join(store.path, 'child'), { recursive: true });
    await expect(store.write(emptyState('x'))).rejects.toMatchObject({ code: 'STATE_UNWRITABLE' });
  });

  it('refuses to write a state it would not read back', async () => {
    const bad = { ...emptyState('x'), lastSelectionAt: 'not a time' };
    await expect(createStateStore(directory).write(bad)).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});

describe('client id', () => {
  it('is generated once, kept in client-id (0600), and read back', async () => {
    const stateDir = path.join(directory, 's');
    const first = await loadOrCreateClientId(stateDir);
    expect(first).toMatch(/^[0-9a-f-]{36}$/);
    expect(await loadOrCreateClientId(stateDir)).toBe(first);
    expect(mode(await stat(path.join(stateDir, 'client-id')))).toBe(0o600);
    expect(mode(await stat(stateDir))).toBe(0o700);
  });

  it('concurrent creators agree on one id', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateClientId(directory)));
    expect(new Set(ids).size).toBe(1);
    expect((await readFile(path.join(directory, 'client-id'), 'utf8')).trim()).toBe(ids[0]);
    expect((await readdir(directory)).sort()).toEqual(['client-id']);
  });

  it('is read without being created (dry run)', async () => {
    expect(await readClientId(directory)).toBeNull();
    expect(await readdir(directory)).toEqual([]);
    await writeFile(path.join(directory, 'client-id'), 'not an id\n');
    expect(await readClientId(directory)).toBeNull();
    const created = await loadOrCreateClientId(directory);
    expect(await readClientId(directory)).toBe(created);
  });

  it('replaces an empty file instead of trusting it', async () => {
    await writeFile(path.join(directory, 'client-id'), '\n');
    const id = await loadOrCreateClientId(directory);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await loadOrCreateClientId(directory)).toBe(id);
  });
});

describe('relay list cache', () => {
  it('returns null before anything is cached, then the last list', async () => {
    expect(await readCachedRelayList(directory)).toBeNull();
    await cacheRelayList(directory, 'relay-a\n');
    await cacheRelayList(directory, 'relay-b\n');
    expect(await readCachedRelayList(directory)).toEqual({ text: 'relay-b\n', digest: digestRelayList('relay-b\n') });
    expect(mode(await stat(path.join(directory, 'relay-list.cache')))).toBe(0o600);
    expect(digestRelayList('relay-b\n')).toMatch(/^[0-9a-f]{64}$/);
    expect(digestRelayList('relay-b\n')).not.toBe(digestRelayList('relay-a\n'));
  });

  it('records the digest of the text on its first line, and trusts it only while the text has the length it records', async () => {
    const text = 'relay-é\n198.18.0.1\n';
    await cacheRelayList(directory, text);
    const file = path.join(directory, 'relay-list.cache');
    const written = await readFile(file, 'utf8');
    expect(written).toBe(
      `# relay-select: last good relay list, ${Buffer.byteLength(text)} bytes, sha256 ${digestRelayList(text)}\n${text}`,
    );
    // Edited by hand (or cut short): the text is still the cache's, its digest is no longer known.
    await writeFile(file, `${written}198.18.0.2\n`);
    expect(await readCachedRelayList(directory)).toEqual({ text: `${text}198.18.0.2\n`, digest: null });
    // Written before the first line existed: the whole file is the text.
    await writeFile(file, text);
    expect(await readCachedRelayList(directory)).toEqual({ text, digest: null });
  });
});

describe('crash safety', () => {
  it('SIGKILL at 200 random moments during writes: the file always parses to the old or the new state', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/write-state-loop.mjs', import.meta.url));
    const storeModule = builtModule('cycle/state-store');
    // Two lanes of 100 kills each: two CPUs' worth of node start-ups keeps this under ~30 s on an idle
    // machine; the limit leaves room for the other unit files (the bad-input corpus) running beside it.
    const lanes = 2;
    const killsPerLane = 100;
    const runLane = async (lane: number): Promise<number> => {
      const stateDir = path.join(directory, `lane-${lane}`);
      const store = createStateStore(stateDir);
      let lastSeen = 0;
      for (let kill = 0; kill < killsPerLane; kill++) {
        const child = spawn(process.execPath, [fixture, storeModule, stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        const exited = new Promise<NodeJS.Signals | null>((resolve) =>
          child.on('exit', (_code, signal) => resolve(signal)),
        );
        await new Promise<void>((resolve, reject) => {
          child.stdout.once('data', () => resolve());
          child.once('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
        });
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
        child.kill('SIGKILL');
        expect(await exited).toBe('SIGKILL');
        const result = await store.read();
        expect(result.recovered).toBeUndefined();
        expect(result.state).not.toBeNull();
        if (result.state === null) continue;
        expect(stateSchema.parse(result.state)).toEqual(result.state);
        const attempt = result.state.retry?.attempt ?? 0;
        expect(result.state.retry?.reason).toBe('x'.repeat(attempt % 997));
        expect(attempt).toBeGreaterThan(lastSeen);
        lastSeen = attempt;
      }
      return (await readdir(stateDir)).filter((name) => /^\.state\.json\.[0-9a-f]{16}\.tmp$/.test(name)).length;
    };
    const settled = await Promise.allSettled(Array.from({ length: lanes }, (_, lane) => runLane(lane)));
    const failure = settled.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    const leftovers = settled.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 0));
    // Temporary files left behind prove that kills landed in the middle of writes, not between them.
    expect(leftovers.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // 200 node start-ups: half a minute on an idle machine, minutes on one shared with other work.
  }, 240_000);
});

describe('a state directory that cannot be turned against its owner', () => {
  it('a read-only store (status, run --dry-run) reports a corrupt file and leaves it, and every leftover, in place', async () => {
    const clock = createFakeClock('2024-05-06T12:00:00.000Z');
    await writeFile(path.join(directory, 'state.json'), '{"version": 1, "clientId": "trunc');
    await writeFile(path.join(directory, 'state.json.123'), 'x');
    await utimes(
      path.join(directory, 'state.json.123'),
      new Date('2024-05-06T11:00:00.000Z'),
      new Date('2024-05-06T11:00:00.000Z'),
    );
    const store = createStateStore(directory, { clock, readOnly: true });
    const result = await store.read();
    expect(result).toMatchObject({
      state: null,
      recovered: { movedTo: null, reason: expect.stringMatching(/^not valid JSON/) },
    });
    expect((await readdir(directory)).sort()).toEqual(['state.json', 'state.json.123']);
    await expect(store.write(emptyState('x'))).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await createStateStore(path.join(directory, 'missing'), { readOnly: true }).read()).toEqual({ state: null });
    expect(await readdir(directory)).not.toContain('missing');
  });

  it('a symbolic link as state.json, client-id or the cache is refused (STATE_UNTRUSTED); nothing is read or written through it', async () => {
    const victim = path.join(directory, 'victim');
    await writeFile(victim, JSON.stringify(emptyState('victim')));
    const stateDir = path.join(directory, 'state');
    await mkdir(stateDir, { mode: 0o700 });
    for (const name of ['state.json', 'client-id', 'relay-list.cache', 'peer.json'])
      await symlink(victim, path.join(stateDir, name));
    await expect(createStateStore(stateDir).read()).rejects.toMatchObject({
      code: 'STATE_UNTRUSTED',
      message: `the state file ${path.join(stateDir, 'state.json')} is a symbolic link, not a regular file`,
      hint: `rm ${path.join(stateDir, 'state.json')} (relay-select writes its own)`,
    });
    await expect(loadOrCreateClientId(stateDir)).rejects.toMatchObject({ code: 'STATE_UNTRUSTED' });
    await expect(readClientId(stateDir)).rejects.toMatchObject({ code: 'STATE_UNTRUSTED' });
    await expect(readCachedRelayList(stateDir)).rejects.toMatchObject({ code: 'STATE_UNTRUSTED' });
    await expect(readPeerViewFile(stateDir)).rejects.toMatchObject({ code: 'STATE_UNTRUSTED' });
    await writePeerViewFile(stateDir, '{}\n');
    expect((await lstat(path.join(stateDir, 'peer.json'))).isFile()).toBe(true);
    // A write replaces the link itself (rename(2) never writes through one).
    await cacheRelayList(stateDir, 'relay-a\n');
    expect((await lstat(path.join(stateDir, 'relay-list.cache'))).isFile()).toBe(true);
    expect(await readFile(victim, 'utf8')).toBe(JSON.stringify(emptyState('victim')));
  });

  it('a FIFO as state.json is refused at once instead of blocking the run', async () => {
    execFileSync('mkfifo', [path.join(directory, 'state.json')]);
    await expect(createStateStore(directory).read()).rejects.toMatchObject({
      code: 'STATE_UNTRUSTED',
      message: expect.stringMatching(/is a FIFO, not a regular file$/),
    });
  });

  it('writes go through a new file with a random name, created exclusively, and leave nothing behind', async () => {
    const store = createStateStore(directory);
    await Promise.all(Array.from({ length: 8 }, (_, index) => store.write(emptyState(`writer-${index}`))));
    expect(await readdir(directory)).toEqual(['state.json']);
    expect((await store.read()).state?.clientId).toMatch(/^writer-\d$/);
  });

  it('removes our own leftover temporary files once old, by name, without following them', async () => {
    const clock = createFakeClock('2024-05-06T12:00:00.000Z');
    const old = new Date('2024-05-06T11:00:00.000Z');
    const leftover = path.join(directory, '.state.json.0123456789abcdef.tmp');
    await writeFile(leftover, 'x');
    await utimes(leftover, old, old);
    const target = path.join(directory, 'kept');
    await writeFile(target, 'kept');
    await symlink(target, path.join(directory, '.client-id.fedcba9876543210.tmp'));
    await lutimes(path.join(directory, '.client-id.fedcba9876543210.tmp'), old, old);
    await createStateStore(directory, { clock }).read();
    expect((await readdir(directory)).sort()).toEqual(['kept']);
    expect(await readFile(target, 'utf8')).toBe('kept');
  });

  it.skipIf(!isRoot)(
    `as root, a directory others can write or own, or a file of another user, is refused with the fix${isRoot ? '' : ' — skipped: needs root'}`,
    async () => {
      const stateDir = path.join(directory, 'state');
      await mkdir(stateDir, { mode: 0o700 });
      await chmod(stateDir, 0o777);
      await expect(createStateStore(stateDir).read()).rejects.toMatchObject({
        code: 'STATE_UNTRUSTED',
        message: `state directory ${stateDir} is not trusted: owned by uid 0, mode 0777`,
        hint: expect.stringMatching(new RegExp(`^chmod go-w ${stateDir}`)),
      });
      await expect(createStateStore(stateDir).write(emptyState('x'))).rejects.toMatchObject({
        code: 'STATE_UNTRUSTED',
      });
      await chmod(stateDir, 0o700);
      await chown(stateDir, 65534, 65534);
      await expect(readClientId(stateDir)).rejects.toMatchObject({
        code: 'STATE_UNTRUSTED',
        hint: expect.stringMatching(new RegExp(`^chown root ${stateDir}`)),
      });
      await chown(stateDir, 0, 0);
      await writeFile(path.join(stateDir, 'state.json'), JSON.stringify(emptyState('theirs')));
      await chown(path.join(stateDir, 'state.json'), 65534, 65534);
      await expect(createStateStore(stateDir).read()).rejects.toMatchObject({
        code: 'STATE_UNTRUSTED',
        message: `the state file ${path.join(stateDir, 'state.json')} is not trusted: owned by uid 65534, mode 0644`,
      });
    },
  );
});
