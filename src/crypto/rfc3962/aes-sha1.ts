/**
 * RFC 3962: aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18), the
 * RFC 3961 simplified profile with AES-CTS and SHA-1 (h = 12 octets), and the
 * checksums hmac-sha1-96-aes128 (15) / -aes256 (16).
 * String-to-key (§4): tkey = PBKDF2-HMAC-SHA1(password, salt, iterations,
 * key length); key = DK(tkey, "kerberos"); 4096 iterations by default.
 */

import * as simplified from '../rfc3961/simplified-profile.js';
import type { SimplifiedProfile } from '../rfc3961/simplified-profile.js';
import type { ChecksumFunction, EnctypeOps } from '../profile.js';
import { AES_CTS } from './aes-cts.js';
import { iterationsFromParams, pbkdf2 } from './pbkdf2.js';

export const AES_SHA1_DEFAULT_ITERATIONS = 4096;
export const AES_SHA1_MAC_SIZE = 12;

const KERBEROS = new TextEncoder().encode('kerberos');

/** One profile per key size, shared by encryption and checksums so both use one derived-key cache. */
const PROFILES: Readonly<Record<16 | 32, SimplifiedProfile>> = Object.freeze({
  16: simplified.simplifiedProfile({ cipher: AES_CTS, hash: 'sha1', macSize: AES_SHA1_MAC_SIZE, keyBytes: 16 }),
  32: simplified.simplifiedProfile({ cipher: AES_CTS, hash: 'sha1', macSize: AES_SHA1_MAC_SIZE, keyBytes: 32 }),
});

export function aesSha1Ops(keyBytes: 16 | 32, enctypeName: string): EnctypeOps {
  const p = PROFILES[keyBytes];
  return Object.freeze({
    async stringToKey(password: Uint8Array, salt: Uint8Array, params: Uint8Array | undefined) {
      const iterations = iterationsFromParams(params, AES_SHA1_DEFAULT_ITERATIONS, enctypeName);
      const tkey = await pbkdf2(password, salt, iterations, keyBytes, 'sha1');
      return simplified.derivedKey(p, tkey, KERBEROS);
    },
    randomToKey: (seed: Uint8Array) => seed.slice(),
    encrypt: (key: Uint8Array, usage: number, confounder: Uint8Array, plaintext: Uint8Array) =>
      simplified.encrypt(p, key, usage, confounder, plaintext),
    decrypt: (key: Uint8Array, usage: number, ciphertext: Uint8Array) => simplified.decrypt(p, key, usage, ciphertext),
    prf: (key: Uint8Array, input: Uint8Array) => simplified.prf(p, key, input),
  });
}

export function aesSha1Checksum(keyBytes: 16 | 32): ChecksumFunction {
  const p = PROFILES[keyBytes];
  return (key, usage, data) => simplified.checksum(p, key, usage, data);
}
