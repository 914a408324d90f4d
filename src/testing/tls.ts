/**
 * Test harness: a self-signed TLS server certificate made with the openssl
 * CLI in a temporary directory (a missing openssl FAILS the test with the
 * package to install). The DER form is returned too, so tests can compute
 * RFC 5929 tls-server-end-point bindings of the certificate themselves.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRun, baseEnvironment, requireTool, runProgram } from './mit-tools.js';

export interface TestCertificate {
  /** PEM certificate: the server's `cert`, and the client's `ca` (it is self-signed). */
  readonly certPem: string;
  readonly keyPem: string;
  readonly certDer: Uint8Array;
  readonly certPath: string;
  readonly keyPath: string;
  /** Removes the temporary directory. */
  remove(): Promise<void>;
}

export interface TestCertificateOptions {
  /** DNS names in subjectAltName (default ['localhost']); 127.0.0.1 is always added. */
  readonly dnsNames?: readonly string[];
  /** 'rsa' (RSA-2048, sha256WithRSAEncryption: RFC 5929 hash SHA-256) or 'ec-p384' (ecdsa-with-SHA384: SHA-384). */
  readonly keyType?: 'rsa' | 'ec-p384';
}

/** A fresh self-signed certificate and key, valid for a day. */
export async function selfSignedCertificate(options: TestCertificateOptions = {}): Promise<TestCertificate> {
  const openssl = requireTool('openssl', 'openssl');
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-tls-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    const derPath = join(dir, 'cert.der');
    const dnsNames = options.dnsNames ?? ['localhost'];
    const san = [...dnsNames.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
    const [newkey, digest] = options.keyType === 'ec-p384'
      ? [['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], '-sha384']
      : [['-newkey', 'rsa:2048'], '-sha256'];
    const env = { ...baseEnvironment(), HOME: dir, RANDFILE: join(dir, '.rnd') };
    checkRun('openssl req', await runProgram(openssl, [
      'req', '-x509', ...newkey, digest, '-nodes', '-days', '1', '-subj', `/CN=${dnsNames[0] ?? 'localhost'}`,
      '-addext', `subjectAltName=${san}`, '-keyout', keyPath, '-out', certPath,
    ], { env, timeoutMs: 30_000 }));
    checkRun('openssl x509', await runProgram(openssl, ['x509', '-in', certPath, '-outform', 'DER', '-out', derPath], { env }));
    return {
      certPem: await readFile(certPath, 'utf8'),
      keyPem: await readFile(keyPath, 'utf8'),
      certDer: new Uint8Array(await readFile(derPath)),
      certPath, keyPath, remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}
