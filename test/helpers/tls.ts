import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPki, type CertificateFiles } from '../../src/lab/stub-relay/pki.js';

/** One certificate (or CA) and its key: file paths and PEM contents. */
export interface TestCertificate extends CertificateFiles {
  certPem: string;
  keyPem: string;
}

/** The lab's PKI (src/lab/stub-relay/pki.ts) in a temporary directory, with the PEM contents at hand. */
export interface TestPki {
  dir: string;
  ca: TestCertificate;
  server: TestCertificate;
  client: TestCertificate;
  otherClient: TestCertificate;
  remove: () => void;
}

function withPem(files: CertificateFiles): TestCertificate {
  return { ...files, certPem: readFileSync(files.certFile, 'utf8'), keyPem: readFileSync(files.keyFile, 'utf8') };
}

/**
 * A CA with a server certificate for `serverNames` and a client certificate, plus a client certificate
 * of an unrelated CA; common names `${namePrefix}client` and so on.
 */
export function generateTestPki(
  serverNames: readonly string[] = ['localhost', '127.0.0.1', '::1'],
  namePrefix = '',
): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'relay-select-tls-'));
  const pki = createPki(dir, { serverNames, namePrefix });
  return {
    dir,
    ca: withPem(pki.ca),
    server: withPem(pki.server),
    client: withPem(pki.client),
    otherClient: withPem(pki.otherClient),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
