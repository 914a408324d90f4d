/**
 * PKINIT in the KDC (RFC 4556 §3.2, RFC 5349 ECDH, RFC 8636 KDFs): the
 * `pkinit` pre-authentication mechanism. The client signs an AuthPack
 * (CMS SignedData) with its certificate's key and sends a Diffie-Hellman
 * public value; the KDC checks the certificate (src/pki), maps it to the
 * client principal, agrees on a key and signs its own DH value with the KDC
 * certificate. The reply key comes from the shared secret, so the client
 * needs no password (docs/pkinit.md).
 *
 * Only the Diffie-Hellman mode: RSA key transport (encKeyPack, RFC 4556
 * §3.2.3.2) has no forward secrecy and MIT clients do not use it by default.
 */

import { createHmac } from 'node:crypto';
import { bytesEqual, concatBytes, constantTimeEqual } from '../core/bytes.js';
import type { RandomSource } from '../core/random.js';
import {
  DhParametersNotAcceptedError, DhPublicValueError, PKINIT_GROUPS, acceptedDhParameters, agree, octetString2Key, pkAuthenticatorChecksum, pkinitKdf, pkinitKdfHash,
  type Key, type PkinitGroup,
} from '../crypto/index.js';
import {
  AuthPack, ErrorCode, KdcDhKeyInfo, PaPkAsRep, PaPkAsReq, PaType, PkinitOid, TdDhParameters, TypedData, TypedDataType,
  type DhRepInfo, type PaData,
} from '../messages/index.js';
import {
  CertificateError, CmsError, signCms, validateCertificate, verifyCms, type Signer, type ValidatedCertificate, type VerifiedCms,
} from '../pki/index.js';
import type { RealmPolicy } from './config.js';
import { KdcRequestError } from './errors.js';
import { isPermittedEnctype } from './policy.js';
import type { AsPreauthContext, PreauthMechanism, PreauthOutcome } from './preauth.js';

export interface PkinitKdcOptions {
  /** Signs with the KDC's key; its certificate names krbtgt/REALM@REALM (id-pkinit-san) with EKU id-pkinit-KPKdc. */
  readonly signer: Signer;
  /** Certificates between the KDC's and the anchor, sent with the reply. */
  readonly chain?: readonly Uint8Array[];
  /** CA certificates client certificates must chain to (kdc.conf pkinit_anchors). */
  readonly anchors: readonly Uint8Array[];
  /** CRLs (kdc.conf pkinit_revoke). */
  readonly crls?: readonly Uint8Array[];
  /** Map a Microsoft UPN SAN to the principal of that name (MIT pkinit_allow_upn). */
  readonly allowUpn?: boolean;
  /** Accept the Microsoft smart-card logon EKU instead of id-pkinit-KPClientAuth (MIT pkinit_eku_checking = scLogin). */
  readonly allowSmartCardLogonEku?: boolean;
  /** Smallest finite-field group accepted (MIT pkinit_dh_min_bits; 2048 or 4096). */
  readonly dhMinBits?: number;
  /** Refuse requests without a freshness token (RFC 8070; MIT pkinit_require_freshness). */
  readonly requireFreshness?: boolean;
  /** Keys the freshness tokens (drawn once, so tokens do not outlive the KDC process). */
  readonly random: RandomSource;
}

function refusal(code: number, message: string, reason: string, eData?: Uint8Array): KdcRequestError {
  return new KdcRequestError(code, message, { reason, ...(eData === undefined ? {} : { eData }) });
}

/** A pki failure (certificate, CMS) as the KRB-ERROR its RFC 4556 code says. */
function fromPki(err: unknown, what: string): never {
  if ((err instanceof CertificateError || err instanceof CmsError) && err.krbCode !== undefined) {
    throw new KdcRequestError(err.krbCode, err.message, { reason: `${what}: ${err.message}`, ...(err.hint === undefined ? {} : { hint: err.hint }), cause: err });
  }
  throw err;
}

/** The reply enctype: the client's reply key's when it has one, else the first permitted requested enctype. */
function replyEnctype(ctx: AsPreauthContext, policy: RealmPolicy): number {
  if (ctx.replyKey !== undefined) return ctx.replyKey.enctype;
  const chosen = ctx.request.reqBody.etype.find((e) => isPermittedEnctype(e, policy));
  if (chosen === undefined) {
    throw refusal(ErrorCode.KDC_ERR_ETYPE_NOSUPP, 'KDC has no support for encryption type',
      `none of the requested enctypes (${ctx.request.reqBody.etype.join(', ')}) is permitted in this realm`);
  }
  return chosen;
}

/**
 * RFC 8070 freshness tokens: opaque to the client, so ours is the KDC time
 * (8 bytes, ms) and an HMAC-SHA-256 of it under a key of this process. A
 * token proves the AuthPack was signed after the KDC issued it, so a signed
 * AuthPack captured from a smart card cannot be used later.
 */
function freshness(random: RandomSource): { issue(now: number): Uint8Array; check(token: Uint8Array, now: number, skewMs: number): boolean } {
  const key = random.bytes(32);
  const mac = (time: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key).update(time).digest());
  return {
    issue(now) {
      const time = new Uint8Array(8);
      new DataView(time.buffer).setBigUint64(0, BigInt(now));
      return concatBytes(time, mac(time));
    },
    check(token, now, skewMs) {
      if (token.length !== 40) return false;
      const time = token.subarray(0, 8);
      if (!constantTimeEqual(token.subarray(8), mac(time))) return false;
      const issued = Number(new DataView(time.buffer, time.byteOffset, 8).getBigUint64(0));
      return Math.abs(now - issued) <= skewMs;
    },
  };
}

export function pkinitMechanism(options: PkinitKdcOptions): PreauthMechanism {
  const dhMinBits = options.dhMinBits ?? 2048;
  // ECDH groups are at least as strong as MODP 4096 would need; MODP 2048 only when the minimum allows it.
  const groups: readonly PkinitGroup[] = PKINIT_GROUPS.filter((g) => g !== 'modp2048' || dhMinBits <= 2048);
  const tokens = freshness(options.random);
  return Object.freeze({
    padataType: PaType.PA_PK_AS_REQ,
    name: 'pkinit',
    certificate: true,
    edata: (ctx: AsPreauthContext): PaData[] => [
      { padataType: PaType.PA_PK_AS_REQ, padataValue: new Uint8Array(0) },
      { padataType: PaType.PA_AS_FRESHNESS, padataValue: tokens.issue(ctx.now) },
    ],
    async verify(ctx: AsPreauthContext, padata: PaData): Promise<PreauthOutcome> {
      let request: PaPkAsReq;
      try {
        request = PaPkAsReq.decode(padata.padataValue);
      } catch (err) {
        throw new KdcRequestError(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'PA-PK-AS-REQ does not decode', { reason: `malformed PA-PK-AS-REQ: ${(err as Error).message}`, cause: err });
      }
      // The signature first, then whose it is (RFC 4556 §3.2.2).
      let signed: VerifiedCms;
      try {
        signed = await verifyCms(request.signedAuthPack, { expectedContentType: PkinitOid.pkinitAuthData });
      } catch (err) {
        fromPki(err, 'the signed AuthPack');
      }
      let cert: ValidatedCertificate;
      try {
        cert = await validateCertificate({
          certificate: signed.signerCertificate,
          intermediates: signed.certificates.filter((c) => !bytesEqual(c, signed.signerCertificate)),
          anchors: options.anchors,
          crls: options.crls ?? [],
          now: ctx.now,
          purpose: 'pkinit-client',
          allowSmartCardLogonEku: options.allowSmartCardLogonEku === true,
        });
      } catch (err) {
        fromPki(err, `the certificate of ${ctx.clientName}`);
      }
      const names = [...cert.pkinitSanNames, ...(options.allowUpn === true ? cert.upns.map((u) => upnPrincipal(u, ctx.realm)) : [])];
      // An explicit mapping on the principal (Active Directory's altSecurityIdentities strong forms) also names it.
      const mapped = (ctx.client.certificateMappings ?? []).some((m) => sameMapping(m, `X509:<I>${cert.issuer}<SR>${cert.serial}`)
        || sameMapping(m, `X509:<I>${cert.issuer}<S>${cert.subject}`));
      if (!names.includes(ctx.clientName) && !mapped) {
        throw refusal(ErrorCode.KDC_ERR_CLIENT_NAME_MISMATCH, 'Client name mismatch',
          `the certificate (subject ${cert.subject}, issuer ${cert.issuer}, serial ${cert.serial}) names ${names.length === 0 ? 'no principal' : names.join(', ')}, not ${ctx.clientName}${cert.upns.length > 0 && options.allowUpn !== true ? ' (it has a UPN; pkinit_allow_upn is off)' : ''}`);
      }

      let authPack: AuthPack;
      try {
        authPack = AuthPack.decode(signed.content);
      } catch (err) {
        throw new KdcRequestError(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'the AuthPack does not decode', { reason: `malformed AuthPack: ${(err as Error).message}`, cause: err });
      }
      const pk = authPack.pkAuthenticator;
      const skewMs = Math.abs(pk.ctime.getTime() + Math.floor(pk.cusec / 1000) - ctx.now);
      if (skewMs > ctx.policy.clockSkew * 1000) {
        throw refusal(ErrorCode.KRB_AP_ERR_SKEW, 'clock skew too great', `the PKAuthenticator's time differs from the KDC's by ${Math.round(skewMs / 1000)} s; check the client's clock`);
      }
      if (pk.freshnessToken !== undefined ? !tokens.check(pk.freshnessToken, ctx.now, ctx.policy.clockSkew * 1000) : options.requireFreshness === true) {
        throw refusal(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'pre-authentication failed', pk.freshnessToken === undefined
          ? 'no freshness token in the PKAuthenticator and this KDC requires one (pkinit_require_freshness; RFC 8070)'
          : 'the freshness token was not issued by this KDC or is older than the clock skew; retry');
      }
      if (pk.nonce !== ctx.request.reqBody.nonce) {
        throw refusal(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'pre-authentication failed', 'the PKAuthenticator nonce is not the request\'s');
      }
      // RFC 4556 §3.2.1: paChecksum is SHA-1 of the DER KDC-REQ-BODY (binds the signature to this request).
      const rawBody = ctx.request.rawReqBody;
      if (pk.paChecksum === undefined) {
        throw refusal(ErrorCode.KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED, 'PA checksum must be included', 'the PKAuthenticator has no paChecksum');
      }
      if (rawBody === undefined || !constantTimeEqual(pk.paChecksum, pkAuthenticatorChecksum(rawBody))) {
        throw refusal(ErrorCode.KRB_AP_ERR_MODIFIED, 'Message stream modified', 'the PKAuthenticator paChecksum does not match the request body');
      }
      if (authPack.clientPublicValue === undefined) {
        throw refusal(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'pre-authentication failed',
          'the client asked for RSA key transport (no clientPublicValue); this KDC only answers Diffie-Hellman PKINIT');
      }

      let agreed: ReturnType<typeof agree>;
      try {
        agreed = agree(authPack.clientPublicValue, ctx.random, groups);
      } catch (err) {
        if (err instanceof DhParametersNotAcceptedError) {
          // RFC 4556 §3.2.2: TD-DH-PARAMETERS says which groups to retry with (MIT clients do).
          const td = TypedData.encode([{ dataType: TypedDataType.TD_DH_PARAMETERS, dataValue: TdDhParameters.encode(acceptedDhParameters(groups)) }]);
          throw refusal(ErrorCode.KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED, 'DH key parameters not accepted', `${err.message} (pkinit_dh_min_bits ${dhMinBits})`, td);
        }
        if (err instanceof DhPublicValueError) throw refusal(ErrorCode.KDC_ERR_PREAUTH_FAILED, 'pre-authentication failed', `the client's DH public value is not acceptable: ${err.message}`);
        throw err;
      }

      const enctype = replyEnctype(ctx, ctx.policy);
      // RFC 8636 §6: the first KDF of the client's list that we implement; none → RFC 4556 octetstring2key.
      const kdfId = authPack.supportedKDFs?.map((k) => k.kdfId).find((id) => pkinitKdfHash(id) !== undefined);
      const keyInfo = KdcDhKeyInfo.encode({ subjectPublicKey: { bytes: agreed.serverPublicValue, unusedBits: 0 }, nonce: pk.nonce });
      let dhSignedData: Uint8Array;
      try {
        dhSignedData = await signCms({
          contentType: PkinitOid.pkinitDHKeyData, content: keyInfo, signer: options.signer, certificates: options.chain ?? [],
        });
      } catch (err) {
        fromPki(err, 'signing the KDC\'s DH value');
      }
      const dhInfo: DhRepInfo = { dhSignedData, ...(kdfId === undefined ? {} : { kdf: { kdfId } }) };
      const pkAsRep = PaPkAsRep.encode({ type: 'dhInfo', value: dhInfo });
      const body = ctx.request.reqBody;
      const replyKey: Key = kdfId === undefined
        ? octetString2Key(enctype, agreed.sharedSecret, authPack.clientDHNonce)
        : pkinitKdf({
          hash: pkinitKdfHash(kdfId)!, enctype, sharedSecret: agreed.sharedSecret,
          clientName: { realm: body.realm, principalName: body.cname! },
          serverName: { realm: body.realm, principalName: body.sname! },
          asReq: ctx.rawRequest ?? new Uint8Array(0), pkAsRep,
        });
      return { reply: { padata: [{ padataType: PaType.PA_PK_AS_REP, padataValue: pkAsRep }], replyKey } };
    },
  });
}

/** Mappings compare without regard to case (DN attribute names, hex serials) or spaces after commas. */
function sameMapping(a: string, b: string): boolean {
  const norm = (m: string): string => m.replace(/,\s+/g, ',').toLowerCase();
  return norm(a) === norm(b);
}

/** A UPN 'alice@example.test' names alice@REALM when its domain is the realm (case-insensitively). */
function upnPrincipal(upn: string, realm: string): string {
  const at = upn.lastIndexOf('@');
  if (at < 0) return `${upn}@${realm}`;
  return upn.slice(at + 1).toUpperCase() === realm.toUpperCase() ? `${upn.slice(0, at)}@${realm}` : upn;
}
