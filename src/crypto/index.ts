/**
 * kerbside/crypto: the RFC 3961 framework with the enctypes kerbside speaks —
 * aes128/aes256-cts-hmac-sha1-96 (RFC 3962), aes128-cts-hmac-sha256-128 and
 * aes256-cts-hmac-sha384-192 (RFC 8009), and rc4-hmac (RFC 4757, weak) — their
 * checksums, key usages, PRF and KRB-FX-CF2 (RFC 6113).
 *
 * Weak-enctype policy. rc4-hmac (23) is `weak`. Functions that CREATE a key or
 * choose an enctype — `getEnctype`, `stringToKey`, `randomToKey`,
 * `generateKey` — throw `WeakEnctypeError` (krbCode 14) for it unless passed
 * `{ allowWeak: true }`. Functions that USE a key already in hand — `encrypt`,
 * `decrypt`, `makeChecksum`, `verifyChecksum`, `prf`, `cf2` — accept every
 * implemented enctype: the key came from a keytab, database or ticket that
 * the caller's policy (KDC/client configuration) already admitted. Callers
 * filter offered and accepted enctypes by policy with `getEnctype(n, opts)`
 * or `EnctypeProfile.weak`.
 *
 * Keys are plain `{ enctype, keyvalue }` values; nothing here keeps state.
 * Errors never contain key bytes, passwords or plaintext.
 */

export type { Key } from './keys.js';
export { stringToKey, randomToKey, generateKey, defaultSalt } from './keys.js';
export { encrypt, decrypt } from './encryption.js';
export { makeChecksum, verifyChecksum, defaultChecksumType, getChecksumType, checksumTypeName, type VerifyChecksumOptions } from './checksums.js';
export { prf, cf2 } from './prf.js';
export type { EnctypeOptions } from './enctypes.js';
export { getEnctype, enctypeName, enctypeFromName, enctypesFromName, isSupportedEnctype } from './enctypes.js';
export type { EnctypeProfile, ChecksumProfile } from './profile.js';
export { Enctype, ChecksumType, DEFAULT_ENCTYPES } from './numbers.js';
export { KeyUsage, describeKeyUsage } from './key-usage.js';
export { s2kParamsFromIterations, MAX_ITERATIONS } from './rfc3962/pbkdf2.js';
export {
  UnsupportedEnctypeError,
  WeakEnctypeError,
  UnsupportedChecksumError,
  InappropriateChecksumError, WeakChecksumError,
  IntegrityError,
  CiphertextLengthError,
  KeyLengthError,
  S2kParamsError, WeakS2kParamsError,
} from './errors.js';
export {
  octetString2Key, pkinitKdf, pkinitKdfOctets, pkinitKdfOtherInfo, PKINIT_KDF_HASHES, pkinitKdfHash, pkinitKdfOid,
  DEFAULT_KDF_PREFERENCE, chooseKdf, pkAuthenticatorChecksum,
} from './pkinit-kdf.js';
export type { PkinitKdfHash, PkinitKdfInput } from './pkinit-kdf.js';
export {
  DhParametersNotAcceptedError, DhPublicValueError, PKINIT_GROUPS, DhDomainParameters, SubjectPublicKeyInfo, acceptedDhParameters,
  groupOf, chooseGroup, decodeClientPublicKey, encodeClientPublicKey, agree, generateClientKey,
} from './pkinit-dh.js';
export type { PkinitGroup, ClientPublicKey, KdcAgreement, ClientKey } from './pkinit-dh.js';
// MD4 and RC4 for NTLM (MS-NLMP §3.3.2 NTOWF, §3.4 sealing); legacy algorithms, not for new uses.
export { md4 } from './rfc4757/md4.js';
export { rc4, rc4Stream } from './rfc4757/rc4.js';
