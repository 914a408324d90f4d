/**
 * RFC 4120 §5.4 Specifications for the AS and TGS Exchanges: KDC-REQ
 * (AS-REQ [APPLICATION 10], TGS-REQ [APPLICATION 12]) with KDC-REQ-BODY,
 * KDC-REP (AS-REP [APPLICATION 11], TGS-REP [APPLICATION 13]) and
 * EncKDCRepPart (EncASRepPart [APPLICATION 25], EncTGSRepPart [APPLICATION 26];
 * encrypted-pa-data [12] from RFC 6806 §11).
 */

import {
  acceptAlso, app, ctx, int32, kerberosFlags, kerberosTime, map, opt, seq, seqOf, withRaw,
} from '../asn1/index.js';
import type { Codec, Infer } from '../asn1/index.js';
import {
  EncryptedData, EncryptionKey, HostAddresses, LastReq, MethodData, Nonce, PrincipalName,
  Pvno, Realm, msgType,
} from './basic.js';
import type { HostAddress, PaData } from './basic.js';
import { MessageType } from './registries.js';
import { Ticket } from './ticket.js';

// ---------------------------------------------------------------- §5.4.1 KDC-REQ

export interface KdcReqBody {
  /** KDCOptions mask (see `KdcOptions`). */
  kdcOptions: number;
  /** Used only in AS-REQ. */
  cname?: PrincipalName;
  /** Server's realm (also the client's in an AS-REQ). */
  realm: string;
  sname?: PrincipalName;
  from?: Date;
  till: Date;
  rtime?: Date;
  /** Kept exactly as the peer encoded it (signed or unsigned). */
  nonce: number;
  /** Enctypes in order of preference. */
  etype: number[];
  addresses?: HostAddress[];
  encAuthorizationData?: EncryptedData;
  additionalTickets?: Ticket[];
}
export const KdcReqBody: Codec<KdcReqBody> = seq({
  kdcOptions: ctx(0, kerberosFlags),
  cname: opt(ctx(1, PrincipalName)),
  realm: ctx(2, Realm),
  sname: opt(ctx(3, PrincipalName)),
  from: opt(ctx(4, kerberosTime)),
  till: ctx(5, kerberosTime),
  rtime: opt(ctx(6, kerberosTime)),
  nonce: ctx(7, Nonce),
  etype: ctx(8, seqOf(int32)),
  addresses: opt(ctx(9, HostAddresses)),
  encAuthorizationData: opt(ctx(10, EncryptedData)),
  additionalTickets: opt(ctx(11, seqOf(Ticket))),
}, 'KDC-REQ-BODY');

export interface KdcReq<M extends 10 | 12 = 10 | 12> {
  pvno: 5;
  msgType: M;
  padata?: PaData[];
  reqBody: KdcReqBody;
  /**
   * Set by `decode`: the exact bytes of KDC-REQ-BODY as received, which the
   * PA-TGS-REQ authenticator checksum and FAST checksums cover. Ignored by
   * `encode` (which writes `reqBody`; DER makes both identical for bodies
   * this layer produced).
   */
  readonly rawReqBody?: Uint8Array;
}
export type AsReq = KdcReq<10>;
export type TgsReq = KdcReq<12>;

function kdcReq<const M extends 10 | 12>(tagNumber: M, name: string): Codec<KdcReq<M>> {
  const inner = app(tagNumber, seq({
    // First tag is [1], not [0].
    pvno: ctx(1, Pvno),
    msgType: ctx(2, msgType(tagNumber)),
    padata: opt(ctx(3, MethodData)),
    reqBody: ctx(4, withRaw(KdcReqBody)),
  }), name);
  return map<Infer<typeof inner>, KdcReq<M>>(inner, {
    decode: ({ reqBody, ...rest }) => ({ ...rest, reqBody: reqBody.value, rawReqBody: reqBody.raw }),
    encode: ({ rawReqBody: _ignored, reqBody, ...rest }) => ({ ...rest, reqBody: { value: reqBody, raw: EMPTY } }),
  });
}
const EMPTY = new Uint8Array(0);

export const AsReq: Codec<AsReq> = kdcReq(MessageType.KRB_AS_REQ, 'AS-REQ');
export const TgsReq: Codec<TgsReq> = kdcReq(MessageType.KRB_TGS_REQ, 'TGS-REQ');

// ---------------------------------------------------------------- §5.4.2 KDC-REP

export interface KdcRep<M extends 11 | 13 = 11 | 13> {
  pvno: 5;
  msgType: M;
  padata?: PaData[];
  crealm: string;
  cname: PrincipalName;
  ticket: Ticket;
  encPart: EncryptedData;
}
export type AsRep = KdcRep<11>;
export type TgsRep = KdcRep<13>;

function kdcRep<const M extends 11 | 13>(tagNumber: M, name: string): Codec<KdcRep<M>> {
  return app(tagNumber, seq({
    pvno: ctx(0, Pvno),
    msgType: ctx(1, msgType(tagNumber)),
    padata: opt(ctx(2, MethodData)),
    crealm: ctx(3, Realm),
    cname: ctx(4, PrincipalName),
    ticket: ctx(5, Ticket),
    encPart: ctx(6, EncryptedData),
  }), name);
}

export const AsRep: Codec<AsRep> = kdcRep(MessageType.KRB_AS_REP, 'AS-REP');
export const TgsRep: Codec<TgsRep> = kdcRep(MessageType.KRB_TGS_REP, 'TGS-REP');

export interface EncKdcRepPart {
  key: EncryptionKey;
  lastReq: LastReq;
  nonce: number;
  keyExpiration?: Date;
  /** TicketFlags mask. */
  flags: number;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
  srealm: string;
  sname: PrincipalName;
  caddr?: HostAddress[];
  /** RFC 6806 §11. */
  encryptedPaData?: PaData[];
}
export type EncAsRepPart = EncKdcRepPart;
export type EncTgsRepPart = EncKdcRepPart;

export const EncKdcRepPart: Codec<EncKdcRepPart> = seq({
  key: ctx(0, EncryptionKey),
  lastReq: ctx(1, LastReq),
  nonce: ctx(2, Nonce),
  keyExpiration: opt(ctx(3, kerberosTime)),
  flags: ctx(4, kerberosFlags),
  authtime: ctx(5, kerberosTime),
  starttime: opt(ctx(6, kerberosTime)),
  endtime: ctx(7, kerberosTime),
  renewTill: opt(ctx(8, kerberosTime)),
  srealm: ctx(9, Realm),
  sname: ctx(10, PrincipalName),
  caddr: opt(ctx(11, HostAddresses)),
  encryptedPaData: opt(ctx(12, MethodData)),
}, 'EncKDCRepPart');

const asTagged = app(25, EncKdcRepPart, 'EncASRepPart');
const tgsTagged = app(26, EncKdcRepPart, 'EncTGSRepPart');
/** Encodes [APPLICATION 25]; decodes 25 or 26 (implementations mix them up; MIT accepts both). */
export const EncAsRepPart: Codec<EncAsRepPart> = acceptAlso(asTagged, tgsTagged);
/** Encodes [APPLICATION 26]; decodes 26 or 25. */
export const EncTgsRepPart: Codec<EncTgsRepPart> = acceptAlso(tgsTagged, asTagged);
