/**
 * GSS-API failures as typed errors (RFC 2743 §1.2.1 major status codes,
 * numeric values from RFC 2744 §3.9.1). Every error carries the major status
 * name (`major`), its C value (`majorStatus`) and, as the minor status, the
 * Kerberos error code when there is one (`krbCode`, RFC 4120 §7.5.9).
 *
 * An error may carry `output`: a token to send to the peer before giving up
 * (a KRB-ERROR token from the krb5 mechanism, a SPNEGO reject), as
 * GSS_Accept_sec_context() returns one alongside a failure.
 *
 * Messages name principals, kvnos and enctypes, never keys or tokens.
 */

import { KerbsideError, type KerbsideErrorOptions } from '../core/errors.js';

/** RFC 2744 §3.9.1 routine errors (shifted into bits 16–23) and supplementary bits. */
export const GssMajor = Object.freeze({
  GSS_S_COMPLETE: 0,
  GSS_S_BAD_MECH: 1 << 16,
  GSS_S_BAD_NAME: 2 << 16,
  GSS_S_BAD_NAMETYPE: 3 << 16,
  GSS_S_BAD_BINDINGS: 4 << 16,
  GSS_S_BAD_STATUS: 5 << 16,
  GSS_S_BAD_SIG: 6 << 16,
  GSS_S_NO_CRED: 7 << 16,
  GSS_S_NO_CONTEXT: 8 << 16,
  GSS_S_DEFECTIVE_TOKEN: 9 << 16,
  GSS_S_DEFECTIVE_CREDENTIAL: 10 << 16,
  GSS_S_CREDENTIALS_EXPIRED: 11 << 16,
  GSS_S_CONTEXT_EXPIRED: 12 << 16,
  GSS_S_FAILURE: 13 << 16,
  GSS_S_BAD_QOP: 14 << 16,
  GSS_S_UNAUTHORIZED: 15 << 16,
  GSS_S_UNAVAILABLE: 16 << 16,
  // Supplementary information bits (RFC 2744 §3.9.1).
  GSS_S_CONTINUE_NEEDED: 1 << 0,
  GSS_S_DUPLICATE_TOKEN: 1 << 1,
  GSS_S_OLD_TOKEN: 1 << 2,
  GSS_S_UNSEQ_TOKEN: 1 << 3,
  GSS_S_GAP_TOKEN: 1 << 4,
} as const);

export type GssMajorName = Exclude<keyof typeof GssMajor, 'GSS_S_COMPLETE' | 'GSS_S_CONTINUE_NEEDED'>;

export interface GssErrorOptions extends KerbsideErrorOptions {
  /** A token for the peer (error token) to send before closing the exchange. */
  readonly output?: Uint8Array;
}

/** Base class: `major` says what kind of failure, `krbCode` (the minor status) which Kerberos error. */
export class GssError extends KerbsideError {
  static override readonly code: string = 'ERR_GSS';
  /** The major status this class reports. */
  static readonly major: GssMajorName = 'GSS_S_FAILURE';
  readonly major: GssMajorName;
  readonly majorStatus: number;
  /** Token to send to the peer, if the mechanism produced one (never secret). */
  readonly output: Uint8Array | undefined;

  constructor(message: string, options: GssErrorOptions = {}) {
    super(message, options);
    this.major = (new.target as typeof GssError).major;
    this.majorStatus = GssMajor[this.major];
    this.output = options.output;
  }

  /** The minor status: the Kerberos error code, 0 when there is none. */
  get minor(): number {
    return this.krbCode ?? 0;
  }
}

/** A copy of `err` (same class, message, hint, detail, cause) carrying `output`. */
export function withOutput<E extends GssError>(err: E, output: Uint8Array | undefined): E {
  if (output === undefined) return err;
  const Ctor = err.constructor as new (message: string, options: GssErrorOptions) => E;
  const copy = new Ctor(err.message, {
    ...(err.krbCode === undefined ? {} : { krbCode: err.krbCode }),
    ...(err.hint === undefined ? {} : { hint: err.hint }),
    detail: err.detail,
    ...(err.cause === undefined ? {} : { cause: err.cause }),
    output,
  });
  return copy;
}

/** GSS_S_DEFECTIVE_TOKEN: a token failed consistency checks (framing, ASN.1, lengths, protocol state). */
export class DefectiveTokenError extends GssError {
  static override readonly code: string = 'ERR_GSS_DEFECTIVE_TOKEN';
  static override readonly major: GssMajorName = 'GSS_S_DEFECTIVE_TOKEN';
}

/** GSS_S_BAD_MECH: no mechanism both sides support, or a token for another mechanism. */
export class BadMechError extends GssError {
  static override readonly code: string = 'ERR_GSS_BAD_MECH';
  static override readonly major: GssMajorName = 'GSS_S_BAD_MECH';
}

/** The peer offered only NTLM and this side does not allow (or implement) it. */
export class NtlmNotEnabledError extends BadMechError {
  static override readonly code: string = 'ERR_GSS_NTLM_NOT_ENABLED';
}

/** GSS_S_BAD_BINDINGS: channel bindings missing or not matching (EPA). */
export class BadBindingsError extends GssError {
  static override readonly code: string = 'ERR_GSS_BAD_BINDINGS';
  static override readonly major: GssMajorName = 'GSS_S_BAD_BINDINGS';
}

/** GSS_S_BAD_SIG (GSS_S_BAD_MIC): a MIC or Wrap token failed its integrity check. */
export class BadMicError extends GssError {
  static override readonly code: string = 'ERR_GSS_BAD_MIC';
  static override readonly major: GssMajorName = 'GSS_S_BAD_SIG';
}

/** GSS_S_NO_CONTEXT: the context is not established (or was torn down after a failure). */
export class NoContextError extends GssError {
  static override readonly code: string = 'ERR_GSS_NO_CONTEXT';
  static override readonly major: GssMajorName = 'GSS_S_NO_CONTEXT';
}

/** GSS_S_CONTEXT_EXPIRED: the context's lifetime (ticket end time, or handshake timeout) has passed. */
export class ContextExpiredError extends GssError {
  static override readonly code: string = 'ERR_GSS_CONTEXT_EXPIRED';
  static override readonly major: GssMajorName = 'GSS_S_CONTEXT_EXPIRED';
}

/** GSS_S_CREDENTIALS_EXPIRED: the ticket has expired (KRB_AP_ERR_TKT_EXPIRED) or is not yet valid. */
export class CredentialsExpiredError extends GssError {
  static override readonly code: string = 'ERR_GSS_CREDENTIALS_EXPIRED';
  static override readonly major: GssMajorName = 'GSS_S_CREDENTIALS_EXPIRED';
}

/** GSS_S_DUPLICATE_TOKEN on a per-message token: the same sequence number was seen before. */
export class DuplicateTokenError extends GssError {
  static override readonly code: string = 'ERR_GSS_DUPLICATE_TOKEN';
  static override readonly major: GssMajorName = 'GSS_S_DUPLICATE_TOKEN';
}

/** GSS_S_OLD_TOKEN: a per-message token too old to be checked for replay. */
export class OldTokenError extends GssError {
  static override readonly code: string = 'ERR_GSS_OLD_TOKEN';
  static override readonly major: GssMajorName = 'GSS_S_OLD_TOKEN';
}

/** GSS_S_UNAVAILABLE: an operation this implementation does not provide (e.g. RC4 per-message tokens). */
export class GssUnavailableError extends GssError {
  static override readonly code: string = 'ERR_GSS_UNAVAILABLE';
  static override readonly major: GssMajorName = 'GSS_S_UNAVAILABLE';
}

/** GSS_S_FAILURE: a mechanism-specific failure; `krbCode` says which. */
export class GssFailureError extends GssError {
  static override readonly code: string = 'ERR_GSS_FAILURE';
}

/**
 * KRB_AP_ERR_REPEAT (34): this authenticator was presented before (replay
 * cache hit). Reported as GSS_S_DUPLICATE_TOKEN, as RFC 2743 §2.2.2 lists for
 * GSS_Accept_sec_context. Distinct from a clock skew failure.
 */
export class AuthenticatorReplayError extends GssError {
  static override readonly code: string = 'ERR_GSS_REPLAY';
  static override readonly major: GssMajorName = 'GSS_S_DUPLICATE_TOKEN';
  constructor(message: string, options: GssErrorOptions = {}) {
    super(message, { krbCode: 34, ...options });
  }
}

/**
 * The acceptor's replay cache is full of unexpired entries, so this
 * authenticator could not be recorded and is refused (the cache never evicts
 * a live entry: store/replay-cache.ts). Not a replay: GSS_S_FAILURE with
 * KRB_ERR_GENERIC (60), which every peer understands; HTTP answers 503.
 */
export class ReplayCacheFullGssError extends GssError {
  static override readonly code: string = 'ERR_GSS_REPLAY_CACHE_FULL';
  constructor(message: string, options: GssErrorOptions = {}) {
    super(message, { krbCode: 60, ...options });
  }
}

/** KRB_AP_ERR_SKEW (37): the authenticator's time is outside the allowed clock skew. Not a replay. */
export class ClockSkewError extends GssError {
  static override readonly code: string = 'ERR_GSS_CLOCK_SKEW';
  constructor(message: string, options: GssErrorOptions = {}) {
    super(message, { krbCode: 37, ...options });
  }
}

/** Why the acceptor has no key for a ticket (MIT rd_req_dec.c's cases). */
export type AcceptorKeyProblem =
  | 'wrong-principal'
  | 'ticket-out-of-date'
  | 'keytab-out-of-date'
  | 'enctype-missing'
  | 'weak-enctype'
  | 'keytab-unavailable';

/**
 * The acceptor has no usable key for the ticket: the ticket names a service
 * the keytab does not hold (KRB_AP_ERR_NOT_US 35), a kvno it does not hold
 * (KRB_AP_ERR_BADKEYVER 44, saying which side is out of date) or not the
 * enctype. `problem` says which.
 */
export class AcceptorKeyError extends GssError {
  static override readonly code: string = 'ERR_GSS_ACCEPTOR_KEY';
  readonly problem: AcceptorKeyProblem;
  constructor(message: string, options: GssErrorOptions & { readonly problem?: AcceptorKeyProblem } = {}) {
    super(message, options);
    this.problem = options.problem ?? (this.detail['problem'] as AcceptorKeyProblem | undefined) ?? 'keytab-unavailable';
  }
}

/**
 * KRB_AP_ERR_BAD_INTEGRITY (31) on the ticket: the keytab holds a key for the
 * ticket's principal, kvno and enctype, but it does not decrypt the ticket.
 */
export class TicketIntegrityError extends GssError {
  static override readonly code: string = 'ERR_GSS_TICKET_INTEGRITY';
  constructor(message: string, options: GssErrorOptions = {}) {
    super(message, { krbCode: 31, ...options });
  }
}

/** The peer answered with a KRB-ERROR token (krb5 TOK_ID 03 00); `krbCode` is its error-code. */
export class KerberosRejectedError extends GssError {
  static override readonly code: string = 'ERR_GSS_KRB_ERROR';
}

/** Mutual authentication failed: the AP-REP does not match our AP-REQ (KRB_AP_ERR_MUT_FAIL 46). */
export class MutualAuthError extends GssError {
  static override readonly code: string = 'ERR_GSS_MUTUAL_AUTH';
  constructor(message: string, options: GssErrorOptions = {}) {
    super(message, { krbCode: 46, ...options });
  }
}
