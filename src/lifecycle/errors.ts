/** Failures of the held-credential engine itself (the source's own errors pass through unchanged). */

import { KerbsideError } from '../core/errors.js';

/**
 * The credential needs a fresh acquisition and its source cannot do that
 * without a person (an external cache, a password or PIN prompt), and renewal
 * cannot extend it any further. This is the "borrowed session" failure of
 * docs/architecture.md, named instead of surfacing as a generic expiry.
 */
export class CannotRefreshUnattendedError extends KerbsideError {
  static override readonly code = 'ERR_CANNOT_REFRESH_UNATTENDED';
}

/** The held credential was closed; nothing more will be refreshed or handed out. */
export class CredentialClosedError extends KerbsideError {
  static override readonly code = 'ERR_CREDENTIAL_CLOSED';
}

/** A source returned a credential that had already expired. */
export class SourceReturnedExpiredError extends KerbsideError {
  static override readonly code = 'ERR_SOURCE_RETURNED_EXPIRED';
}
