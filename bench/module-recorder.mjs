// Records every module a Node process loads: `node --import bench/module-recorder.mjs SCRIPT` with
// MODULE_RECORD_FILE set appends one URL or path per line to that file — ES modules from a load hook
// (which runs on the hooks thread), CommonJS modules and native addons from require.cache at exit.
// Used by bench/startup.mjs and test/cli/startup-imports.test.ts to show which code a command pays for.
// Without MODULE_RECORD_FILE it records nothing.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const recordFile = process.env.MODULE_RECORD_FILE;

if (isMainThread && recordFile) {
  register(import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.once('exit', () => {
    const paths = Object.keys(cache).map((path) => pathToFileURL(path).href);
    if (paths.length > 0) appendFileSync(recordFile, `${paths.join('\n')}\n`);
  });
}

/** The load hook: passes every module through and notes its URL. */
export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (recordFile) appendFileSync(recordFile, `${url}\n`);
  return result;
}
