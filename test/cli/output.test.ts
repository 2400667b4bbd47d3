/**
 * The streaming writes of the CLI's output: a long result goes out in batches, in order, waits while
 * the reader is behind (so memory stays flat), and ends quietly instead of hanging when the reader is gone.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOutput, endQuietlyOnClosedPipe } from '../../src/cli/output.js';

function outputTo(stdout: NodeJS.WritableStream, options: { json?: boolean; quiet?: boolean } = {}) {
  return createOutput({
    json: options.json ?? false,
    quiet: options.quiet ?? false,
    verbose: false,
    stdout,
    stderr: new PassThrough(),
    env: {},
  });
}

function* numbered(count: number): Generator<string> {
  for (let index = 0; index < count; index++) yield `line ${index}`;
}

/** A reader that takes one chunk per timer tick and remembers the most it ever had waiting. */
function slowReader() {
  const chunks: string[] = [];
  let mostBuffered = 0;
  const stream = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      setTimeout(done, 0);
    },
  });
  const originalWrite = stream.write.bind(stream);
  stream.write = ((chunk: string) => {
    const accepted = originalWrite(chunk);
    mostBuffered = Math.max(mostBuffered, stream.writableLength);
    return accepted;
  }) as typeof stream.write;
  return { stream, text: () => chunks.join(''), mostBuffered: () => mostBuffered, writes: () => chunks.length };
}

describe('Output.lines and Output.dataText', () => {
  it('write every line in order, in a few large writes', async () => {
    const reader = slowReader();
    await outputTo(reader.stream).lines(numbered(50_000));
    expect(reader.text()).toBe([...numbered(50_000)].map((line) => `${line}\n`).join(''));
    expect(reader.writes()).toBeLessThan(50);
  });

  it('wait for a slow reader instead of piling up what it has not read', async () => {
    const reader = slowReader();
    await outputTo(reader.stream).dataText(numbered(200_000));
    expect(reader.text()).toBe([...numbered(200_000)].join(''));
    // One batch beyond the high-water mark at most, never the whole result (about 2 MB).
    expect(reader.mostBuffered()).toBeLessThan(200 * 1024);
  });

  it('print nothing for --json or --quiet (lines), while dataText still writes', async () => {
    for (const options of [{ json: true }, { quiet: true }]) {
      const stdout = new PassThrough();
      await outputTo(stdout, options).lines(numbered(10));
      expect(stdout.read()).toBeNull();
    }
    const stdout = new PassThrough();
    await outputTo(stdout, { quiet: true }).dataText(['{', '}\n']);
    expect(String(stdout.read())).toBe('{}\n');
  });

  it('end quietly, not hang, when the reader goes away (EPIPE): nobody is left to tell, and no more is made', async () => {
    let writes = 0;
    const stream = new Writable({
      highWaterMark: 1024,
      write(_chunk, _encoding, done) {
        writes++;
        setTimeout(() => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), 0);
      },
    });
    stream.on('error', () => undefined);
    let made = 0;
    function* counted(): Generator<string> {
      for (; made < 100_000; made++) yield `line ${made}`;
    }
    await expect(outputTo(stream).lines(counted())).resolves.toBeUndefined();
    expect(writes).toBe(1);
    expect(made).toBeLessThan(100_000);
  });

  it('remove terminal control sequences and hide URL credentials, as line() does', async () => {
    const hostile = 'relay\u001b]0;pwned\u0007\u001b[2J.example https://admin:s3cret@relay.example/x \u009b31m';
    const viaLine = new PassThrough();
    outputTo(viaLine).line(hostile);
    const viaLines = new PassThrough();
    await outputTo(viaLines).lines([hostile, hostile]);
    const written = String(viaLines.read());
    expect(written).toBe(`${String(viaLine.read())}`.repeat(2));
    for (const control of ['\u001b', '\u0007', '\u009b']) expect(written).not.toContain(control);
    expect(written).not.toContain('s3cret');
    expect(written).toContain('relay.example');

    const viaDataText = new PassThrough();
    await outputTo(viaDataText, { json: true }).dataText([
      JSON.stringify({ url: 'https://admin:s3cret@relay.example/x' }),
    ]);
    expect(String(viaDataText.read())).not.toContain('s3cret');
  });

  it.each(['lines', 'dataText'] as const)(
    '%s ends quietly when the reader of a real pipe goes away (`| head -c 1`)',
    async (method) => {
      // head reads one byte and exits: the pipe's read end closes under the writer, as with `relay-select plan | head -1`.
      const head = spawn('head', ['-c', '1'], { stdio: ['pipe', 'ignore', 'inherit'] });
      const pipe = head.stdin;
      endQuietlyOnClosedPipe(pipe);
      const errors: unknown[] = [];
      pipe.on('error', (error) => errors.push(error));
      let made = 0;
      function* counted(): Generator<string> {
        // About 50 MB if nobody stopped it: far more than a pipe holds.
        for (; made < 2_000_000; made++) yield `line ${made} ${'x'.repeat(16)}\n`;
      }
      const output = outputTo(pipe);
      await expect(method === 'lines' ? output.lines(counted()) : output.dataText(counted())).resolves.toBeUndefined();
      const [code] = (await once(head, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(made).toBeLessThan(2_000_000);
      expect(errors.every((error) => (error as NodeJS.ErrnoException).code === 'EPIPE')).toBe(true);
    },
  );
});
