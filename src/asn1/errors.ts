/**
 * Typed failures of the DER layer.
 *
 * Every decode failure is an `Asn1Error` subclass that says where it happened:
 * `.offset` is the absolute byte offset in the input handed to `decode`, and
 * `.path` names the value with ASN.1 names ('AS-REQ.req-body.till',
 * 'PrincipalName.name-string[1]'). Callers switch on `.code`.
 */

import { KerbsideError } from '../core/errors.js';
import type { KerbsideErrorOptions } from '../core/errors.js';

export interface Asn1ErrorOptions extends KerbsideErrorOptions {
  readonly offset: number;
  readonly path: string;
}

/** Base class of every DER decode failure. */
export class Asn1Error extends KerbsideError {
  static override readonly code: string = 'ERR_ASN1';
  /** Absolute offset in the decoded input where the bad element starts. */
  readonly offset: number;
  /** ASN.1 path of the value being decoded, e.g. 'AS-REQ.req-body.till'. */
  readonly path: string;

  constructor(message: string, options: Asn1ErrorOptions) {
    super(`${options.path}: ${message} (at byte offset ${options.offset})`, {
      ...options,
      detail: { ...(options.detail ?? {}), path: options.path, offset: options.offset },
    });
    this.offset = options.offset;
    this.path = options.path;
  }
}

/** The input ends (or the enclosing element ends) before the element does. */
export class Asn1TruncatedError extends Asn1Error {
  static override readonly code: string = 'ERR_ASN1_TRUNCATED';
}

/** A length is not a DER definite minimal length (indefinite, long form where short fits, leading zeros). */
export class Asn1LengthError extends Asn1Error {
  static override readonly code: string = 'ERR_ASN1_LENGTH';
}

/** An element has a tag other than the one expected (including order and presence of SEQUENCE fields). */
export class Asn1TagError extends Asn1Error {
  static override readonly code: string = 'ERR_ASN1_TAG';
}

/** Bytes follow a complete value where none may. */
export class Asn1TrailingError extends Asn1Error {
  static override readonly code: string = 'ERR_ASN1_TRAILING';
}

/** Constructed elements nest deeper than the configured limit. */
export class Asn1DepthError extends Asn1Error {
  static override readonly code: string = 'ERR_ASN1_DEPTH';
}

/** The input, or a declared length, is larger than the configured limit. */
export class Asn1SizeError extends Asn1Error {
  static override readonly code: string = 'ERR_ASN1_SIZE';
}

/** The content of a primitive is not a valid DER value for its type (or a constraint fails). */
export class Asn1ValueError extends Asn1Error {
  static override readonly code: string = 'ERR_ASN1_VALUE';
}

/**
 * A value handed to `encode` cannot be encoded (missing required field, integer
 * out of range, invalid date…). A caller bug rather than bad input from a peer,
 * so it carries a path but no offset.
 */
export class Asn1EncodeError extends KerbsideError {
  static override readonly code: string = 'ERR_ASN1_ENCODE';
  readonly path: string;

  constructor(message: string, options: KerbsideErrorOptions & { readonly path: string }) {
    super(`${options.path}: ${message}`, {
      ...options,
      detail: { ...(options.detail ?? {}), path: options.path },
    });
    this.path = options.path;
  }
}
