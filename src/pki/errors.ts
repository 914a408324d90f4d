/**
 * Failures of certificate and CMS handling. Each PKINIT check has its RFC 4556
 * §3.2.2 / §3.2.3 error code as `krbCode`, which the KDC sends in its
 * KRB-ERROR. Messages name the certificate (subject, issuer, serial) and the
 * check that failed; they never hold key material.
 */

import { KerbsideError } from '../core/errors.js';
import type { KerbsideErrorOptions } from '../core/errors.js';
import { ErrorCode } from '../messages/index.js';

/** RFC 4556 §3.1.3 error codes, from the one registry (messages/registries.ts). */
export const PkinitErrorCode = Object.freeze({
  KDC_ERR_CLIENT_NOT_TRUSTED: ErrorCode.KDC_ERR_CLIENT_NOT_TRUSTED,
  KDC_ERR_INVALID_SIG: ErrorCode.KDC_ERR_INVALID_SIG,
  KDC_ERR_CANT_VERIFY_CERTIFICATE: ErrorCode.KDC_ERR_CANT_VERIFY_CERTIFICATE,
  KDC_ERR_INVALID_CERTIFICATE: ErrorCode.KDC_ERR_INVALID_CERTIFICATE,
  KDC_ERR_REVOKED_CERTIFICATE: ErrorCode.KDC_ERR_REVOKED_CERTIFICATE,
  KDC_ERR_REVOCATION_STATUS_UNKNOWN: ErrorCode.KDC_ERR_REVOCATION_STATUS_UNKNOWN,
  KDC_ERR_INCONSISTENT_KEY_PURPOSE: ErrorCode.KDC_ERR_INCONSISTENT_KEY_PURPOSE,
  KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED: ErrorCode.KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED,
  KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED: ErrorCode.KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED,
});

/** Which part of the certificate check failed. */
export type CertificateCheck =
  | 'parse' | 'chain' | 'signature' | 'validity' | 'revocation' | 'crl' | 'key-purpose' | 'digest';

/** Who the failing certificate is, for messages and logs. */
export interface CertificateIdentity {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
}

export interface CertificateErrorOptions extends Omit<KerbsideErrorOptions, 'krbCode' | 'detail'> {
  readonly certificate?: CertificateIdentity;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A certificate (or its chain) that PKINIT must not accept. Subclasses fix the code. */
export class CertificateError extends KerbsideError {
  static override readonly code: string = 'ERR_PKI_CERTIFICATE';
  static readonly krbCode: number = PkinitErrorCode.KDC_ERR_CANT_VERIFY_CERTIFICATE;
  static readonly check: CertificateCheck = 'chain';
  declare readonly krbCode: number;
  readonly check: CertificateCheck;
  readonly certificate: CertificateIdentity | undefined;

  constructor(message: string, options: CertificateErrorOptions = {}) {
    const cls = new.target as unknown as typeof CertificateError;
    const who = options.certificate;
    super(who === undefined ? message
      : `${message} (subject "${who.subject}", issuer "${who.issuer}", serial ${who.serial})`, {
      krbCode: cls.krbCode,
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      detail: { check: cls.check, ...(who ?? {}), ...(options.detail ?? {}) },
    });
    this.check = cls.check;
    this.certificate = who;
  }
}

/** KDC_ERR_CANT_VERIFY_CERTIFICATE (70): no chain to a trust anchor, or a bad signature in it. */
export class CertificateUntrustedError extends CertificateError {
  static override readonly code: string = 'ERR_PKI_CERT_UNTRUSTED';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_CANT_VERIFY_CERTIFICATE;
  static override readonly check: CertificateCheck = 'chain';
}

/** KDC_ERR_INVALID_CERTIFICATE (71): outside its validity period, not a CA where one is needed, unparsable. */
export class CertificateInvalidError extends CertificateError {
  static override readonly code: string = 'ERR_PKI_CERT_INVALID';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_INVALID_CERTIFICATE;
  static override readonly check: CertificateCheck = 'validity';
}

/** KDC_ERR_REVOKED_CERTIFICATE (72): listed in a CRL of its issuer. */
export class CertificateRevokedError extends CertificateError {
  static override readonly code: string = 'ERR_PKI_CERT_REVOKED';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_REVOKED_CERTIFICATE;
  static override readonly check: CertificateCheck = 'revocation';
}

/** KDC_ERR_REVOCATION_STATUS_UNKNOWN (73): a CRL is required but missing, stale or not verifiable. */
export class RevocationStatusUnknownError extends CertificateError {
  static override readonly code: string = 'ERR_PKI_REVOCATION_UNKNOWN';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_REVOCATION_STATUS_UNKNOWN;
  static override readonly check: CertificateCheck = 'crl';
}

/** KDC_ERR_INCONSISTENT_KEY_PURPOSE (77): the EKU does not allow PKINIT for this side. */
export class KeyPurposeError extends CertificateError {
  static override readonly code: string = 'ERR_PKI_KEY_PURPOSE';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_INCONSISTENT_KEY_PURPOSE;
  static override readonly check: CertificateCheck = 'key-purpose';
}

/** KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED (78): a certificate in the chain is signed with SHA-1 or weaker. */
export class CertificateDigestError extends CertificateError {
  static override readonly code: string = 'ERR_PKI_CERT_DIGEST';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED;
  static override readonly check: CertificateCheck = 'digest';
}

export type CmsCheck = 'parse' | 'content-type' | 'digest' | 'signature' | 'signer';

/** A CMS SignedData PKINIT must refuse. */
export class CmsError extends KerbsideError {
  static override readonly code: string = 'ERR_PKI_CMS';
  static readonly krbCode: number = PkinitErrorCode.KDC_ERR_INVALID_SIG;
  static readonly check: CmsCheck = 'parse';
  declare readonly krbCode: number;
  readonly check: CmsCheck;

  constructor(message: string, options: Omit<KerbsideErrorOptions, 'krbCode'> = {}) {
    const cls = new.target as unknown as typeof CmsError;
    super(message, { ...options, krbCode: cls.krbCode, detail: { check: cls.check, ...(options.detail ?? {}) } });
    this.check = cls.check;
  }
}

/** Not a well-formed ContentInfo/SignedData (answered as KDC_ERR_INVALID_SIG, as MIT does for any SignedData it cannot verify). */
export class CmsFormatError extends CmsError {
  static override readonly code: string = 'ERR_PKI_CMS_FORMAT';
  static override readonly check: CmsCheck = 'parse';
}

/** eContentType (or the content-type attribute) is not what the exchange expects. */
export class CmsContentTypeError extends CmsError {
  static override readonly code: string = 'ERR_PKI_CMS_CONTENT_TYPE';
  static override readonly check: CmsCheck = 'content-type';
}

/** KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED (80): SHA-1 (or an unknown digest) in the SignerInfo. */
export class CmsDigestNotAcceptedError extends CmsError {
  static override readonly code: string = 'ERR_PKI_CMS_DIGEST';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED;
  static override readonly check: CmsCheck = 'digest';
}

/** KDC_ERR_INVALID_SIG (64): the message digest or the signature does not match (tampered content). */
export class CmsSignatureError extends CmsError {
  static override readonly code: string = 'ERR_PKI_CMS_SIGNATURE';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_INVALID_SIG;
  static override readonly check: CmsCheck = 'signature';
}

/** The signer's certificate is not in the message (KDC_ERR_CANT_VERIFY_CERTIFICATE, RFC 4556 §3.2.2). */
export class CmsSignerNotFoundError extends CmsError {
  static override readonly code: string = 'ERR_PKI_CMS_SIGNER';
  static override readonly krbCode: number = PkinitErrorCode.KDC_ERR_CANT_VERIFY_CERTIFICATE;
  static override readonly check: CmsCheck = 'signer';
}
