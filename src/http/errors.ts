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
