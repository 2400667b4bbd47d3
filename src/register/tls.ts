import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile as readFileFromDisk } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { TlsSettings } from '../config/settings.js';
import { RelaySelectError } from '../errors.js';
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
    default:
      return code ?? 'read failed';
  }
}

async function readSettingFile(setting: string, path: string, readFile: ReadFile): Promise<Buffer> {
  try {
    const data = await readFile(path);
    return typeof data === 'string' ? Buffer.from(data) : data;
  } catch (error) {
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
export async function loadTlsMaterial(tls: TlsSettings, readFile: ReadFile = readFileFromDisk): Promise<TlsMaterial> {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    const missing = tls.cert === undefined ? 'register.tls.cert' : 'register.tls.key';
    throw new RelaySelectError('CONFIG_INVALID', `${missing}: required when ${missing === 'register.tls.cert' ? 'register.tls.key' : 'register.tls.cert'} is set (mutual TLS needs both)`);
  }
  const material: TlsMaterial = { hasClientCertificate: tls.cert !== undefined };
  if (tls.ca !== undefined) {
    material.ca = await readSettingFile('register.tls.ca', tls.ca, readFile);
    try {
      new X509Certificate(material.ca);
    } catch {
      throw new RelaySelectError('CONFIG_INVALID', `register.tls.ca: ${tls.ca} is not a PEM certificate`, { file: tls.ca });
    }
  }
  if (tls.cert !== undefined && tls.key !== undefined) {
    material.cert = await readSettingFile('register.tls.cert', tls.cert, readFile);
    material.key = await readSettingFile('register.tls.key', tls.key, readFile);
    try {
      new X509Certificate(material.cert);
    } catch {
      throw new RelaySelectError('CONFIG_INVALID', `register.tls.cert: ${tls.cert} is not a PEM certificate`, { file: tls.cert });
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
      throw new RelaySelectError('CONFIG_INVALID', `register.tls.cert and register.tls.key: ${tls.cert} does not match the key in ${tls.key}`, {
        file: tls.key,
      });
    }
  }
  return sealMaterial(material);
}
