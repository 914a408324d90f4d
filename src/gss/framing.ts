/**
 * RFC 2743 §3.1 mechanism-independent token framing (InitialContextToken):
 *
 *   0x60 <DER length> 0x06 <OID length> <OID> <innerContextToken>
 *
 * and the krb5 mechanism's inner token (RFC 1964 §1.1, RFC 4121 §4.1): a
 * two-octet TOK_ID — 01 00 AP-REQ, 02 00 AP-REP, 03 00 KRB-ERROR — followed
 * by the DER message. Every krb5 context token is framed this way (MIT
 * frames the AP-REP and KRB-ERROR too).
 */

import { concatBytes } from '../core/bytes.js';
import {
  Asn1Error, DerReader, TagClass, UniversalTag, encodeTlv, objectIdentifier, tag,
} from '../asn1/index.js';
import { DefectiveTokenError, BadMechError } from './errors.js';
import { describeMech, isKerberosMech, MechOid } from './oids.js';

const APPLICATION_0 = tag(TagClass.APPLICATION, 0, true);

/** Wraps a mechanism's inner token in the RFC 2743 §3.1 header. */
export function encodeInitialContextToken(mechOid: string, inner: Uint8Array): Uint8Array {
  return encodeTlv(APPLICATION_0, concatBytes(objectIdentifier.encode(mechOid), inner));
}

export interface InitialContextToken {
  readonly mechOid: string;
  readonly inner: Uint8Array;
}

/** True when `token` starts like an RFC 2743 §3.1 token (0x60). */
export function looksFramed(token: Uint8Array): boolean {
  return token.length > 0 && token[0] === 0x60;
}

/** Parses the RFC 2743 §3.1 header; throws DefectiveTokenError when it is not one. */
export function decodeInitialContextToken(token: Uint8Array, what = 'GSS-API token'): InitialContextToken {
  if (!looksFramed(token)) {
    throw new DefectiveTokenError(`${what} does not start with the RFC 2743 token tag 0x60`, {
      detail: { firstOctet: token[0] ?? null, length: token.length },
    });
  }
  try {
    const reader = new DerReader(token, {}, what);
    const outer = reader.element(0, token.length, what);
    if (outer.end !== token.length) {
      throw new DefectiveTokenError(`${what} has ${token.length - outer.end} octet(s) after the length its header declares`);
    }
    const oidEl = reader.element(outer.contentStart, outer.end, `${what}.thisMech`);
    if (oidEl.cls !== TagClass.UNIVERSAL || oidEl.num !== UniversalTag.OBJECT_IDENTIFIER || oidEl.constructed) {
      throw new DefectiveTokenError(`${what} has no mechanism OID after its 0x60 header`);
    }
    const mechOid = objectIdentifier.decode(token.subarray(oidEl.start, oidEl.end));
    return { mechOid, inner: token.slice(oidEl.end, outer.end) };
  } catch (err) {
    if (err instanceof DefectiveTokenError) throw err;
    if (err instanceof Asn1Error) {
      throw new DefectiveTokenError(`${what} has a malformed RFC 2743 header: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** RFC 4121 §4.1 / RFC 1964 §1.1 context token identifiers. */
export const Krb5TokenId = Object.freeze({
  AP_REQ: 0x0100,
  AP_REP: 0x0200,
  KRB_ERROR: 0x0300,
} as const);
export type Krb5TokenId = (typeof Krb5TokenId)[keyof typeof Krb5TokenId];

const TOKEN_NAMES: Readonly<Record<number, string>> = Object.freeze({ 0x0100: 'AP-REQ', 0x0200: 'AP-REP', 0x0300: 'KRB-ERROR' });

/** A framed krb5 context token: header, TOK_ID, message. `mechOid` may be the Microsoft alias. */
export function encodeKrb5Token(tokenId: Krb5TokenId, message: Uint8Array, mechOid: string = MechOid.KRB5): Uint8Array {
  return encodeInitialContextToken(mechOid, concatBytes(Uint8Array.of(tokenId >> 8, tokenId & 0xff), message));
}

export interface Krb5Token {
  readonly mechOid: string;
  readonly tokenId: number;
  readonly message: Uint8Array;
}

/** Unframes a krb5 context token; the OID must be a Kerberos one and TOK_ID one of 01 00, 02 00, 03 00. */
export function decodeKrb5Token(token: Uint8Array): Krb5Token {
  const { mechOid, inner } = decodeInitialContextToken(token, 'Kerberos GSS-API token');
  if (!isKerberosMech(mechOid)) {
    throw new BadMechError(`the token is for ${describeMech(mechOid)}, not Kerberos V5`, { detail: { mechOid } });
  }
  if (inner.length < 2) throw new DefectiveTokenError('Kerberos GSS-API token ends before its two-octet TOK_ID');
  const tokenId = (inner[0]! << 8) | inner[1]!;
  if (TOKEN_NAMES[tokenId] === undefined) {
    throw new DefectiveTokenError(`Kerberos GSS-API token has TOK_ID ${tokenId.toString(16).padStart(4, '0')}, not a context token (0100, 0200, 0300)`, {
      detail: { tokenId },
    });
  }
  return { mechOid, tokenId, message: inner.subarray(2) };
}

/** 'AP-REQ' for 0x0100 … */
export function krb5TokenName(tokenId: number): string {
  return TOKEN_NAMES[tokenId] ?? `TOK_ID ${tokenId.toString(16).padStart(4, '0')}`;
}
