/**
 * RFC 4120 §5.5 Client/Server (CS) Message Specifications: AP-REQ
 * [APPLICATION 14], Authenticator [APPLICATION 2], AP-REP [APPLICATION 15]
 * and EncAPRepPart [APPLICATION 27].
 */

import { app, constant, ctx, int32, kerberosFlags, kerberosTime, opt, seq } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import {
  AuthorizationData, Checksum, EncryptedData, EncryptionKey, Microseconds, PrincipalName, Pvno, Realm, SeqNumber,
  msgType,
} from './basic.js';
import { ErrorCode, MessageType } from './registries.js';
import { Ticket } from './ticket.js';

export interface ApReq {
  pvno: 5;
  msgType: 14;
  /** APOptions mask (see `ApOptions`). */
  apOptions: number;
  ticket: Ticket;
  authenticator: EncryptedData;
}
export const ApReq: Codec<ApReq> = app(14, seq({
  pvno: ctx(0, Pvno),
  msgType: ctx(1, msgType(MessageType.KRB_AP_REQ)),
  apOptions: ctx(2, kerberosFlags),
  ticket: ctx(3, Ticket),
  authenticator: ctx(4, EncryptedData),
}), 'AP-REQ');

export interface Authenticator {
  authenticatorVno: 5;
  crealm: string;
  cname: PrincipalName;
  cksum?: Checksum;
  cusec: number;
  ctime: Date;
  subkey?: EncryptionKey;
  seqNumber?: number;
  authorizationData?: AuthorizationData;
}
export const Authenticator: Codec<Authenticator> = app(2, seq({
  authenticatorVno: ctx(0, constant(int32, 5, { krbCode: ErrorCode.KRB_AP_ERR_BADVERSION, what: 'authenticator-vno' })),
  crealm: ctx(1, Realm),
  cname: ctx(2, PrincipalName),
  cksum: opt(ctx(3, Checksum)),
  cusec: ctx(4, Microseconds),
  ctime: ctx(5, kerberosTime),
  subkey: opt(ctx(6, EncryptionKey)),
  seqNumber: opt(ctx(7, SeqNumber)),
  authorizationData: opt(ctx(8, AuthorizationData)),
}), 'Authenticator');

export interface ApRep {
  pvno: 5;
  msgType: 15;
  encPart: EncryptedData;
}
export const ApRep: Codec<ApRep> = app(15, seq({
  pvno: ctx(0, Pvno),
  msgType: ctx(1, msgType(MessageType.KRB_AP_REP)),
  encPart: ctx(2, EncryptedData),
}), 'AP-REP');

export interface EncApRepPart {
  ctime: Date;
  cusec: number;
  subkey?: EncryptionKey;
  seqNumber?: number;
}
export const EncApRepPart: Codec<EncApRepPart> = app(27, seq({
  ctime: ctx(0, kerberosTime),
  cusec: ctx(1, Microseconds),
  subkey: opt(ctx(2, EncryptionKey)),
  seqNumber: opt(ctx(3, SeqNumber)),
}), 'EncAPRepPart');
