import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  describeTrustProblem,
  findTrustProblem,
  formatMode,
  readFileBounded,
  trustPolicyOf,
  untrustedFileError,
  type TrustOptions,
  type TrustProblem,
} from '../src/trust.js';
import { isRoot } from './helpers/root.js';

const NOBODY = 65534;

describe.skipIf(!isRoot)(`findTrustProblem ${isRoot ? '' : '(skipped: needs root to give files to uid 65534)'}`, () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'rs-trust-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const file = (name: string, mode = 0o644, uid = 0): string => {
    const path = join(base, name);
    writeFileSync(path, '{}');
    chmodSync(path, mode);
    chownSync(path, uid, uid);
    return path;
  };

  it('trusts a root-owned 0644 file in root-owned directories', () => {
    expect(findTrustProblem(file('config.json'), { uid: 0 })).toBeNull();
  });

  it('refuses a file owned by another user, naming the owner, the mode and the fix', () => {
    const path = file('config.json', 0o644, NOBODY);
    expect(findTrustProblem(path, { uid: 0 })).toEqual({
      path,
      found: 'owned by uid 65534, mode 0644',
      fix: `chown root ${path}`,
    });
  });

  it('refuses a root-owned file writable by group or others', () => {
    const path = file('config.json', 0o666);
    const asRoot: TrustOptions = { uid: 0 };
    const problem: TrustProblem | null = findTrustProblem(path, asRoot);
    expect(problem).toMatchObject({ path, found: 'owned by uid 0, mode 0666', fix: `chmod go-w ${path}` });
    expect(describeTrustProblem(problem!)).toBe(`${path} is not trusted: owned by uid 0, mode 0666`);
  });

  it('refuses a file below a directory another user owns or can write', () => {
    mkdirSync(join(base, 'd'));
    const path = file('d/config.json');
    chownSync(join(base, 'd'), NOBODY, NOBODY);
    expect(findTrustProblem(path, { uid: 0 })).toMatchObject({
      path: join(base, 'd'),
      fix: `chown root ${join(base, 'd')}`,
    });
    chownSync(join(base, 'd'), 0, 0);
    chmodSync(join(base, 'd'), 0o777);
    expect(findTrustProblem(path, { uid: 0 })).toMatchObject({
      path: join(base, 'd'),
      found: 'owned by uid 0, mode 0777',
    });
  });

  it('allows a sticky world-writable directory only above an entry of the effective user or root', () => {
    mkdirSync(join(base, 'tmp'));
    chmodSync(join(base, 'tmp'), 0o1777);
    expect(findTrustProblem(file('tmp/own.json'), { uid: 0 })).toBeNull();
    // Others cannot rename or remove root's entry in a sticky directory either.
    expect(findTrustProblem(file('tmp/roots.json'), { uid: 1000 })).toBeNull();
    expect(findTrustProblem(file('tmp/users.json', 0o644, 1000), { uid: 1000 })).toBeNull();
    expect(findTrustProblem(file('tmp/other-users.json', 0o644, 1001), { uid: 1000 })).toMatchObject({
      path: join(base, 'tmp/other-users.json'),
    });
    expect(findTrustProblem(file('tmp/planted.json', 0o644, NOBODY), { uid: 0 })).toMatchObject({
      path: join(base, 'tmp/planted.json'),
    });
    mkdirSync(join(base, 'tmp/theirs'));
    chownSync(join(base, 'tmp/theirs'), NOBODY, NOBODY);
    chmodSync(join(base, 'tmp/theirs'), 0o755);
    writeFileSync(join(base, 'tmp/theirs/x.json'), '{}');
    expect(findTrustProblem(join(base, 'tmp/theirs/x.json'), { uid: 0 })).toMatchObject({
      path: join(base, 'tmp/theirs'),
    });
  });

  it('judges a symbolic link where it lies and where it points', () => {
    const target = file('real.json');
    mkdirSync(join(base, 'open'));
    chmodSync(join(base, 'open'), 0o777);
    symlinkSync(target, join(base, 'open/link.json'));
    expect(findTrustProblem(join(base, 'open/link.json'), { uid: 0 })).toMatchObject({ path: join(base, 'open') });
    mkdirSync(join(base, 'theirs'));
    chownSync(join(base, 'theirs'), NOBODY, NOBODY);
    const planted = join(base, 'theirs/config.json');
    writeFileSync(planted, '{}');
    symlinkSync(planted, join(base, 'link.json'));
    expect(findTrustProblem(join(base, 'link.json'), { uid: 0 })).toMatchObject({ path: join(base, 'theirs') });
  });

  it('refuses a FIFO, a directory or a device where a file is expected', () => {
    execFileSync('mkfifo', [join(base, 'fifo')]);
    expect(findTrustProblem(join(base, 'fifo'), { uid: 0 })?.found).toBe('a FIFO, not a regular file');
    expect(findTrustProblem(base, { uid: 0 })?.found).toBe('a directory, not a regular file');
    expect(findTrustProblem('/dev/null', { uid: 0 })?.found).toBe('a device, not a regular file');
    expect(findTrustProblem(base, { uid: 0, expect: 'directory' })).toBeNull();
  });

  it('wants a secret owned by the effective user and closed to group and others', () => {
    expect(findTrustProblem(file('key', 0o600), { uid: 0, secret: true })).toBeNull();
    const readable = file('key2', 0o640);
    expect(findTrustProblem(readable, { uid: 0, secret: true })).toMatchObject({ fix: `chmod 600 ${readable}` });
    const rootsKey = file('key3', 0o600);
    expect(findTrustProblem(rootsKey, { uid: NOBODY, secret: true })).toMatchObject({ fix: `chown 65534 ${rootsKey}` });
  });

  it('writes modes as ls users read them', () => {
    expect([formatMode(0o100644), formatMode(0o41777), formatMode(0o600)]).toEqual(['0644', '1777', '0600']);
  });
});

describe('reading a file the way a root process must', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'rs-trust-read-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('trusts only root as root, and judges nothing for other users', () => {
    expect(trustPolicyOf(0)).toEqual({ uid: 0 });
    expect(trustPolicyOf(1000)).toBeUndefined();
  });

  it('reads a regular file whole, and only says how big one over the limit is', async () => {
    const path = join(base, 'list');
    writeFileSync(path, 'x'.repeat(100));
    expect(await readFileBounded(path, { maxBytes: 100 })).toEqual({
      ok: true,
      tooLarge: false,
      bytes: Buffer.from('x'.repeat(100)),
    });
    expect(await readFileBounded(path, { maxBytes: 99 })).toEqual({ ok: true, tooLarge: true, size: 100 });
  });

  it('never waits on a FIFO and refuses a device, a directory or (when asked) a link', async () => {
    execFileSync('mkfifo', [join(base, 'fifo')]);
    const started = performance.now();
    expect(await readFileBounded(join(base, 'fifo'), { maxBytes: 10 })).toMatchObject({
      ok: false,
      problem: { found: 'a FIFO, not a regular file', wrongKind: true },
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await readFileBounded('/dev/zero', { maxBytes: 10 })).toMatchObject({
      ok: false,
      problem: { found: 'a device, not a regular file' },
    });
    expect(await readFileBounded(base, { maxBytes: 10 })).toMatchObject({
      ok: false,
      problem: { found: 'a directory, not a regular file' },
    });
    writeFileSync(join(base, 'real'), 'x');
    symlinkSync(join(base, 'real'), join(base, 'link'));
    expect(await readFileBounded(join(base, 'link'), { maxBytes: 10 })).toMatchObject({ ok: true, tooLarge: false });
    expect(await readFileBounded(join(base, 'link'), { maxBytes: 10, followLinks: false })).toMatchObject({
      ok: false,
      problem: { found: 'a symbolic link, not a regular file', fix: `rm ${join(base, 'link')}` },
    });
  });

  it('throws what the file system says when there is nothing to open', async () => {
    await expect(readFileBounded(join(base, 'missing'), { maxBytes: 10 })).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readFileBounded(join(base, 'missing'), { trust: { uid: 0 }, maxBytes: 10 })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it.skipIf(!isRoot)('with trust, refuses a file another user owns, naming the fix', async () => {
    const path = join(base, 'theirs');
    writeFileSync(path, 'x');
    chownSync(path, NOBODY, NOBODY);
    const read = await readFileBounded(path, { trust: { uid: 0 }, maxBytes: 10 });
    expect(read).toEqual({
      ok: false,
      problem: { path, found: 'owned by uid 65534, mode 0644', fix: `chown root ${path}` },
    });
    const error = untrustedFileError('FILE_UNTRUSTED', 'relay list', path, (read as { problem: TrustProblem }).problem);
    expect(error).toMatchObject({
      code: 'FILE_UNTRUSTED',
      message: `relay list ${path} is not trusted: owned by uid 65534, mode 0644`,
      file: path,
    });
    expect(error.hint).toBe(
      `chown root ${path} (as root, relay-select uses only files and directories that no other user can change)`,
    );
  });

  it('names the directory above when that is what fails', () => {
    const problem: TrustProblem = { path: base, found: 'owned by uid 0, mode 0777', fix: `chmod go-w ${base}` };
    expect(untrustedFileError('STATE_UNTRUSTED', 'state directory', join(base, 'state'), problem).message).toBe(
      `state directory ${join(base, 'state')}: ${base} is not trusted: owned by uid 0, mode 0777`,
    );
  });
});
