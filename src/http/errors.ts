/** Errors of the HTTP Negotiate client and server (RFC 4559). */

import { KerbsideError } from '../core/errors.js';

/** negotiateFetch could not authenticate: it says why Kerberos failed and never sent the request without authentication. */
export class NegotiateError extends KerbsideError {
  static override readonly code: string = 'ERR_HTTP_NEGOTIATE';
}

/** The server answered our Negotiate token with another 401 (it refused the ticket). */
export class NegotiateRefusedError extends NegotiateError {
  static override readonly code: string = 'ERR_HTTP_NEGOTIATE_REFUSED';
}

/** The server's final token is missing or does not verify: the response cannot be trusted (RFC 4559 §5). */
export class NegotiateMutualAuthError extends NegotiateError {
  static override readonly code: string = 'ERR_HTTP_NEGOTIATE_MUTUAL_AUTH';
}

/** The client has no usable Kerberos credentials for the server (no TGT, no service ticket). */
export class NegotiateCredentialsError extends NegotiateError {
  static override readonly code: string = 'ERR_HTTP_NEGOTIATE_CREDENTIALS';
}

/**
 * Server side of the downgrade rule: the connection's Kerberos attempt failed
 * and the client then switched to NTLM. Refused unless the server sets
 * allowNtlmAfterKerberosFailure (docs/ntlm.md "HTTP").
 */
export class NtlmDowngradeError extends NegotiateError {
  static override readonly code: string = 'ERR_HTTP_NTLM_DOWNGRADE';
}

/**
 * Client side of the downgrade rule: Kerberos failed for a target it applies
 * to, so negotiateFetch did not fall back to NTLM. `krbCode` (and
 * `detail.kerberosFailure`) say why Kerberos failed; nothing was sent with NTLM.
 */
export class NegotiateDowngradeRefusedError extends NegotiateCredentialsError {
  static override readonly code: string = 'ERR_HTTP_NEGOTIATE_DOWNGRADE_REFUSED';
}
