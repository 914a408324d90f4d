/**
 * Key-pair generation, injected. Generating a key pair draws randomness, so
 * like `random.ts` it lives in core/ and reaches the rest of kerbside as a
 * parameter (the realm CA takes one; tests may pass a factory that hands out
 * pre-made keys to stay fast).
 */

import { webcrypto } from 'node:crypto';

export interface KeyPairFactory {
  /** An RSASSA-PKCS1-v1_5 / SHA-256 signing key pair, extractable (the CA writes the key as PKCS#8). */
  generateRsa(bits: number): Promise<webcrypto.CryptoKeyPair>;
  /** An ECDSA key pair on a NIST curve, SHA-256 signatures. */
  generateEcdsa(curve: 'P-256' | 'P-384'): Promise<webcrypto.CryptoKeyPair>;
}

/** Keys from the operating system's CSPRNG through node:crypto's WebCrypto. */
export function systemKeyPairs(): KeyPairFactory {
  return {
    generateRsa: (bits) => webcrypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      true, ['sign', 'verify'],
    ),
    generateEcdsa: (curve) => webcrypto.subtle.generateKey(
      { name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify'],
    ),
  };
}
