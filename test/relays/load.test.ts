import { mkdtemp, rm, writeFile, mkdir, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelaySelectError } from '../../src/errors.js';
import { loadRelayList, loadRelayListFile } from '../../src/relays/load.js';
import { isRoot } from '../helpers/root.js';

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'relay-select-load-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function loadError(file: string): Promise<RelaySelectError> {
  const error: unknown = await loadRelayList(file).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RelaySelectError);
  return error as RelaySelectError;
}

describe('loadRelayList', () => {
  it('returns relays and warnings of a usable list', async () => {
    const file = join(directory, 'Relay.dat');
    await writeFile(file, 'relay-a.corp.example affiliation=HQ colour=red\nbad:0\n');
    const result = await loadRelayList(file);
    expect(result.rejected).toBe(false);
    expect(result.relays.map((relay) => relay.host)).toEqual(['relay-a.corp.example']);
    expect(result.diagnostics.map((diagnostic) => [diagnostic.severity, diagnostic.file, diagnostic.line])).toEqual([
      ['warning', file, 1],
      ['error', file, 2],
    ]);
  });

  it('returns the text it parsed with loadRelayListFile, byte for byte, and only there', async () => {
    const file = join(directory, 'Relay.dat');
    const text = '\uFEFFrelay-a.corp.example name=Lyon-é\r\n# end\r\n';
    await writeFile(file, text);
    const loaded = await loadRelayListFile(file);
    expect(loaded.text).toBe(text);
    expect(loaded.relays.map((relay) => relay.name)).toEqual(['Lyon-é']);
    const { text: _text, ...result } = loaded;
    expect(await loadRelayList(file)).toEqual(result);
  });

  it('throws RELAY_LIST_MISSING with the file and a hint when the file is absent', async () => {
    const file = join(directory, 'nope.dat');
    const error = await loadError(file);
    expect(error.code).toBe('RELAY_LIST_MISSING');
    expect(error.file).toBe(file);
    expect(error.message).toBe(`${file}: relay list not found`);
    expect(error.hint).toMatch(/--relays FILE/);
  });

  it('throws RELAY_LIST_INVALID with the first error diagnostic, on one line', async () => {
    const file = join(directory, 'empty.dat');
    await writeFile(file, '# only a comment\n');
    const error = await loadError(file);
    expect(error.code).toBe('RELAY_LIST_INVALID');
    expect(error.message).toBe(
      `${file}:1:1: error: no relay in the file; expected at least one line host[:port] [key=value ...]`,
    );
    expect(error.message).not.toMatch(/\n/);
  });

  it('throws RELAY_LIST_INVALID for a binary file', async () => {
    const file = join(directory, 'binary.dat');
    await writeFile(file, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]));
    const error = await loadError(file);
    expect(error.code).toBe('RELAY_LIST_INVALID');
    expect(error.message).toBe(`${file}:1:7: error: file is not text (NUL byte); expected a UTF-8 text relay list`);
  });

  it('refuses a file over 64 MiB from its size, without reading it', async () => {
    const file = join(directory, 'huge.dat');
    await writeFile(file, '');
    await truncate(file, 64 * 1024 * 1024 + 1); // sparse: no 64 MiB written to disk
    const error = await loadError(file);
    expect(error.code).toBe('RELAY_LIST_INVALID');
    expect(error.message).toBe(`${file}:1:1: error: file is 67108865 bytes; expected at most 67108864 bytes (64 MiB)`);
  });

  it('refuses a directory', async () => {
    const sub = join(directory, 'dir.dat');
    await mkdir(sub);
    const error = await loadError(sub);
    expect(error.code).toBe('RELAY_LIST_INVALID');
    expect(error.message).toBe(`${sub}: not a regular file (a directory); expected a relay list file`);
  });

  it.skipIf(isRoot)(
    `reports an unreadable file as RELAY_LIST_INVALID${isRoot ? ' — skipped as root: root reads anything' : ''}`,
    async () => {
      const file = join(directory, 'secret.dat');
      await writeFile(file, 'relay\n', { mode: 0o000 });
      const error = await loadError(file);
      expect(error.code).toBe('RELAY_LIST_INVALID');
      expect(error.hint).toMatch(/readable/);
    },
  );
});
