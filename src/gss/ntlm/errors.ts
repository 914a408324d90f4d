/**
 * NTLM (MS-NLMP) failures as typed GSS errors. Messages name fields and
 * offsets, never passwords, hashes, keys or response bytes.
 */

import { BadBindingsError, BadMicError, DefectiveTokenError, GssError, type GssMajorName } from '../errors.js';

/** A NEGOTIATE, CHALLENGE or AUTHENTICATE message breaks MS-NLMP §2.2 framing (signature, type, fields, lengths). */
export class NtlmFormatError extends DefectiveTokenError {
  static override readonly code: string = 'ERR_NTLM_FORMAT';
}

/** A message over the 64 KiB bound kerbside accepts (no real NTLM message comes near it). */
export class NtlmTooLargeError extends NtlmFormatError {
  static override readonly code: string = 'ERR_NTLM_TOO_LARGE';
}

/** The AV_PAIR list (MS-NLMP §2.2.2.1) is malformed: no MsvAvEOL, a duplicate id, a value of the wrong size. */
export class NtlmAvPairError extends NtlmFormatError {
  static override readonly code: string = 'ERR_NTLM_AV_PAIR';
}

/**
 * The peer answered with an NTLMv1 (or LM) response, 24 octets. kerbside
 * implements only NTLMv2 (MS-NLMP §3.3.2): v1 responses are crackable and
 * carry no target information, so they are refused outright.
 */
export class NtlmV1RefusedError extends GssError {
  static override readonly code: string = 'ERR_NTLM_V1_REFUSED';
  static override readonly major: GssMajorName = 'GSS_S_FAILURE';
}

/** The negotiated flags ask for something kerbside does not do (no extended session security for signing/sealing). */
export class NtlmNegotiationError extends GssError {
  static override readonly code: string = 'ERR_NTLM_NEGOTIATION';
  static override readonly major: GssMajorName = 'GSS_S_FAILURE';
}

/** A MIC or message signature (MS-NLMP §3.1.5.1.2, §3.4.4) does not verify. */
export class NtlmIntegrityError extends BadMicError {
  static override readonly code: string = 'ERR_NTLM_INTEGRITY';
}

/**
 * NTLM logon failure (Windows STATUS_LOGON_FAILURE): unknown user or wrong
 * password. The client is told only this; `detail.cause` says which for the log.
 */
export class NtlmLogonFailureError extends GssError {
  static override readonly code: string = 'ERR_NTLM_LOGON_FAILURE';
  static override readonly major: GssMajorName = 'GSS_S_DEFECTIVE_CREDENTIAL';
}

/** The account exists but may not log on with NTLM: disabled, locked out, expired, or NTLM not enabled for it. */
export class NtlmAccountRestrictionError extends GssError {
  static override readonly code: string = 'ERR_NTLM_ACCOUNT_RESTRICTION';
  static override readonly major: GssMajorName = 'GSS_S_DEFECTIVE_CREDENTIAL';
}

/** The AUTHENTICATE message has no MIC (MsvAvFlags without MIC_PRESENT): kerbside requires one (§3.1.5.1.2). */
export class NtlmMicRequiredError extends NtlmIntegrityError {
  static override readonly code: string = 'ERR_NTLM_MIC_REQUIRED';
}

/** The client's MsvAvChannelBindings are missing (under policy 'require') or name another channel (EPA). */
export class NtlmChannelBindingsError extends BadBindingsError {
  static override readonly code: string = 'ERR_NTLM_CHANNEL_BINDINGS';
}

/** The NTLMv2 blob's timestamp is outside the acceptor's clock skew: a stale, replayed or slow-clock AUTHENTICATE. */
export class NtlmTimestampError extends GssError {
  static override readonly code: string = 'ERR_NTLM_TIMESTAMP';
  static override readonly major: GssMajorName = 'GSS_S_CONTEXT_EXPIRED';
}

/** MsvAvTargetName names another service than this acceptor's: the authentication was meant for (or relayed from) elsewhere. */
export class NtlmTargetNameError extends GssError {
  static override readonly code: string = 'ERR_NTLM_TARGET_NAME';
  static override readonly major: GssMajorName = 'GSS_S_FAILURE';
}

/** The same NTLMv2 response (NTProofStr) was presented twice. */
export class NtlmReplayError extends GssError {
  static override readonly code: string = 'ERR_NTLM_REPLAY';
  static override readonly major: GssMajorName = 'GSS_S_DUPLICATE_TOKEN';
}

/**
 * The CHALLENGE carries a server challenge that an NtlmAcceptor of this
 * process issued: the peer is reflecting our own challenge back to us
 * (the MS08-068 attack), so the initiator refuses to answer it.
 */
export class NtlmReflectionError extends GssError {
  static override readonly code: string = 'ERR_NTLM_REFLECTION';
  static override readonly major: GssMajorName = 'GSS_S_FAILURE';
}
