/**
 * GSS-API mechanism OIDs and context flags.
 *
 * - Kerberos V5: 1.2.840.113554.1.2.2 (RFC 1964 §1, RFC 4121).
 * - Microsoft's Kerberos OID 1.2.840.48018.1.2.2 (a mis-encoding Windows
 *   listed first for years; MIT and Windows treat it as Kerberos).
 * - SPNEGO: 1.3.6.1.5.5.2 (RFC 4178 §4.2).
 * - NTLMSSP 1.3.6.1.4.1.311.2.2.10 (MS-NLMP, implemented in gss/ntlm/) and
 *   NegoEx 1.3.6.1.4.1.311.2.2.30 (MS-NEGOEX, recognised, not implemented).
 * Context flags are the RFC 2744 §3.9 GSS_C_*_FLAG values, which RFC 4121
 * §4.1.1.1 also uses in the authenticator checksum.
 */

export const MechOid = Object.freeze({
  KRB5: '1.2.840.113554.1.2.2',
  KRB5_MS: '1.2.840.48018.1.2.2',
  SPNEGO: '1.3.6.1.5.5.2',
  NTLMSSP: '1.3.6.1.4.1.311.2.2.10',
  NEGOEX: '1.3.6.1.4.1.311.2.2.30',
  IAKERB: '1.3.6.1.5.2.5',
} as const);

const NAMES: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  [MechOid.KRB5]: 'Kerberos V5',
  [MechOid.KRB5_MS]: 'Kerberos V5 (Microsoft OID)',
  [MechOid.SPNEGO]: 'SPNEGO',
  [MechOid.NTLMSSP]: 'NTLM',
  [MechOid.NEGOEX]: 'NegoEx',
  [MechOid.IAKERB]: 'IAKERB',
}));

/** 'Kerberos V5 (1.2.840.113554.1.2.2)', or the bare OID when unknown. */
export function describeMech(oid: string): string {
  const name = NAMES[oid];
  return name === undefined ? oid : `${name} (${oid})`;
}

/** Both Kerberos OIDs name the same mechanism. */
export function isKerberosMech(oid: string): boolean {
  return oid === MechOid.KRB5 || oid === MechOid.KRB5_MS;
}

/** RFC 2744 §3.9 context flags (req_flags / ret_flags). */
export const GssFlags = Object.freeze({
  DELEG: 1,
  MUTUAL: 2,
  REPLAY: 4,
  SEQUENCE: 8,
  CONF: 16,
  INTEG: 32,
  ANON: 64,
  PROT_READY: 128,
  TRANS: 256,
  DCE_STYLE: 0x1000,
  IDENTIFY: 0x2000,
  EXTENDED_ERROR: 0x4000,
} as const);

/** The flags requested when the caller says nothing: what MIT's initiators ask for. */
export const DEFAULT_REQUEST_FLAGS = GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG;

/** Names of the set flags, e.g. ['MUTUAL', 'REPLAY']. */
export function gssFlagNames(flags: number): string[] {
  return Object.entries(GssFlags).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => name);
}
