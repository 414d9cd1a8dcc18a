// Test-only TLS material made with the openssl CLI: a CA, server and client certs, a foreign CA, and an expired cert.
// The expired cert uses `openssl ca -startdate/-enddate` (OpenSSL 3.0's `x509` has no -not_before/-not_after and
// rejects negative -days), which needs a tiny CA config with an index file and a serial file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TlsFixtures {
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A client cert from an unrelated CA. */
  foreignClientCert: Buffer;
  foreignClientKey: Buffer;
  /** A client cert from the right CA whose validity ended in 2020. */
  expiredClientCert: Buffer;
  expiredClientKey: Buffer;
  cleanup(): void;
}

const OPENSSL = '/usr/bin/openssl';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function makeTlsFixtures(): TlsFixtures {
  const dir = mkdtempSync(path.join(tmpdir(), 'cicada-tls-'));
  const file = (name: string): string => path.join(dir, name);
  const run = (args: string[]): void => {
    execFileSync(OPENSSL, args, { cwd: dir, stdio: 'pipe', timeout: 10_000 });
  };
  const selfSignedCa = (name: string): void => {
    run(['req', '-x509', ...EC_KEY, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`), '-days', '2', '-subj', `/CN=${name}`]);
  };
  const request = (name: string): void => {
    run(['req', '-new', ...EC_KEY, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`]);
  };
  const sign = (name: string, ca: string, ext: string): void => {
    writeFileSync(file(`${name}.ext`), ext);
    run(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`),
      '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '2', '-extfile', file(`${name}.ext`)]);
  };

  selfSignedCa('test-ca');
  selfSignedCa('foreign-ca');
  request('server');
  sign('server', 'test-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  request('client');
  sign('client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  request('foreign-client');
  sign('foreign-client', 'foreign-ca', 'extendedKeyUsage=clientAuth\n');

  // Expired: issue through `openssl ca` with explicit start and end dates in the past.
  mkdirSync(file('issued'));
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('serial'), '1000\n');
  writeFileSync(file('ca.cnf'), [
    '[ ca ]', 'default_ca = test_ca', '[ test_ca ]',
    `database = ${file('index.txt')}`, `new_certs_dir = ${file('issued')}`, `serial = ${file('serial')}`,
    'default_md = sha256', 'policy = policy_any', 'unique_subject = no', 'x509_extensions = client_ext',
    '[ client_ext ]', 'extendedKeyUsage = clientAuth', '[ policy_any ]', 'commonName = supplied', '',
  ].join('\n'));
  request('expired-client');
  run(['ca', '-batch', '-config', file('ca.cnf'), '-cert', file('test-ca.pem'), '-keyfile', file('test-ca.key'),
    '-in', file('expired-client.csr'), '-out', file('expired-client.pem'), '-notext',
    '-startdate', '20200101000000Z', '-enddate', '20200102000000Z']);

  const read = (name: string): Buffer => readFileSync(file(name));
  return {
    ca: read('test-ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    foreignClientCert: read('foreign-client.pem'),
    foreignClientKey: read('foreign-client.key'),
    expiredClientCert: read('expired-client.pem'),
    expiredClientKey: read('expired-client.key'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
