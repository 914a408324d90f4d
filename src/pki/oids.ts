/**
 * Object identifiers PKINIT certificates and CMS messages carry, resolved
 * through one frozen table (docs/style.md "Registries").
 */

export const Oid = Object.freeze(Object.assign(Object.create(null) as object, {
  /** RFC 4556 §3.2.2: otherName type-id of the KRB5PrincipalName SAN. */
  pkinitSan: '1.3.6.1.5.2.2',
  /** RFC 4556 §3.2.2: EKU of a client certificate. */
  pkinitKpClientAuth: '1.3.6.1.5.2.3.4',
  /** RFC 4556 §3.2.4: EKU of a KDC certificate. */
  pkinitKpKdc: '1.3.6.1.5.2.3.5',
  /** RFC 4556 §3.2.1: eContentType of the signed AuthPack. */
  pkinitAuthData: '1.3.6.1.5.2.3.1',
  /** RFC 4556 §3.2.3.1: eContentType of the signed KDCDHKeyInfo. */
  pkinitDhKeyData: '1.3.6.1.5.2.3.2',
  /** RFC 4556 §3.2.3.2: eContentType of the signed ReplyKeyPack. */
  pkinitRkeyData: '1.3.6.1.5.2.3.3',
  /** Microsoft smart-card logon EKU (accepted by MIT with pkinit_eku_checking). */
  msSmartCardLogon: '1.3.6.1.4.1.311.20.2.2',
  /** Microsoft UPN otherName SAN (value [0] EXPLICIT UTF8String). */
  msUpn: '1.3.6.1.4.1.311.20.2.3',
  /** RFC 5280 §4.2.1.12 id-kp-serverAuth / id-kp-clientAuth. */
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  anyExtendedKeyUsage: '2.5.29.37.0',
  /** RFC 5280 extensions. */
  subjectAltName: '2.5.29.17',
  extKeyUsage: '2.5.29.37',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  /** RFC 5652 §5, §11. */
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  contentTypeAttr: '1.2.840.113549.1.9.3',
  messageDigestAttr: '1.2.840.113549.1.9.4',
  signingTimeAttr: '1.2.840.113549.1.9.5',
  /** Digests (RFC 5754) and signature algorithms (RFC 4055, RFC 5758, RFC 3279). */
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  md5WithRsa: '1.2.840.113549.1.1.4',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha1: '1.2.840.10045.4.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
} as const));
export type OidName = keyof typeof Oid;

const BY_VALUE: ReadonlyMap<string, OidName> = new Map(
  Object.entries(Oid).map(([name, value]) => [value as string, name as OidName]),
);

/** The table's name for a dotted OID, or undefined when kerbside has none. */
export function oidName(oid: string): OidName | undefined {
  return BY_VALUE.get(oid);
}

/** Digest OID → WebCrypto name, for digests PKINIT accepts (SHA-1 is refused, RFC 4556 §3.2.2 / RFC 8636). */
export const DIGESTS = Object.freeze(Object.assign(Object.create(null) as object, {
  [Oid.sha256]: 'SHA-256',
  [Oid.sha384]: 'SHA-384',
  [Oid.sha512]: 'SHA-512',
}) as Readonly<Record<string, 'SHA-256' | 'SHA-384' | 'SHA-512' | undefined>>);

/** Signature algorithms whose digest is weaker than SHA-256. */
export const WEAK_SIGNATURES: ReadonlySet<string> = Object.freeze(new Set<string>([
  Oid.md5WithRsa, Oid.sha1WithRsa, Oid.ecdsaWithSha1, '1.2.840.113549.1.1.2', '1.2.840.113549.1.1.3',
  '1.2.840.10040.4.3', '1.3.14.3.2.29',
]));
