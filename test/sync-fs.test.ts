/** src/sync-fs.ts: node:fs/promises' calls made synchronously, with their results and errors as promises. */
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lstat, mkdir, readdir, rename, unlink, writeNewFile } from '../src/sync-fs.js';

let base: string;
beforeEach(() => (base = mkdtempSync(join(tmpdir(), 'relay-select-sync-fs-'))));
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('sync-fs', () => {
  it('gives what node:fs/promises gives, and its errors as rejections with their code', async () => {
    await mkdir(join(base, 'a'), { mode: 0o700 });
    expect((await lstat(join(base, 'a'))).isDirectory()).toBe(true);
    expect(await readdir(base)).toEqual(['a']);
    await rename(join(base, 'a'), join(base, 'b'));
    expect(await readdir(base)).toEqual(['b']);
    const missing = lstat(join(base, 'missing'));
    await expect(missing).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(unlink(join(base, 'missing'))).rejects.toBeInstanceOf(Error);
  });

  it('writeNewFile creates exclusively with the exact mode, never over a file or through a link', async () => {
    const file = join(base, 'new');
    await writeNewFile(file, 'x'.repeat(100_000), { mode: 0o644 });
    expect(readFileSync(file, 'utf8')).toBe('x'.repeat(100_000));
    expect(statSync(file).mode & 0o777).toBe(0o644);
    await expect(writeNewFile(file, 'y', { mode: 0o600 })).rejects.toMatchObject({ code: 'EEXIST' });
    writeFileSync(join(base, 'target'), 'theirs');
    symlinkSync(join(base, 'target'), join(base, 'link'));
    await expect(writeNewFile(join(base, 'link'), 'y', { mode: 0o600 })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(join(base, 'target'), 'utf8')).toBe('theirs');
  });
});
