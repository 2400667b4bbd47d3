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
  if (cli !== undefined) {
    let finished = false;
    cli.main(argv).then((status) => {
      finished = true;
      process.exitCode = status;
    });
    // The event loop ran dry while the command still waited on something that can no longer happen: a bug,
    // which would otherwise end the process with status 0 as if all went well.
    process.once('exit', () => {
      if (finished || (process.exitCode ?? 0) !== 0) return;
      require('node:fs').writeSync(
        2,
        'relay-select: error: internal error: the command never finished (please report it)\n',
      );
      process.exitCode = 70;
    });
  }
}
