/**
 * A request the KDC refuses (RFC 4120 §3.1.4, §5.9.1). The message becomes the
 * KRB-ERROR e-text the client sees; `reason` is the fuller story for the
 * KDC's own log. Neither ever holds a key, password or session key.
 */

import { KerbsideError } from '../core/errors.js';

export interface KdcRequestErrorOptions {
  /** What the KDC log says (default: the message). */
  readonly reason?: string;
  /** KRB-ERROR e-data, e.g. METHOD-DATA with a pre-authentication hint. */
  readonly eData?: Uint8Array;
  readonly hint?: string;
  readonly cause?: unknown;
}

export class KdcRequestError extends KerbsideError {
  static override readonly code: string = 'ERR_KDC_REQUEST';
  /** RFC 4120 §7.5.9 error code sent in the KRB-ERROR. */
  readonly errorCode: number;
  readonly reason: string;
  readonly eData: Uint8Array | undefined;

  constructor(errorCode: number, message: string, options: KdcRequestErrorOptions = {}) {
    super(message, {
      krbCode: errorCode,
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.errorCode = errorCode;
    this.reason = options.reason ?? message;
    this.eData = options.eData;
  }
}

/**
 * A stored key that does not open under the realm master key (a database
 * and stash from different realms, a damaged blob) — never a client's fault.
 * The KDC answers KRB_ERR_GENERIC and logs this error; no key bytes in it.
 */
export class KeyUnwrapError extends KerbsideError {
  static override readonly code: string = 'ERR_KEY_UNWRAP';
}

/**
 * A wrapped key that opens under the master key but was sealed for another
 * record: another principal, kvno or enctype.
 * Someone with write access to the database moved key bytes between records.
 */
export class KeyRecordMismatchError extends KeyUnwrapError {
  static override readonly code: string = 'ERR_KEY_RECORD_MISMATCH';
}
