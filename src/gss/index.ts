/**
 * kerbside/gss: GSS-API security contexts — the Kerberos V5 mechanism
 * (RFC 4121 with RFC 2743 §3.1 / RFC 1964 framing), NTLM (MS-NLMP, gss/ntlm/)
 * and SPNEGO (RFC 4178, MS-SPNG) —
 * as sans-IO state machines over bytes, with acceptor keys from a keytab
 * that is re-read when it changes and never expired by age.
 *
 *   const acceptor = new Krb5Acceptor({ keys: keytabKeys('FILE:/etc/http.keytab') });
 *   const spnego = new SpnegoAcceptor({ krb5: acceptor });
 *   const ctx = spnego.newContext({ channelBindings: tlsServerEndPoint(cert) });
 *   const { output, complete } = await ctx.acceptSecContext(token);
 *   if (complete) ctx.context.initiator;   // 'alice@EXAMPLE.TEST'
 */

export {
  GssMajor, GssError, DefectiveTokenError, BadMechError, NtlmNotEnabledError, BadBindingsError, BadMicError, NoContextError,
  ContextExpiredError, CredentialsExpiredError, DuplicateTokenError, OldTokenError, GssUnavailableError, GssFailureError,
  AuthenticatorReplayError, ReplayCacheFullGssError, ClockSkewError, AcceptorKeyError, TicketIntegrityError, KerberosRejectedError, MutualAuthError,
} from './errors.js';
export type { GssMajorName, GssErrorOptions, AcceptorKeyProblem } from './errors.js';

export { MechOid, GssFlags, DEFAULT_REQUEST_FLAGS, describeMech, isKerberosMech, gssFlagNames } from './oids.js';

export {
  encodeInitialContextToken, decodeInitialContextToken, encodeKrb5Token, decodeKrb5Token, Krb5TokenId, looksFramed,
} from './framing.js';
export type { InitialContextToken, Krb5Token } from './framing.js';

export { encodeGssChecksum, decodeGssChecksum, GSS_CHECKSUM_TYPE } from './authenticator-checksum.js';
export type { GssChecksum } from './authenticator-checksum.js';

export { channelBindingsHash, tlsServerEndPoint, tlsServerEndPointHashAlgorithm } from './channel-bindings.js';
export type { ChannelBindings, ChannelBindingPolicy } from './channel-bindings.js';

export { makeMicToken, makeWrapToken, verifyMicToken, unwrapToken, CfxTokenId, CfxFlags } from './cfx.js';
export type { CfxSender, CfxReceiver, WrapOptions, UnwrapResult } from './cfx.js';
export { SequenceWindow } from './sequence-window.js';
export type { SequenceVerdict } from './sequence-window.js';

export { Krb5Context } from './krb5-context.js';
export type { SequenceStatus, VerifyResult, UnwrapMessage } from './krb5-context.js';
export { Krb5Initiator } from './krb5-initiator.js';
export type { InitiatorCredential, Krb5InitiatorOptions, StepResult } from './krb5-initiator.js';
export { Krb5Acceptor, Krb5AcceptorContext } from './krb5-acceptor.js';
export type { Krb5AcceptorOptions, AcceptorPolicyOptions, AcceptContextOptions, AcceptorReplayCache, ReplayTuple } from './krb5-acceptor.js';

export { staticKeys, keytabKeys, KeytabKeys, findTicketKeys } from './acceptor-keys.js';
export type {
  AcceptorKeySource, KeytabKeysOptions, KeytabKeysStatus, TicketKeyQuery, KeyLookupOptions, KeyLookup,
} from './acceptor-keys.js';

export {
  encodeMechTypes, encodeNegTokenInit, encodeNegTokenResp, decodeSpnegoToken, NegState, negStateName,
} from './spnego-tokens.js';
export type { NegTokenInit, DecodedNegTokenInit, NegTokenResp, SpnegoToken } from './spnego-tokens.js';
export { SpnegoAcceptor, SpnegoAcceptorContext, SpnegoInitiator, emitDowngradeRefused, offersOnlyNtlm } from './spnego.js';
export type { SpnegoAcceptorOptions, SpnegoInitiatorOptions, MechContext } from './spnego.js';

export { PendingContexts } from './pending-contexts.js';
export type { PendingContextsOptions } from './pending-contexts.js';

// NTLM (MS-NLMP): the mechanism classes by name, the whole core (codecs, NTLMv2 crypto) as `ntlm`.
export {
  NtlmAcceptor, NtlmAcceptorContext, NtlmInitiator, NtlmContext, NtlmChallengeRegistry, isNtlmToken, ntlmMessageType, NtlmMessageType, ntlmAccountName, localNtlmValidator, verifyAuthenticateWith,
  NtlmFormatError, NtlmTooLargeError, NtlmAvPairError, NtlmV1RefusedError, NtlmNegotiationError, NtlmIntegrityError, NtlmMicRequiredError,
  NtlmLogonFailureError, NtlmAccountRestrictionError, NtlmChannelBindingsError, NtlmTimestampError, NtlmTargetNameError, NtlmReplayError,
  NtlmReflectionError, passThroughNtlmValidator, ntlmPassThroughServer, serveNtlmPassThrough, NtlmPassThroughError,
} from './ntlm/index.js';
export type {
  NtlmAcceptorOptions, NtlmInitiatorOptions, NtlmCredential, NtlmSecret, NtlmValidator, NtlmValidationRequest, NtlmValidationResult,
  LocalNtlmAccount, PassThroughValidatorOptions, NtlmPassThroughServer, NtlmPassThroughServerOptions,
} from './ntlm/index.js';
export * as ntlm from './ntlm/index.js';
