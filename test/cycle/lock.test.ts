import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRunLock, RUN_LOCK_DIR_NAME } from '../../src/cycle/lock.js';
import { isRelaySelectError } from '../../src/errors.js';
import { builtModule } from '../helpers/built.js';
import { isRoot } from '../helpers/root.js';

const fixture = fileURLToPath(new URL('./fixtures/acquire-lock.mjs', import.meta.url));
let directory: string;
const started: number[] = [];

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'relay-select-lock-'));
});
afterEach(async () => {
  // Only the children this file started, by pid.
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(directory, { recursive: true, force: true });
});

interface ChildRun {
  pid: number;
  /** First line the child printed: "ACQUIRED <pid>" or "LOCKED <message>". */
  firstLine: Promise<string>;
  exited: Promise<void>;
  /** Lets a "stdin" holder release and exit. */
  release(): void;
}

function startChild(stateDir: string, startAtMs: number, hold: 'stdin' | 'forever'): ChildRun {
  const child = spawn(
    process.execPath,
    [fixture, builtModule('cycle/lock'), stateDir, String(startAtMs), String(hold)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  started.push(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const firstLine = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
    // 'close', not 'exit': the exit event can come before the last stdout chunk is read.
    child.on('close', (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) without a result: ${stderr}`)),
    );
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { pid: child.pid!, firstLine, exited, release: () => child.stdin.end() };
}

async function killAndWait(run: ChildRun): Promise<void> {
  process.kill(run.pid, 'SIGKILL');
  await run.exited;
}

describe('acquireRunLock in one process', () => {
  it('is exclusive, says who holds it, and can be taken again after release', async () => {
    const lock = await acquireRunLock(directory);
    const error = await acquireRunLock(directory).catch((e: unknown) => e);
    expect(isRelaySelectError(error) && error.code).toBe('LOCKED');
    expect((error as Error).message).toBe(`another relay-select run holds the lock (pid ${process.pid})`);
    await lock.release();
    await lock.release();
    expect(await readdir(directory)).toEqual([]);
    const again = await acquireRunLock(directory);
    await again.release();
  });

  it('creates the state directory', async () => {
    const stateDir = path.join(directory, 'a', 'b');
    const lock = await acquireRunLock(stateDir);
    expect(await readdir(stateDir)).toEqual([RUN_LOCK_DIR_NAME]);
    await lock.release();
  });

  it('an old release never removes a lock taken over since', async () => {
    const first = await acquireRunLock(directory);
    // Simulate a take-over: the first owner's file vanished and another run now holds the lock.
    const [ownerFile] = await readdir(path.join(directory, RUN_LOCK_DIR_NAME));
    await rm(path.join(directory, RUN_LOCK_DIR_NAME), { recursive: true });
    const second = await acquireRunLock(directory);
    expect(ownerFile).toBeDefined();
    await first.release();
    await expect(acquireRunLock(directory)).rejects.toMatchObject({ code: 'LOCKED' });
    await second.release();
  });

  it('takes over an empty lock directory (a take-over whose taker died) and garbage owners', async () => {
    await mkdir(path.join(directory, RUN_LOCK_DIR_NAME));
    const lock = await acquireRunLock(directory);
    await lock.release();
    await mkdir(path.join(directory, RUN_LOCK_DIR_NAME));
    await writeFile(path.join(directory, RUN_LOCK_DIR_NAME, 'owner.damaged'), '\0\0\0');
    const again = await acquireRunLock(directory);
    await again.release();
  });
});

describe('acquireRunLock across processes', () => {
  it('8 concurrent acquirers over a stale lock, 50 times: exactly one wins each time', async () => {
    // In one process the fs calls of concurrent acquirers interleave on libuv's thread pool, which
    // exercises the take-over window far more often than separate processes starting "at once".
    const dead = startChild(path.join(directory, 'template'), 0, 'forever');
    expect(await dead.firstLine).toMatch(/^ACQUIRED/);
    await killAndWait(dead);
    const wins: number[] = [];
    for (let round = 0; round < 50; round++) {
      const stateDir = path.join(directory, `round-${round}`);
      await cp(path.join(directory, 'template'), stateDir, { recursive: true });
      const settled = await Promise.allSettled(Array.from({ length: 8 }, () => acquireRunLock(stateDir)));
      const won = settled.filter((outcome) => outcome.status === 'fulfilled');
      for (const outcome of settled) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'LOCKED' });
      }
      wins.push(won.length);
      for (const outcome of won) await outcome.value.release();
    }
    expect(wins).toEqual(Array.from({ length: 50 }, () => 1));
  });

  it('a stale lock of a SIGKILLed run is taken over at once; a live one is not', async () => {
    const holder = startChild(directory, 0, 'forever');
    expect(await holder.firstLine).toBe(`ACQUIRED ${holder.pid}`);
    await expect(acquireRunLock(directory)).rejects.toMatchObject({
      code: 'LOCKED',
      message: `another relay-select run holds the lock (pid ${holder.pid})`,
    });
    await killAndWait(holder);
    const lock = await acquireRunLock(directory);
    expect(await readdir(path.join(directory, RUN_LOCK_DIR_NAME))).toHaveLength(1);
    await lock.release();
  });

  it('50 times, two processes starting at once: exactly one gets the lock (half of them over a stale lock)', async () => {
    const lanes = 5;
    const rounds = 10;
    const runLane = async (lane: number) => {
      const outcomes: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const stateDir = path.join(directory, `lane-${lane}-round-${round}`);
        if (round % 2 === 1) {
          // A run that died holding the lock.
          const dead = startChild(stateDir, 0, 'forever');
          expect(await dead.firstLine).toMatch(/^ACQUIRED/);
          await killAndWait(dead);
        }
        const startAt = Date.now() + 300;
        const runs = [startChild(stateDir, startAt, 'stdin'), startChild(stateDir, startAt, 'stdin')];
        // A winner holds its lock until both have answered, so two ACQUIRED lines mean two holders at once.
        const lines = await Promise.all(runs.map((run) => run.firstLine));
        for (const run of runs) run.release();
        await Promise.all(runs.map((run) => run.exited));
        const winners = lines.filter((line) => line.startsWith('ACQUIRED'));
        const losers = lines.filter((line) => line.startsWith('LOCKED another relay-select run holds the lock (pid '));
        outcomes.push(winners.length === 1 && losers.length === 1 ? '1/1' : lines.join(' | '));
        // The loser names the winner's pid.
        if (winners.length === 1 && losers.length === 1)
          expect(losers[0]).toContain(`(pid ${winners[0]!.split(' ')[1]})`);
      }
      return outcomes;
    };
    const settled = await Promise.allSettled(Array.from({ length: lanes }, (_, lane) => runLane(lane)));
    const failure = settled.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    const outcomes = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? outcome.value : []));
    expect(outcomes).toHaveLength(50);
    expect(outcomes).toEqual(Array.from({ length: 50 }, () => '1/1'));
  }, 60_000);
});

describe('a run lock that is not what relay-select made', () => {
  it('a symbolic link or a file named run.lock is refused (STATE_UNTRUSTED), and what it points to is untouched', async () => {
    const elsewhere = path.join(directory, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(path.join(elsewhere, 'owner.keep'), 'not a lock\n');
    const stateDir = path.join(directory, 'state');
    await mkdir(stateDir, { mode: 0o700 });
    await symlink(elsewhere, path.join(stateDir, RUN_LOCK_DIR_NAME));
    await expect(acquireRunLock(stateDir)).rejects.toMatchObject({
      code: 'STATE_UNTRUSTED',
      message: `the run lock ${path.join(stateDir, RUN_LOCK_DIR_NAME)} is a symbolic link, not a regular file`,
    });
    expect(await readFile(path.join(elsewhere, 'owner.keep'), 'utf8')).toBe('not a lock\n');
    await rm(path.join(stateDir, RUN_LOCK_DIR_NAME));
    await writeFile(path.join(stateDir, RUN_LOCK_DIR_NAME), 'x');
    await expect(acquireRunLock(stateDir)).rejects.toMatchObject({
      code: 'STATE_UNTRUSTED',
      message: expect.stringMatching(/run\.lock is not a directory$/),
    });
  });

  it.skipIf(!isRoot)(
    `as root, a state directory others can write is refused before any lock is taken${isRoot ? '' : ' — skipped: needs root'}`,
    async () => {
      await chmod(directory, 0o777);
      await expect(acquireRunLock(directory)).rejects.toMatchObject({
        code: 'STATE_UNTRUSTED',
        message: `state directory ${directory} is not trusted: owned by uid 0, mode 0777`,
      });
      expect(await readdir(directory)).toEqual([]);
    },
  );
});
