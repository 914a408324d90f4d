/**
 * RFC 8009: aes128-cts-hmac-sha256-128 (19) and aes256-cts-hmac-sha384-192
 * (20), with checksums hmac-sha256-128-aes128 (19) / hmac-sha384-192-aes256 (20).
 * - Keys (§5): Kc = KDF(base, usage | 99, h), Ke = KDF(base, usage | AA, key
 *   size), Ki = KDF(base, usage | 55, h); h is 128 or 192 bits.
 * - Encryption (§5): C = AES-CTS(Ke, N | plaintext) with a 16-octet random
 *   confounder N; H = HMAC(Ki, IV | C) truncated to h, with IV the zero
 *   cipher state; ciphertext = C | H (encrypt-then-MAC, MAC checked first).
 * - String-to-key (§4): saltp = enctype-name | 00 | salt; tkey = PBKDF2-HMAC-SHA2(
 *   password, saltp, iterations, key size); key = KDF(tkey, "kerberos", key size);
 *   32768 iterations by default.
 * - PRF (§5): KDF(base, "prf", input, 256 or 384 bits).
 */

import { createHmac } from 'node:crypto';
import { constantTimeEqual, concatBytes } from '../../core/bytes.js';
import { DerivedKeyCache } from '../derived-keys.js';
import { KC, KE, KI, usageConstant } from '../rfc3961/dk.js';
import { ctsDecrypt, ctsEncrypt } from '../rfc3962/aes-cts.js';
import { iterationsFromParams, pbkdf2 } from '../rfc3962/pbkdf2.js';
import type { ChecksumFunction, EnctypeOps } from '../profile.js';
import { kdfHmacSha2 } from './kdf.js';

export const AES_SHA2_DEFAULT_ITERATIONS = 32768;
const BLOCK = 16;
const ZERO_IV = new Uint8Array(BLOCK);
const EMPTY = new Uint8Array(0);
const KERBEROS = new TextEncoder().encode('kerberos');
const PRF_LABEL = new TextEncoder().encode('prf');

export interface AesSha2Params {
  /** Enctype name, which salts PBKDF2 (§4). */
  readonly name: string;
  readonly keyBytes: 16 | 32;
  readonly hash: 'sha256' | 'sha384';
  /** Truncated HMAC length h in octets (16 or 24). */
  readonly macSize: 16 | 24;
  /** PRF output length in octets (32 or 48). */
  readonly prfSize: 32 | 48;
}

export const AES128_CTS_HMAC_SHA256_128: AesSha2Params = Object.freeze({
  name: 'aes128-cts-hmac-sha256-128', keyBytes: 16, hash: 'sha256', macSize: 16, prfSize: 32,
});
export const AES256_CTS_HMAC_SHA384_192: AesSha2Params = Object.freeze({
  name: 'aes256-cts-hmac-sha384-192', keyBytes: 32, hash: 'sha384', macSize: 24, prfSize: 48,
});

function usageKeyCache(p: AesSha2Params): DerivedKeyCache<undefined> {
  return new DerivedKeyCache(() => undefined, (_none, key, usage, purpose) =>
    kdfHmacSha2(p.hash, key, usageConstant(usage, purpose), EMPTY, (purpose === KE ? p.keyBytes : p.macSize) * 8));
}

/** Kc/Ke/Ki memoized per base key, one cache per enctype (shared by encryption and checksums). */
const USAGE_KEYS: Readonly<Record<string, DerivedKeyCache<undefined>>> = Object.freeze(Object.assign(
  Object.create(null) as Record<string, DerivedKeyCache<undefined>>, {
    [AES128_CTS_HMAC_SHA256_128.name]: usageKeyCache(AES128_CTS_HMAC_SHA256_128),
    [AES256_CTS_HMAC_SHA384_192.name]: usageKeyCache(AES256_CTS_HMAC_SHA384_192),
  }));

function usageKeysOf(p: AesSha2Params): DerivedKeyCache<undefined> {
  const cache = USAGE_KEYS[p.name];
  if (cache === undefined) throw new RangeError(`no RFC 8009 enctype named ${p.name}`);
  return cache;
}

function mac(p: AesSha2Params, ki: Uint8Array, c: Uint8Array): Uint8Array {
  return createHmac(p.hash, ki).update(ZERO_IV).update(c).digest().subarray(0, p.macSize);
}

export function aesSha2Ops(p: AesSha2Params): EnctypeOps {
  const pepper = concatBytes(new TextEncoder().encode(p.name), Uint8Array.of(0));
  const keys = usageKeysOf(p);
  return Object.freeze({
    async stringToKey(password: Uint8Array, salt: Uint8Array, params: Uint8Array | undefined) {
      const iterations = iterationsFromParams(params, AES_SHA2_DEFAULT_ITERATIONS, p.name);
      const tkey = await pbkdf2(password, concatBytes(pepper, salt), iterations, p.keyBytes, p.hash);
      return kdfHmacSha2(p.hash, tkey, KERBEROS, EMPTY, p.keyBytes * 8);
    },
    randomToKey: (seed: Uint8Array) => seed.slice(),
    encrypt(key: Uint8Array, usage: number, confounder: Uint8Array, plaintext: Uint8Array) {
      const out = ctsEncrypt(keys.get(key, usage, KE), concatBytes(confounder, plaintext), p.macSize);
      const c = out.subarray(0, out.length - p.macSize);
      out.set(mac(p, keys.get(key, usage, KI), c), c.length);
      return out;
    },
    decrypt(key: Uint8Array, usage: number, ciphertext: Uint8Array) {
      const c = ciphertext.subarray(0, ciphertext.length - p.macSize);
      const h = ciphertext.subarray(c.length);
      if (!constantTimeEqual(mac(p, keys.get(key, usage, KI), c), h)) return undefined;
      return ctsDecrypt(keys.get(key, usage, KE), c).subarray(BLOCK);
    },
    prf: (key: Uint8Array, input: Uint8Array) => kdfHmacSha2(p.hash, key, PRF_LABEL, input, p.prfSize * 8),
  });
}

export function aesSha2Checksum(p: AesSha2Params): ChecksumFunction {
  const keys = usageKeysOf(p);
  return (key, usage, data) =>
    new Uint8Array(createHmac(p.hash, keys.get(key, usage, KC)).update(data).digest().subarray(0, p.macSize));
}
