/**
 * Throw-away certificates for stub relays served over https and for the clients that register with
 * them: the one place relay-select makes certificates (the lab, and the TLS and end-to-end tests).
 * EC P-256 keys with the openssl CLI (fast); valid for two days.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { RelaySelectError } from '../../errors.js';

/** PEM files of one certificate and its private key. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface Pki {
  /** Signs `server` and `client`. */
  ca: CertificateFiles;
  /** Names every address and DNS name it was made for; extended key usage serverAuth. */
  server: CertificateFiles;
  /** For mutual TLS; extended key usage clientAuth. */
  client: CertificateFiles;
  /** A client certificate from an unrelated CA, which a relay that requires client certificates refuses. */
  otherClient: CertificateFiles;
}

interface PkiOptions {
  /** What the server certificate names: IP addresses and DNS names. */
  serverNames: readonly string[];
  /** Prefix of every certificate's common name (`e2e-` → CN `e2e-client`). @default '' */
  namePrefix?: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = '2';

/** Makes the certificates into `directory` (which must exist). Throws LAB_FAILED naming what openssl said. */
export function createPki(directory: string, options: PkiOptions): Pki {
  const prefix = options.namePrefix ?? '';
  const openssl = (args: string[]): void => {
    try {
      execFileSync('openssl', args, { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const said = ((error as { stderr?: Buffer }).stderr?.toString() ?? (error as Error).message)
        .trim()
        .split('\n')[0];
      throw new RelaySelectError('LAB_FAILED', `cannot create certificates with openssl: ${said}`, { cause: error });
    }
  };
  const files = (role: string): CertificateFiles => ({
    certFile: join(directory, `${role}.pem`),
    keyFile: join(directory, `${role}.key`),
  });
  const authority = (role: string): CertificateFiles => {
    openssl([
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${role}.key`,
      '-out',
      `${role}.pem`,
      '-days',
      DAYS,
      '-subj',
      `/CN=${prefix}${role}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return files(role);
  };
  const leaf = (role: string, signer: string, extensions: string): CertificateFiles => {
    writeFileSync(join(directory, `${role}.ext`), `${extensions}keyUsage=critical,digitalSignature\n`);
    openssl([
      'req',
      '-new',
      ...EC_KEY,
      '-keyout',
      `${role}.key`,
      '-out',
      `${role}.csr`,
      '-subj',
      `/CN=${prefix}${role}`,
    ]);
    openssl([
      'x509',
      '-req',
      '-in',
      `${role}.csr`,
      '-CA',
      `${signer}.pem`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-out',
      `${role}.pem`,
      '-days',
      DAYS,
      '-extfile',
      `${role}.ext`,
    ]);
    return files(role);
  };

  const names = options.serverNames.map((name) => (isIP(name) === 0 ? `DNS:${name}` : `IP:${name}`));
  const ca = authority('ca');
  authority('other-ca');
  return {
    ca,
    server: leaf('server', 'ca', `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth\n`),
    client: leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n'),
    otherClient: leaf('other-client', 'other-ca', 'extendedKeyUsage=clientAuth\n'),
  };
}
