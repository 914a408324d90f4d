/**
 * RFC 3962 §5 AES in CBC mode with ciphertext stealing (CBC-CS3 with a zero
 * initial vector), also used by RFC 8009 §5. A single block is plain AES
 * (ECB); longer input is CBC over the zero-padded message with the last two
 * ciphertext blocks swapped and the output truncated to the input length.
 * kerbside always starts from the initial (all-zero) cipher state, as every
 * RFC 4120/4121 message does.
 */

import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Cipher, Decipher } from 'node:crypto';

const BLOCK = 16;
const ZERO_IV = new Uint8Array(BLOCK);

function algorithm(key: Uint8Array, mode: 'cbc' | 'ecb'): string {
  if (key.length !== 16 && key.length !== 32) throw new RangeError(`AES key must be 16 or 32 bytes, got ${key.length}`);
  return `aes-${key.length * 8}-${mode}`;
}

function cbc(encrypting: boolean, key: Uint8Array): Cipher | Decipher {
  const c = encrypting
    ? createCipheriv(algorithm(key, 'cbc'), key, ZERO_IV)
    : createDecipheriv(algorithm(key, 'cbc'), key, ZERO_IV);
  c.setAutoPadding(false);
  return c;
}

/** Runs whole blocks through a fresh CBC cipher (no padding, so nothing is held back). */
function cbcAll(encrypting: boolean, key: Uint8Array, data: Uint8Array): Buffer {
  const c = cbc(encrypting, key);
  const head = c.update(data);
  const tail = c.final();
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/** Encrypts blocks one after another under one key schedule (the DR chain of RFC 3961 §5.1). */
export function aesBlockEncryptor(key: Uint8Array): (block: Uint8Array) => Uint8Array {
  const c = createCipheriv(algorithm(key, 'ecb'), key, null);
  c.setAutoPadding(false);
  return (block) => {
    if (block.length !== BLOCK) throw new RangeError('AES block must be 16 bytes');
    return new Uint8Array(c.update(block));
  };
}

/**
 * Encrypts `plaintext` (at least one block). The result is the ciphertext
 * followed by `trailer` zero octets, room for the caller's MAC.
 */
export function ctsEncrypt(key: Uint8Array, plaintext: Uint8Array, trailer = 0): Uint8Array {
  const n = plaintext.length;
  if (n < BLOCK) throw new RangeError(`CBC-CTS needs at least one block, got ${n} bytes`);
  const out = new Uint8Array(n + trailer);
  const remainder = n % BLOCK;
  let padded = plaintext;
  if (remainder !== 0) {
    padded = new Uint8Array(n + BLOCK - remainder);
    padded.set(plaintext);
  }
  const c = cbcAll(true, key, padded);
  if (n === BLOCK) {
    out.set(c);
    return out;
  }
  const lastStart = c.length - BLOCK;
  const prevStart = lastStart - BLOCK;
  const tail = n - lastStart; // 1..16 octets of the final, possibly partial block
  out.set(c.subarray(0, prevStart));
  out.set(c.subarray(lastStart), prevStart);
  out.set(c.subarray(prevStart, prevStart + tail), lastStart);
  return out;
}

export function ctsDecrypt(key: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const n = ciphertext.length;
  if (n < BLOCK) throw new RangeError(`CBC-CTS needs at least one block, got ${n} bytes`);
  if (n === BLOCK) return new Uint8Array(cbcAll(false, key, ciphertext));
  const lastStart = (Math.ceil(n / BLOCK) - 1) * BLOCK;
  const prevStart = lastStart - BLOCK;
  const tail = n - lastStart;
  const d = cbc(false, key);
  // Every block before the last two is ordinary CBC, decrypted straight from the input.
  const head = d.update(ciphertext.subarray(0, prevStart));
  // The full block at prevStart is the real last CBC block. Decrypted alone it
  // gives the zero-padded last plaintext XOR the stolen block, whose trailing
  // octets are exactly the ones the sender truncated away.
  const lastBlock = ciphertext.subarray(prevStart, lastStart);
  const x = cbcAll(false, key, lastBlock);
  const pair = new Uint8Array(2 * BLOCK);
  pair.set(ciphertext.subarray(lastStart));
  pair.set(x.subarray(tail), tail);
  pair.set(lastBlock, BLOCK);
  const rest = Buffer.concat([d.update(pair), d.final()]);
  const out = new Uint8Array(n);
  out.set(head);
  out.set(rest.subarray(0, n - head.length), head.length);
  return out;
}

/** AES-CTS as the E/D functions of the RFC 3961 simplified profile. */
export const AES_CTS = Object.freeze({
  blockSize: BLOCK,
  blockEncryptor: aesBlockEncryptor,
  encrypt: ctsEncrypt,
  decrypt: ctsDecrypt,
});
