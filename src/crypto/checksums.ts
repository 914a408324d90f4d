/**
 * The checksum-type registry (IANA "Kerberos Checksum Type Numbers"; MIT
 * names from cksumtypes.c): one frozen table, resolved through
 * `getChecksumType`. Every implemented type is keyed and collision-proof;
 * unkeyed ones (crc32, md4, md5, sha1) are not implemented, so they are
 * refused as unsupported. A type tied to an enctype needs a key of that
 * enctype; hmac-md5 (-138) takes any key, as in MIT (MS-SFU PA-FOR-USER uses
 * it whatever the key) — but it is weak, so verifyChecksum refuses it unless
 * the caller allows weak crypto: the checksum type comes from the peer's
 * message, and without this an AES session key would verify an HMAC-MD5.
 */

import { constantTimeEqual } from '../core/bytes.js';
import { enctypeName, enctypeRow } from './enctypes.js';
import { InappropriateChecksumError, UnsupportedChecksumError, WeakChecksumError } from './errors.js';
import { checkUsage, keyRow } from './keys.js';
import type { Key } from './keys.js';
import { ChecksumType, Enctype } from './numbers.js';
import type { ChecksumFunction, ChecksumProfile } from './profile.js';
import { aesSha1Checksum } from './rfc3962/aes-sha1.js';
import { AES128_CTS_HMAC_SHA256_128, AES256_CTS_HMAC_SHA384_192, aesSha2Checksum } from './rfc8009/aes-sha2.js';
import { hmacMd5Checksum } from './rfc4757/rc4-hmac.js';

interface ChecksumRow {
  readonly profile: ChecksumProfile;
  readonly make: ChecksumFunction;
}

function row(profile: ChecksumProfile, make: ChecksumFunction): ChecksumRow {
  return Object.freeze({ profile: Object.freeze(profile), make });
}

/** A checksum keyed with (and sized by) one enctype's keys: the RFC 3962 and RFC 8009 types. */
function enctypeChecksum(cksumtype: number, name: string, enctype: number, make: ChecksumFunction): ChecksumRow {
  const spec = enctypeRow(enctype).profile;
  return row({ cksumtype, name, spec: spec.spec, macSize: spec.macSize, enctype, weak: spec.weak }, make);
}

const ROWS: Readonly<Record<number, ChecksumRow>> = Object.freeze(Object.assign(Object.create(null) as Record<number, ChecksumRow>, {
  [ChecksumType.HMAC_SHA1_96_AES128]: enctypeChecksum(ChecksumType.HMAC_SHA1_96_AES128, 'hmac-sha1-96-aes128',
    Enctype.AES128_CTS_HMAC_SHA1_96, aesSha1Checksum(16)),
  [ChecksumType.HMAC_SHA1_96_AES256]: enctypeChecksum(ChecksumType.HMAC_SHA1_96_AES256, 'hmac-sha1-96-aes256',
    Enctype.AES256_CTS_HMAC_SHA1_96, aesSha1Checksum(32)),
  [ChecksumType.HMAC_SHA256_128_AES128]: enctypeChecksum(ChecksumType.HMAC_SHA256_128_AES128, 'hmac-sha256-128-aes128',
    Enctype.AES128_CTS_HMAC_SHA256_128, aesSha2Checksum(AES128_CTS_HMAC_SHA256_128)),
  [ChecksumType.HMAC_SHA384_192_AES256]: enctypeChecksum(ChecksumType.HMAC_SHA384_192_AES256, 'hmac-sha384-192-aes256',
    Enctype.AES256_CTS_HMAC_SHA384_192, aesSha2Checksum(AES256_CTS_HMAC_SHA384_192)),
  [ChecksumType.HMAC_MD5]: row({ cksumtype: ChecksumType.HMAC_MD5, name: 'hmac-md5-rc4', spec: 'RFC 4757', macSize: 16, weak: true },
    hmacMd5Checksum),
}));

const OTHER_NAMES: Readonly<Record<number, string>> = Object.freeze(Object.assign(Object.create(null) as Record<number, string>, {
  1: 'crc32', 2: 'md4', 3: 'md4-des', 7: 'md5', 8: 'md5-des', 12: 'hmac-sha1-des3', 14: 'sha', 17: 'cmac-camellia128',
  18: 'cmac-camellia256', [-137]: 'md5-hmac-rc4',
}));

/** MIT's name of a checksum type; 'cksumtype N' when unknown. */
export function checksumTypeName(cksumtype: number): string {
  return ROWS[cksumtype]?.profile.name ?? OTHER_NAMES[cksumtype] ?? `cksumtype ${cksumtype}`;
}

function checksumRow(cksumtype: number): ChecksumRow {
  const r = ROWS[cksumtype];
  if (r === undefined) {
    const implemented = Object.values(ROWS).map((c) => `${c.profile.name} (${c.profile.cksumtype})`).join(', ');
    throw new UnsupportedChecksumError(`checksum type ${cksumtype} (${checksumTypeName(cksumtype)}) is not supported`, {
      hint: `kerbside implements ${implemented}`,
      detail: { cksumtype, name: checksumTypeName(cksumtype) },
    });
  }
  return r;
}

/** The profile of a checksum type; throws `UnsupportedChecksumError` (krbCode 15) when not implemented. */
export function getChecksumType(cksumtype: number): ChecksumProfile {
  return checksumRow(cksumtype).profile;
}

/** The checksum type keyed with an enctype's keys: 17→15, 18→16, 19→19, 20→20, 23→-138. */
export function defaultChecksumType(enctype: number): number {
  return enctypeRow(enctype).profile.checksumType;
}

function compute(cksumtype: number, key: Key, usage: number, data: Uint8Array): { value: Uint8Array; size: number } {
  const r = checksumRow(cksumtype);
  keyRow(key);
  checkUsage(usage);
  const needed = r.profile.enctype;
  if (needed !== undefined && needed !== key.enctype) {
    throw new InappropriateChecksumError(
      `checksum type ${cksumtype} (${r.profile.name}) is keyed with ${enctypeName(needed)} keys, not ${enctypeName(key.enctype)} (${key.enctype})`,
      { hint: 'use defaultChecksumType(key.enctype), or the key the checksum type belongs to', detail: { cksumtype, enctype: key.enctype } },
    );
  }
  return { value: r.make(key.keyvalue, usage, data), size: r.profile.macSize };
}

function safeDefaultChecksum(enctype: number): number {
  try {
    return defaultChecksumType(enctype);
  } catch {
    return 0;
  }
}

/** Computes a keyed checksum (RFC 3961 §4 get_mic) over `data` for `usage`. */
export function makeChecksum(cksumtype: number, key: Key, usage: number, data: Uint8Array): Uint8Array {
  return compute(cksumtype, key, usage, data).value;
}

export interface VerifyChecksumOptions {
  /**
   * Accept weak checksum types (hmac-md5): only where the realm or acceptor
   * allows weak crypto (allow_weak_crypto). Default false.
   */
  readonly allowWeak?: boolean;
}

/**
 * Verifies a keyed checksum in constant time; false for a wrong value or
 * length. Throws for an unsupported checksum type, a key that does not fit
 * it, or a weak type without `allowWeak` (WeakChecksumError, krbCode 50).
 */
export function verifyChecksum(
  cksumtype: number, key: Key, usage: number, data: Uint8Array, checksum: Uint8Array, options: VerifyChecksumOptions = {},
): boolean {
  const profile = checksumRow(cksumtype).profile;
  if (profile.weak && options.allowWeak !== true) {
    throw new WeakChecksumError(`checksum type ${cksumtype} (${profile.name}) is weak and weak crypto is not allowed`, {
      hint: `the peer should use ${checksumTypeName(safeDefaultChecksum(key.enctype))}, the checksum of its ${enctypeName(key.enctype)} key; allow weak crypto only for legacy RC4 peers`,
      detail: { cksumtype, enctype: key.enctype },
    });
  }
  const { value, size } = compute(cksumtype, key, usage, data);
  return checksum instanceof Uint8Array && checksum.length === size && constantTimeEqual(value, checksum);
}
