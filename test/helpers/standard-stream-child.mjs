// Child process of test/cli/standard-stream.test.ts: writes to its standard output through the built
// StandardStream (dist/cli/standard-stream.js of the package at argv[2]) and writes what it saw, as JSON,
// to the file argv[3].
//   argv[4] = lines N: N lines of 1 KiB ("line 0000001 xxx…"), then "END"
//   argv[4] = until-stream: 64 KiB chunks until the stream took over (a descriptor that would block), then "END"
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, reportFile, mode, count] = process.argv.slice(2);
const { StandardStream } = await import(pathToFileURL(join(root, 'dist', 'cli', 'standard-stream.js')).href);
// Whether process.stdout was made: Node makes it the first time its getter is read, so the getter tells.
// (The modules Node has loaded cannot: importing node:fs or node:util as ES modules loads stream modules.)
const stdoutGetter = Object.getOwnPropertyDescriptor(process, 'stdout').get;
let stdoutRead = false;
Object.defineProperty(process, 'stdout', {
  configurable: true,
  enumerable: true,
  get() {
    stdoutRead = true;
    return stdoutGetter.call(process);
  },
});
const streamMade = () => stdoutRead;
const out = new StandardStream(1);
const isTTY = out.isTTY;
const streamAfterIsTTY = streamMade();
// Writes refused with false, after which the child waits for 'drain', as src/cli/output.ts does.
const refused = [];
let written = 0;
const write = async (text) => {
  if (out.write(text)) return;
  refused.push(written);
  await new Promise((resolve) => {
    const drained = () => {
      out.off('drain', drained);
      resolve();
    };
    out.on('drain', drained);
  });
};
const line = (index) => `line ${String(index).padStart(7, '0')} ${'x'.repeat(1010)}\n`;
if (mode === 'lines') {
  for (; written < Number(count); written++) await write(line(written));
} else {
  const chunk = (index) => `${String(index).padStart(7, '0')}${'y'.repeat(64 * 1024 - 8)}\n`;
  for (; !streamMade() && written < 1024; written++) await write(chunk(written));
}
await write('END\n');
writeFileSync(
  reportFile,
  JSON.stringify({ isTTY, streamAfterIsTTY, streamAtEnd: streamMade(), written, refused, destroyed: out.destroyed }),
);
