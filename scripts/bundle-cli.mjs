#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js and every module it imports, tsc's output) into one
// CommonJS file, dist/cli.cjs, that bin/relay-select.js loads: a cron no-op then reads and compiles one
// file instead of resolving and reading some 40 ES modules one by one (issue 13; bench/results/startup.md).
// Dependencies in node_modules stay outside and load only on the paths that import them, as before.
//
// Each module keeps the URL it has in dist/ (import.meta.url): the addon, the lab's files, the fleet's
// worker and package.json are found where tsc put them beside it. A dynamic import of a built-in becomes a
// require, so a no-op run never starts the ES module loader; one of a package or of a settings file
// written as code goes through `__relaySelectImport`, which bin/load-cli.cjs passes in (code compiled by
// node:vm cannot import by itself without an experimental flag).
//
// The first line names the build: a digest of the bundle. bin/load-cli.cjs takes a V8 code cache only from
// a file named with that digest (scripts/train-code-cache.mjs writes them), so a cache never meets
// another build's code.
//
// Usage: node scripts/bundle-cli.mjs   (run by `npm run build`, after tsc)
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const BUNDLE = join(dist, 'cli.cjs');

/** The dist/ modules as the bundle should see them: their own import.meta.url, built-ins required. */
const distModules = {
  name: 'dist-modules',
  setup(context) {
    context.onLoad({ filter: /\/dist\/.*\.js$/ }, ({ path }) => {
      const moduleUrl = `__relaySelectModuleUrl(${JSON.stringify(relative(dist, path).split('\\').join('/'))})`;
      const contents = readFileSync(path, 'utf8')
        .replaceAll('import.meta.url', moduleUrl)
        .replace(/\bimport\((['"])(node:[\w/]+)\1\)/g, 'Promise.resolve().then(() => require($1$2$1))')
        // What esbuild cannot bundle (a package, a settings file written as code) is imported by the loader.
        .replace(/\bimport\((?!\s*['"]\.)/g, '__relaySelectImport(');
      if (/\bimport\.meta\b/.test(contents)) throw new Error(`${path}: import.meta other than import.meta.url`);
      return { contents, loader: 'js' };
    });
  },
};

const result = await build({
  entryPoints: [join(dist, 'cli', 'main.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  write: false,
  outfile: BUNDLE,
  logLevel: 'warning',
  plugins: [distModules],
  // Half the bytes to read on every start. dist/cli.cjs.map maps the bundle back to src/ (through tsc's
  // maps) for the stack traces of --verbose (src/cli/stack-trace.ts).
  minify: true,
  legalComments: 'none',
  sourcemap: 'linked',
  sourcesContent: false,
  banner: {
    js: [
      "'use strict';",
      "const __relaySelectDist = require('node:url').pathToFileURL(`${__dirname}/`);",
      '/** The URL a module of dist/ had before bundling: import.meta.url, as tsc left it. */',
      'const __relaySelectModuleUrl = (path) => new URL(path, __relaySelectDist).href;',
    ].join('\n'),
  },
});
// esbuild writes strings, templates and regular expressions in ASCII; what is left beyond it lives in the
// comments it keeps. Written out there too, so V8 holds the source as a one-byte string (half the memory,
// faster to read) — the code cache does not spare reading the source.
const output = (extension) => result.outputFiles.find((file) => file.path.endsWith(extension));
const code = output('.cjs').text.replace(/[^\0-\x7f]/gu, (char) => `\\u{${char.codePointAt(0).toString(16)}}`);
const stray = /\bimport\(/.exec(code);
if (stray !== null)
  throw new Error(
    `dist/cli.cjs would hold an import() node:vm cannot run: ${code.slice(stray.index - 80, stray.index + 80)}`,
  );
const buildId = createHash('sha256').update(code).digest('hex').slice(0, 16);
const text = `// relay-select CLI build ${buildId}: dist/ bundled by scripts/bundle-cli.mjs; do not edit\n${code}`;
// The build line comes first: one more line before the code, one more ';' (an empty line) in the mappings.
const map = JSON.parse(output('.map').text);
writeFileSync(`${BUNDLE}.map`, JSON.stringify({ ...map, mappings: `;${map.mappings}` }), { mode: 0o644 });
writeFileSync(`${BUNDLE}.tmp`, text, { mode: 0o644 });
renameSync(`${BUNDLE}.tmp`, BUNDLE);
process.stdout.write(`dist/cli.cjs: build ${buildId}, ${(text.length / 1024).toFixed(0)} KiB\n`);
