/**
 * Typed failures of PKCS#11 token access (smart-card PKINIT, RFC 4556 §3.2.1).
 * Messages and details name the module path, slot id and token label, never
 * the PIN or key material (docs/style.md; core/errors.ts).
 */

import { KerbsideError } from '../core/errors.js';

/** Base class: any failure while talking to a PKCS#11 module. `detail.ckr` holds the CKR_* name when there is one. */
export class Pkcs11Error extends KerbsideError {
  static override readonly code: string = 'ERR_PKCS11';
}

/** The optional peer dependency pkcs11js is not installed. */
export class Pkcs11UnavailableError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_UNAVAILABLE';
}

/** The module (.so) could not be loaded or initialised: wrong path, not a PKCS#11 library. */
export class Pkcs11ModuleError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_MODULE';
}

/** No slot with the requested id, no token with the requested label, or an empty reader. */
export class TokenNotPresentError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_TOKEN_NOT_PRESENT';
}

/** The token went away (card pulled) or the session is closed (CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID…). */
export class TokenRemovedError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_TOKEN_REMOVED';
}

/** The user PIN was refused (CKR_PIN_INCORRECT). */
export class PinIncorrectError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_PIN_INCORRECT';
}

/** The user PIN is blocked after too many failures (CKR_PIN_LOCKED). */
export class PinLockedError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_PIN_LOCKED';
}

/** An operation needs a user login first (CKR_USER_NOT_LOGGED_IN). */
export class NotLoggedInError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_NOT_LOGGED_IN';
}

/** No private key or certificate with the requested CKA_ID on the token. */
export class Pkcs11ObjectNotFoundError extends Pkcs11Error {
  static override readonly code: string = 'ERR_PKCS11_OBJECT_NOT_FOUND';
}

