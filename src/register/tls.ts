import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { TlsSettings } from '../config/settings.js';
import { RelaySelectError } from '../errors.js';
import { processTrustPolicy, readFileBounded, untrustedFileError } from '../trust.js';
import type { ReadFile } from './types.js';

/**
 * The TLS files of `register.tls`, read once per run. Contents are kept out of `toString`/JSON so a
 * stray log line cannot leak the key.
 */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Whether a client certificate is configured (messages differ when a relay asks for one). */
  hasClientCertificate: boolean;
}

/** Why a file could not be read, without its contents: the errno code and the OS reason only. */
function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTREG':
      return `is ${String((error as { kind?: unknown }).kind)}`;
    case 'EFBIG':
      return `larger than ${MAX_TLS_FILE_BYTES} bytes, not a PEM file`;
    default:
      return code ?? 'read failed';
  }
}

/** PEM files are a few kilobytes; a CA bundle a few hundred. */
const MAX_TLS_FILE_BYTES = 4 * 1024 * 1024;

/**
 * How TLS files are read unless a test says otherwise: a regular file of at most 4 MiB, never waited on,
 * and as root only a trusted one — the CA decides whom we talk to, the key is a secret (0600, root's).
 */
async function readTlsFileFromDisk(path: string, setting?: string): Promise<Buffer> {
  const trust = processTrustPolicy();
  const secret = setting === 'register.tls.key';
  const read = await readFileBounded(path, {
    trust: trust === undefined ? undefined : { ...trust, secret },
    maxBytes: MAX_TLS_FILE_BYTES,
  });
  // A directory or a FIFO is a wrong path (CONFIG_INVALID below); a file others could change is refused as untrusted.
  if (!read.ok && read.problem.wrongKind)
    throw Object.assign(new Error(read.problem.found), {
      code: 'ENOTREG',
      kind: read.problem.found.replace(/, not a regular file$/, ''),
    });
  if (!read.ok) throw untrustedFileError('FILE_UNTRUSTED', setting ?? 'TLS file', path, read.problem);
  if (read.tooLarge) throw Object.assign(new Error(`over ${MAX_TLS_FILE_BYTES} bytes`), { code: 'EFBIG' });
  return read.bytes;
}

async function readSettingFile(setting: string, path: string, readFile: ReadFile | undefined): Promise<Buffer> {
  try {
    const data = readFile === undefined ? await readTlsFileFromDisk(path, setting) : await readFile(path);
    return typeof data === 'string' ? Buffer.from(data) : data;
  } catch (error) {
    if (error instanceof RelaySelectError) throw error;
    throw new RelaySelectError('CONFIG_INVALID', `${setting}: cannot read ${path}: ${describeReadError(error)}`, {
      file: path,
      hint: `check that ${path} exists and is readable by the user running relay-select`,
    });
  }
}

/** Hides the buffers from util.inspect and JSON so the key never lands in a log by accident. */
function sealMaterial(material: TlsMaterial): TlsMaterial {
  for (const field of ['ca', 'cert', 'key'] as const) {
    const value = material[field];
    if (value !== undefined) Object.defineProperty(material, field, { value, enumerable: false });
  }
  return material;
}

/**
 * Reads and checks `register.tls.ca`, `.cert` and `.key`. A missing or unreadable file, a file that
 * is not PEM of the expected kind, or a certificate without its key is CONFIG_INVALID. Messages name
 * the setting and the path, never the contents.
 */
export async function loadTlsMaterial(tls: TlsSettings, readFile?: ReadFile): Promise<TlsMaterial> {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'register.tls.cert' : 'register.tls.key';
    throw new RelaySelectError(
      'CONFIG_INVALID',
      `${missing}: required when ${missing === 'register.tls.cert' ? 'register.tls.key' : 'register.tls.cert'} is set (mutual TLS needs both)`,
    );
  }
  const material: TlsMaterial = { hasClientCertificate: tls.cert !== undefined };
  if (tls.ca !== undefined) {
    material.ca = await readSettingFile('register.tls.ca', tls.ca, readFile);
    try {
      new X509Certificate(material.ca);
    } catch {
      throw new RelaySelectError('CONFIG_INVALID', `register.tls.ca: ${tls.ca} is not a PEM certificate`, {
        file: tls.ca,
      });
    }
  }
  if (tls.cert !== undefined && tls.key !== undefined) {
    material.cert = await readSettingFile('register.tls.cert', tls.cert, readFile);
    material.key = await readSettingFile('register.tls.key', tls.key, readFile);
    try {
      new X509Certificate(material.cert);
    } catch {
      throw new RelaySelectError('CONFIG_INVALID', `register.tls.cert: ${tls.cert} is not a PEM certificate`, {
        file: tls.cert,
      });
    }
    try {
      createPrivateKey(material.key);
    } catch (error) {
      // OpenSSL's reason is generic ("unsupported", "bad decrypt"); the cause is deliberately dropped.
      const encrypted = /passphrase/i.test(String((error as Error).message));
      throw new RelaySelectError(
        'CONFIG_INVALID',
        `register.tls.key: ${tls.key} is not a usable private key${encrypted ? ' (it is encrypted; relay-select needs an unencrypted key file readable only by root)' : ''}`,
        { file: tls.key },
      );
    }
    try {
      createSecureContext({ cert: material.cert, key: material.key });
    } catch {
      throw new RelaySelectError(
        'CONFIG_INVALID',
        `register.tls.cert and register.tls.key: ${tls.cert} does not match the key in ${tls.key}`,
        {
          file: tls.key,
        },
      );
    }
  }
  return sealMaterial(material);
}
