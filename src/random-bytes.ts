/**
 * Random names for temporary files and lock tokens, from the kernel's generator (/dev/urandom, read
 * synchronously: three system calls). Loading node:crypto for eight bytes would cost a cron no-op that
 * writes its state more than everything else it does with them (bench/results/startup.md); node:crypto
 * serves only where /dev/urandom cannot be read.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Crypto from 'node:crypto';

/** `byteCount` random bytes as lower-case hex. */
export function randomHex(byteCount: number): string {
  return randomBytes(byteCount).toString('hex');
}

/** A random (version 4) UUID, as crypto.randomUUID() makes. */
export function randomUuid(): string {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function randomBytes(byteCount: number): Buffer {
  const bytes = Buffer.alloc(byteCount);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', constants.O_RDONLY); // libuv opens with O_CLOEXEC
    if (readSync(fd, bytes, 0, byteCount, null) === byteCount) return bytes;
  } catch {
    // No /dev/urandom here (a bare chroot, another system): node:crypto below.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return (createRequire(import.meta.url)('node:crypto') as typeof Crypto).randomBytes(byteCount);
}
