/**
 * RFC 4120 §5.2 Basic Definitions: principal names, times, host addresses,
 * authorization data, pre-authentication data, keys, encrypted data and
 * checksums, plus TYPED-DATA (§5.9.1) and AD-IF-RELEVANT (§5.2.6.1).
 *
 * Integer conventions (following what MIT and Windows put on the wire):
 * - kvno is written as a signed 32-bit INTEGER (Windows RODC kvnos have the
 *   high bit set) and read from either a signed or unsigned encoding, as an
 *   unsigned number;
 * - nonces are read in -2^31..2^32-1 and written back exactly as read, so a
 *   KDC echoes a peer's nonce byte for byte;
 * - seq-number is written unsigned and read from either form as unsigned.
 */

import {
  ctx, integer, int32, kerberosString, kerberosTime, map, named, octetString, opt, seq, seqOf, constant,
} from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import { ErrorCode, PVNO } from './registries.js';

// ---------------------------------------------------------------- integers

/** UInt32 read leniently: negative 32-bit encodings are mapped to their unsigned value. */
function unsignedFromEither(name: string, writeSigned: boolean): Codec<number> {
  return map(integer({ min: -0x80000000, max: 0xffffffff }, name), {
    decode: (v) => v >>> 0,
    encode: (v) => (writeSigned ? v | 0 : v >>> 0),
  }, name);
}

/** Key version number: written signed like MIT and Windows, read from either form, unsigned in JS. */
export const Kvno: Codec<number> = unsignedFromEither('UInt32', true);
/** seq-number: written unsigned, read from either form (old peers send negatives). */
export const SeqNumber: Codec<number> = unsignedFromEither('UInt32', false);
/** nonce: UInt32 in the RFC, Int32 in MIT and Java; kept exactly as encoded. */
export const Nonce: Codec<number> = integer({ min: -0x80000000, max: 0xffffffff }, 'UInt32');
/** RFC 4120 §5.2.4 Microseconds ::= INTEGER (0..999999). */
export const Microseconds: Codec<number> = integer({ min: 0, max: 999999 }, 'Microseconds');

/** pvno [n] INTEGER (5); anything else is KDC_ERR_BAD_PVNO. */
export const Pvno: Codec<5> = constant(int32, PVNO as 5, { krbCode: ErrorCode.KDC_ERR_BAD_PVNO, what: 'pvno' });

/** msg-type fixed to one value; anything else is KRB_AP_ERR_MSG_TYPE. */
export function msgType<const M extends number>(value: M): Codec<M> {
  return constant(int32, value, { krbCode: ErrorCode.KRB_AP_ERR_MSG_TYPE, what: 'msg-type' });
}

export const Realm: Codec<string> = named('Realm', kerberosString);
export const KerberosTime: Codec<Date> = kerberosTime;

// ---------------------------------------------------------------- §5.2.2 PrincipalName

export interface PrincipalName {
  nameType: number;
  nameString: string[];
}
export const PrincipalName: Codec<PrincipalName> = seq({
  nameType: ctx(0, int32),
  nameString: ctx(1, seqOf(kerberosString)),
}, 'PrincipalName');

// ---------------------------------------------------------------- §5.2.5 HostAddress

export interface HostAddress {
  addrType: number;
  address: Uint8Array;
}
export const HostAddress: Codec<HostAddress> = seq({
  addrType: ctx(0, int32),
  address: ctx(1, octetString),
}, 'HostAddress');

export type HostAddresses = HostAddress[];
export const HostAddresses: Codec<HostAddresses> = seqOf(HostAddress, 'HostAddresses');

// ---------------------------------------------------------------- §5.2.6 AuthorizationData

export interface AuthorizationDataEntry {
  adType: number;
  adData: Uint8Array;
}
export const AuthorizationDataEntry: Codec<AuthorizationDataEntry> = seq({
  adType: ctx(0, int32),
  adData: ctx(1, octetString),
}, 'AuthorizationData-entry');

export type AuthorizationData = AuthorizationDataEntry[];
export const AuthorizationData: Codec<AuthorizationData> = seqOf(AuthorizationDataEntry, 'AuthorizationData');

/** §5.2.6.1 AD-IF-RELEVANT ::= AuthorizationData (the ad-data of ad-type 1). */
export type AdIfRelevant = AuthorizationData;
export const AdIfRelevant: Codec<AdIfRelevant> = seqOf(AuthorizationDataEntry, 'AD-IF-RELEVANT');

/** §5.2.6.3 AD-AND-OR (the ad-data of ad-type 5): elements of which condition-count must be satisfied. */
export interface AdAndOr {
  conditionCount: number;
  elements: AuthorizationData;
}
export const AdAndOr: Codec<AdAndOr> = seq({
  conditionCount: ctx(0, int32),
  elements: ctx(1, AuthorizationData),
}, 'AD-AND-OR');

// ---------------------------------------------------------------- §5.2.7 PA-DATA

export interface PaData {
  padataType: number;
  padataValue: Uint8Array;
}
/** Note the first tag is [1], not [0]. */
export const PaData: Codec<PaData> = seq({
  padataType: ctx(1, int32),
  padataValue: ctx(2, octetString),
}, 'PA-DATA');

export type MethodData = PaData[];
export const MethodData: Codec<MethodData> = seqOf(PaData, 'METHOD-DATA');

// ---------------------------------------------------------------- §5.9.1 TYPED-DATA

export interface TypedDataEntry {
  dataType: number;
  dataValue?: Uint8Array;
}
export const TypedDataEntry: Codec<TypedDataEntry> = seq({
  dataType: ctx(0, int32),
  dataValue: opt(ctx(1, octetString)),
}, 'TYPED-DATA-entry');

export type TypedData = TypedDataEntry[];
export const TypedData: Codec<TypedData> = seqOf(TypedDataEntry, 'TYPED-DATA');

// ---------------------------------------------------------------- §5.2.9 Cryptosystem-related types

export interface EncryptedData {
  etype: number;
  kvno?: number;
  cipher: Uint8Array;
}
export const EncryptedData: Codec<EncryptedData> = seq({
  etype: ctx(0, int32),
  kvno: opt(ctx(1, Kvno)),
  cipher: ctx(2, octetString),
}, 'EncryptedData');

export interface EncryptionKey {
  keytype: number;
  keyvalue: Uint8Array;
}
export const EncryptionKey: Codec<EncryptionKey> = seq({
  keytype: ctx(0, int32),
  keyvalue: ctx(1, octetString),
}, 'EncryptionKey');

export interface Checksum {
  cksumtype: number;
  checksum: Uint8Array;
}
export const Checksum: Codec<Checksum> = seq({
  cksumtype: ctx(0, int32),
  checksum: ctx(1, octetString),
}, 'Checksum');

// ---------------------------------------------------------------- §5.3 TransitedEncoding, §5.4.2 LastReq

export interface TransitedEncoding {
  trType: number;
  contents: Uint8Array;
}
export const TransitedEncoding: Codec<TransitedEncoding> = seq({
  trType: ctx(0, int32),
  contents: ctx(1, octetString),
}, 'TransitedEncoding');

export interface LastReqEntry {
  lrType: number;
  lrValue: Date;
}
export const LastReqEntry: Codec<LastReqEntry> = seq({
  lrType: ctx(0, int32),
  lrValue: ctx(1, kerberosTime),
}, 'LastReq-entry');

export type LastReq = LastReqEntry[];
export const LastReq: Codec<LastReq> = seqOf(LastReqEntry, 'LastReq');
