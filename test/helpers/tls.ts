import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One certificate (or CA) and its key: file paths and PEM contents. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

/**
 * A throw-away PKI for TLS tests: a CA with a server certificate (localhost, 127.0.0.1, ::1) and a
 * client certificate, plus a second, unrelated CA with its own client certificate.
 */
export interface TestPki {
  dir: string;
  ca: TestCertificate;
  server: TestCertificate;
  client: TestCertificate;
  otherClient: TestCertificate;
  remove: () => void;
}

function runOpenssl(args: string[], cwd: string): void {
  execFileSync('/usr/bin/openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function readCertificate(dir: string, name: string): TestCertificate {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function createCa(dir: string, name: string): void {
  runOpenssl(
    ['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

function createLeaf(dir: string, name: string, caName: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  runOpenssl(['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  runOpenssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`],
    dir,
  );
}

/** Generates the PKI with the openssl CLI into a new temporary directory (EC P-256 keys: fast). */
export function generateTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'relay-select-tls-'));
  createCa(dir, 'test-ca');
  createCa(dir, 'other-ca');
  createLeaf(dir, 'server', 'test-ca',
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  createLeaf(dir, 'client', 'test-ca', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  createLeaf(dir, 'other-client', 'other-ca', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  return {
    dir,
    ca: readCertificate(dir, 'test-ca'),
    server: readCertificate(dir, 'server'),
    client: readCertificate(dir, 'client'),
    otherClient: readCertificate(dir, 'other-client'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
