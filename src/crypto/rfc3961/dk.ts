/**
 * RFC 3961 §5.1 key derivation: DR(Key, Constant) chains the enctype's block
 * encryption from n-fold(Constant); DK is random-to-key of that. §5.3 names
 * the per-usage keys: Kc (checksum), Ke (encryption), Ki (integrity), derived
 * with the constant usage (4 octets, big-endian) || 0x99 / 0xAA / 0x55.
 */

import { nfold } from './nfold.js';

export const KC = 0x99;
export const KE = 0xaa;
export const KI = 0x55;

/** The 5-octet well-known constant for a key usage and purpose (KC, KE or KI). */
export function usageConstant(usage: number, purpose: number): Uint8Array {
  const c = new Uint8Array(5);
  new DataView(c.buffer).setUint32(0, usage >>> 0, false);
  c[4] = purpose;
  return c;
}

/**
 * DR: `encryptor` encrypts one cipher block under the base key (blocks are
 * chained, K1 = E(n-fold(constant)), K2 = E(K1), …) and `length` octets are
 * kept. The constant must not exceed the block size (RFC 3961 §5.1).
 */
export function deriveRandom(
  encryptor: (block: Uint8Array) => Uint8Array,
  blockSize: number,
  constant: Uint8Array,
  length: number,
): Uint8Array {
  if (constant.length > blockSize) throw new RangeError('DR constant is longer than the cipher block');
  const out = new Uint8Array(length);
  let block = nfold(constant, blockSize);
  for (let filled = 0; filled < length; filled += block.length) {
    block = encryptor(block);
    out.set(block.subarray(0, length - filled), filled);
  }
  return out;
}
