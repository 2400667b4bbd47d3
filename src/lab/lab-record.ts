/**
 * Records of labs that may still be up, so `relay-select lab down` removes exactly what a lab made:
 * namespaces with a recorded prefix and processes with a recorded PID. A record is written when the
 * lab starts and removed after its teardown, so a lab killed outright is still found.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

export function writeLabRecord(record: LabRecord, directory: string = labRecordDirectory()): void {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  // Atomic: `lab down` after a crash must find the whole record or none of it.
  writeFileAtomic.sync(recordFile(directory, record.prefix), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export function removeLabRecord(prefix: string, directory: string = labRecordDirectory()): void {
  rmSync(recordFile(directory, prefix), { force: true });
}

/** Every readable record; unreadable files are skipped (they name no prefix we could trust). */
export function readLabRecords(directory: string = labRecordDirectory()): LabRecord[] {
  let files: string[];
  try {
    files = readdirSync(directory).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  const records: LabRecord[] = [];
  for (const file of files) {
    try {
      const value = JSON.parse(readFileSync(join(directory, file), 'utf8')) as LabRecord;
      if (typeof value.prefix === 'string' && value.prefix.length >= 4 && Array.isArray(value.pids)) records.push(value);
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
