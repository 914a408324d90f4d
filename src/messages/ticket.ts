/**
 * RFC 4120 §5.3 Tickets: Ticket [APPLICATION 1] and EncTicketPart [APPLICATION 3].
 */

import { app, ctx, int32, kerberosFlags, kerberosTime, constant, opt, seq } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import type { HostAddress } from './basic.js';
import {
  AuthorizationData, EncryptedData, EncryptionKey, HostAddresses, PrincipalName, Realm, TransitedEncoding,
} from './basic.js';
import { ErrorCode } from './registries.js';

export interface Ticket {
  tktVno: 5;
  realm: string;
  sname: PrincipalName;
  encPart: EncryptedData;
}
export const Ticket: Codec<Ticket> = app(1, seq({
  tktVno: ctx(0, constant(int32, 5, { krbCode: ErrorCode.KRB_AP_ERR_BADVERSION, what: 'tkt-vno' })),
  realm: ctx(1, Realm),
  sname: ctx(2, PrincipalName),
  encPart: ctx(3, EncryptedData),
}), 'Ticket');

export interface EncTicketPart {
  /** TicketFlags mask (see `TicketFlags`). */
  flags: number;
  key: EncryptionKey;
  crealm: string;
  cname: PrincipalName;
  transited: TransitedEncoding;
  authtime: Date;
  starttime?: Date;
  endtime: Date;
  renewTill?: Date;
  caddr?: HostAddress[];
  authorizationData?: AuthorizationData;
}
export const EncTicketPart: Codec<EncTicketPart> = app(3, seq({
  flags: ctx(0, kerberosFlags),
  key: ctx(1, EncryptionKey),
  crealm: ctx(2, Realm),
  cname: ctx(3, PrincipalName),
  transited: ctx(4, TransitedEncoding),
  authtime: ctx(5, kerberosTime),
  starttime: opt(ctx(6, kerberosTime)),
  endtime: ctx(7, kerberosTime),
  renewTill: opt(ctx(8, kerberosTime)),
  caddr: opt(ctx(9, HostAddresses)),
  authorizationData: opt(ctx(10, AuthorizationData)),
}), 'EncTicketPart');
