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
  require('./load-cli.cjs')
    .loadCli()
    .main(argv)
    .then((status) => {
      process.exitCode = status;
    });
}
