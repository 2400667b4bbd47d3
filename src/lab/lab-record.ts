/**
 * Records of labs that may still be up, so `relay-select lab down` removes exactly what a lab made:
 * namespaces with a recorded prefix and processes with a recorded PID. A record is written when the
 * lab starts and removed after its teardown, so a lab killed outright is still found.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTrustProblem, processTrustPolicy, untrustedFileError } from '../trust.js';
import { STUB_RELAY_PROGRAM } from './stub-relay/stub-server.js';

export interface LabRecord {
  prefix: string;
  topology: string;
  /** Namespaces as created, for the message; removal goes by prefix. */
  namespaces: string[];
  /** Stub relays started by the lab. */
  pids: number[];
  /** The lab's temporary directory (relay list, settings, state, stub logs). */
  directory: string;
  createdAt: string;
  kept: boolean;
}

/** `/run/relay-select-lab` when /run exists (root), else a directory under the system temp dir. */
function labRecordDirectory(): string {
  return existsSync('/run') ? '/run/relay-select-lab' : join(tmpdir(), 'relay-select-lab');
}

function recordFile(directory: string, prefix: string): string {
  return join(directory, `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
}

/**
 * Records tell `lab down`, run as root, what to kill and remove: a directory another user could write
 * (a planted `/tmp/relay-select-lab`) would let them name it. Refused (STATE_UNTRUSTED) unless trusted.
 */
function checkRecordDirectory(directory: string): void {
  const trust = processTrustPolicy();
  if (trust === undefined) return;
  const problem = findTrustProblem(directory, { ...trust, expect: 'directory' });
  if (problem !== null) throw untrustedFileError('STATE_UNTRUSTED', 'lab record directory', directory, problem);
}

export function writeLabRecord(record: LabRecord, directory: string = labRecordDirectory()): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  checkRecordDirectory(directory);
  // Atomic, so `lab down` after a crash finds the whole record or none of it; the temporary file is
  // created exclusively under a random name, never through a link.
  const file = recordFile(directory, record.prefix);
  const temporary = join(directory, `.${record.prefix}.${randomBytes(8).toString('hex')}.tmp`);
  const descriptor = openSync(
    temporary,
    fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(descriptor, `${JSON.stringify(record, null, 2)}\n`);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
  try {
    renameSync(temporary, file);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
}

export function removeLabRecord(prefix: string, directory: string = labRecordDirectory()): void {
  rmSync(recordFile(directory, prefix), { force: true });
}

/** Every readable record; unreadable files are skipped (they name no prefix we could trust). */
export function readLabRecords(directory: string = labRecordDirectory()): LabRecord[] {
  if (!existsSync(directory)) return [];
  checkRecordDirectory(directory);
  let files: string[];
  try {
    files = readdirSync(directory).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  const records: LabRecord[] = [];
  for (const file of files) {
    try {
      const descriptor = openSync(
        join(directory, file),
        fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK,
      );
      let text: string;
      try {
        text = readFileSync(descriptor, 'utf8');
      } finally {
        closeSync(descriptor);
      }
      const value = JSON.parse(text) as LabRecord;
      // `lab down` removes `directory`: only ever a lab's own temporary directory.
      const ownDirectory =
        typeof value.directory === 'string' &&
        value.directory.startsWith(join(tmpdir(), `relay-select-lab-${value.prefix}-`)) &&
        !value.directory.includes('/../');
      if (typeof value.prefix === 'string' && value.prefix.length >= 4 && Array.isArray(value.pids) && ownDirectory)
        records.push(value);
    } catch {
      // Not ours or half written.
    }
  }
  return records;
}

/**
 * Whether `pid` is still one of our stub relays: a PID may have been reused since the record was
 * written, and we must only ever signal processes we started.
 */
export function isLabProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(STUB_RELAY_PROGRAM);
  } catch {
    return false;
  }
}
