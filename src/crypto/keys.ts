/**
 * Protocol keys (RFC 3961 §3): from a password (string-to-key), from random
 * octets (random-to-key) and freshly generated. Creating a key of a weak
 * enctype needs `{ allowWeak: true }`; see index.ts for the policy.
 */

import { InvalidArgumentError } from '../core/errors.js';
import { utf8 } from '../core/bytes.js';
import { systemRandom } from '../core/random.js';
import type { RandomSource } from '../core/random.js';
import { allowedEnctypeRow, enctypeRow } from './enctypes.js';
import type { EnctypeOptions, EnctypeRow } from './enctypes.js';
import { KeyLengthError } from './errors.js';
import { checkIterationFloor } from './rfc3962/pbkdf2.js';

/** A protocol key: the enctype and the key octets (EncryptionKey in RFC 4120 §5.2.9). */
export interface Key {
  readonly enctype: number;
  readonly keyvalue: Uint8Array;
}

function octets(value: string | Uint8Array, what: string): Uint8Array {
  if (typeof value === 'string') return utf8(value);
  if (value instanceof Uint8Array) return value;
  throw new InvalidArgumentError(`${what} must be a string or a Uint8Array`);
}

/**
 * Derives a long-term key from a password and salt (RFC 3961 §3
 * string-to-key). Strings are encoded as UTF-8. `params` are the s2kparams
 * of PA-ETYPE-INFO2 (absent: the enctype's default iteration count; fewer
 * iterations than the default: WeakS2kParamsError, unless allowLowIterations).
 */
export async function stringToKey(
  enctype: number,
  password: string | Uint8Array,
  salt: string | Uint8Array,
  params?: Uint8Array,
  opts?: EnctypeOptions,
): Promise<Key> {
  const r = allowedEnctypeRow(enctype, opts);
  const floor = r.profile.defaultIterations;
  if (floor !== undefined && opts?.allowLowIterations !== true) checkIterationFloor(params, floor, r.profile.name);
  const keyvalue = await r.ops.stringToKey(octets(password, 'password'), octets(salt, 'salt'), params);
  return { enctype, keyvalue };
}

/**
 * The default salt of RFC 4120 §4: the realm followed by the principal's
 * name components, with nothing between them.
 */
export function defaultSalt(realm: string, nameComponents: readonly string[]): string {
  return realm + nameComponents.join('');
}

/** A key from `keySeedBytes` random octets (RFC 3961 §3 random-to-key). */
export function randomToKey(enctype: number, bytes: Uint8Array, opts?: EnctypeOptions): Key {
  const r = allowedEnctypeRow(enctype, opts);
  if (!(bytes instanceof Uint8Array) || bytes.length !== r.profile.keySeedBytes) {
    throw new KeyLengthError(
      `random-to-key for ${r.profile.name} needs ${r.profile.keySeedBytes} random octets, got ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`,
      { detail: { enctype, expected: r.profile.keySeedBytes } },
    );
  }
  return { enctype, keyvalue: r.ops.randomToKey(bytes) };
}

/** A fresh random key (session keys, new service keys). */
export function generateKey(enctype: number, random: RandomSource = systemRandom(), opts?: EnctypeOptions): Key {
  const r = allowedEnctypeRow(enctype, opts);
  return randomToKey(enctype, random.bytes(r.profile.keySeedBytes), opts);
}

/** @internal The row of a key's enctype after checking the key's length (no weak policy: the key exists). */
export function keyRow(key: Key): EnctypeRow {
  if (typeof key !== 'object' || key === null || !(key.keyvalue instanceof Uint8Array)) {
    throw new InvalidArgumentError('a key must be { enctype: number, keyvalue: Uint8Array }');
  }
  const r = enctypeRow(key.enctype);
  if (key.keyvalue.length !== r.profile.keyBytes) {
    throw new KeyLengthError(`a ${r.profile.name} key must be ${r.profile.keyBytes} octets, this one has ${key.keyvalue.length}`, {
      hint: 'the key was stored or decoded with the wrong enctype (keytab or database entry mislabelled?)',
      detail: { enctype: key.enctype, expected: r.profile.keyBytes, actual: key.keyvalue.length },
    });
  }
  return r;
}

/** @internal Key usages are unsigned 32-bit numbers (RFC 3961 §3). */
export function checkUsage(usage: number): void {
  if (!Number.isInteger(usage) || usage < 0 || usage > 0xffffffff) {
    throw new InvalidArgumentError(`key usage must be an integer in 0..2^32-1, got ${String(usage)}`);
  }
}
