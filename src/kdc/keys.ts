/**
 * Long-term keys as the KDC uses them: opening stored key bytes (possibly
 * wrapped under a realm master key), picking a key by (kvno, enctype), and the
 * salt a password-derived key was made with (RFC 4120 §4 default salt; MIT
 * krb5_key_salt_tuple types). Key bytes never reach an error or a log line.
 */

import type { RandomSource } from '../core/random.js';
import { bytesEqual, concatBytes, fromUtf8, utf8 } from '../core/bytes.js';
import { decrypt, encrypt, type Key } from '../crypto/index.js';
import { principalNameFromString } from '../messages/index.js';
import type { KeyMaterial, StoredKey } from '../store/index.js';
import { KeyRecordMismatchError, KeyUnwrapError } from './errors.js';

/** The record a stored key belongs to: what a wrapped blob is bound to. */
export interface KeyRecord {
  readonly principal: string;
  readonly kvno: number;
  readonly enctype: number;
}

/** Turns stored key bytes into usable keys and back (the store treats them as opaque). */
export interface KeyProtector {
  /** 'plain-for-tests' only for plainKeysForTests(): realmAdmin refuses it with a persistent store. */
  readonly kind: 'plain-for-tests' | 'master-key';
  /** Throws KeyUnwrapError / KeyRecordMismatchError (never with key bytes in it). */
  open(stored: StoredKey, principal: string): Key;
  /** Wraps `key` for the record (principal, kvno, key.enctype) it is about to be stored in. */
  seal(key: Key, principal: string, kvno: number): Uint8Array;
}

/**
 * Keys stored as they are: only for in-memory test realms. A database holding
 * them reveals every key, so realmAdmin refuses this with anything but a
 * MemoryStore, and createKdc has no default: the caller names this choice.
 */
export function plainKeysForTests(): KeyProtector {
  return PLAIN;
}

const PLAIN: KeyProtector = Object.freeze({
  kind: 'plain-for-tests' as const,
  open: (stored: StoredKey): Key => ({ enctype: stored.enctype, keyvalue: stored.keyvalue }),
  seal: (key: Key): Uint8Array => key.keyvalue,
});

/**
 * Key usage of the first blob format (raw key bytes under the master key).
 * MIT's kdb (krb5_dbe_encrypt_key_data) uses 0; we use our own number so a
 * blob is never mistaken for an MIT one.
 */
const WRAP_V1_USAGE = 1_000_001;
/** Key usage of the second format; 1_000_002 is the master key check value (cli/realm-dir). */
const WRAP_V2_USAGE = 1_000_003;
/** "KSW" + version 2: the prefix of a second-format blob. */
const WRAP_V2_MAGIC = Uint8Array.of(0x4b, 0x53, 0x57, 0x02);

/**
 * Blob formats:
 *
 *   v1  E(mk, 1000001, key)                             — unbound; read only while a realm migrates
 *   v2  "KSW\x02" ‖ E(mk, 1000003, record ‖ key)
 *       record = u16 length ‖ principal (UTF-8) ‖ u32 kvno ‖ i32 enctype
 *
 * E is RFC 3961 encryption with the master key's own enctype (RFC 3961 §5.3:
 * confounder, CBC-CTS/CTS, HMAC over the plaintext), so the record identity
 * inside the plaintext is integrity-protected exactly like associated data
 * would be. We chose this over AES-256-GCM with AAD because it works with
 * whatever enctype the stash holds (aes128, aes256, the RFC 8009 types, as
 * MIT stashes have), reuses the vetted RFC 3961 code instead of adding a
 * second primitive and its 96-bit nonce management, and costs 4 + ~30 bytes
 * per key. A blob moved to another principal, kvno or enctype opens but its
 * record does not match: KeyRecordMismatchError.
 */
function recordPlaintext(record: KeyRecord, keyvalue: Uint8Array): Uint8Array {
  const name = utf8(record.principal);
  const out = new Uint8Array(2 + name.length + 8 + keyvalue.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, name.length);
  out.set(name, 2);
  view.setUint32(2 + name.length, record.kvno);
  view.setInt32(6 + name.length, record.enctype);
  out.set(keyvalue, 10 + name.length);
  return out;
}

function openedKeyRecord(plain: Uint8Array): { record: KeyRecord; keyvalue: Uint8Array } | undefined {
  if (plain.length < 2) return undefined;
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const n = view.getUint16(0);
  if (plain.length < 10 + n) return undefined;
  let principal: string;
  try {
    principal = fromUtf8(plain.subarray(2, 2 + n));
  } catch {
    return undefined;
  }
  return {
    record: { principal, kvno: view.getUint32(2 + n), enctype: view.getInt32(6 + n) },
    keyvalue: plain.slice(10 + n),
  };
}

/** Whether a stored blob is in the first (unbound) format. */
export function isLegacyWrappedKey(blob: Uint8Array): boolean {
  return !(blob.length > WRAP_V2_MAGIC.length && bytesEqual(blob.subarray(0, WRAP_V2_MAGIC.length), WRAP_V2_MAGIC));
}

export interface MasterKeyProtectorOptions {
  /**
   * Open first-format (unbound) blobs too. Only for migrating a realm
   * created before the format was bound to its record (cli/realm-dir
   * re-wraps every key once, then opens the realm without this). Default false.
   */
  readonly acceptLegacyBlobs?: boolean;
}

/**
 * Wraps every stored key under a realm master key, bound to its record
 * (principal, kvno, enctype): see recordPlaintext for the format.
 *
 * Opened keys are remembered per StoredKey object, so the records a
 * PrincipalCache serves (frozen, replaced whenever the principal changes) are
 * unwrapped once rather than on every request, and the same key array reaches
 * the crypto layer each time (which memoizes its derived keys by it). An entry
 * is used only while the StoredKey still holds the very blob it was opened
 * from (same array, same octets, same enctype and kvno, same principal).
 * Opened keys are shared: callers must not modify their bytes.
 */
export function masterKeyProtector(masterKey: Key, random: RandomSource, options: MasterKeyProtectorOptions = {}): KeyProtector {
  const legacy = options.acceptLegacyBlobs === true;
  const opened = new WeakMap<StoredKey, {
    readonly principal: string; readonly enctype: number; readonly kvno: number; readonly blob: Uint8Array; readonly copy: Uint8Array; readonly key: Key;
  }>();

  function unwrap(stored: StoredKey, principal: string): Uint8Array {
    const where = `the enctype ${stored.enctype} key (kvno ${stored.kvno}) of ${principal}`;
    const detail = { principal, kvno: stored.kvno, enctype: stored.enctype };
    if (isLegacyWrappedKey(stored.keyvalue)) {
      if (!legacy) {
        throw new KeyRecordMismatchError(`${where} is in the old unbound wrapping format, which this realm no longer accepts`, {
          hint: 'the realm was migrated to record-bound key wrapping; an old-format blob in the database was copied from a backup or another record: restore the principal from a backup taken after the migration, or re-key it',
          detail,
        });
      }
      try {
        return decrypt(masterKey, WRAP_V1_USAGE, stored.keyvalue);
      } catch (err) {
        throw new KeyUnwrapError(`${where} does not open under the realm master key`, {
          hint: 'the database and the master key stash belong to different realms, or the stored key is damaged', detail, cause: err,
        });
      }
    }
    let plain: Uint8Array;
    try {
      plain = decrypt(masterKey, WRAP_V2_USAGE, stored.keyvalue.subarray(WRAP_V2_MAGIC.length));
    } catch (err) {
      // A first-format blob whose random confounder happens to start with the magic (2^-32).
      if (legacy) {
        try {
          return decrypt(masterKey, WRAP_V1_USAGE, stored.keyvalue);
        } catch {
          // fall through: report the second-format failure
        }
      }
      throw new KeyUnwrapError(`${where} does not open under the realm master key`, {
        hint: 'the database and the master key stash belong to different realms, or the stored key is damaged', detail, cause: err,
      });
    }
    const parsed = openedKeyRecord(plain);
    plain.fill(0);
    if (parsed === undefined) throw new KeyUnwrapError(`${where} opens under the master key but its record is malformed`, { detail });
    const r = parsed.record;
    if (r.principal !== principal || r.kvno !== stored.kvno || r.enctype !== stored.enctype) {
      parsed.keyvalue.fill(0);
      throw new KeyRecordMismatchError(
        `${where} was wrapped for the enctype ${r.enctype} key (kvno ${r.kvno}) of ${r.principal}: key bytes were moved between records`, {
          hint: 'someone with write access to the principal database copied a wrapped key into another record; restore the database from a backup and find out who can write to it',
          detail: { ...detail, sealedFor: { principal: r.principal, kvno: r.kvno, enctype: r.enctype } },
        });
    }
    return parsed.keyvalue;
  }

  return Object.freeze({
    kind: 'master-key' as const,
    open(stored: StoredKey, principal: string): Key {
      const hit = opened.get(stored);
      if (hit !== undefined && hit.principal === principal && hit.enctype === stored.enctype && hit.kvno === stored.kvno
        && hit.blob === stored.keyvalue && bytesEqual(hit.copy, stored.keyvalue)) {
        return hit.key;
      }
      const key: Key = Object.freeze({ enctype: stored.enctype, keyvalue: unwrap(stored, principal) });
      opened.set(stored, { principal, enctype: stored.enctype, kvno: stored.kvno, blob: stored.keyvalue, copy: new Uint8Array(stored.keyvalue), key });
      return key;
    },
    seal: (key: Key, principal: string, kvno: number): Uint8Array => {
      const plain = recordPlaintext({ principal, kvno, enctype: key.enctype }, key.keyvalue);
      try {
        return concatBytes(WRAP_V2_MAGIC, encrypt(masterKey, WRAP_V2_USAGE, plain, random));
      } finally {
        plain.fill(0);
      }
    },
  });
}

/**
 * The first (unbound) format, as realms created before record binding hold
 * it: only for building such realms in migration tests.
 */
export function sealLegacyForTests(masterKey: Key, key: Key, random: RandomSource): Uint8Array {
  return encrypt(masterKey, WRAP_V1_USAGE, key.keyvalue, random);
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
