/**
 * PKINIT on the client (RFC 4556 §3.2, RFC 8636 KDF agility, RFC 8070
 * freshness tokens), sans-IO: AsExchange asks this for the PA-PK-AS-REQ of a
 * request body it is about to send and for the reply key of the AS-REP.
 *
 * Only Diffie-Hellman key agreement (§3.2.3.1) is offered: the AuthPack
 * always carries clientPublicValue, so a KDC must answer with dhInfo.
 */

import { KerbsideError } from '../core/errors.js';
import type { RandomSource } from '../core/random.js';
import {
  IntegrityError, chooseGroup, generateClientKey, octetString2Key, pkAuthenticatorChecksum, pkinitKdf, pkinitKdfHash,
  type ClientKey as DhClientKey, type Key, type PkinitGroup,
} from '../crypto/index.js';
import {
  AuthPack, ErrorCode, KdcDhKeyInfo, KdcReqBody, PaPkAsRep, PaPkAsReq, PaType, PkinitOid, TdDhParameters, TypedData,
  type AsRep, type KrbError, type PaData, type PrincipalName,
} from '../messages/index.js';
import {
  CertificateError, certificateIdentity, signCms, validateCertificate, verifyCms, type CertificateIdentity, type Signer, type ValidatedCertificate,
} from '../pki/index.js';

/** A certificate and its private key (software or a PKCS#11 token) proving the client's identity. */
export interface CertificateKeySource {
  readonly kind: 'certificate';
  readonly signer: Signer;
  /** Intermediate CA certificates (DER) sent with the signer's certificate. */
  readonly chain?: readonly Uint8Array[];
  /** Trusted CA certificates (DER) for the KDC's certificate (krb5.conf pkinit_anchors). */
  readonly anchors: readonly Uint8Array[];
  /** CRLs (DER) checked against the KDC's chain. */
  readonly crls?: readonly Uint8Array[];
  /** First DH group offered; default modp2048 (MIT 1.20's pkinit_dh_min_bits = 2048). */
  readonly group?: PkinitGroup;
  /** Host names a KDC certificate may carry as dNSName instead of the krbtgt id-pkinit-san (MIT pkinit_kdc_hostname). */
  readonly kdcHostnames?: readonly string[];
  /** For messages, e.g. "FILE:/home/alice/cert.pem" or "token \"alice\"". */
  readonly description?: string;
}

/** Base of PKINIT client failures. */
export class PkinitError extends KerbsideError {
  static override readonly code: string = 'ERR_PKINIT';
}

/** The KDC does not offer PKINIT (no PA-PK-AS-REQ in METHOD-DATA), or answered without PKINIT. */
export class PkinitNotOfferedError extends PkinitError {
  static override readonly code = 'ERR_PKINIT_NOT_OFFERED';
}

/** KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED (65) and no group both sides accept. */
export class PkinitGroupNotAcceptedError extends PkinitError {
  static override readonly code = 'ERR_PKINIT_GROUP_NOT_ACCEPTED';
}

/** The KDC's certificate failed a check (chain, validity, revocation, key purpose, digest); `cause` is the pki error. */
export class PkinitKdcCertificateError extends PkinitError {
  static override readonly code = 'ERR_PKINIT_KDC_CERTIFICATE';
}

/** KDC_ERR_KDC_NAME_MISMATCH (76): the KDC's certificate is valid but not for krbtgt/REALM@REALM. */
export class PkinitKdcNameMismatchError extends PkinitError {
  static override readonly code = 'ERR_PKINIT_KDC_NAME_MISMATCH';
}

/** A PA-PK-AS-REP that does not answer our request (missing, malformed, wrong nonce, unknown KDF, bad signature). */
export class PkinitBadReplyError extends PkinitError {
  static override readonly code = 'ERR_PKINIT_BAD_REPLY';
}

/** The KDC refused our certificate or signature (KDC_ERR_CLIENT_NOT_TRUSTED and the other RFC 4556 §3.1.3 codes). */
export class PkinitRejectedError extends PkinitError {
  static override readonly code = 'ERR_PKINIT_REJECTED';
}

/** RFC 8636 §7 KDFs offered, in preference order (MIT 1.20 offers sha256, sha1, sha512). */
const OFFERED_KDFS = Object.freeze([PkinitOid.kdfAhSha256, PkinitOid.kdfAhSha1, PkinitOid.kdfAhSha512]);

/**
 * RFC 4556 §3.2.1 supportedCMSTypes: the signature algorithms we verify in
 * the KDC's reply, so that a KDC picks SHA-256 rather than SHA-1.
 */
const SUPPORTED_CMS_TYPES = Object.freeze([
  { algorithm: '1.2.840.113549.1.1.11', parameters: Uint8Array.of(0x05, 0x00) }, // sha256WithRSAEncryption
  { algorithm: '1.2.840.10045.4.3.2' }, // ecdsa-with-SHA256
]);

/** RFC 4556 §3.1.3 error codes that mean "the KDC did not accept what we signed or sent". */
const REJECTION_TEXT: Readonly<Record<number, string>> = Object.freeze(Object.assign(Object.create(null) as Record<number, string>, {
  24: 'the KDC rejected the PKINIT request (KDC_ERR_PREAUTH_FAILED)',
  62: 'the KDC does not trust the client certificate (KDC_ERR_CLIENT_NOT_TRUSTED)',
  64: 'the KDC could not verify the signature (KDC_ERR_INVALID_SIG)',
  70: 'the KDC could not verify the client certificate (KDC_ERR_CANT_VERIFY_CERTIFICATE)',
  71: 'the KDC found the client certificate invalid (KDC_ERR_INVALID_CERTIFICATE)',
  72: 'the client certificate is revoked (KDC_ERR_REVOKED_CERTIFICATE)',
  73: 'the KDC cannot tell whether the client certificate is revoked (KDC_ERR_REVOCATION_STATUS_UNKNOWN)',
  74: 'the KDC cannot get revocation status (KDC_ERR_REVOCATION_STATUS_UNAVAILABLE)',
  75: 'the client certificate does not name this principal (KDC_ERR_CLIENT_NAME_MISMATCH)',
  77: 'the client certificate lacks the PKINIT client key purpose (KDC_ERR_INCONSISTENT_KEY_PURPOSE)',
  78: 'the KDC refuses the digest in the client certificate (KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED)',
  79: 'the KDC wants a paChecksum (KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED)',
  80: 'the KDC refuses the digest of the signed data (KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED)',
  81: 'the KDC does not do public-key encryption (KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED)',
}));

interface Pending {
  readonly dh: DhClientKey;
  readonly nonce: number;
  readonly body: KdcReqBody;
}

/**
 * The PKINIT half of one AS exchange. `padata()` for every request sent
 * (a new DH key each time), `onError()` for a KRB-ERROR, `replyKey()` for
 * the AS-REP.
 */
export class PkinitClientExchange {
  readonly #src: CertificateKeySource;
  readonly #random: RandomSource;
  readonly #realm: string;
  #group: PkinitGroup;
  #groupRetried = false;
  #pending: Pending | undefined;
  #freshness: Uint8Array | undefined;
  #offered = false;
  #signerName: string | undefined;

  constructor(source: CertificateKeySource, realm: string, random: RandomSource) {
    this.#src = source;
    this.#random = random;
    this.#realm = realm;
    this.#group = source.group ?? 'modp2048';
  }

  /** The group the next request offers. */
  get group(): PkinitGroup {
    return this.#group;
  }

  /**
   * Reads a PREAUTH_REQUIRED METHOD-DATA: PKINIT must be offered; a
   * PA-AS-FRESHNESS token (RFC 8070 §4) is remembered for the PKAuthenticator.
   */
  offered(methods: readonly PaData[], client: string): void {
    if (!methods.some((m) => m.padataType === PaType.PA_PK_AS_REQ)) {
      const types = methods.map((m) => m.padataType);
      throw new PkinitNotOfferedError(`the KDC of ${this.#realm} does not offer PKINIT to ${client} (offered: ${types.join(', ') || 'none'})`, {
        krbCode: ErrorCode.KDC_ERR_PREAUTH_REQUIRED, detail: { client, offered: types.map(String) },
        hint: 'enable PKINIT on the KDC (MIT: pkinit_identity and pkinit_anchors in kdc.conf) or use a password',
      });
    }
    const fresh = methods.find((m) => m.padataType === PaType.PA_AS_FRESHNESS);
    // An empty PA-AS-FRESHNESS only says the KDC supports tokens (RFC 8070 §4).
    this.#freshness = fresh !== undefined && fresh.padataValue.length > 0 ? fresh.padataValue : undefined;
    this.#offered = true;
  }

  /** Whether offered() has accepted a METHOD-DATA (the exchange is in its PKINIT rounds). */
  get active(): boolean {
    return this.#offered;
  }

  /** PA-PK-AS-REQ for `body` (its nonce and the SHA-1 of its DER are bound into the signed AuthPack). */
  async padata(body: KdcReqBody, kdcNow: number): Promise<PaData> {
    const dh = generateClientKey(this.#group, this.#random);
    const bodyDer = KdcReqBody.encode(body);
    const ms = ((kdcNow % 1000) + 1000) % 1000;
    const authPack = AuthPack.encode({
      pkAuthenticator: {
        cusec: ms * 1000,
        ctime: new Date(kdcNow - ms),
        nonce: body.nonce >>> 0,
        // RFC 4556 §3.2.1: paChecksum is SHA-1 of the DER KDC-REQ-BODY.
        paChecksum: pkAuthenticatorChecksum(bodyDer),
        ...(this.#freshness !== undefined ? { freshnessToken: this.#freshness } : {}),
      },
      clientPublicValue: dh.spkiDer,
      supportedCMSTypes: SUPPORTED_CMS_TYPES.map((a) => ({ ...a })),
      supportedKDFs: OFFERED_KDFS.map((kdfId) => ({ kdfId })),
    });
    const signedAuthPack = await signCms({
      contentType: PkinitOid.pkinitAuthData,
      content: authPack,
      signer: this.#src.signer,
      ...(this.#src.chain !== undefined ? { certificates: this.#src.chain } : {}),
    });
    this.#pending = { dh, nonce: body.nonce >>> 0, body };
    return { padataType: PaType.PA_PK_AS_REQ, padataValue: PaPkAsReq.encode({ signedAuthPack }) };
  }

  /**
   * A KRB-ERROR in a PKINIT round. Returns true when the request should be
   * sent again (error 65 with a TD-DH-PARAMETERS group we support, once);
   * throws a PKINIT error for the RFC 4556 codes; false for anything else
   * (the caller's generic handling).
   */
  onError(e: KrbError, client: string): boolean {
    if (e.errorCode === ErrorCode.KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED) {
      const offered = this.#kdcGroups(e);
      const next = chooseGroup(offered);
      if (next === undefined || this.#groupRetried || next === this.#group) {
        throw new PkinitGroupNotAcceptedError(
          `the KDC of ${this.#realm} does not accept the Diffie-Hellman group ${this.#group} for ${client}${next === undefined ? ' and offers none kerbside supports' : ''}`, {
            krbCode: e.errorCode, detail: { client, group: this.#group, kdcGroups: offered.length },
            hint: 'kerbside offers modp2048, modp4096, P-256 and P-384; check pkinit_dh_min_bits on the KDC',
          });
      }
      this.#groupRetried = true;
      this.#group = next;
      return true;
    }
    const text = REJECTION_TEXT[e.errorCode];
    if (text !== undefined) {
      const etext = e.eText !== undefined && e.eText !== '' ? `: ${e.eText}` : '';
      throw new PkinitRejectedError(`${text} for ${client}, certificate ${this.#signerDescription()}${etext}`, {
        krbCode: e.errorCode, detail: { client, certificate: this.#signerDescription() },
        hint: 'check that the KDC\'s pkinit_anchors include the CA that issued the client certificate, and that its id-pkinit-san or UPN names the principal',
      });
    }
    return false;
  }

  /** TD-DH-PARAMETERS (typed-data 109) of a KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED error; empty if absent. */
  #kdcGroups(e: KrbError): ReturnType<typeof TdDhParameters.decode> {
    if (e.eData === undefined) return [];
    try {
      const entry = TypedData.decode(e.eData).find((t) => t.dataType === 109);
      return entry?.dataValue === undefined ? [] : TdDhParameters.decode(entry.dataValue);
    } catch (cause) {
      throw new PkinitBadReplyError(`the KDC of ${this.#realm} sent DH_KEY_PARAMETERS_NOT_ACCEPTED with e-data that is not TD-DH-PARAMETERS`, { cause });
    }
  }

  /**
   * The AS reply key (RFC 4556 §3.2.3.1, RFC 8636 §8) from the AS-REP's
   * PA-PK-AS-REP, after checking the KDC's signature, certificate and name.
   * `asReq` is the DER AS-REQ that was sent; `localNow` the local time (ms)
   * for certificate validity.
   */
  async replyKey(rep: AsRep, asReq: Uint8Array, localNow: number): Promise<Key> {
    const pending = this.#pending;
    const pa = rep.padata?.find((p) => p.padataType === PaType.PA_PK_AS_REP);
    if (pending === undefined || pa === undefined) {
      throw new PkinitNotOfferedError(`the KDC of ${this.#realm} answered without PKINIT (no PA-PK-AS-REP in the AS-REP)`, {
        hint: pending === undefined
          ? 'the principal does not require pre-authentication, so the KDC used its long-term key; set requires_preauth on it (kadmin modprinc +requires_preauth)'
          : 'the KDC ignored PA-PK-AS-REQ; check its PKINIT configuration',
      });
    }
    let reply: PaPkAsRep;
    try {
      reply = PaPkAsRep.decode(pa.padataValue);
    } catch (cause) {
      throw new PkinitBadReplyError(`the PA-PK-AS-REP from the KDC of ${this.#realm} is malformed`, { cause });
    }
    if (reply.type !== 'dhInfo') {
      throw new PkinitBadReplyError(`the KDC of ${this.#realm} answered with public-key encryption (encKeyPack), but kerbside asked for Diffie-Hellman`, {
        hint: 'RFC 4556 §3.2.3: a KDC must use DH when the AuthPack has clientPublicValue',
      });
    }
    const dhInfo = reply.value;
    let verified;
    try {
      verified = await verifyCms(dhInfo.dhSignedData, { expectedContentType: PkinitOid.pkinitDHKeyData });
    } catch (cause) {
      throw new PkinitBadReplyError(`the signed DH reply from the KDC of ${this.#realm} does not verify: ${(cause as Error).message}`, {
        cause, hint: 'the reply was altered or signed with a key that does not match the KDC certificate',
      });
    }
    const kdcCert = await this.#checkKdcCertificate(verified.signerCertificate, verified.certificates, localNow);
    let keyInfo: KdcDhKeyInfo;
    try {
      keyInfo = KdcDhKeyInfo.decode(verified.content);
    } catch (cause) {
      throw new PkinitBadReplyError(`the KDCDHKeyInfo from the KDC of ${this.#realm} is malformed`, { cause });
    }
    // RFC 4556 §3.2.3.1: the KDC echoes the PKAuthenticator nonce (replay protection).
    if ((keyInfo.nonce >>> 0) !== pending.nonce) {
      throw new PkinitBadReplyError(`the KDCDHKeyInfo signed by ${describe(kdcCert)} does not answer this request (nonce mismatch)`, {
        detail: { expected: pending.nonce, received: keyInfo.nonce >>> 0 },
      });
    }
    if (keyInfo.subjectPublicKey.unusedBits !== 0) {
      throw new PkinitBadReplyError(`the KDC's DH public value from the KDC of ${this.#realm} has unused bits`);
    }
    const z = pending.dh.complete(keyInfo.subjectPublicKey.bytes);
    const enctype = rep.encPart.etype;
    if (dhInfo.kdf === undefined) {
      return octetString2Key(enctype, z, undefined, dhInfo.serverDHNonce);
    }
    const kdfId = dhInfo.kdf.kdfId;
    const hash = pkinitKdfHash(kdfId);
    if (hash === undefined || !OFFERED_KDFS.includes(kdfId as (typeof OFFERED_KDFS)[number])) {
      throw new PkinitBadReplyError(`the KDC of ${this.#realm} chose KDF ${kdfId}, which kerbside did not offer`, { detail: { kdf: kdfId } });
    }
    const body = pending.body;
    return pkinitKdf({
      hash, enctype, sharedSecret: z,
      // RFC 8636 §8: partyUInfo/partyVInfo are the request's client and server names.
      clientName: { realm: body.realm, principalName: body.cname as PrincipalName },
      serverName: { realm: body.realm, principalName: body.sname as PrincipalName },
      asReq, pkAsRep: pa.padataValue,
    });
  }

  /** A reply that does not decrypt with the derived key. */
  decryptFailed(cause: unknown): PkinitBadReplyError {
    const integrity = cause instanceof IntegrityError;
    return new PkinitBadReplyError(`the AS-REP from the KDC of ${this.#realm} does not decrypt with the PKINIT reply key${integrity ? '' : `: ${(cause as Error).message}`}`, {
      cause, hint: 'the KDC and kerbside derived different reply keys (KDF or DH mismatch); see the KDC log',
    });
  }

  async #checkKdcCertificate(cert: Uint8Array, included: readonly Uint8Array[], now: number): Promise<ValidatedCertificate> {
    let v: ValidatedCertificate;
    try {
      v = await validateCertificate({
        certificate: cert, intermediates: included, anchors: this.#src.anchors,
        ...(this.#src.crls !== undefined ? { crls: this.#src.crls } : {}),
        now, purpose: 'pkinit-kdc',
      });
    } catch (cause) {
      if (cause instanceof CertificateError) {
        throw new PkinitKdcCertificateError(`the KDC certificate of ${this.#realm} is not acceptable: ${cause.message}`, {
          cause, ...(cause.krbCode !== undefined ? { krbCode: cause.krbCode } : {}),
          detail: { realm: this.#realm, check: cause.check, ...(cause.certificate ?? {}) },
          hint: this.#src.anchors.length === 0
            ? 'no trust anchors are configured: give -X X509_anchors=FILE:ca.pem or set pkinit_anchors in krb5.conf'
            : 'the KDC certificate must chain to one of the configured pkinit_anchors, be current, and carry the PKINIT KDC key purpose',
        });
      }
      throw cause;
    }
    const tgs = v.pkinitSans.some((n) => n.realm === this.#realm && n.principalName.nameString.length === 2
      && n.principalName.nameString[0] === 'krbtgt' && n.principalName.nameString[1] === this.#realm);
    const host = (this.#src.kdcHostnames ?? []).some((h) => v.dnsNames.some((d) => d.toLowerCase() === h.toLowerCase()));
    if (!tgs && !host) {
      const names = [...v.pkinitSanNames, ...v.dnsNames.map((d) => `DNS:${d}`)];
      throw new PkinitKdcNameMismatchError(
        `the KDC certificate ${describe(v)} is not for krbtgt/${this.#realm}@${this.#realm} (it names ${names.join(', ') || 'nothing'})`, {
          krbCode: 76, detail: { realm: this.#realm, subject: v.subject, issuer: v.issuer, serial: v.serial, names },
          hint: `the KDC certificate needs an id-pkinit-san of krbtgt/${this.#realm}@${this.#realm} (or set pkinit_kdc_hostname to a dNSName it holds)`,
        });
    }
    return v;
  }

  /** The client certificate for messages: where it came from, and its subject, issuer and serial. */
  #signerDescription(): string {
    if (this.#signerName === undefined) {
      let who: CertificateIdentity | undefined;
      try {
        who = certificateIdentity(this.#src.signer.certificate);
      } catch {
        who = undefined; // a certificate pki cannot parse is named by its source only
      }
      const parts = [this.#src.description, who === undefined ? undefined : describe(who)].filter((x) => x !== undefined);
      this.#signerName = parts.length === 0 ? 'of this client' : parts.join(' ');
    }
    return this.#signerName;
  }
}

function describe(v: { readonly subject: string; readonly issuer: string; readonly serial: string }): string {
  return `(subject "${v.subject}", issuer "${v.issuer}", serial ${v.serial})`;
}
