import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { STUB_RELAY_PROGRAM } from '../src/lab/stub-relay/stub-server.js';
import { REPO_ROOT } from './helpers/cli.js';

describe('the npm package', () => {
  it('ships the programs the lab runs as files: the stub relay, the TCP listener and the link-delay forwarder', () => {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const files = packed[0]!.files.map((file) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        STUB_RELAY_PROGRAM,
        'dist/lab/netns/tcp-listener.mjs',
        'dist/lab/netns/link-delay-forwarder.py',
        'bin/relay-select.js',
        // The CLI as bin/relay-select.js loads it (issue 13): the bundle, its loader (bin/package.json makes bin/ CommonJS), and the trainer that
        // `npm install` runs to write the code cache for the Node it installs on.
        'bin/load-cli.cjs',
        'bin/package.json',
        'dist/cli.cjs',
        'scripts/train-code-cache.mjs',
        'scripts/no-op-fixtures.mjs',
      ]),
    );
  });
});
