/** kerbside/client: AS/TGS exchanges, KDC location and transport, logon sessions. */
export { KerberosClient, classifyReply, keytabKeys, type KerberosClientOptions, type InitialCredentialOptions } from './kerberos-client.js';
export {
  AsExchange, type AsRequestOptions, type AsEnvironment, type AsStep, type ClientKey, type ClientKeySource, type InitialCredential,
  ClientReferralError,
} from './as-exchange.js';
export { TgsExchange, type TgsRequestOptions, type TgsEnvironment, type TgsStep } from './tgs-exchange.js';
export {
  clientConfig, clientConfigFromKrb5, loadClientConfig, missingConfigNote, pkinitAnchorsFor,
  type ClientConfig, type ClientConfigOptions, type ClientConfigSource,
} from './config.js';
export {
  sendToKdc, KdcTimeoutError, DEFAULT_KDC_TIMEOUT, DEFAULT_UDP_PREFERENCE_LIMIT,
  type KdcTransport, type KdcReply, type ReplyClass, type SendToKdcOptions,
} from './send-to-kdc.js';
export { socketTransport } from './socket-transport.js';
export { parseKdcAddress, formatKdcAddress, KERBEROS_PORT, type KdcAddress, type KdcProtocol } from './kdc-address.js';
export { lookupKdcsInDns, orderSrvRecords, dnsSrvResolver, type SrvRecord, type SrvResolver } from './kdc-srv.js';
export { errorFromKrbError, mitErrorText, mitStyleMessage, comErr, formatOffset } from './kdc-errors.js';
export { toPrincipalName, fromPrincipalName, tgsPrincipal, isTgsPrincipal, enterprisePrincipal } from './names.js';
export {
  KdcUnreachableError, NoKdcConfiguredError, ClockSkewError, PasswordIncorrectError, PrincipalUnknownError,
  NoCommonEnctypeError, TicketExpiredError, RenewLimitReachedError, KeytabKeyMissingError, KdcError, BadKdcReplyError,
  NoCredentialsError, AnonymousUnsupportedError, CacheInUseError,
} from './errors.js';
export { LogonSession, type LogonSessionOptions, type LogonSessionStatus, type SessionSource } from './session.js';
export {
  buildCache, offsetToHeader, offsetFromHeader, cachedPaType, cachedRefreshTime, readCcacheIfExists, type CacheContents,
} from './cache.js';
export {
  clientFromEnvironment, defaultCcacheName, defaultKeytabName, type ProgramEnvironment, type ProgramClient,
} from './environment.js';
export {
  PkinitClientExchange, PkinitError, PkinitNotOfferedError, PkinitGroupNotAcceptedError, PkinitKdcCertificateError,
  PkinitKdcNameMismatchError, PkinitBadReplyError, PkinitRejectedError, type CertificateKeySource,
} from './pkinit.js';
export {
  parseX509Identity, loadAnchors, openX509Identity, requireAnchors, PkinitIdentityError,
  type X509Identity, type OpenedIdentity, type OpenIdentityOptions,
} from './pkinit-identity.js';
