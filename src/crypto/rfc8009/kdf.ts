/**
 * RFC 8009 §3 KDF-HMAC-SHA2 (the SP 800-108 counter-mode KDF with one
 * iteration): k-truncate(HMAC-SHA2(key, 00000001 | label | 00 | context | k)),
 * k the output length in bits as four big-endian octets. Outputs never exceed
 * one hash block here (at most 256 of SHA-256's or 384 of SHA-384's bits).
 */

import { createHmac } from 'node:crypto';

const COUNTER_ONE = Uint8Array.of(0, 0, 0, 1);
const SEPARATOR = Uint8Array.of(0);

export function kdfHmacSha2(hash: 'sha256' | 'sha384', key: Uint8Array, label: Uint8Array, context: Uint8Array, bits: number): Uint8Array {
  const bytes = bits / 8;
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes > (hash === 'sha256' ? 32 : 48)) {
    throw new RangeError(`KDF-HMAC-SHA2 output of ${bits} bits does not fit one ${hash} block`);
  }
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, bits, false);
  const out = createHmac(hash, key).update(COUNTER_ONE).update(label).update(SEPARATOR).update(context).update(k).digest();
  return new Uint8Array(out.subarray(0, bytes));
}
