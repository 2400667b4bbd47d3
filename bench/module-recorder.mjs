// Records every module a Node process loads: `node --import bench/module-recorder.mjs SCRIPT` with
// MODULE_RECORD_FILE set appends one URL per line to that file — ES modules from a load hook (which runs
// on the hooks thread), CommonJS modules and native addons from require.cache at exit, and built-ins
// (`node:NAME`) the script loaded after Node's own start from process.moduleLoadList, however they were
// loaded (import or require). The CLI bundle dist/cli.cjs is compiled from its text, not required: it
// shows as none of these; the packages it requires or imports do.
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
  const builtinsBefore = process.moduleLoadList.length;
  process.once('exit', () => {
    const builtins = process.moduleLoadList
      .slice(builtinsBefore)
      .filter((entry) => entry.startsWith('NativeModule ') && !entry.startsWith('NativeModule internal/'))
      .map((entry) => `node:${entry.slice('NativeModule '.length)}`);
    const paths = [...Object.keys(cache).map((path) => pathToFileURL(path).href), ...builtins];
    if (paths.length > 0) appendFileSync(recordFile, `${paths.join('\n')}\n`);
  });
}

/** The load hook: passes every module through and notes its URL. */
export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (recordFile) appendFileSync(recordFile, `${url}\n`);
  return result;
}
