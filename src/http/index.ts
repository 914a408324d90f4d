/** kerbside/http: HTTP Negotiate (RFC 4559) single sign-on — server handler with framework adapters, and negotiateFetch. */
import './framework-types.js'; // types `req.auth` for Express and Fastify handlers
export {
  negotiateServer, type NegotiateServer, type NegotiateServerOptions, type NegotiateRequest, type NegotiateOutcome,
  type NegotiateAuth, type RefusalCause, type HeaderValue, type NtlmServerOptions,
} from './negotiate-server.js';
export {
  kerberosAcceptor, type NegotiateAcceptor, type KerberosAcceptorOptions, type NegotiateIdentity, type AcceptStep,
  type AcceptStepOptions, type AcceptorStats,
} from './acceptor.js';
export { SessionCookies, type SessionCookieOptions, type CookieIdentity, type CookieCheck } from './session-cookie.js';
export {
  negotiateListener, negotiateExpress, negotiateFastify, type AuthenticatedRequest, type NegotiateFastifyOptions,
  type NegotiateListenerOptions, type NegotiateRefusal,
} from './adapters.js';
export { negotiateFetch, type NegotiateFetchInit, type NegotiateOptions, type NegotiateNtlmCredential } from './negotiate-fetch.js';
export {
  NegotiateError, NegotiateRefusedError, NegotiateMutualAuthError, NegotiateCredentialsError, NegotiateDowngradeRefusedError,
  NtlmDowngradeError,
} from './errors.js';
