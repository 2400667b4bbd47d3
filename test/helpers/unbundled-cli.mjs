// `node [--import HOOK] test/helpers/unbundled-cli.mjs ARGS`: the CLI as tsc left it — dist/cli/main.js
// and its ES modules one file each — instead of the bundle bin/relay-select.js runs (dist/cli.cjs, the
// same modules in one file). For the tests and benchmarks that look at modules one by one: which a command
// loads (bench/module-recorder.mjs), or one swapped through a load hook (force-yargs.mjs).
const { main } = await import('../../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
