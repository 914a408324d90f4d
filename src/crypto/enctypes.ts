/**
 * The enctype registry: one frozen table of rows, each built by a small
 * factory per family (RFC 3962, RFC 8009, RFC 4757), resolved through
 * `getEnctype` (public, applies the weak-enctype policy) and `enctypeRow`
 * (internal, for operations on keys already in hand). Names and aliases are
 * MIT's (src/lib/crypto/krb/etypes.c), matched case-insensitively.
 */

import { UnsupportedEnctypeError, WeakEnctypeError } from './errors.js';
import { ChecksumType, DEFAULT_ENCTYPES, Enctype } from './numbers.js';
import type { EnctypeOps, EnctypeProfile } from './profile.js';
import { AES_SHA1_DEFAULT_ITERATIONS, AES_SHA1_MAC_SIZE, aesSha1Ops } from './rfc3962/aes-sha1.js';
import {
  AES128_CTS_HMAC_SHA256_128, AES256_CTS_HMAC_SHA384_192, AES_SHA2_DEFAULT_ITERATIONS, aesSha2Ops,
} from './rfc8009/aes-sha2.js';
import type { AesSha2Params } from './rfc8009/aes-sha2.js';
import { RC4_CONFOUNDER_SIZE, RC4_MAC_SIZE, rc4HmacOps } from './rfc4757/rc4-hmac.js';

export interface EnctypeOptions {
  /** Permit weak enctypes (rc4-hmac). Off by default; turn on only for legacy peers. */
  readonly allowWeak?: boolean;
  /**
   * Accept PBKDF2 iteration counts below the enctype's default (4096 for the
   * RFC 3962 types, 32768 for RFC 8009) in stringToKey. Only for published
   * test vectors: MIT refuses them whatever allow_weak_crypto says (its
   * test-only switch k5_allow_weak_pbkdf2iter, src/lib/crypto/krb/s2k_pbkdf2.c).
   */
  readonly allowLowIterations?: boolean;
}

/** @internal A registry row: public profile and the operations behind it. */
export interface EnctypeRow {
  readonly profile: EnctypeProfile;
  readonly ops: EnctypeOps;
}

function row(profile: EnctypeProfile, ops: EnctypeOps): EnctypeRow {
  return Object.freeze({ profile: Object.freeze({ ...profile, aliases: Object.freeze([...profile.aliases]) }), ops });
}

function aesSha1(enctype: number, name: string, aliases: string[], keyBytes: 16 | 32, checksumType: number): EnctypeRow {
  return row({
    enctype, name, aliases, spec: 'RFC 3962', keyBytes, keySeedBytes: keyBytes, blockSize: 16, confounderSize: 16,
    macSize: AES_SHA1_MAC_SIZE, prfSize: 16, defaultIterations: AES_SHA1_DEFAULT_ITERATIONS, checksumType, weak: false,
  }, aesSha1Ops(keyBytes, name));
}

function aesSha2(enctype: number, aliases: string[], params: AesSha2Params, checksumType: number): EnctypeRow {
  return row({
    enctype, name: params.name, aliases, spec: 'RFC 8009', keyBytes: params.keyBytes, keySeedBytes: params.keyBytes,
    blockSize: 16, confounderSize: 16, macSize: params.macSize, prfSize: params.prfSize,
    defaultIterations: AES_SHA2_DEFAULT_ITERATIONS, checksumType, weak: false,
  }, aesSha2Ops(params));
}

function rc4Hmac(enctype: number, name: string, aliases: string[], checksumType: number): EnctypeRow {
  return row({
    enctype, name, aliases, spec: 'RFC 4757', keyBytes: 16, keySeedBytes: 16, blockSize: 1,
    confounderSize: RC4_CONFOUNDER_SIZE, macSize: RC4_MAC_SIZE, prfSize: 20, checksumType, weak: true,
  }, rc4HmacOps);
}

const ROWS: Readonly<Record<number, EnctypeRow>> = Object.freeze(Object.assign(Object.create(null) as Record<number, EnctypeRow>, {
  [Enctype.AES128_CTS_HMAC_SHA1_96]: aesSha1(Enctype.AES128_CTS_HMAC_SHA1_96, 'aes128-cts-hmac-sha1-96',
    ['aes128-cts', 'aes128-sha1'], 16, ChecksumType.HMAC_SHA1_96_AES128),
  [Enctype.AES256_CTS_HMAC_SHA1_96]: aesSha1(Enctype.AES256_CTS_HMAC_SHA1_96, 'aes256-cts-hmac-sha1-96',
    ['aes256-cts', 'aes256-sha1'], 32, ChecksumType.HMAC_SHA1_96_AES256),
  [Enctype.AES128_CTS_HMAC_SHA256_128]: aesSha2(Enctype.AES128_CTS_HMAC_SHA256_128, ['aes128-sha2'],
    AES128_CTS_HMAC_SHA256_128, ChecksumType.HMAC_SHA256_128_AES128),
  [Enctype.AES256_CTS_HMAC_SHA384_192]: aesSha2(Enctype.AES256_CTS_HMAC_SHA384_192, ['aes256-sha2'],
    AES256_CTS_HMAC_SHA384_192, ChecksumType.HMAC_SHA384_192_AES256),
  [Enctype.RC4_HMAC]: rc4Hmac(Enctype.RC4_HMAC, 'arcfour-hmac', ['rc4-hmac', 'arcfour-hmac-md5'], ChecksumType.HMAC_MD5),
}));

/** Enctypes kerbside knows by name but does not implement (for messages only). */
const UNIMPLEMENTED_NAMES: Readonly<Record<number, string>> = Object.freeze(Object.assign(Object.create(null) as Record<number, string>, {
  1: 'des-cbc-crc', 2: 'des-cbc-md4', 3: 'des-cbc-md5', 16: 'des3-cbc-sha1', 24: 'arcfour-hmac-exp',
  25: 'camellia128-cts-cmac', 26: 'camellia256-cts-cmac',
}));

/** MIT enctype family names (krb5.conf), in MIT's order. */
const FAMILIES: Readonly<Record<string, readonly number[]>> = Object.freeze(Object.assign(Object.create(null) as Record<string, readonly number[]>, {
  'aes': DEFAULT_ENCTYPES,
  'aes-sha1': Object.freeze([18, 17]),
  'aes-sha2': Object.freeze([20, 19]),
  'rc4': Object.freeze([23]),
}));

const BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.values(ROWS).flatMap((r) => [r.profile.name, ...r.profile.aliases].map((n) => [n.toLowerCase(), r.profile.enctype] as const)),
);

/** MIT's name of an enctype ('aes256-cts-hmac-sha1-96'); 'etype N' when unknown, as `klist` prints. */
export function enctypeName(enctype: number): string {
  return ROWS[enctype]?.profile.name ?? UNIMPLEMENTED_NAMES[enctype] ?? `etype ${enctype}`;
}

function describe(enctype: number): string {
  return `${enctypeName(enctype)} (${enctype})`;
}

/** The hint of unsupported/weak enctype errors: what works by default and what needs allowWeak. */
function enabledList(): string {
  const rows = Object.values(ROWS);
  const strong = rows.filter((r) => !r.profile.weak).map((r) => describe(r.profile.enctype));
  const weak = rows.filter((r) => r.profile.weak).map((r) => describe(r.profile.enctype));
  return `kerbside implements ${strong.join(', ')}; ${weak.join(', ')} only with allowWeak`;
}

/** @internal The row of an implemented enctype, weak or not (for keys already in hand). */
export function enctypeRow(enctype: number): EnctypeRow {
  const r = ROWS[enctype];
  if (r === undefined) {
    const known = UNIMPLEMENTED_NAMES[enctype] !== undefined;
    throw new UnsupportedEnctypeError(
      `enctype ${enctype} (${known ? enctypeName(enctype) : 'unknown'}) is not supported`,
      { hint: enabledList(), detail: { enctype, name: enctypeName(enctype) } },
    );
  }
  return r;
}

/** @internal `enctypeRow` plus the weak-enctype policy. */
export function allowedEnctypeRow(enctype: number, opts: EnctypeOptions = {}): EnctypeRow {
  const r = enctypeRow(enctype);
  if (r.profile.weak && opts.allowWeak !== true) {
    throw new WeakEnctypeError(`enctype ${describe(enctype)} is weak and disabled`, {
      hint: 'RC4-HMAC is deprecated (RFC 8429): give the principal AES keys, or pass { allowWeak: true } '
        + '(allow_weak_crypto) only for legacy peers',
      detail: { enctype, name: r.profile.name },
    });
  }
  return r;
}

/**
 * The profile of an enctype. Throws `UnsupportedEnctypeError` (krbCode 14,
 * KDC_ERR_ETYPE_NOSUPP) for enctypes kerbside does not implement and
 * `WeakEnctypeError` for weak ones unless `allowWeak` is set.
 */
export function getEnctype(enctype: number, opts: EnctypeOptions = {}): EnctypeProfile {
  return allowedEnctypeRow(enctype, opts).profile;
}

/** Whether `enctype` is implemented (weak ones included). */
export function isSupportedEnctype(enctype: number): boolean {
  return ROWS[enctype] !== undefined;
}

/**
 * The enctype an MIT name or alias denotes ('aes256-cts', 'rc4-hmac', …),
 * case-insensitively; for a family name ('aes', 'aes-sha2', 'rc4') its first
 * member. Undefined for names of enctypes kerbside does not implement.
 */
export function enctypeFromName(name: string): number | undefined {
  return enctypesFromName(name)[0];
}

/** The enctypes an MIT name, alias or family name denotes ('aes' → [18, 17, 20, 19]); empty when none. */
export function enctypesFromName(name: string): readonly number[] {
  const key = name.trim().toLowerCase();
  const family = FAMILIES[key];
  if (family !== undefined) return family;
  const one = BY_NAME.get(key);
  return one === undefined ? [] : [one];
}
