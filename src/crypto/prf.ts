/**
 * The RFC 3961 §3 pseudo-random function of each enctype (RFC 3962 via
 * RFC 3961 §5.3, RFC 8009 §5, RFC 4757 as MIT) and RFC 6113 §5.1 KRB-FX-CF2,
 * which FAST uses to combine keys (armor key, strengthen key).
 */

import { utf8 } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';
import { keyRow } from './keys.js';
import type { Key } from './keys.js';
import { prfPlus } from './rfc6113/prf-plus.js';

/** pseudo-random(key, input); the output length is the enctype's `prfSize`. */
export function prf(key: Key, input: Uint8Array): Uint8Array {
  if (!(input instanceof Uint8Array)) throw new InvalidArgumentError('PRF input must be a Uint8Array');
  return keyRow(key).ops.prf(key.keyvalue, input);
}

/**
 * KRB-FX-CF2(key1, key2, pepper1, pepper2) = random-to-key(PRF+(key1, pepper1)
 * XOR PRF+(key2, pepper2)), a key of key1's enctype. Pepper strings are UTF-8.
 */
export function cf2(key1: Key, key2: Key, pepper1: string | Uint8Array, pepper2: string | Uint8Array): Key {
  const r1 = keyRow(key1);
  const r2 = keyRow(key2);
  const length = r1.profile.keySeedBytes;
  const a = prfPlus((x) => r1.ops.prf(key1.keyvalue, x), typeof pepper1 === 'string' ? utf8(pepper1) : pepper1, length);
  const b = prfPlus((x) => r2.ops.prf(key2.keyvalue, x), typeof pepper2 === 'string' ? utf8(pepper2) : pepper2, length);
  for (let i = 0; i < length; i++) a[i] = a[i]! ^ b[i]!;
  return { enctype: key1.enctype, keyvalue: r1.ops.randomToKey(a) };
}
