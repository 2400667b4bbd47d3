import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

/**
 * The built JavaScript of a source module (`cycle/lock` → dist/cycle/lock.js), for tests that run it in
 * a child process. `npm test` builds dist/ first; a focused run needs `npm run build`.
 */
export function builtModule(name: string): string {
  return join(REPO_ROOT, 'dist', `${name}.js`);
}
