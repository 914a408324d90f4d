/**
 * encrypt/decrypt of RFC 3961 §3 over any implemented enctype: a random
 * confounder, the enctype's cipher and its integrity check. Decryption
 * failures are typed: `CiphertextLengthError` for input too short to be a
 * ciphertext of the enctype, `IntegrityError` (KRB_AP_ERR_BAD_INTEGRITY) for
 * a failed integrity check.
 */

import { InvalidArgumentError } from '../core/errors.js';
import { systemRandom } from '../core/random.js';
import type { RandomSource } from '../core/random.js';
import { CiphertextLengthError, IntegrityError } from './errors.js';
import { describeKeyUsage } from './key-usage.js';
import { checkUsage, keyRow } from './keys.js';
import type { Key } from './keys.js';
import type { EnctypeRow } from './enctypes.js';

/** Encrypts `plaintext` for `usage`; the confounder comes from `random`. */
export function encrypt(key: Key, usage: number, plaintext: Uint8Array, random: RandomSource = systemRandom()): Uint8Array {
  const r = keyRow(key);
  return seal(r, key, usage, plaintext, random.bytes(r.profile.confounderSize));
}

/**
 * INTERNAL, for known-answer tests: encrypt with a given confounder. Never use
 * a fixed or reused confounder for real traffic. Not exported from index.ts.
 */
export function encryptWithConfounder(key: Key, usage: number, plaintext: Uint8Array, confounder: Uint8Array): Uint8Array {
  return seal(keyRow(key), key, usage, plaintext, confounder);
}

function seal(r: EnctypeRow, key: Key, usage: number, plaintext: Uint8Array, confounder: Uint8Array): Uint8Array {
  checkUsage(usage);
  if (!(plaintext instanceof Uint8Array)) throw new InvalidArgumentError('plaintext must be a Uint8Array');
  if (confounder.length !== r.profile.confounderSize) {
    throw new InvalidArgumentError(`${r.profile.name} needs a ${r.profile.confounderSize}-octet confounder, got ${confounder.length}`);
  }
  return r.ops.encrypt(key.keyvalue, usage, confounder, plaintext);
}

/** Decrypts and checks integrity; returns the plaintext. */
export function decrypt(key: Key, usage: number, ciphertext: Uint8Array): Uint8Array {
  const r = keyRow(key);
  checkUsage(usage);
  if (!(ciphertext instanceof Uint8Array)) throw new InvalidArgumentError('ciphertext must be a Uint8Array');
  const { name, confounderSize, macSize } = r.profile;
  const detail = { enctype: key.enctype, enctypeName: name, usage };
  if (ciphertext.length < confounderSize + macSize) {
    throw new CiphertextLengthError(
      `${name} ciphertext (${describeKeyUsage(usage)}) has ${ciphertext.length} octets, fewer than its ${confounderSize}-octet confounder and ${macSize}-octet checksum`,
      { hint: 'the message is truncated, or was not encrypted with this enctype', detail: { ...detail, length: ciphertext.length } },
    );
  }
  const plaintext = r.ops.decrypt(key.keyvalue, usage, ciphertext);
  if (plaintext === undefined) {
    throw new IntegrityError(`decryption with a ${name} key failed its integrity check (${describeKeyUsage(usage)})`, {
      hint: 'the key is not the one the sender used — a wrong password, an out-of-date keytab or another key version (kvno) — or the message was altered',
      detail,
    });
  }
  return plaintext;
}
