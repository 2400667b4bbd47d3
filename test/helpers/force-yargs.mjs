// `node --import test/helpers/force-yargs.mjs test/helpers/unbundled-cli.mjs ARGS`: the CLI with its quick parser
// (src/cli/quick-parse.ts) answering "not mine" to every command line, so yargs reads them all. Lets a test
// run one command line through both parsers and compare what the user sees.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

/** The load hook: the compiled quick parser is replaced by one that leaves everything to yargs. */
export async function load(url, context, nextLoad) {
  if (url.endsWith('/dist/cli/quick-parse.js'))
    return {
      format: 'module',
      shortCircuit: true,
      source: 'export function parseCommandLineQuickly() { return undefined; }',
    };
  return nextLoad(url, context);
}
