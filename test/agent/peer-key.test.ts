import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPeerKey } from '../../src/agent/peer-key.js';
import type { RelaySelectError } from '../../src/errors.js';

const directory = mkdtempSync(join(tmpdir(), 'relay-select-peer-key-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const uid = process.geteuid!();

function keyFile(name: string, text: string, mode: number): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

async function refusal(path: string): Promise<RelaySelectError> {
  return loadPeerKey(path, uid).then(
    () => {
      throw new Error('loadPeerKey accepted the key');
    },
    (error: RelaySelectError) => error,
  );
}

describe('loadPeerKey', () => {
  it('reads a key of the effective user with mode 0600, without the trailing newline', async () => {
    const path = keyFile('good.key', 'c2VjcmV0LWtleS1vZi10aGUtcGVlcnMtMTIzNA==\n', 0o600);
    expect((await loadPeerKey(path, uid)).toString()).toBe('c2VjcmV0LWtleS1vZi10aGUtcGVlcnMtMTIzNA==');
  });

  it('refuses a key others may read, with the chmod that fixes it', async () => {
    const path = keyFile('open.key', 'c2VjcmV0LWtleS1vZi10aGUtcGVlcnMtMTIzNA==\n', 0o644);
    const error = await refusal(path);
    expect(error.code).toBe('FILE_UNTRUSTED');
    expect(error.message).toBe(`peer.keyFile ${path} is not trusted: owned by uid ${uid}, mode 0644`);
    expect(error.hint).toMatch(new RegExp(`^chmod 600 ${path} `));
  });

  it('refuses a FIFO at once instead of waiting on it, and a symbolic link into a directory others can write', async () => {
    const fifo = join(directory, 'fifo.key');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const error = await refusal(fifo);
    expect(error).toMatchObject({
      code: 'FILE_UNTRUSTED',
      message: `peer.keyFile ${fifo} is a FIFO, not a regular file`,
    });
    const open = join(directory, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const planted = keyFile('open/planted.key', 'c2VjcmV0LWtleS1vZi10aGUtcGVlcnMtMTIzNA==\n', 0o600);
    symlinkSync(planted, join(directory, 'link.key'));
    expect(await refusal(join(directory, 'link.key'))).toMatchObject({
      code: 'FILE_UNTRUSTED',
      message: expect.stringContaining(`${open} is not trusted`),
    });
  });

  it('refuses a missing key file with the recipe for one, and a short key', async () => {
    const missing = await refusal(join(directory, 'none.key'));
    expect(missing.code).toBe('CONFIG_UNREADABLE');
    expect(missing.hint).toContain('head -c 32 /dev/urandom | base64');
    const short = await refusal(keyFile('short.key', 'abc\n', 0o600));
    expect(short.code).toBe('CONFIG_INVALID');
    expect(short.message).toContain('the key has 3 bytes; at least 16 are needed');
  });
});
