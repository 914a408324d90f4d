/**
 * kerbside/pki — X.509 certificates and CMS SignedData for PKINIT (RFC 4556),
 * through pkijs. The realm CA, certificate validation with RFC 4556 error
 * codes, and signing/verifying with a pluggable `Signer` (software or token).
 */

export { Oid, oidName, DIGESTS, WEAK_SIGNATURES } from './oids.js';
export type { OidName } from './oids.js';
export {
  PkinitErrorCode, CertificateError, CertificateUntrustedError, CertificateInvalidError, CertificateRevokedError,
  RevocationStatusUnknownError, KeyPurposeError, CertificateDigestError, CmsError, CmsFormatError, CmsContentTypeError,
  CmsDigestNotAcceptedError, CmsSignatureError, CmsSignerNotFoundError,
} from './errors.js';
export type { CertificateCheck, CertificateIdentity, CertificateErrorOptions, CmsCheck } from './errors.js';
export { toPem, fromPem, fromPemAll } from './pem.js';
export type { PemLabel } from './pem.js';
export { createRealmCa, loadRealmCa, issueKdcCertificate, issueUserCertificate, createCrl } from './ca.js';
export type {
  RealmCa, RealmCaOptions, LoadRealmCaOptions, PemPair, IssuedCertificate, KdcCertificateOptions, UserCertificateOptions, RevokedEntry, CrlOptions,
} from './ca.js';
export { validateCertificate, certificatePrincipal } from './validate.js';
export { certificateIdentity } from './x509-util.js';
export type {
  CertificatePurpose, ValidateOptions, ValidatedCertificate, CertificatePrincipalOptions, CertificatePrincipal,
} from './validate.js';
export { signCms, verifyCms, softwareSigner } from './cms.js';
export type { Signer, SignatureAlgorithm, SignCmsOptions, VerifyCmsOptions, VerifiedCms } from './cms.js';
export {
  openToken, loadPkcs11Binding, pkcs11ErrorFromCkr, Pkcs11TokenFlag,
  type OpenTokenOptions, type Pkcs11Token, type Pkcs11TokenInfo, type Pkcs11Certificate, type Pkcs11Signer,
  type GenerateRsaKeyPairOptions, type WriteCertificateOptions,
} from './pkcs11.js';
export {
  Pkcs11Error, Pkcs11UnavailableError, Pkcs11ModuleError, TokenNotPresentError, TokenRemovedError, PinIncorrectError, PinLockedError,
  NotLoggedInError, Pkcs11ObjectNotFoundError,
} from './pkcs11-errors.js';
