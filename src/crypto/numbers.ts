/**
 * Assigned numbers (IANA "Kerberos Encryption Type Numbers" and "Kerberos
 * Checksum Type Numbers") of what kerbside implements, named as in the RFCs.
 */

export const Enctype = Object.freeze({
  /** RFC 3962 */
  AES128_CTS_HMAC_SHA1_96: 17,
  /** RFC 3962 */
  AES256_CTS_HMAC_SHA1_96: 18,
  /** RFC 8009 */
  AES128_CTS_HMAC_SHA256_128: 19,
  /** RFC 8009 */
  AES256_CTS_HMAC_SHA384_192: 20,
  /** RFC 4757 (deprecated by RFC 8429; weak) */
  RC4_HMAC: 23,
} as const);

export const ChecksumType = Object.freeze({
  /** RFC 3962 */
  HMAC_SHA1_96_AES128: 15,
  /** RFC 3962 */
  HMAC_SHA1_96_AES256: 16,
  /** RFC 8009 */
  HMAC_SHA256_128_AES128: 19,
  /** RFC 8009 */
  HMAC_SHA384_192_AES256: 20,
  /** RFC 4757 §4 */
  HMAC_MD5: -138,
} as const);

/** Preferred order when nothing is configured: AES-SHA1 first, as MIT 1.20 does. */
export const DEFAULT_ENCTYPES: readonly number[] = Object.freeze([18, 17, 20, 19]);
