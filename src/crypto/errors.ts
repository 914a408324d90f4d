/**
 * Typed failures of the crypto layer. Messages name enctypes, checksum types,
 * key usages and lengths — never key bytes, passwords or plaintext.
 */

import { InvalidArgumentError, KerbsideError } from '../core/errors.js';
import type { KerbsideErrorOptions } from '../core/errors.js';

/** RFC 4120 §7.5.9 error codes these failures map to. */
const KDC_ERR_ETYPE_NOSUPP = 14;
const KDC_ERR_SUMTYPE_NOSUPP = 15;
const KRB_AP_ERR_BAD_INTEGRITY = 31;
const KRB_AP_ERR_INAPP_CKSUM = 50;

/** The enctype is unknown or not implemented (KDC_ERR_ETYPE_NOSUPP). */
export class UnsupportedEnctypeError extends KerbsideError {
  static override readonly code: string = 'ERR_UNSUPPORTED_ENCTYPE';
  constructor(message: string, options: KerbsideErrorOptions = {}) {
    super(message, { krbCode: KDC_ERR_ETYPE_NOSUPP, ...options });
  }
}

/** The enctype is implemented but weak (RC4); the caller did not pass `allowWeak`. */
export class WeakEnctypeError extends UnsupportedEnctypeError {
  static override readonly code: string = 'ERR_WEAK_ENCTYPE';
}

/** The checksum type is unknown or not implemented (KDC_ERR_SUMTYPE_NOSUPP). */
export class UnsupportedChecksumError extends KerbsideError {
  static override readonly code: string = 'ERR_UNSUPPORTED_CHECKSUM';
  constructor(message: string, options: KerbsideErrorOptions = {}) {
    super(message, { krbCode: KDC_ERR_SUMTYPE_NOSUPP, ...options });
  }
}

/** The checksum type cannot be used with the key's enctype (KRB_AP_ERR_INAPP_CKSUM). */
export class InappropriateChecksumError extends KerbsideError {
  static override readonly code: string = 'ERR_INAPPROPRIATE_CHECKSUM';
  constructor(message: string, options: KerbsideErrorOptions = {}) {
    super(message, { krbCode: KRB_AP_ERR_INAPP_CKSUM, ...options });
  }
}

/**
 * A weak checksum type (hmac-md5, RFC 4757; RFC 6649 / RFC 8429 deprecate
 * RC4-HMAC and its checksum) offered by a peer while weak crypto is off.
 * KRB_AP_ERR_INAPP_CKSUM, like MIT's refusal of a checksum type unfit for the
 * message. A peer that chooses the checksum type must not be able to pick
 * a weaker MAC than the key's own.
 */
export class WeakChecksumError extends InappropriateChecksumError {
  static override readonly code: string = 'ERR_WEAK_CHECKSUM';
}

/**
 * Decryption found a bad integrity check (KRB_AP_ERR_BAD_INTEGRITY): the key
 * is not the one the sender used (wrong password, stale keytab, other kvno)
 * or the message was altered.
 */
export class IntegrityError extends KerbsideError {
  static override readonly code: string = 'ERR_BAD_INTEGRITY';
  constructor(message: string, options: KerbsideErrorOptions = {}) {
    super(message, { krbCode: KRB_AP_ERR_BAD_INTEGRITY, ...options });
  }
}

/**
 * A ciphertext is too short to hold the confounder and integrity check of its
 * enctype. A subclass of `IntegrityError`, so callers that turn integrity
 * failures into protocol errors handle truncated input the same way.
 */
export class CiphertextLengthError extends IntegrityError {
  static override readonly code: string = 'ERR_CIPHERTEXT_LENGTH';
}

/** A key's bytes (or random-to-key input) do not have the length its enctype needs. */
export class KeyLengthError extends InvalidArgumentError {
  static override readonly code: string = 'ERR_KEY_LENGTH';
}

/** String-to-key parameters (s2kparams from PA-ETYPE-INFO2) are malformed or absurd. */
export class S2kParamsError extends InvalidArgumentError {
  static override readonly code: string = 'ERR_BAD_S2K_PARAMS';
}

/**
 * s2kparams asking for fewer PBKDF2 iterations than the enctype's default
 * (RFC 3962 §4: 4096; RFC 8009 §4: 32768). A KDC never needs that; whoever
 * answers in the KDC's place (a spoofed KDC) can ask for it to make the
 * client's reply to PREAUTH_REQUIRED cheap to guess passwords against
 * offline. Refused as MIT does (src/lib/crypto/krb/s2k_pbkdf2.c
 * pbkdf2_string_to_key: KRB5_ERR_BAD_S2K_PARAMS below the default count).
 */
export class WeakS2kParamsError extends S2kParamsError {
  static override readonly code: string = 'ERR_WEAK_S2K_PARAMS';
}
