// `node bench/cli-without-cache.cjs ARGS`: the CLI exactly as bin/relay-select.js runs it — the bundle
// dist/cli.cjs through bin/load-cli.cjs — but compiled from its source, without the V8 code cache. For
// bench/startup.mjs, to show what the cache and the bundle each save.
'use strict';
require('../bin/load-cli.cjs')
  .loadCli({ useCache: false })
  .main(process.argv.slice(2))
  .then((status) => {
    process.exitCode = status;
  });
