#!/usr/bin/env node
// The package's install script: builds the ICMP addon (binding.gyp → build/Release/relay_select_icmp.node)
// with node-gyp, never downloading anything. node-gyp comes from npm (npm_config_node_gyp when npm runs
// us, else the copy inside npm, else node-gyp on PATH); Node's headers from npm_config_nodedir when set,
// else from the include/node folder next to the running node, which Linux packages and the official
// binaries ship. A failed build fails the install with one message saying what to do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
const FIX =
  'rebuild with `npm rebuild relay-select` (`npm rebuild -g relay-select` for a global install); needs a C++ compiler and python3';

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath === undefined
      ? undefined
      : join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  const script = candidates.find((candidate) => candidate !== undefined && candidate !== '' && existsSync(candidate));
  return script === undefined ? { command: 'node-gyp', args: [] } : { command: process.execPath, args: [script] };
}

function headerArguments() {
  if (process.env.npm_config_nodedir) return [];
  const beside = join(dirname(process.execPath), '..');
  return existsSync(join(beside, 'include', 'node', 'node_api.h')) ? [`--nodedir=${beside}`] : [];
}

const nodeGyp = findNodeGyp();
const args = [...nodeGyp.args, 'rebuild', ...headerArguments()];
const built = spawnSync(nodeGyp.command, args, { cwd: packageRoot, stdio: 'inherit', env: process.env });
if (built.status !== 0 || !existsSync(join(packageRoot, 'build', 'Release', 'relay_select_icmp.node'))) {
  const why = built.error ? built.error.message : `node-gyp exited with ${built.status ?? built.signal}`;
  process.stderr.write(
    `\nrelay-select: building the ICMP addon failed (${why}). Without it nothing can probe (probe, run, lab): ${FIX}.\n`,
  );
  process.exitCode = 1;
}
