#!/usr/bin/env node
// The relay-select command. CommonJS (bin/package.json says so), so that a cron no-op never starts
// Node's ES module loader: the CLI is one bundled file, dist/cli.cjs, loaded with its code cache by
// load-cli.cjs (ARCHITECTURE.md, "What a cron no-op loads").
'use strict';
const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // Asked by inventory and monitoring scripts: answered without loading the CLI.
  process.stdout.write(`${require('../package.json').version}\n`);
} else {
  let cli;
  try {
    cli = require('./load-cli.cjs').loadCli();
  } catch (error) {
    // A package built with tsc alone, or installed with --ignore-scripts: exit status 72, as for the addon.
    const notBuilt = error.code === 'ENOENT' ? `${error.path} is missing` : error.notBuilt ? error.message : undefined;
    process.stderr.write(
      notBuilt === undefined
        ? `relay-select: error: internal error: the CLI did not load: ${error.message} (please report it)\n`
        : `relay-select: error: the CLI is not built (${notBuilt}) — run npm run build in a checkout, npm rebuild relay-select in an install\n`,
    );
    process.exitCode = notBuilt === undefined ? 70 : 72;
  }
  cli?.main(argv).then((status) => {
    process.exitCode = status;
  });
}
