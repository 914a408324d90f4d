/**
 * Client failures (docs/lessons.md "Long-running jobs" 6: typed errors instead of
 * strings to pattern-match). Each carries the Kerberos error code where there
 * is one, the principal and service involved in `detail`, and a hint in words.
 */

import { KerbsideError } from '../core/errors.js';

/** No KDC of the realm answered; `detail.tried` lists every address and what happened. */
export class KdcUnreachableError extends KerbsideError {
  static override readonly code = 'ERR_KDC_UNREACHABLE';
  get tried(): readonly string[] {
    return (this.detail['tried'] as string[] | undefined) ?? [];
  }
}

/** The realm has no KDC configured (and none was given). */
export class NoKdcConfiguredError extends KerbsideError {
  static override readonly code = 'ERR_NO_KDC_CONFIGURED';
}

/** KRB_AP_ERR_SKEW (37): clocks differ by more than the allowed skew. `detail.offsetSeconds` is the measured offset. */
export class ClockSkewError extends KerbsideError {
  static override readonly code = 'ERR_CLOCK_SKEW';
}

/** KDC_ERR_PREAUTH_FAILED (24) or an AS reply that does not decrypt with the password's key. */
export class PasswordIncorrectError extends KerbsideError {
  static override readonly code = 'ERR_PASSWORD_INCORRECT';
}

/** KDC_ERR_C_PRINCIPAL_UNKNOWN (6) / KDC_ERR_S_PRINCIPAL_UNKNOWN (7). */
export class PrincipalUnknownError extends KerbsideError {
  static override readonly code = 'ERR_PRINCIPAL_UNKNOWN';
}

/** KDC_ERR_ETYPE_NOSUPP (14), or no key in the keytab for any enctype the KDC offers. */
export class NoCommonEnctypeError extends KerbsideError {
  static override readonly code = 'ERR_NO_COMMON_ENCTYPE';
}

/** KRB_AP_ERR_TKT_EXPIRED (32): the ticket presented (a TGT being used or renewed) has expired. */
export class TicketExpiredError extends KerbsideError {
  static override readonly code = 'ERR_TICKET_EXPIRED';
}

/** Renewal asked for past the ticket's renew-till, or the ticket is not renewable. */
export class RenewLimitReachedError extends KerbsideError {
  static override readonly code = 'ERR_RENEW_LIMIT_REACHED';
}

/** The keytab has no key for the principal (or none of a usable enctype). */
export class KeytabKeyMissingError extends KerbsideError {
  static override readonly code = 'ERR_KEYTAB_KEY_MISSING';
}

/** Any other KRB-ERROR returned by the KDC; `krbCode` says which. */
export class KdcError extends KerbsideError {
  static override readonly code = 'ERR_KDC_ERROR';
}

/** A KDC reply that does not match the request (nonce, names) or cannot be used. */
export class BadKdcReplyError extends KerbsideError {
  static override readonly code = 'ERR_BAD_KDC_REPLY';
}

/** Anonymous PKINIT (RFC 8062, kinit -n) is not available: the KDC does not offer it, or this client cannot do it. */
export class AnonymousUnsupportedError extends KerbsideError {
  static override readonly code = 'ERR_ANONYMOUS_UNSUPPORTED';
}

/** No credentials in the cache (or no cache): kinit first. */
export class NoCredentialsError extends KerbsideError {
  static override readonly code = 'ERR_NO_CREDENTIALS';
}

/** A session was asked to write a cache that holds another principal's credentials (or the cache it borrows from). */
export class CacheInUseError extends KerbsideError {
  static override readonly code = 'ERR_CACHE_IN_USE';
}
