/** Failures of the realm administration commands (realm, kdc, principal, keytab, start). */

import { KerbsideError } from '../core/errors.js';

/** A realm directory is missing, incomplete, already initialised or inconsistent. */
export class RealmDirectoryError extends KerbsideError {
  static override readonly code: string = 'ERR_REALM_DIRECTORY';
}

/** The principal named on the command line does not exist (or already exists, for add). */
export class PrincipalCommandError extends KerbsideError {
  static override readonly code: string = 'ERR_PRINCIPAL_COMMAND';
}

/** The KDC could not bind one of its addresses; `detail.errno` says why (EADDRINUSE, EACCES, EADDRNOTAVAIL…). */
export class KdcListenError extends KerbsideError {
  static override readonly code: string = 'ERR_KDC_LISTEN';
}

/** `kerbside events`: no event log where one was expected, or it cannot be written to (export). */
export class EventLogCommandError extends KerbsideError {
  static override readonly code: string = 'ERR_EVENT_LOG_COMMAND';
}
