/**
 * A realm CA read back from its files (DIR/pkinit/ca.pem and ca.key, written
 * by `kerbside ca init`), to issue further certificates and CRLs.
 */

import type { Clock } from '../core/clock.js';
import type { KeyPairFactory } from '../core/keypairs.js';
import type { RandomSource } from '../core/random.js';
import type { RealmCa } from './ca.js';
import { ab, subtle } from './engine.js';
import { toPem } from './pem.js';
import { dnToString, parseCertificate } from './x509-util.js';

export interface LoadRealmCaOptions {
  readonly realm: string;
  /** DER of the CA certificate. */
  readonly certificate: Uint8Array;
  /** PKCS#8 DER of the CA's RSA key. */
  readonly privateKey: Uint8Array;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly keys: KeyPairFactory;
}

export async function loadRealmCa(o: LoadRealmCaOptions): Promise<RealmCa> {
  const cert = parseCertificate(o.certificate, 'CA');
  const key = await subtle().importKey('pkcs8', ab(o.privateKey), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['sign']);
  const modulus = (key.algorithm as { modulusLength?: number }).modulusLength ?? 2048;
  return Object.freeze({
    realm: o.realm,
    subject: dnToString(cert.subject),
    certificate: o.certificate,
    privateKey: key,
    clock: o.clock,
    random: o.random,
    keys: o.keys,
    rsaBits: modulus,
    pem: () => ({ certificate: toPem('CERTIFICATE', o.certificate), key: toPem('PRIVATE KEY', o.privateKey) }),
  });
}
