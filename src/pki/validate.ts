/**
 * Certificate checks PKINIT needs (RFC 4556 §3.2.2 for the client's
 * certificate at the KDC, §3.2.4 for the KDC's at the client): a chain to a
 * trust anchor with valid signatures, validity at the caller's time,
 * revocation by CRL, the PKINIT key purpose and no SHA-1 anywhere. Each
 * failure is a typed error with its RFC 4556 code. Name matching (the SAN
 * against the requested principal) is the KDC's; this returns the names.
 */

import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesEqual, fromUtf8 } from '../core/bytes.js';
import { Krb5PrincipalName, principalNameFromString, principalNameToString } from '../messages/index.js';
import {
  CertificateDigestError, CertificateInvalidError, CertificateRevokedError, CertificateUntrustedError,
  KeyPurposeError, RevocationStatusUnknownError,
} from './errors.js';
import { Oid, WEAK_SIGNATURES } from './oids.js';
import { ab, pkijsEngine } from './engine.js';
import { certificateDer, extensionOf, identityOf, parseCertificate, sameName, serialOf, spkiDer } from './x509-util.js';

/** Longest chain followed (anchor included); real PKINIT chains have two or three. */
const MAX_DEPTH = 8;

export type CertificatePurpose = 'pkinit-client' | 'pkinit-kdc';

export interface ValidateOptions {
  readonly certificate: Uint8Array;
  readonly intermediates?: readonly Uint8Array[];
  readonly anchors: readonly Uint8Array[];
  readonly crls?: readonly Uint8Array[];
  /** Milliseconds since the epoch, from the caller's Clock. */
  readonly now: number;
  readonly purpose: CertificatePurpose;
  /** Accept the Microsoft smart-card logon EKU for a client (MIT pkinit_eku_checking = scLogin). */
  readonly allowSmartCardLogonEku?: boolean;
  /** Every non-anchor certificate needs a current CRL from its issuer. */
  readonly requireCrl?: boolean;
}

export interface ValidatedCertificate {
  readonly subject: string;
  readonly issuer: string;
  /** Hex, lower case. */
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly pkinitSans: readonly Krb5PrincipalName[];
  /** The same names as text, 'alice@EXAMPLE.COM' (MIT quoting). */
  readonly pkinitSanNames: readonly string[];
  readonly upns: readonly string[];
  readonly dnsNames: readonly string[];
  /** SubjectPublicKeyInfo DER of the certificate. */
  readonly publicKey: Uint8Array;
  /** Leaf first, anchor last. */
  readonly chain: readonly Uint8Array[];
}

export async function validateCertificate(options: ValidateOptions): Promise<ValidatedCertificate> {
  const leaf = parseCertificate(options.certificate, 'end-entity');
  const anchors = options.anchors.map((d) => parseCertificate(d, 'trust anchor'));
  const pool = [...(options.intermediates ?? []).map((d) => parseCertificate(d, 'intermediate')), ...anchors];
  const anchorDers = options.anchors;

  // Build the chain leaf → anchor by issuer name, checking each signature.
  const chain: pkijs.Certificate[] = [leaf];
  let current = leaf;
  for (;;) {
    const der = certificateDer(current);
    if (anchorDers.some((a) => bytesEqual(a, der))) break;
    checkDigest(current);
    if (chain.length >= MAX_DEPTH) {
      throw new CertificateUntrustedError(`no trust anchor within ${MAX_DEPTH} certificates`, {
        certificate: identityOf(leaf), hint: 'the chain is too long or loops; check the intermediates passed',
      });
    }
    const candidates = pool.filter((c) => sameName(c.subject, current.issuer));
    let issuer: pkijs.Certificate | undefined;
    for (const c of candidates) {
      if (await verifiesWith(current, c)) { issuer = c; break; }
    }
    if (issuer === undefined) {
      throw new CertificateUntrustedError(candidates.length === 0
        ? 'certificate check "chain" failed: its issuer is neither a trust anchor nor a given intermediate'
        : 'certificate check "signature" failed: no certificate named as its issuer verifies its signature', {
        certificate: identityOf(current),
        hint: candidates.length === 0
          ? 'add the issuing CA to the trust anchors (pkinit_anchors) or pass the intermediate certificates'
          : 'the certificate was altered or signed by a different key of the same name; re-issue it',
      });
    }
    // A configured trust anchor is trusted as it is (RFC 5280 §6.1.1 (d)); issuers below it must be CAs.
    const issuerIsAnchor = anchorDers.some((a) => bytesEqual(a, certificateDer(issuer!)));
    if (!issuerIsAnchor && !isCa(issuer)) {
      throw new CertificateInvalidError('certificate check "chain" failed: its issuer is not a CA (basicConstraints cA is not set)', {
        certificate: identityOf(issuer), hint: 'issue end-entity certificates from a CA certificate',
      });
    }
    chain.push(issuer);
    current = issuer;
  }

  for (const cert of chain) checkValidity(cert, options.now);
  await checkRevocation(chain, options);
  checkPurpose(leaf, options);

  const sans = readSans(leaf);
  const validity = { notBefore: leaf.notBefore.value.getTime(), notAfter: leaf.notAfter.value.getTime() };
  const who = identityOf(leaf);
  return Object.freeze({
    ...who,
    ...validity,
    pkinitSans: sans.pkinit,
    pkinitSanNames: sans.pkinit.map((n) => principalNameToString(n.principalName, n.realm)),
    upns: sans.upns,
    dnsNames: sans.dns,
    publicKey: spkiDer(leaf),
    chain: chain.map(certificateDer),
  });
}

export interface CertificatePrincipalOptions {
  /** The KDC's realm: UPNs map to enterprise names in it. */
  readonly realm: string;
  /** Map Microsoft UPN SANs too (MIT pkinit_allow_upn). */
  readonly allowUpn: boolean;
}

export interface CertificatePrincipal {
  /** 'alice@EXAMPLE.COM', or for a UPN the enterprise name 'alice\@example.com@EXAMPLE.COM'. */
  readonly principal: string;
  readonly source: 'pkinit-san' | 'upn';
  /** Whether the name is in `realm` (a pkinit SAN for another realm is a cross-realm client). */
  readonly inRealm: boolean;
}

/** The principal names a validated certificate stands for, SANs first. */
export function certificatePrincipal(result: ValidatedCertificate, options: CertificatePrincipalOptions): CertificatePrincipal[] {
  const out: CertificatePrincipal[] = result.pkinitSans.map((n) => ({
    principal: principalNameToString(n.principalName, n.realm), source: 'pkinit-san' as const, inRealm: n.realm === options.realm,
  }));
  if (options.allowUpn) {
    for (const upn of result.upns) {
      // RFC 6806 §5: a UPN is an enterprise name, one component, in the KDC's realm.
      const parsed = principalNameFromString(upn, { enterprise: true });
      const component = parsed.realm === undefined ? upn : `${parsed.name.nameString[0]}@${parsed.realm}`;
      out.push({
        principal: principalNameToString({ nameType: parsed.name.nameType, nameString: [component] }, options.realm),
        source: 'upn', inRealm: true,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- checks

function checkDigest(cert: pkijs.Certificate): void {
  const alg = cert.signatureAlgorithm.algorithmId;
  if (WEAK_SIGNATURES.has(alg)) {
    throw new CertificateDigestError(`certificate check "digest" failed: signed with ${alg}, weaker than SHA-256`, {
      certificate: identityOf(cert), detail: { signatureAlgorithm: alg },
      hint: 'PKINIT (RFC 8636) refuses SHA-1 certificates; re-issue it with sha256WithRSAEncryption or ecdsa-with-SHA256',
    });
  }
}

async function verifiesWith(cert: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
  try {
    return await cert.verify(issuer, pkijsEngine());
  } catch {
    return false;
  }
}

function isCa(cert: pkijs.Certificate): boolean {
  const ext = extensionOf(cert, Oid.basicConstraints);
  if (ext === undefined) return false;
  const bc = ext.parsedValue as pkijs.BasicConstraints | undefined;
  return bc?.cA === true;
}

function checkValidity(cert: pkijs.Certificate, now: number): void {
  const nb = cert.notBefore.value.getTime();
  const na = cert.notAfter.value.getTime();
  if (now < nb) {
    throw new CertificateInvalidError(`certificate check "validity" failed: not valid before ${new Date(nb).toISOString()}`, {
      certificate: identityOf(cert), detail: { notBefore: nb, now },
      hint: 'the certificate is not yet valid: check the clocks of this host and of the CA',
    });
  }
  if (now > na) {
    throw new CertificateInvalidError(`certificate check "validity" failed: expired at ${new Date(na).toISOString()}`, {
      certificate: identityOf(cert), detail: { notAfter: na, now },
      hint: 'renew the certificate (or the smart card)',
    });
  }
}

async function checkRevocation(chain: readonly pkijs.Certificate[], options: ValidateOptions): Promise<void> {
  const crls = (options.crls ?? []).map((der) => {
    const parsed = asn1js.fromBER(ab(der));
    if (parsed.offset !== der.length) return undefined;
    try { return new pkijs.CertificateRevocationList({ schema: parsed.result }); } catch { return undefined; }
  });
  // The anchor (last) is trusted as configured; every certificate below it is checked against its issuer's CRLs.
  for (let i = 0; i < chain.length - 1; i++) {
    const cert = chain[i]!;
    const issuer = chain[i + 1]!;
    let current = false;
    for (const crl of crls) {
      if (crl === undefined || !sameName(crl.issuer, cert.issuer)) continue;
      let ok = false;
      try { ok = await crl.verify({ issuerCertificate: issuer }, pkijsEngine()); } catch { ok = false; }
      if (!ok) continue;
      const entry = (crl.revokedCertificates ?? []).find((r) => r.userCertificate.isEqual(cert.serialNumber));
      if (entry !== undefined && entry.revocationDate.value.getTime() <= options.now) {
        throw new CertificateRevokedError(
          `certificate check "revocation" failed: revoked at ${entry.revocationDate.value.toISOString()}`, {
            certificate: identityOf(cert), detail: { revokedAt: entry.revocationDate.value.getTime() },
            hint: 'the CA revoked this certificate; issue a new one if the revocation was not intended',
          });
      }
      const thisUpdate = crl.thisUpdate.value.getTime();
      const nextUpdate = crl.nextUpdate?.value.getTime();
      if (thisUpdate <= options.now && (nextUpdate === undefined || options.now <= nextUpdate)) current = true;
    }
    if (options.requireCrl === true && !current) {
      throw new RevocationStatusUnknownError('certificate check "crl" failed: no current CRL from its issuer', {
        certificate: identityOf(cert), detail: { serial: serialOf(cert) },
        hint: 'publish a fresh CRL for the issuing CA (nextUpdate in the future) or turn off pkinit_require_crl_checking',
      });
    }
  }
}

function checkPurpose(leaf: pkijs.Certificate, options: ValidateOptions): void {
  const ekuExt = extensionOf(leaf, Oid.extKeyUsage);
  const ekus = ekuExt === undefined ? [] : ((ekuExt.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? []);
  const wanted = options.purpose === 'pkinit-kdc'
    ? [Oid.pkinitKpKdc]
    : [Oid.pkinitKpClientAuth, ...(options.allowSmartCardLogonEku === true ? [Oid.msSmartCardLogon] : [])];
  if (!ekus.some((e) => (wanted as readonly string[]).includes(e))) {
    throw new KeyPurposeError(`certificate check "key-purpose" failed: extended key usage ${ekus.length === 0 ? 'is absent' : `is ${ekus.join(', ')}`}, PKINIT ${options.purpose === 'pkinit-kdc' ? 'KDC' : 'client'} needs ${wanted.join(' or ')}`, {
      certificate: identityOf(leaf), detail: { ekus, purpose: options.purpose },
      hint: options.purpose === 'pkinit-kdc'
        ? 'issue the KDC certificate with EKU id-pkinit-KPKdc (1.3.6.1.5.2.3.5)'
        : 'issue the user certificate with EKU id-pkinit-KPClientAuth (1.3.6.1.5.2.3.4), or allow the smart-card logon EKU',
    });
  }
  // RFC 4556 §3.2.2: the key must be usable for digital signatures when keyUsage is present.
  const ku = extensionOf(leaf, Oid.keyUsage)?.parsedValue as asn1js.BitString | undefined;
  if (ku !== undefined) {
    const first = ku.valueBlock.valueHexView[0] ?? 0;
    if ((first & 0x80) === 0) {
      throw new KeyPurposeError('certificate check "key-purpose" failed: keyUsage lacks digitalSignature', {
        certificate: identityOf(leaf), hint: 'issue the certificate with keyUsage digitalSignature',
      });
    }
  }
}

interface Sans {
  readonly pkinit: Krb5PrincipalName[];
  readonly upns: string[];
  readonly dns: string[];
}

/** Reads GeneralNames (RFC 5280 §4.2.1.6) from the SAN extension; otherName values are decoded strictly. */
function readSans(cert: pkijs.Certificate): Sans {
  const out: Sans = { pkinit: [], upns: [], dns: [] };
  const ext = extensionOf(cert, Oid.subjectAltName);
  if (ext === undefined) return out;
  const raw = ext.extnValue.valueBlock.valueHexView;
  const parsed = asn1js.fromBER(ab(raw));
  if (parsed.offset !== raw.length || !(parsed.result instanceof asn1js.Sequence)) badSan(cert, 'is not a SEQUENCE of GeneralName');
  for (const gn of (parsed.result as asn1js.Sequence).valueBlock.value) {
    if (gn.idBlock.tagClass !== 3) badSan(cert, 'has a GeneralName that is not context-tagged');
    if (gn.idBlock.tagNumber === 2) {
      out.dns.push(fromUtf8((gn as asn1js.Primitive).valueBlock.valueHexView));
    } else if (gn.idBlock.tagNumber === 0) {
      const parts = (gn as asn1js.Constructed).valueBlock.value;
      const typeId = parts[0];
      const wrapped = parts[1];
      if (parts.length !== 2 || !(typeId instanceof asn1js.ObjectIdentifier) || wrapped === undefined
        || wrapped.idBlock.tagClass !== 3 || wrapped.idBlock.tagNumber !== 0) badSan(cert, 'has a malformed otherName');
      const inner = (wrapped as asn1js.Constructed).valueBlock.value;
      if (inner.length !== 1) badSan(cert, 'has an otherName whose [0] holds more than one value');
      const value = new Uint8Array(inner[0]!.valueBeforeDecodeView);
      const oid = (typeId as asn1js.ObjectIdentifier).valueBlock.toString();
      if (oid === Oid.pkinitSan) {
        try {
          out.pkinit.push(Krb5PrincipalName.decode(value));
        } catch (cause) {
          badSan(cert, 'has an id-pkinit-san that is not a DER KRB5PrincipalName', cause);
        }
      } else if (oid === Oid.msUpn) {
        if (!(inner[0] instanceof asn1js.Utf8String)) badSan(cert, 'has a UPN otherName that is not a UTF8String');
        out.upns.push((inner[0] as asn1js.Utf8String).valueBlock.value);
      }
    }
  }
  return out;
}

function badSan(cert: pkijs.Certificate, why: string, cause?: unknown): never {
  throw new CertificateInvalidError(`certificate check "parse" failed: its subjectAltName ${why}`, {
    certificate: identityOf(cert), hint: 'the issuing CA wrote a malformed name; re-issue the certificate',
    ...(cause === undefined ? {} : { cause }),
  });
}
