/** Random names without node:crypto (src/random-bytes.ts): the kernel's generator, read in three system calls. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { randomHex, randomUuid } from '../src/random-bytes.js';
import { REPO_ROOT } from './helpers/cli.js';

describe('random names', () => {
  it('hex of the length asked, different each time', () => {
    const names = Array.from({ length: 1000 }, () => randomHex(8));
    for (const name of names) expect(name).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(names).size).toBe(names.length);
    // Every hex digit turns up in every position over a thousand draws: not a counter, not a constant.
    for (let position = 0; position < 16; position++)
      expect(new Set(names.map((name) => name[position])).size).toBe(16);
  });

  it('UUIDs of version 4, as crypto.randomUUID() makes them', () => {
    const ids = Array.from({ length: 1000 }, () => randomUuid());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a run that waits loads no node:crypto for them (built module, fresh process)', () => {
    const loaded = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { randomHex, randomUuid } = await import('${REPO_ROOT}/dist/random-bytes.js'); randomHex(8); randomUuid(); process.stdout.write(String(process.moduleLoadList.includes('NativeModule crypto')));`,
      ],
      { encoding: 'utf8' },
    );
    expect(loaded).toBe('false');
  });
});
