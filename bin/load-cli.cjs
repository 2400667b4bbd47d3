// Loads the CLI bundle (dist/cli.cjs, scripts/bundle-cli.mjs) with the V8 code cache of this Node, when
// there is one: a cron no-op then neither parses nor compiles what it runs (issue 13,
// bench/results/startup.md). The cache is code: it is taken only from dist/cli-cache/, only if it is named
// for this very build and this V8, only as a regular file reached without a symbolic link, and only if
// root or the user running relay-select owns it and nobody else may write it. Otherwise — and whenever V8
// refuses it — the bundle is compiled from its source, as it would be without a cache.
'use strict';
const { closeSync, constants, fstatSync, openSync, readFileSync, readSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const DIST = join(__dirname, '..', 'dist');
const BUNDLE = join(DIST, 'cli.cjs');
const BUILD_LINE = /^\/\/ relay-select CLI build ([0-9a-f]{16}):/;

/** Where the code cache of `buildId` for the running Node lives (V8 takes a cache only from its own version). */
function codeCachePath(buildId) {
  return join(DIST, 'cli-cache', `${buildId}-${process.arch}-v8-${process.versions.v8}.bin`);
}

/**
 * The code cache at `path`, judged as src/trust.ts judges a file by itself (findEntryProblem): `usable`
 * with its bytes when it is a regular file reached without a symbolic link, owned by root or this user and
 * writable by nobody else; `missing`; or `refused`. Written again here, not imported: this file runs
 * before the bundle that holds src/trust.ts, so it stays CommonJS without dependencies. The directories
 * above are not judged: they are the package's, and whoever may change them may rewrite dist/cli.cjs too.
 */
function readTrustedCache(path) {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    return { state: error.code === 'ENOENT' || error.code === 'ENOTDIR' ? 'missing' : 'refused' };
  }
  try {
    const stats = fstatSync(fd);
    const euid = process.geteuid === undefined ? 0 : process.geteuid();
    if (!stats.isFile() || (stats.mode & 0o022) !== 0 || (stats.uid !== 0 && stats.uid !== euid))
      return { state: 'refused' };
    return { state: 'usable', data: readFileSync(fd) };
  } finally {
    closeSync(fd);
  }
}

/**
 * What the bundle imports at run time, as its modules imported it from dist/: chalk and cosmiconfig
 * (resolved from this package like from dist/), and a settings file written as code (by its file URL).
 */
function importFromBundle(specifier) {
  return import(specifier);
}

/**
 * The CLI's exports (`main`), with the compiled script (for scripts/train-code-cache.mjs) and whether a
 * cache was used. `useCache: false` compiles from the source alone.
 */
function loadCli({ useCache = true } = {}) {
  // ASCII throughout (scripts/bundle-cli.mjs escapes the rest): read as Latin-1, a plain copy into a
  // one-byte string, where UTF-8 would be validated and decoded byte by byte.
  const source = readFileSync(BUNDLE, 'latin1');
  const buildId = BUILD_LINE.exec(source)?.[1];
  if (buildId === undefined)
    throw Object.assign(new Error(`${BUNDLE} is not a relay-select CLI build`), { notBuilt: true });
  const cachedData = useCache ? readTrustedCache(codeCachePath(buildId)).data : undefined;
  // CommonJS's wrapper, and the import the bundle's code cannot make itself (scripts/bundle-cli.mjs).
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname, __relaySelectImport) {${source}\n})`,
    {
      filename: BUNDLE,
      cachedData,
    },
  );
  const module = { exports: {} };
  const load = script.runInThisContext();
  load(module.exports, Module.createRequire(BUNDLE), module, BUNDLE, DIST, importFromBundle);
  return {
    main: module.exports.main,
    script,
    buildId,
    cache: cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used',
  };
}

/**
 * Whether this build has a code cache the running Node would take, for `relay-select doctor`: `usable`,
 * `missing`, `refused` (there, but not a regular file owned by root or this user and writable by nobody
 * else), or `no-bundle`; with the cache's path. Reads the bundle's first line only.
 */
function findCodeCache() {
  let firstLine;
  try {
    const fd = openSync(BUNDLE, constants.O_RDONLY);
    try {
      const start = Buffer.alloc(128);
      firstLine = start.toString('latin1', 0, readSync(fd, start, 0, start.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return { state: 'no-bundle', path: undefined };
  }
  const buildId = BUILD_LINE.exec(firstLine)?.[1];
  if (buildId === undefined) return { state: 'no-bundle', path: undefined };
  const path = codeCachePath(buildId);
  return { state: readTrustedCache(path).state, path };
}

module.exports = { loadCli, codeCachePath, findCodeCache, BUNDLE };
