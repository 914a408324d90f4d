/**
 * Failures of the principal database. The KDC maps them to protocol errors
 * (e.g. PrincipalNotFoundError → KDC_ERR_C_PRINCIPAL_UNKNOWN or
 * KDC_ERR_S_PRINCIPAL_UNKNOWN, depending on which side was looked up).
 */

import { KerbsideError } from '../core/errors.js';

/** Base class of every store failure. */
export class StoreError extends KerbsideError {
  static override readonly code: string = 'ERR_STORE';
}

export class PrincipalExistsError extends StoreError {
  static override readonly code: string = 'ERR_PRINCIPAL_EXISTS';
  constructor(readonly principal: string) {
    super(`principal "${principal}" already exists`, {
      hint: 'choose another name, or update/re-key the existing principal instead of creating it',
      detail: { principal },
    });
  }
}

export class PrincipalNotFoundError extends StoreError {
  static override readonly code: string = 'ERR_PRINCIPAL_NOT_FOUND';
  constructor(readonly principal: string) {
    super(`principal "${principal}" does not exist in the database`, {
      hint: 'names are case-sensitive and include the realm (e.g. "alice@EXAMPLE.COM"); list principals to check the spelling',
      detail: { principal },
    });
  }
}

/** The backing database cannot be opened or used (missing file permissions, locked, corrupt, newer schema…). */
export class StoreUnavailableError extends StoreError {
  static override readonly code: string = 'ERR_STORE_UNAVAILABLE';
}

/** The handle was closed. */
export class StoreClosedError extends StoreError {
  static override readonly code: string = 'ERR_STORE_CLOSED';
  constructor(what: string) {
    super(`${what} is closed`, { hint: 'open a new store handle; a closed handle cannot be reused' });
  }
}

/** The embedded store's optional peer dependency is not installed. */
export class StoreDependencyMissingError extends StoreError {
  static override readonly code: string = 'ERR_STORE_DEPENDENCY_MISSING';
  constructor(cause?: unknown) {
    super('the embedded store needs the optional dependency better-sqlite3 on this Node.js: npm install better-sqlite3', {
      hint: 'on Node >= 22.13 the embedded SQLite store uses the built-in node:sqlite and needs no native build (unless '
        + 'KERBSIDE_SQLITE_DRIVER=better-sqlite3); on Node 20, better-sqlite3 is an optional peer dependency of kerbside, '
        + 'needed only by the KDC and admin tools that use the embedded store',
      cause,
    });
  }
}

/**
 * The replay cache holds as many unexpired entries as it may: a new
 * authenticator cannot be recorded, so it is refused rather than accepted
 * unchecked, and no unexpired entry is ever evicted to make room (that would
 * let its authenticator be replayed). Not KRB_AP_ERR_REPEAT: nothing was
 * replayed. The KDC answers KDC_ERR_SVC_UNAVAILABLE (MIT clients then try
 * another KDC), an HTTP acceptor 503. Entries leave after 2 × the clock skew.
 */
export class ReplayCacheFullError extends StoreError {
  static override readonly code: string = 'ERR_REPLAY_CACHE_FULL';
}
