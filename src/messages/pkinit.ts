/**
 * RFC 4556 (PKINIT) values that are Kerberos ASN.1, with the RFC 8636 KDF
 * additions (KDFAlgorithmId, OtherInfo, PkinitSuppPubInfo) and the RFC 8070
 * freshness token. The CMS and X.509 structures around them are not parsed
 * here: src/pki/ handles them through pkijs. CMS blobs
 * (signedAuthPack, dhSignedData, encKeyPack) and SubjectPublicKeyInfo stay
 * as exact DER bytes.
 *
 * The RFC 4556 module is EXPLICIT TAGS, so `[n]` below is `ctx()` unless the
 * RFC writes IMPLICIT.
 */

import {
  Asn1EncodeError, Asn1TrailingError, Asn1TruncatedError, TagClass, UniversalTag, bitString, ctx,
  fromContent, implicit, int32, kerberosTime, makeCodec, objectIdentifier, octetString, opt, raw, seq, seqOf, tag,
  uint32, choice,
} from '../asn1/index.js';
import type { BitString, Codec } from '../asn1/index.js';
import { concatBytes } from '../core/bytes.js';
import { Checksum, EncryptionKey, Microseconds, PrincipalName, Realm } from './basic.js';

/** RFC 4556 §3.2.2 KRB5PrincipalName: the value of the id-pkinit-san otherName (1.3.6.1.5.2.2). */
export interface Krb5PrincipalName {
  realm: string;
  principalName: PrincipalName;
}
export const Krb5PrincipalName: Codec<Krb5PrincipalName> = seq({
  realm: ctx(0, Realm),
  principalName: ctx(1, PrincipalName),
}, 'KRB5PrincipalName');

function oidTable<const T extends Record<string, string>>(entries: T): Readonly<T> {
  return Object.freeze(Object.assign(Object.create(null) as object, entries) as T);
}

/** Object identifiers of RFC 4556, RFC 8636, RFC 3279/5480 and the Microsoft smart-card logon profile (frozen, null prototype). */
export const PkinitOid = oidTable({
  /** RFC 4556 §3.1: content type of the signed AuthPack. */
  pkinitAuthData: '1.3.6.1.5.2.3.1',
  /** RFC 4556 §3.1: content type of the signed KDCDHKeyInfo. */
  pkinitDHKeyData: '1.3.6.1.5.2.3.2',
  /** RFC 4556 §3.1: content type of the signed ReplyKeyPack. */
  pkinitRkeyData: '1.3.6.1.5.2.3.3',
  /** RFC 4556 §3.2.2: EKU of a PKINIT client certificate. */
  pkinitKPClientAuth: '1.3.6.1.5.2.3.4',
  /** RFC 4556 §3.2.4: EKU of a KDC certificate. */
  pkinitKPKdc: '1.3.6.1.5.2.3.5',
  /** RFC 4556 §3.2.2: otherName type carrying a KRB5PrincipalName. */
  pkinitSan: '1.3.6.1.5.2.2',
  /** RFC 8636 §7 KDF identifiers. */
  kdfAhSha1: '1.3.6.1.5.2.3.6.1',
  kdfAhSha256: '1.3.6.1.5.2.3.6.2',
  kdfAhSha512: '1.3.6.1.5.2.3.6.3',
  /** RFC 3279 §2.3.3 X9.42 Diffie-Hellman public key. */
  dhPublicNumber: '1.2.840.10046.2.1',
  /** RFC 5480 §2.1.1 elliptic-curve public key; with the named curves below. */
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  /** Microsoft smart-card logon EKU. */
  msSmartcardLogon: '1.3.6.1.4.1.311.20.2.2',
  /** Microsoft UPN otherName (a UTF8String). */
  msUpn: '1.3.6.1.4.1.311.20.2.3',
});

const SEQUENCE_TAG = tag(TagClass.UNIVERSAL, UniversalTag.SEQUENCE, true);

/**
 * RFC 5280 §4.1.1.2 AlgorithmIdentifier. `parameters` is kept as the exact
 * DER of whatever element follows the OID (ANY DEFINED BY algorithm). Written
 * by hand because `seq()` cannot place an untagged ANY.
 */
export interface AlgorithmIdentifier {
  algorithm: string;
  parameters?: Uint8Array;
}
export const AlgorithmIdentifier: Codec<AlgorithmIdentifier> = fromContent<AlgorithmIdentifier>('AlgorithmIdentifier', {
  tag: SEQUENCE_TAG,
  encodeContent(value, path) {
    if (typeof value !== 'object' || value === null) throw new Asn1EncodeError('expected an object', { path });
    const oid = objectIdentifier.write(value.algorithm, `${path}.algorithm`);
    return value.parameters === undefined ? oid : concatBytes(oid, raw.write(value.parameters, `${path}.parameters`));
  },
  decodeContent(reader, el, path) {
    return reader.nested(el, path, () => {
      const kids = reader.children(el, path);
      const first = kids[0];
      if (first === undefined) {
        throw new Asn1TruncatedError('AlgorithmIdentifier is empty; expected an OBJECT IDENTIFIER', { offset: el.start, path });
      }
      const algorithm = objectIdentifier.read(reader, first, `${path}.algorithm`);
      const second = kids[1];
      if (kids.length > 2) {
        throw new Asn1TrailingError('extra data after the parameters of AlgorithmIdentifier', { offset: kids[2]!.start, path });
      }
      if (second === undefined) return { algorithm };
      return { algorithm, parameters: raw.read(reader, second, `${path}.parameters`) };
    });
  },
});

/** A SEQUENCE kept as its exact DER bytes (SubjectPublicKeyInfo, decoded by src/crypto/pkinit-dh.ts). */
const rawSequence = (name: string): Codec<Uint8Array> => makeCodec<Uint8Array>({
  name,
  tags: [SEQUENCE_TAG],
  write(value, path) {
    const out = raw.write(value, path);
    if (out[0] !== 0x30) throw new Asn1EncodeError(`${name} must be a SEQUENCE`, { path });
    return out;
  },
  read: (reader, el, path) => raw.read(reader, el, path),
});
/** RFC 5280 §4.1.2.7 SubjectPublicKeyInfo as exact DER bytes. */
export const SubjectPublicKeyInfoDer: Codec<Uint8Array> = rawSequence('SubjectPublicKeyInfo');

const implicitOctets = (n: number): Codec<Uint8Array> => implicit(TagClass.CONTEXT, n, octetString);

/** RFC 4556 §3.2.1 ExternalPrincipalIdentifier; the values are DER of X.509 Name, IssuerAndSerialNumber and a key id. */
export interface ExternalPrincipalIdentifier {
  subjectName?: Uint8Array;
  issuerAndSerialNumber?: Uint8Array;
  subjectKeyIdentifier?: Uint8Array;
}
export const ExternalPrincipalIdentifier: Codec<ExternalPrincipalIdentifier> = seq({
  subjectName: opt(implicitOctets(0)),
  issuerAndSerialNumber: opt(implicitOctets(1)),
  subjectKeyIdentifier: opt(implicitOctets(2)),
}, 'ExternalPrincipalIdentifier');

/** RFC 4556 §3.2.1 PA-PK-AS-REQ (padata-type 16). */
export interface PaPkAsReq {
  /** DER ContentInfo of a CMS SignedData whose eContent is an AuthPack. */
  signedAuthPack: Uint8Array;
  trustedCertifiers?: ExternalPrincipalIdentifier[];
  kdcPkId?: Uint8Array;
}
export const PaPkAsReq: Codec<PaPkAsReq> = seq({
  signedAuthPack: implicitOctets(0),
  trustedCertifiers: opt(ctx(1, seqOf(ExternalPrincipalIdentifier))),
  kdcPkId: opt(implicitOctets(2)),
}, 'PA-PK-AS-REQ');

/** RFC 4556 §3.2.1 PKAuthenticator, with RFC 8070 §4 freshnessToken. */
export interface PkAuthenticator {
  cusec: number;
  ctime: Date;
  nonce: number;
  /** SHA-1 of the KDC-REQ-BODY (RFC 4556 §3.2.1). */
  paChecksum?: Uint8Array;
  freshnessToken?: Uint8Array;
}
export const PkAuthenticator: Codec<PkAuthenticator> = seq({
  cusec: ctx(0, Microseconds),
  ctime: ctx(1, kerberosTime),
  nonce: ctx(2, uint32),
  paChecksum: opt(ctx(3, octetString)),
  freshnessToken: opt(ctx(4, octetString)),
}, 'PKAuthenticator');

/** RFC 8636 §6 KDFAlgorithmId. */
export interface KdfAlgorithmId {
  kdfId: string;
}
export const KdfAlgorithmId: Codec<KdfAlgorithmId> = seq({
  kdfId: ctx(0, objectIdentifier),
}, 'KDFAlgorithmId');

/** RFC 4556 §3.2.1 AuthPack, with RFC 8636 supportedKDFs. */
export interface AuthPack {
  pkAuthenticator: PkAuthenticator;
  /** DER SubjectPublicKeyInfo of the client's DH/ECDH value; absent for RSA key transport. */
  clientPublicValue?: Uint8Array;
  supportedCMSTypes?: AlgorithmIdentifier[];
  clientDHNonce?: Uint8Array;
  supportedKDFs?: KdfAlgorithmId[];
}
export const AuthPack: Codec<AuthPack> = seq({
  pkAuthenticator: ctx(0, PkAuthenticator),
  clientPublicValue: opt(ctx(1, SubjectPublicKeyInfoDer)),
  supportedCMSTypes: opt(ctx(2, seqOf(AlgorithmIdentifier))),
  clientDHNonce: opt(ctx(3, octetString)),
  supportedKDFs: opt(ctx(4, seqOf(KdfAlgorithmId))),
}, 'AuthPack');

/** RFC 4556 §3.2.3 DHRepInfo, with RFC 8636 kdf. */
export interface DhRepInfo {
  /** DER ContentInfo of a CMS SignedData whose eContent is a KDCDHKeyInfo. */
  dhSignedData: Uint8Array;
  serverDHNonce?: Uint8Array;
  kdf?: KdfAlgorithmId;
}
export const DhRepInfo: Codec<DhRepInfo> = seq({
  dhSignedData: implicitOctets(0),
  serverDHNonce: opt(ctx(1, octetString)),
  kdf: opt(ctx(2, KdfAlgorithmId)),
}, 'DHRepInfo');

/** RFC 4556 §3.2.3 PA-PK-AS-REP (padata-type 17): `{ type: 'dhInfo' | 'encKeyPack', value }`. */
export const PaPkAsRep: Codec<PaPkAsRep> = choice({
  dhInfo: ctx(0, DhRepInfo),
  /** DER ContentInfo of a CMS EnvelopedData holding a signed ReplyKeyPack. */
  encKeyPack: implicitOctets(1),
}, 'PA-PK-AS-REP');
export type PaPkAsRep = { type: 'dhInfo'; value: DhRepInfo } | { type: 'encKeyPack'; value: Uint8Array };

/** RFC 4556 §3.2.3.1 KDCDHKeyInfo. */
export interface KdcDhKeyInfo {
  /** The KDC's public value: a DER INTEGER for DH, the EC point for ECDH (RFC 5349 §4). */
  subjectPublicKey: BitString;
  nonce: number;
  dhKeyExpiration?: Date;
}
export const KdcDhKeyInfo: Codec<KdcDhKeyInfo> = seq({
  subjectPublicKey: ctx(0, bitString),
  nonce: ctx(1, uint32),
  dhKeyExpiration: opt(ctx(2, kerberosTime)),
}, 'KDCDHKeyInfo');

/** RFC 4556 §3.2.3.2 ReplyKeyPack. */
export interface ReplyKeyPack {
  replyKey: EncryptionKey;
  /** Checksum over the AS-REQ, keyed with replyKey. */
  asChecksum: Checksum;
}
export const ReplyKeyPack: Codec<ReplyKeyPack> = seq({
  replyKey: ctx(0, EncryptionKey),
  asChecksum: ctx(1, Checksum),
}, 'ReplyKeyPack');

/** RFC 4556 §3.2.1 TD-TRUSTED-CERTIFIERS (typed-data 104). */
export const TdTrustedCertifiers: Codec<ExternalPrincipalIdentifier[]> = seqOf(ExternalPrincipalIdentifier, 'TD-TRUSTED-CERTIFIERS');
/** RFC 4556 §3.2.1 TD-INVALID-CERTIFICATES (typed-data 105). */
export const TdInvalidCertificates: Codec<ExternalPrincipalIdentifier[]> = seqOf(ExternalPrincipalIdentifier, 'TD-INVALID-CERTIFICATES');
/** RFC 4556 §3.2.2 TD-DH-PARAMETERS (typed-data 109): the groups the KDC accepts, in preference order. */
export const TdDhParameters: Codec<AlgorithmIdentifier[]> = seqOf(AlgorithmIdentifier, 'TD-DH-PARAMETERS');

/** RFC 8636 §8 PkinitSuppPubInfo, the suppPubInfo of the KDF's OtherInfo. */
export interface PkinitSuppPubInfo {
  enctype: number;
  /** The DER AS-REQ as received. */
  asReq: Uint8Array;
  /** The DER PA-PK-AS-REP as sent. */
  pkAsRep: Uint8Array;
}
export const PkinitSuppPubInfo: Codec<PkinitSuppPubInfo> = seq({
  enctype: ctx(0, int32),
  asReq: ctx(1, octetString),
  pkAsRep: ctx(2, octetString),
}, 'PkinitSuppPubInfo');

/** RFC 8636 §8 OtherInfo (NIST SP 800-56A); partyUInfo/partyVInfo are DER KRB5PrincipalNames. */
export interface Sp80056aOtherInfo {
  algorithmId: AlgorithmIdentifier;
  partyUInfo: Uint8Array;
  partyVInfo: Uint8Array;
  suppPubInfo?: Uint8Array;
  suppPrivInfo?: Uint8Array;
}
export const Sp80056aOtherInfo: Codec<Sp80056aOtherInfo> = seq({
  algorithmId: AlgorithmIdentifier,
  partyUInfo: ctx(0, octetString),
  partyVInfo: ctx(1, octetString),
  suppPubInfo: opt(ctx(2, octetString)),
  suppPrivInfo: opt(ctx(3, octetString)),
}, 'OtherInfo');
