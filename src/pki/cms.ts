/**
 * CMS SignedData (RFC 5652) as PKINIT uses it (RFC 4556 §3.2.1 signed
 * AuthPack, §3.2.3 signed KDCDHKeyInfo / ReplyKeyPack): one signer,
 * issuerAndSerialNumber, SHA-256, signed attributes content-type and
 * message-digest (what MIT's cms_signeddata_create puts in), the signer's
 * certificate included. Chain validation is validate.ts's job.
 */

import { KeyObject, createPrivateKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesEqual, concatBytes, constantTimeEqual } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';
import {
  CmsContentTypeError, CmsDigestNotAcceptedError, CmsFormatError, CmsSignatureError, CmsSignerNotFoundError,
} from './errors.js';
import { DIGESTS, Oid, WEAK_SIGNATURES } from './oids.js';
import { ab, subtle } from './engine.js';
import { certificateDer, parseCertificate, sameName, spkiDer } from './x509-util.js';

export type SignatureAlgorithm = 'rsa-sha256' | 'ecdsa-sha256';

/**
 * Whatever holds the private key: software, or a PKCS#11 token. `sign`
 * returns the raw signature over `data` (hashing included): PKCS#1 v1.5 for
 * RSA, r‖s (IEEE P1363, as CKM_ECDSA returns it) for ECDSA.
 */
export interface Signer {
  readonly certificate: Uint8Array;
  readonly algorithm: SignatureAlgorithm;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A signer over a key in memory: a WebCrypto CryptoKey or PKCS#8 DER. */
export function softwareSigner(certificate: Uint8Array, privateKey: webcrypto.CryptoKey | Uint8Array): Signer {
  const key = privateKey instanceof Uint8Array
    ? createPrivateKey({ key: Buffer.from(privateKey), format: 'der', type: 'pkcs8' })
    : KeyObject.from(privateKey);
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec') {
    throw new InvalidArgumentError(`cannot sign PKINIT messages with a ${String(type)} key`, { hint: 'use an RSA or ECDSA key' });
  }
  const algorithm: SignatureAlgorithm = type === 'rsa' ? 'rsa-sha256' : 'ecdsa-sha256';
  return Object.freeze({
    certificate,
    algorithm,
    sign: async (data: Uint8Array) => new Uint8Array(nodeSign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })),
  });
}

export interface SignCmsOptions {
  /** eContentType, e.g. Oid.pkinitAuthData. */
  readonly contentType: string;
  readonly content: Uint8Array;
  readonly signer: Signer;
  /** Further certificates to include (intermediates), after the signer's. */
  readonly certificates?: readonly Uint8Array[];
}

/** DER of ContentInfo { id-signedData, SignedData }. */
export async function signCms(options: SignCmsOptions): Promise<Uint8Array> {
  const signerCert = parseCertificate(options.signer.certificate, 'signer');
  const digest = new Uint8Array(await subtle().digest('SHA-256', options.content));
  // DER SET OF (X.690 §11.6): attributes in the order of their encodings.
  const attributes = [
    new pkijs.Attribute({ type: Oid.contentTypeAttr, values: [new asn1js.ObjectIdentifier({ value: options.contentType })] }),
    new pkijs.Attribute({ type: Oid.messageDigestAttr, values: [new asn1js.OctetString({ valueHex: ab(digest) })] }),
  ].map((a) => ({ a, der: new Uint8Array(a.toSchema().toBER(false)) }))
    .sort((x, y) => compareBytes(x.der, y.der));
  // RFC 5652 §5.4: the signature covers the attributes encoded as a SET (tag 0x31), not as [0].
  const toSign = concatSet(attributes.map((x) => x.der));
  const raw = await options.signer.sign(toSign);
  const signature = options.signer.algorithm === 'ecdsa-sha256' ? p1363ToDer(raw) : raw;

  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: signerCert.issuer, serialNumber: signerCert.serialNumber }),
    digestAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: Oid.sha256, algorithmParams: new asn1js.Null() }),
    signedAttrs: new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes: attributes.map((x) => x.a) }),
    signatureAlgorithm: options.signer.algorithm === 'rsa-sha256'
      ? new pkijs.AlgorithmIdentifier({ algorithmId: Oid.sha256WithRsa, algorithmParams: new asn1js.Null() })
      : new pkijs.AlgorithmIdentifier({ algorithmId: Oid.ecdsaWithSha256 }),
    signature: new asn1js.OctetString({ valueHex: ab(signature) }),
  });
  const signedData = new pkijs.SignedData({
    // RFC 5652 §5.1: version 3 because eContentType is not id-data.
    version: 3,
    digestAlgorithms: [new pkijs.AlgorithmIdentifier({ algorithmId: Oid.sha256, algorithmParams: new asn1js.Null() })],
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: options.contentType,
      eContent: new asn1js.OctetString({ valueHex: ab(options.content) }),
    }),
    certificates: [signerCert, ...(options.certificates ?? []).map((d) => parseCertificate(d, 'included'))],
    signerInfos: [signerInfo],
  });
  const contentInfo = new pkijs.ContentInfo({ contentType: Oid.signedData, content: signedData.toSchema(true) });
  return new Uint8Array(contentInfo.toSchema().toBER(false));
}

export interface VerifyCmsOptions {
  readonly expectedContentType: string;
}

export interface VerifiedCms {
  readonly content: Uint8Array;
  readonly contentType: string;
  readonly signerCertificate: Uint8Array;
  /** Every certificate in the message, in order (the signer's among them). */
  readonly certificates: readonly Uint8Array[];
  readonly digestAlgorithm: 'SHA-256' | 'SHA-384' | 'SHA-512';
}

/** Checks the signature with the signer certificate's key and the message digest. */
export async function verifyCms(der: Uint8Array, options: VerifyCmsOptions): Promise<VerifiedCms> {
  const parsed = asn1js.fromBER(ab(der));
  if (parsed.offset === -1 || parsed.offset !== der.length) {
    throw new CmsFormatError('the signed data is not one DER element', { hint: 'the message was truncated or has trailing bytes' });
  }
  let signedData: pkijs.SignedData;
  try {
    const ci = new pkijs.ContentInfo({ schema: parsed.result });
    if (ci.contentType !== Oid.signedData) {
      throw new CmsFormatError(`the ContentInfo holds ${ci.contentType}, not SignedData`, { detail: { contentType: ci.contentType } });
    }
    signedData = new pkijs.SignedData({ schema: ci.content });
  } catch (cause) {
    if (cause instanceof CmsFormatError) throw cause;
    throw new CmsFormatError('the signed data is not a well-formed CMS ContentInfo/SignedData', { cause });
  }
  const eContentType = signedData.encapContentInfo.eContentType;
  if (eContentType !== options.expectedContentType) {
    throw new CmsContentTypeError(`the signed content is ${eContentType}, expected ${options.expectedContentType}`, {
      detail: { contentType: eContentType, expected: options.expectedContentType },
      hint: 'the peer sent a different PKINIT message (AuthPack vs KDC reply) or a non-PKINIT CMS message',
    });
  }
  const eContent = signedData.encapContentInfo.eContent;
  if (eContent === undefined) throw new CmsFormatError('the SignedData has no encapsulated content (detached signatures are not PKINIT)');
  const content = octets(eContent);

  if (signedData.signerInfos.length !== 1) {
    throw new CmsFormatError(`the SignedData has ${signedData.signerInfos.length} signers; PKINIT uses exactly one`);
  }
  const si = signedData.signerInfos[0]!;
  const digestOid = si.digestAlgorithm.algorithmId;
  const digestName = DIGESTS[digestOid];
  if (digestName === undefined) {
    throw new CmsDigestNotAcceptedError(`the signer used digest ${digestOid}${digestOid === Oid.sha1 ? ' (SHA-1)' : ''}, not accepted`, {
      detail: { digestAlgorithm: digestOid }, hint: 'sign with SHA-256 (RFC 8636); SHA-1 is refused',
    });
  }
  const sigOid = si.signatureAlgorithm.algorithmId;
  if (WEAK_SIGNATURES.has(sigOid)) {
    throw new CmsDigestNotAcceptedError(`the signature algorithm ${sigOid} uses a digest weaker than SHA-256`, {
      detail: { signatureAlgorithm: sigOid }, hint: 'sign with sha256WithRSAEncryption or ecdsa-with-SHA256',
    });
  }

  const certs = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const signer = findSigner(si, certs);
  if (signer === undefined) {
    throw new CmsSignerNotFoundError('the signer\'s certificate is not in the SignedData', {
      hint: 'the peer must include its certificate (MIT always does); check its identity configuration',
    });
  }

  const attrs = si.signedAttrs;
  if (attrs === undefined || attrs.attributes.length === 0) {
    throw new CmsFormatError('the SignerInfo has no signed attributes (RFC 5652 §5.3 requires them for this content type)');
  }
  const ctAttr = attrs.attributes.filter((a) => a.type === Oid.contentTypeAttr);
  const mdAttr = attrs.attributes.filter((a) => a.type === Oid.messageDigestAttr);
  if (ctAttr.length !== 1 || mdAttr.length !== 1 || ctAttr[0]!.values.length !== 1 || mdAttr[0]!.values.length !== 1) {
    throw new CmsFormatError('the signed attributes must hold one content-type and one message-digest (RFC 5652 §11.1, §11.2)');
  }
  const ctValue = ctAttr[0]!.values[0];
  if (!(ctValue instanceof asn1js.ObjectIdentifier) || ctValue.valueBlock.toString() !== eContentType) {
    throw new CmsContentTypeError('the content-type attribute does not match eContentType', {
      hint: 'the message was altered or produced by a broken signer',
    });
  }
  const mdValue = mdAttr[0]!.values[0];
  const actual = new Uint8Array(await subtle().digest(digestName, content));
  if (!(mdValue instanceof asn1js.OctetString) || !constantTimeEqual(new Uint8Array(mdValue.valueBlock.valueHexView), actual)) {
    throw new CmsSignatureError('the message digest does not match the signed content', {
      hint: 'the content was altered after signing',
    });
  }
  const signed = new Uint8Array(attrs.encodedValue);
  const sig = si.signature.valueBlock.valueHexView;
  const keyDer = Buffer.from(spkiDer(signer));
  let ok = false;
  try {
    ok = nodeVerify(digestName.replace('-', '').toLowerCase(), signed, { key: keyDer, format: 'der', type: 'spki', dsaEncoding: 'der' }, sig);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new CmsSignatureError('the signature does not verify with the signer certificate\'s key', {
      hint: 'the signed attributes were altered, or the certificate does not belong to the signing key',
    });
  }
  return Object.freeze({
    content,
    contentType: eContentType,
    signerCertificate: certificateDer(signer),
    certificates: certs.map(certificateDer),
    digestAlgorithm: digestName,
  });
}

// ---------------------------------------------------------------- internals

function findSigner(si: pkijs.SignerInfo, certs: readonly pkijs.Certificate[]): pkijs.Certificate | undefined {
  if (si.sid instanceof pkijs.IssuerAndSerialNumber) {
    const sid = si.sid;
    return certs.find((c) => sameName(c.issuer, sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
  }
  // subjectKeyIdentifier [0] (RFC 5652 §5.3).
  const sid = si.sid as asn1js.Constructed;
  const inner = sid.valueBlock.value[0];
  const ski = inner instanceof asn1js.OctetString ? new Uint8Array(inner.valueBlock.valueHexView) : new Uint8Array(0);
  return certs.find((c) => {
    const ext = (c.extensions ?? []).find((e) => e.extnID === '2.5.29.14');
    const v = ext?.parsedValue as asn1js.OctetString | undefined;
    return v !== undefined && bytesEqual(new Uint8Array(v.valueBlock.valueHexView), ski);
  });
}

/** Octets of an OCTET STRING, primitive or (BER) constructed. */
function octets(value: asn1js.OctetString): Uint8Array {
  if (!value.idBlock.isConstructed) return new Uint8Array(value.valueBlock.valueHexView);
  return concatBytes(...value.valueBlock.value.map((v) => octets(v as asn1js.OctetString)));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function concatSet(items: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(new asn1js.Set({ value: items.map((d) => asn1js.fromBER(ab(d)).result) }).toBER(false));
}

/** r‖s → ECDSA-Sig-Value (RFC 5480 / RFC 3279 §2.2.3). */
function p1363ToDer(raw: Uint8Array): Uint8Array {
  return new Uint8Array(pkijs.createCMSECDSASignature(ab(raw)));
}
