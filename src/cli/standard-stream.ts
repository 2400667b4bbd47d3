import { fstatSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Tty from 'node:tty';
import { endQuietlyOnClosedPipe, type OutputStream } from './output.js';

/** Character devices of major number 1 are memory devices (/dev/null, /dev/zero, /dev/full…), never a terminal. */
const MEMORY_DEVICES_MAJOR = 1;

/**
 * Standard output or standard error as the CLI writes them: with write(2) on the descriptor, as Node's own
 * process.stdout and process.stderr write to files, pipes and terminals on Linux (synchronously), but
 * without them. Node builds either one from its stream modules the first time it is touched, and that
 * costs a cron no-op about 1.3 ms on Node 22, a tenth of its own time (issue 13,
 * bench/results/startup.md). A terminal, and a descriptor that would block (one someone else made
 * non-blocking), get the process's stream after all. A reader that went away (EPIPE) ends the output
 * quietly, as {@link endQuietlyOnClosedPipe} does for a stream.
 */
export class StandardStream implements OutputStream {
  /** process.stdout or process.stderr, once this writes through it. */
  #stream: NodeJS.WriteStream | undefined;
  #isTTY: boolean | undefined;
  #closed = false;

  constructor(private readonly fd: 1 | 2) {}

  get isTTY(): boolean {
    this.#isTTY ??= isTerminal(this.fd);
    return this.#isTTY;
  }

  get columns(): number | undefined {
    return this.isTTY ? this.stream().columns : undefined;
  }

  get destroyed(): boolean {
    return this.#stream?.destroyed ?? this.#closed;
  }

  write(text: string): boolean {
    if (this.#stream !== undefined || this.isTTY) return this.stream().write(text);
    // Closed: nothing to wait for (`destroyed` says it is over), so never false, which would wait for a drain.
    if (this.#closed) return true;
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < bytes.length) {
      try {
        written += writeSync(this.fd, bytes, written, bytes.length - written);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN') return this.stream().write(bytes.subarray(written));
        // EPIPE, or a descriptor closed under us: there is nobody left to tell.
        this.#closed = true;
        break;
      }
    }
    return true;
  }

  on(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): this {
    // A descriptor written directly never asks to wait and never fails loudly: only the stream has events.
    this.#stream?.on(event, listener);
    return this;
  }

  off(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): this {
    this.#stream?.off(event, listener);
    return this;
  }

  listenerCount(event: 'error'): number {
    return this.#stream?.listenerCount(event) ?? 0;
  }

  /** The process's stream, made now if it was not yet; it too ends quietly on a closed pipe. */
  private stream(): NodeJS.WriteStream {
    if (this.#stream === undefined) {
      this.#stream = this.fd === 1 ? process.stdout : process.stderr;
      endQuietlyOnClosedPipe(this.#stream);
    }
    return this.#stream;
  }
}

/**
 * Whether `fd` is a terminal. Only a character device can be, and /dev/null (cron's usual redirection) is
 * answered from fstat; node:tty, which loads Node's streams and sockets, is asked only about another
 * character device.
 */
function isTerminal(fd: number): boolean {
  let stats;
  try {
    stats = fstatSync(fd);
  } catch {
    return false;
  }
  if (!stats.isCharacterDevice() || Math.floor(stats.rdev / 256) % 4096 === MEMORY_DEVICES_MAJOR) return false;
  const tty = createRequire(import.meta.url)('node:tty') as typeof Tty;
  return tty.isatty(fd);
}
