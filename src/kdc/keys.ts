/**
 * Long-term keys as the KDC uses them: opening stored key bytes (possibly
 * wrapped under a realm master key), picking a key by (kvno, enctype), and the
 * salt a password-derived key was made with (RFC 4120 §4 default salt; MIT
 * krb5_key_salt_tuple types). Key bytes never reach an error or a log line.
 */

import type { RandomSource } from '../core/random.js';
import { bytesEqual, fromUtf8, utf8 } from '../core/bytes.js';
import { decrypt, encrypt, type Key } from '../crypto/index.js';
import { principalNameFromString } from '../messages/index.js';
import type { KeyMaterial, StoredKey } from '../store/index.js';

/** Turns stored key bytes into usable keys and back (the store treats them as opaque). */
export interface KeyProtector {
  open(stored: StoredKey, principal: string): Key;
  seal(key: Key, principal: string): Uint8Array;
}

/** Keys stored as they are (the in-memory test store, or a store that encrypts at rest itself). */
export const plainKeys: KeyProtector = Object.freeze({
  open: (stored: StoredKey): Key => ({ enctype: stored.enctype, keyvalue: stored.keyvalue }),
  seal: (key: Key): Uint8Array => key.keyvalue,
});

/**
 * Key usage for keys encrypted under the master key. MIT's kdb
 * (krb5_dbe_encrypt_key_data) uses 0; we use our own number so a blob is never
 * mistaken for an MIT one.
 */
const MASTER_KEY_USAGE = 1_000_001;

/**
 * Wraps every stored key under a realm master key (RFC 3961 encrypt with a
 * private usage).
 *
 * Opened keys are remembered per StoredKey object, so the records a
 * PrincipalCache serves (frozen, replaced whenever the principal changes) are
 * unwrapped once rather than on every request, and the same key array reaches
 * the crypto layer each time (which memoizes its derived keys by it). An entry
 * is used only while the StoredKey still holds the very blob it was opened
 * from (same array, same octets, same enctype). Opened keys are shared:
 * callers must not modify their bytes.
 */
export function masterKeyProtector(masterKey: Key, random: RandomSource): KeyProtector {
  const opened = new WeakMap<StoredKey, { readonly enctype: number; readonly blob: Uint8Array; readonly copy: Uint8Array; readonly key: Key }>();
  return Object.freeze({
    open(stored: StoredKey): Key {
      const hit = opened.get(stored);
      if (hit !== undefined && hit.enctype === stored.enctype && hit.blob === stored.keyvalue && bytesEqual(hit.copy, stored.keyvalue)) {
        return hit.key;
      }
      const key: Key = Object.freeze({ enctype: stored.enctype, keyvalue: decrypt(masterKey, MASTER_KEY_USAGE, stored.keyvalue) });
      opened.set(stored, { enctype: stored.enctype, blob: stored.keyvalue, copy: new Uint8Array(stored.keyvalue), key });
      return key;
    },
    seal: (key: Key): Uint8Array => encrypt(masterKey, MASTER_KEY_USAGE, key.keyvalue, random),
  });
}

/** MIT salt types (krb5 kdb.h KRB5_KDB_SALTTYPE_*). */
export const SaltType = Object.freeze({ NORMAL: 0, V4: 1, NOREALM: 2, ONLYREALM: 3, SPECIAL: 4, AFS3: 5 } as const);

/** Components and realm of a store name 'a/b@REALM' (MIT quoting). */
function splitPrincipalName(name: string): { components: string[]; realm: string } {
  const parsed = principalNameFromString(name);
  return { components: parsed.name.nameString, realm: parsed.realm ?? '' };
}

/** RFC 4120 §4: the realm followed by every name component, no separators. */
export function defaultSalt(principal: string): string {
  const { components, realm } = splitPrincipalName(principal);
  return realm + components.join('');
}

/** The salt string a key was derived with, as PA-ETYPE-INFO2 must announce it. */
export function saltOf(stored: KeyMaterial, principal: string): string {
  const salt = stored.salt;
  if (salt === undefined) return defaultSalt(principal);
  if (salt.value.length > 0 || salt.type === SaltType.SPECIAL) return saltString(salt.value);
  const { components, realm } = splitPrincipalName(principal);
  switch (salt.type) {
    case SaltType.V4: return '';
    case SaltType.NOREALM: return components.join('');
    case SaltType.ONLYREALM: return realm;
    default: return defaultSalt(principal);
  }
}

function saltString(value: Uint8Array): string {
  try {
    return fromUtf8(value);
  } catch {
    return Buffer.from(value).toString('latin1');
  }
}

/** The stored salt for a new password-derived key: the default salt, stored explicitly. */
export function storedSalt(salt: string): { type: number; value: Uint8Array } {
  return { type: SaltType.NORMAL, value: utf8(salt) };
}

/** The key of a given version and enctype (kvno undefined = the newest of that enctype). */
export function findKey(keys: readonly StoredKey[], enctype: number, kvno: number | undefined): StoredKey | undefined {
  return keys.find((k) => k.enctype === enctype && (kvno === undefined || k.kvno === kvno));
}
