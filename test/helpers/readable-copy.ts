/**
 * Tests that drop to an unprivileged user (uid 65534, "nobody") must not depend on where the checkout
 * lives: cloned as root into /root or a `mktemp -d` directory (mode 0700), the checkout is closed to
 * that user and node would exit 1 before relay-select runs. These tests run a copy of what the package
 * ships (package.json `files`) and its production dependencies from a directory every user can read.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { isRoot } from './root.js';

/** setpriv's arguments that make the rest of the command line run as nobody, without groups. */
export const AS_NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
export const NOBODY_UID = 65534;

export interface ReadableCopy {
  /** The copy's package root: the shipped files, node_modules/, package.json and any extra files. */
  root: string;
  /** bin/relay-select.js of the copy. */
  cli: string;
  remove(): void;
}

function packageDirectory(name: string, from: string): string | undefined {
  for (let directory = from; ; directory = dirname(directory)) {
    const candidate = join(directory, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (directory === REPO_ROOT || dirname(directory) === directory) return undefined;
  }
}

/** Directories of the production dependencies, transitively (a copied package brings its nested node_modules). */
function productionPackages(): string[] {
  const found = new Set<string>();
  const queue = [REPO_ROOT];
  while (queue.length > 0) {
    const directory = queue.shift()!;
    const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const dependency = packageDirectory(name, directory);
      if (dependency === undefined || found.has(dependency)) continue;
      found.add(dependency);
      queue.push(dependency);
    }
  }
  // Nested packages travel with their parent.
  return [...found].filter(
    (directory) => ![...found].some((other) => other !== directory && directory.startsWith(`${other}/`)),
  );
}

/** chmod a+rX below `path`: a checkout made with umask 077 has files only root can read. */
function openToEveryone(path: string): void {
  const stats = statSync(path);
  chmodSync(path, (stats.mode & 0o7777) | (stats.isDirectory() ? 0o555 : 0o444) | (stats.mode & 0o100 ? 0o111 : 0));
  if (stats.isDirectory()) for (const entry of readdirSync(path)) openToEveryone(join(path, entry));
}

/**
 * Copies the package as shipped and its production dependencies (plus `extraFiles`, repository-relative) into
 * a new directory under the system temp directory and opens it to every user.
 * @returns the copy, or the reason it cannot serve (not root, not built, or the temp directory is closed to nobody).
 */
export function createReadableCopy(extraFiles: readonly string[] = []): ReadableCopy | { reason: string } {
  if (!isRoot) return { reason: 'needs root to drop to uid 65534 with setpriv' };
  if (spawnSync('setpriv', ['--version']).status !== 0)
    return { reason: 'needs setpriv (util-linux) to drop to uid 65534' };
  if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')))
    return { reason: 'dist/ is missing: run `npm run build` first' };
  const root = mkdtempSync(join(tmpdir(), 'relay-select-readable-'));
  const remove = (): void => rmSync(root, { recursive: true, force: true });
  const shipped = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
  for (const entry of ['package.json', ...shipped, ...extraFiles])
    cpSync(join(REPO_ROOT, entry), join(root, entry), { recursive: true });
  for (const directory of productionPackages())
    cpSync(directory, join(root, relative(REPO_ROOT, directory)), {
      recursive: true,
      filter: (source) => !source.endsWith('/.bin'),
    });
  openToEveryone(root);
  const probe = spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), 'test', '-r', join(root, 'package.json')]);
  if (probe.status !== 0) {
    remove();
    return {
      reason: `uid 65534 cannot read ${root} (is ${tmpdir()} or a directory above it closed to other users? set TMPDIR)`,
    };
  }
  return { root, cli: join(root, 'bin', 'relay-select.js'), remove };
}
