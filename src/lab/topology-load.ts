import { readdirSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RelaySelectError } from '../errors.js';
import { processTrustPolicy, readFileBounded, untrustedFileError } from '../trust.js';
import { formatTopologyProblem, parseTopologyText, type Topology } from './topology.js';

/** The topology `relay-select lab` builds when none is named. */
const DEFAULT_TOPOLOGY = 'branch-office';

/** The package's root directory (where bin/, dist/ and relay-samples/ live). */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function bundledTopologyDirectory(root: string = packageRoot()): string {
  return join(root, 'relay-samples', 'labs');
}

function bundledTopologyNames(): string[] {
  return readdirSync(bundledTopologyDirectory())
    .filter((file) => file.endsWith('.json'))
    .map((file) => basename(file, '.json'))
    .sort();
}

/**
 * A file path as given, or the name of a bundled topology (`branch-office`, `internet-dmz`, …).
 * A bare name without a `/` and without `.json` means a bundled one.
 */
export function resolveTopologyPath(argument: string | undefined, cwd: string, root: string = packageRoot()): string {
  const name = argument ?? DEFAULT_TOPOLOGY;
  if (!name.includes('/') && extname(name) === '') return join(bundledTopologyDirectory(root), `${name}.json`);
  return isAbsolute(name) ? name : resolve(cwd, name);
}

/** How a file is named in messages: relative to cwd when it lies below it. */
export function displayPath(path: string, cwd: string): string {
  const shown = relative(cwd, path);
  return shown !== '' && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path;
}

/** A topology is a few kilobytes of JSON. */
const MAX_TOPOLOGY_BYTES = 1024 * 1024;

/** Reads and validates a topology; any problem is a TOPOLOGY_INVALID error of one line (FILE_UNTRUSTED as root for a file another user could change). */
export async function loadTopology(path: string, cwd: string): Promise<Topology> {
  const shown = displayPath(path, cwd);
  let text: string;
  try {
    // The lab runs as root and a topology carries settings for the run: only a trusted regular file.
    const read = await readFileBounded(path, { trust: processTrustPolicy(), maxBytes: MAX_TOPOLOGY_BYTES });
    if (!read.ok && !read.problem.wrongKind) throw untrustedFileError('FILE_UNTRUSTED', 'topology', path, read.problem);
    if (!read.ok)
      throw new RelaySelectError('TOPOLOGY_INVALID', `${shown}: cannot read topology: ${read.problem.found}`, {
        file: path,
        hint: 'see relay-select-lab(5) for the topology format',
      });
    if (read.tooLarge)
      throw new RelaySelectError(
        'TOPOLOGY_INVALID',
        `${shown}: cannot read topology: ${read.size} bytes, more than a topology holds (${MAX_TOPOLOGY_BYTES})`,
        { file: path },
      );
    text = read.bytes.toString('utf8');
  } catch (error) {
    if (error instanceof RelaySelectError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const bundled =
      code === 'ENOENT' && dirname(path) === bundledTopologyDirectory()
        ? ` (bundled topologies: ${bundledTopologyNames().join(', ')})`
        : '';
    throw new RelaySelectError(
      'TOPOLOGY_INVALID',
      `${shown}: cannot read topology: ${code ?? (error as Error).message}${bundled}`,
      { cause: error, file: path },
    );
  }
  const { topology, problems } = parseTopologyText(text, basename(path, extname(path)));
  if (topology === undefined) {
    const more =
      problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new RelaySelectError(
      'TOPOLOGY_INVALID',
      `${formatTopologyProblem(shown, problems[0] ?? { path: '', message: 'invalid topology' })}${more}`,
      {
        file: path,
        hint: 'see relay-select-lab(5) for the topology format',
      },
    );
  }
  return topology;
}
