/**
 * RFC 4120 §7.5 protocol constants and the IANA "Kerberos Parameters"
 * registries, named as there (hyphens become underscores). Flag tables give
 * the KerberosFlags mask of RFC bit i as 2**(31-i) (see `flagMask`).
 */

function table<const T extends Record<string, number>>(entries: T): Readonly<T> {
  return Object.freeze(Object.assign(Object.create(null) as object, entries) as T);
}

/** The mask of RFC bit `bit` in a KerberosFlags value (bit 0 is the most significant). */
export function flagMask(bit: number): number {
  return 2 ** (31 - bit);
}

/** RFC 4120 §7.5.6. */
export const PVNO = 5;

/** RFC 4120 §7.5.7 Kerberos Message Types (= the APPLICATION tag of each message). */
export const MessageType = table({
  KRB_AS_REQ: 10,
  KRB_AS_REP: 11,
  KRB_TGS_REQ: 12,
  KRB_TGS_REP: 13,
  KRB_AP_REQ: 14,
  KRB_AP_REP: 15,
  KRB_RESERVED16: 16,
  KRB_RESERVED17: 17,
  KRB_SAFE: 20,
  KRB_PRIV: 21,
  KRB_CRED: 22,
  KRB_ERROR: 30,
});

/** RFC 4120 §7.5.8 Name Types, plus IANA additions (RFC 6111, RFC 6112, MS-KILE). */
export const NameType = table({
  NT_UNKNOWN: 0,
  NT_PRINCIPAL: 1,
  NT_SRV_INST: 2,
  NT_SRV_HST: 3,
  NT_SRV_XHST: 4,
  NT_UID: 5,
  NT_X500_PRINCIPAL: 6,
  NT_SMTP_NAME: 7,
  NT_ENTERPRISE: 10,
  NT_WELLKNOWN: 11,
  NT_SRV_HST_DOMAIN: 12,
  NT_MS_PRINCIPAL: -128,
  NT_MS_PRINCIPAL_AND_ID: -129,
  NT_ENT_PRINCIPAL_AND_ID: -130,
});

/**
 * RFC 4120 §7.5.9 Error Codes, plus RFC 4556 (PKINIT), RFC 6113 (FAST) and
 * RFC 6806 additions from the IANA registry.
 */
export const ErrorCode = table({
  KDC_ERR_NONE: 0,
  KDC_ERR_NAME_EXP: 1,
  KDC_ERR_SERVICE_EXP: 2,
  KDC_ERR_BAD_PVNO: 3,
  KDC_ERR_C_OLD_MAST_KVNO: 4,
  KDC_ERR_S_OLD_MAST_KVNO: 5,
  KDC_ERR_C_PRINCIPAL_UNKNOWN: 6,
  KDC_ERR_S_PRINCIPAL_UNKNOWN: 7,
  KDC_ERR_PRINCIPAL_NOT_UNIQUE: 8,
  KDC_ERR_NULL_KEY: 9,
  KDC_ERR_CANNOT_POSTDATE: 10,
  KDC_ERR_NEVER_VALID: 11,
  KDC_ERR_POLICY: 12,
  KDC_ERR_BADOPTION: 13,
  KDC_ERR_ETYPE_NOSUPP: 14,
  KDC_ERR_SUMTYPE_NOSUPP: 15,
  KDC_ERR_PADATA_TYPE_NOSUPP: 16,
  KDC_ERR_TRTYPE_NOSUPP: 17,
  KDC_ERR_CLIENT_REVOKED: 18,
  KDC_ERR_SERVICE_REVOKED: 19,
  KDC_ERR_TGT_REVOKED: 20,
  KDC_ERR_CLIENT_NOTYET: 21,
  KDC_ERR_SERVICE_NOTYET: 22,
  KDC_ERR_KEY_EXPIRED: 23,
  KDC_ERR_PREAUTH_FAILED: 24,
  KDC_ERR_PREAUTH_REQUIRED: 25,
  KDC_ERR_SERVER_NOMATCH: 26,
  KDC_ERR_MUST_USE_USER2USER: 27,
  KDC_ERR_PATH_NOT_ACCEPTED: 28,
  KDC_ERR_SVC_UNAVAILABLE: 29,
  KRB_AP_ERR_BAD_INTEGRITY: 31,
  KRB_AP_ERR_TKT_EXPIRED: 32,
  KRB_AP_ERR_TKT_NYV: 33,
  KRB_AP_ERR_REPEAT: 34,
  KRB_AP_ERR_NOT_US: 35,
  KRB_AP_ERR_BADMATCH: 36,
  KRB_AP_ERR_SKEW: 37,
  KRB_AP_ERR_BADADDR: 38,
  KRB_AP_ERR_BADVERSION: 39,
  KRB_AP_ERR_MSG_TYPE: 40,
  KRB_AP_ERR_MODIFIED: 41,
  KRB_AP_ERR_BADORDER: 42,
  KRB_AP_ERR_BADKEYVER: 44,
  KRB_AP_ERR_NOKEY: 45,
  KRB_AP_ERR_MUT_FAIL: 46,
  KRB_AP_ERR_BADDIRECTION: 47,
  KRB_AP_ERR_METHOD: 48,
  KRB_AP_ERR_BADSEQ: 49,
  KRB_AP_ERR_INAPP_CKSUM: 50,
  KRB_AP_PATH_NOT_ACCEPTED: 51,
  KRB_ERR_RESPONSE_TOO_BIG: 52,
  KRB_ERR_GENERIC: 60,
  KRB_ERR_FIELD_TOOLONG: 61,
  KDC_ERR_CLIENT_NOT_TRUSTED: 62,
  KDC_ERR_KDC_NOT_TRUSTED: 63,
  KDC_ERR_INVALID_SIG: 64,
  KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED: 65,
  KDC_ERR_CERTIFICATE_MISMATCH: 66,
  KRB_AP_ERR_NO_TGT: 67,
  KDC_ERR_WRONG_REALM: 68,
  KRB_AP_ERR_USER_TO_USER_REQUIRED: 69,
  KDC_ERR_CANT_VERIFY_CERTIFICATE: 70,
  KDC_ERR_INVALID_CERTIFICATE: 71,
  KDC_ERR_REVOKED_CERTIFICATE: 72,
  KDC_ERR_REVOCATION_STATUS_UNKNOWN: 73,
  KDC_ERR_REVOCATION_STATUS_UNAVAILABLE: 74,
  KDC_ERR_CLIENT_NAME_MISMATCH: 75,
  KDC_ERR_KDC_NAME_MISMATCH: 76,
  KDC_ERR_INCONSISTENT_KEY_PURPOSE: 77,
  KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED: 78,
  KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED: 79,
  KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED: 80,
  KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED: 81,
  KDC_ERR_PREAUTH_EXPIRED: 90,
  KDC_ERR_MORE_PREAUTH_DATA_REQUIRED: 91,
  KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET: 92,
  KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS: 93,
});

const ERROR_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

/** 'KDC_ERR_PREAUTH_REQUIRED' for 25; 'UNKNOWN_ERROR_<n>' for codes not in the registry. */
export function errorCodeName(code: number): string {
  return ERROR_NAMES.get(code) ?? `UNKNOWN_ERROR_${code}`;
}

/** RFC 4120 §7.5.2 PreAuthentication Data Types with the IANA registry's later entries. */
export const PaType = table({
  PA_TGS_REQ: 1,
  PA_ENC_TIMESTAMP: 2,
  PA_PW_SALT: 3,
  PA_ENC_UNIX_TIME: 5,
  PA_SANDIA_SECUREID: 6,
  PA_SESAME: 7,
  PA_OSF_DCE: 8,
  PA_CYBERSAFE_SECUREID: 9,
  PA_AFS3_SALT: 10,
  PA_ETYPE_INFO: 11,
  PA_SAM_CHALLENGE: 12,
  PA_SAM_RESPONSE: 13,
  PA_PK_AS_REQ_OLD: 14,
  PA_PK_AS_REP_OLD: 15,
  PA_PK_AS_REQ: 16,
  PA_PK_AS_REP: 17,
  PA_ETYPE_INFO2: 19,
  PA_USE_SPECIFIED_KVNO: 20,
  /** MS-KILE reuses 20 for referrals. */
  PA_SVR_REFERRAL_INFO: 20,
  PA_SAM_REDIRECT: 21,
  PA_GET_FROM_TYPED_DATA: 22,
  PA_SAM_ETYPE_INFO: 23,
  PA_ALT_PRINC: 24,
  PA_SERVER_REFERRAL: 25,
  PA_SAM_CHALLENGE2: 30,
  PA_SAM_RESPONSE2: 31,
  PA_EXTRA_TGT: 41,
  PA_PAC_REQUEST: 128,
  PA_FOR_USER: 129,
  PA_FOR_X509_USER: 130,
  PA_FOR_CHECK_DUPS: 131,
  PA_AS_CHECKSUM: 132,
  PA_FX_COOKIE: 133,
  PA_AUTHENTICATION_SET: 134,
  PA_AUTH_SET_SELECTED: 135,
  PA_FX_FAST: 136,
  PA_FX_ERROR: 137,
  PA_ENCRYPTED_CHALLENGE: 138,
  PA_OTP_CHALLENGE: 141,
  PA_OTP_REQUEST: 142,
  PA_OTP_CONFIRM: 143,
  PA_OTP_PIN_CHANGE: 144,
  PA_EPAK_AS_REQ: 145,
  PA_EPAK_AS_REP: 146,
  PA_PKINIT_KX: 147,
  PA_PKU2U_NAME: 148,
  PA_REQ_ENC_PA_REP: 149,
  PA_AS_FRESHNESS: 150,
  PA_SPAKE: 151,
  PA_SUPPORTED_ETYPES: 165,
  PA_EXTENDED_ERROR: 166,
  PA_PAC_OPTIONS: 167,
});

/** TYPED-DATA data-type values (RFC 4120 §7.5.2 TD-*, RFC 4556). */
export const TypedDataType = table({
  TD_PADATA: 22,
  TD_PKINIT_CMS_CERTIFICATES: 101,
  TD_KRB_PRINCIPAL: 102,
  TD_KRB_REALM: 103,
  TD_TRUSTED_CERTIFIERS: 104,
  TD_CERTIFICATE_INDEX: 105,
  TD_INVALID_CERTIFICATES: 105,
  TD_APP_DEFINED_ERROR: 106,
  TD_REQ_NONCE: 107,
  TD_REQ_SEQ: 108,
  TD_DH_PARAMETERS: 109,
});

/** RFC 4120 §7.5.3 Address Types (ADDRTYPE_* in MIT). */
export const AddressType = table({
  IPv4: 2,
  DIRECTIONAL: 3,
  CHAOSNET: 5,
  XNS: 6,
  ISO: 7,
  DECNET_PHASE_IV: 12,
  APPLETALK_DDP: 16,
  NETBIOS: 20,
  IPv6: 24,
});

/** RFC 4120 §7.5.4 Authorization Data Types with IANA additions. */
export const AuthorizationDataType = table({
  AD_IF_RELEVANT: 1,
  AD_INTENDED_FOR_SERVER: 2,
  AD_INTENDED_FOR_APPLICATION_CLASS: 3,
  AD_KDC_ISSUED: 4,
  AD_AND_OR: 5,
  AD_MANDATORY_TICKET_EXTENSIONS: 6,
  AD_IN_TICKET_EXTENSIONS: 7,
  AD_MANDATORY_FOR_KDC: 8,
  AD_INITIAL_VERIFIED_CAS: 9,
  OSF_DCE: 64,
  SESAME: 65,
  AD_OSF_DCE_PKI_CERTID: 66,
  AD_AUTHENTICATION_STRENGTH: 70,
  AD_FX_FAST_ARMOR: 71,
  AD_FX_FAST_USED: 72,
  AD_CAMMAC: 96,
  AD_AUTHENTICATION_INDICATOR: 97,
  AD_WIN2K_PAC: 128,
  AD_ETYPE_NEGOTIATION: 129,
  KERB_AUTH_DATA_TOKEN_RESTRICTIONS: 141,
  KERB_LOCAL: 142,
  AD_AUTH_DATA_AP_OPTIONS: 143,
  KERB_AUTH_DATA_TARGET_NAME: 144,
});

/** RFC 4120 §7.5.5 Transited Encoding Types. */
export const TransitedEncodingType = table({
  DOMAIN_X500_COMPRESS: 1,
});

/** RFC 4120 §5.4.2 lr-type values (negative = this server only). */
export const LastReqType = table({
  NONE: 0,
  LAST_INITIAL_TGT_REQUEST: 1,
  LAST_INITIAL_REQUEST: 2,
  NEWEST_TGT_ISSUE: 3,
  LAST_RENEWAL: 4,
  LAST_REQUEST: 5,
  PASSWORD_EXPIRATION: 6,
  ACCOUNT_EXPIRATION: 7,
});

/** RFC 4120 §5.3 TicketFlags (+ RFC 6806 enc-pa-rep, RFC 6112 anonymous) as masks. */
export const TicketFlags = table({
  reserved: flagMask(0),
  forwardable: flagMask(1),
  forwarded: flagMask(2),
  proxiable: flagMask(3),
  proxy: flagMask(4),
  mayPostdate: flagMask(5),
  postdated: flagMask(6),
  invalid: flagMask(7),
  renewable: flagMask(8),
  initial: flagMask(9),
  preAuthent: flagMask(10),
  hwAuthent: flagMask(11),
  transitedPolicyChecked: flagMask(12),
  okAsDelegate: flagMask(13),
  encPaRep: flagMask(15),
  anonymous: flagMask(16),
});

/** RFC 4120 §5.4.1 KDCOptions (+ MS-SFU cname-in-addl-tkt, RFC 6806 canonicalize, RFC 6112 anonymous) as masks. */
export const KdcOptions = table({
  reserved: flagMask(0),
  forwardable: flagMask(1),
  forwarded: flagMask(2),
  proxiable: flagMask(3),
  proxy: flagMask(4),
  allowPostdate: flagMask(5),
  postdated: flagMask(6),
  renewable: flagMask(8),
  optHardwareAuth: flagMask(11),
  cnameInAddlTkt: flagMask(14),
  canonicalize: flagMask(15),
  anonymous: flagMask(16),
  disableTransitedCheck: flagMask(26),
  renewableOk: flagMask(27),
  encTktInSkey: flagMask(28),
  renew: flagMask(30),
  validate: flagMask(31),
});

/** RFC 4120 §5.5.1 APOptions as masks. */
export const ApOptions = table({
  reserved: flagMask(0),
  useSessionKey: flagMask(1),
  mutualRequired: flagMask(2),
});

/** Names of the set flags of a mask, e.g. flagNames(TicketFlags, f) → ['forwardable', 'renewable']. */
export function flagNames(registry: Readonly<Record<string, number>>, mask: number): string[] {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(registry)) if ((mask & bit) !== 0) names.push(name);
  return names;
}
