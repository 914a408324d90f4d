/**
 * Key usage numbers (RFC 3961 §3): which protocol field a key is used for,
 * so the same key yields unrelated derived keys per field. Named as in
 * RFC 4120 §7.5.1, RFC 4121 §2 (GSS-API) and RFC 6113 §6.2 (FAST).
 */

export const KeyUsage = Object.freeze({
  // RFC 4120 §7.5.1
  /** AS-REQ PA-ENC-TIMESTAMP padata timestamp, encrypted with the client key. */
  PA_ENC_TIMESTAMP: 1,
  /** AS-REP/TGS-REP Ticket enc-part, encrypted with the service key. */
  KDC_REP_TICKET: 2,
  /** AS-REP encrypted part, encrypted with the client key. */
  AS_REP_ENCPART: 3,
  /** TGS-REQ KDC-REQ-BODY AuthorizationData, encrypted with the TGS session key. */
  TGS_REQ_AD_SESSKEY: 4,
  /** TGS-REQ KDC-REQ-BODY AuthorizationData, encrypted with the TGS authenticator subkey. */
  TGS_REQ_AD_SUBKEY: 5,
  /** TGS-REQ PA-TGS-REQ AP-REQ Authenticator cksum, keyed with the TGS session key. */
  TGS_REQ_AUTH_CKSUM: 6,
  /** TGS-REQ PA-TGS-REQ AP-REQ Authenticator, encrypted with the TGS session key. */
  TGS_REQ_AUTH: 7,
  /** TGS-REP encrypted part, encrypted with the TGS session key. */
  TGS_REP_ENCPART_SESSKEY: 8,
  /** TGS-REP encrypted part, encrypted with the TGS authenticator subkey. */
  TGS_REP_ENCPART_SUBKEY: 9,
  /** AP-REQ Authenticator cksum, keyed with the application session key. */
  AP_REQ_AUTH_CKSUM: 10,
  /** AP-REQ Authenticator, encrypted with the application session key. */
  AP_REQ_AUTH: 11,
  /** AP-REP encrypted part, encrypted with the application session key. */
  AP_REP_ENCPART: 12,
  /** KRB-PRIV encrypted part. */
  KRB_PRIV_ENCPART: 13,
  /** KRB-CRED encrypted part. */
  KRB_CRED_ENCPART: 14,
  /** KRB-SAFE cksum. */
  KRB_SAFE_CKSUM: 15,
  /** Reserved in RFC 4120; MS-PAC §2.8 signs PAC server/KDC checksums with it (KERB_NON_KERB_CKSUM_SALT). */
  KERB_NON_KERB_CKSUM_SALT: 17,
  /** AD-KDC-ISSUED checksum (ad-checksum, RFC 4120 §5.2.6.4). */
  AD_KDC_ISSUED_CKSUM: 19,
  // RFC 4121 §2
  KG_USAGE_ACCEPTOR_SEAL: 22,
  KG_USAGE_ACCEPTOR_SIGN: 23,
  KG_USAGE_INITIATOR_SEAL: 24,
  KG_USAGE_INITIATOR_SIGN: 25,
  // RFC 6113 §6.2
  KEY_USAGE_FAST_REQ_CHKSUM: 50,
  KEY_USAGE_FAST_ENC: 51,
  KEY_USAGE_FAST_REP: 52,
  KEY_USAGE_FAST_FINISHED: 53,
  KEY_USAGE_ENC_CHALLENGE_CLIENT: 54,
  KEY_USAGE_ENC_CHALLENGE_KDC: 55,
  // RFC 4120 §7.5.1
  /** Encryption for application protocols that do not specify key usages. */
  APPLICATION_ENC: 1024,
  /** Checksums for application protocols that do not specify key usages. */
  APPLICATION_CKSUM: 1025,
} as const);

const NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.assign(Object.create(null) as Record<number, string>,
    Object.fromEntries(Object.entries(KeyUsage).map(([name, n]) => [n, name]))),
);

/** 'AS_REP_ENCPART (3)' for messages; 'usage 700' for numbers without a name. */
export function describeKeyUsage(usage: number): string {
  const name = NAMES[usage];
  return name === undefined ? `usage ${usage}` : `${name} (${usage})`;
}
