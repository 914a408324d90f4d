/**
 * RFC 3961 §5.3: a cryptosystem built from the simplified profile (§5.2) —
 * per-usage keys derived with DK, encryption E(Ke, conf | plaintext) followed
 * by HMAC(Ki, conf | plaintext) truncated to h octets, checksum HMAC(Kc, data).
 * RFC 3962 instantiates it with AES-CTS and SHA-1. Random-to-key is the
 * identity for every cipher used with it here, so DK = DR. The per-usage keys
 * are memoized per base key (derived-keys.ts).
 */

import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../core/bytes.js';
import { DerivedKeyCache } from '../derived-keys.js';
import { deriveRandom, KC, KE, KI, usageConstant } from './dk.js';

/** The E and D functions of a profile: a block cipher mode that needs no padding. */
export interface CipherMode {
  readonly blockSize: number;
  blockEncryptor(key: Uint8Array): (block: Uint8Array) => Uint8Array;
  /** E; the result has `trailer` spare octets at its end. */
  encrypt(key: Uint8Array, data: Uint8Array, trailer?: number): Uint8Array;
  decrypt(key: Uint8Array, data: Uint8Array): Uint8Array;
}

export interface SimplifiedProfileParams {
  readonly cipher: CipherMode;
  /** Node digest name of H. */
  readonly hash: string;
  /** HMAC output size h. */
  readonly macSize: number;
  readonly keyBytes: number;
}

export interface SimplifiedProfile extends SimplifiedProfileParams {
  /** Kc/Ke/Ki by base key, usage and purpose, each base key's block encryptor built once. */
  readonly usageKeys: DerivedKeyCache<(block: Uint8Array) => Uint8Array>;
}

/** A profile with its own derived-key cache; make one per enctype and share it between encryption and checksums. */
export function simplifiedProfile(params: SimplifiedProfileParams): SimplifiedProfile {
  const { cipher, keyBytes } = params;
  const usageKeys = new DerivedKeyCache(
    (key) => cipher.blockEncryptor(key),
    (encryptor, _key, usage, purpose) => deriveRandom(encryptor, cipher.blockSize, usageConstant(usage, purpose), keyBytes),
  );
  return Object.freeze({ ...params, usageKeys });
}

const PRF_CONSTANT = new TextEncoder().encode('prf');

export function derivedKey(p: SimplifiedProfile, key: Uint8Array, constant: Uint8Array): Uint8Array {
  return deriveRandom(p.cipher.blockEncryptor(key), p.cipher.blockSize, constant, p.keyBytes);
}

/** Ke and Ki for a usage. */
function encryptionKeys(p: SimplifiedProfile, key: Uint8Array, usage: number): [ke: Uint8Array, ki: Uint8Array] {
  return [p.usageKeys.get(key, usage, KE), p.usageKeys.get(key, usage, KI)];
}

function hmac(p: SimplifiedProfile, key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac(p.hash, key).update(data).digest().subarray(0, p.macSize);
}

export function encrypt(p: SimplifiedProfile, key: Uint8Array, usage: number, confounder: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const [ke, ki] = encryptionKeys(p, key, usage);
  const body = new Uint8Array(confounder.length + plaintext.length);
  body.set(confounder);
  body.set(plaintext, confounder.length);
  const out = p.cipher.encrypt(ke, body, p.macSize);
  out.set(hmac(p, ki, body), body.length);
  return out;
}

export function decrypt(p: SimplifiedProfile, key: Uint8Array, usage: number, ciphertext: Uint8Array): Uint8Array | undefined {
  const split = ciphertext.length - p.macSize;
  const [ke, ki] = encryptionKeys(p, key, usage);
  const body = p.cipher.decrypt(ke, ciphertext.subarray(0, split));
  if (!constantTimeEqual(hmac(p, ki, body), ciphertext.subarray(split))) return undefined;
  return body.subarray(p.cipher.blockSize);
}

export function checksum(p: SimplifiedProfile, key: Uint8Array, usage: number, data: Uint8Array): Uint8Array {
  return new Uint8Array(hmac(p, p.usageKeys.get(key, usage, KC), data));
}

/**
 * PRF = E(DK(key, "prf"), truncate(H(input))). The hash is truncated to the
 * cipher block size c, as MIT and Heimdal do and RFC 6113 Appendix A states
 * ("aes-ecb(trunc128(sha-1(input)))"); §5.3's "multiple of m" would keep all
 * 20 octets for CTS, which no implementation does.
 */
export function prf(p: SimplifiedProfile, key: Uint8Array, input: Uint8Array): Uint8Array {
  const tmp = createHash(p.hash).update(input).digest();
  const block = p.cipher.blockSize;
  return p.cipher.encrypt(derivedKey(p, key, PRF_CONSTANT), tmp.subarray(0, tmp.length - (tmp.length % block)));
}
