/**
 * RFC 4120 §5.8 KRB_CRED Message Specification: KRB-CRED [APPLICATION 22],
 * EncKrbCredPart [APPLICATION 29] and KrbCredInfo (forwarded tickets, as in
 * GSS delegation).
 */

import { app, ctx, kerberosFlags, kerberosTime, opt, seq, seqOf } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import {
  EncryptedData, EncryptionKey, HostAddress, HostAddresses, Microseconds, Nonce, PrincipalName, Pvno, Realm, msgType,
} from './basic.js';
import { MessageType } from './registries.js';
import { Ticket } from './ticket.js';

export interface KrbCred {
  pvno: 5;
  msgType: 22;
  tickets: Ticket[];
  encPart: EncryptedData;
}
export const KrbCred: Codec<KrbCred> = app(22, seq({
  pvno: ctx(0, Pvno),
  msgType: ctx(1, msgType(MessageType.KRB_CRED)),
  tickets: ctx(2, seqOf(Ticket)),
  encPart: ctx(3, EncryptedData),
}), 'KRB-CRED');

export interface KrbCredInfo {
  key: EncryptionKey;
  prealm?: string;
  pname?: PrincipalName;
  /** TicketFlags mask. */
  flags?: number;
  authtime?: Date;
  starttime?: Date;
  endtime?: Date;
  renewTill?: Date;
  srealm?: string;
  sname?: PrincipalName;
  caddr?: HostAddress[];
}
export const KrbCredInfo: Codec<KrbCredInfo> = seq({
  key: ctx(0, EncryptionKey),
  prealm: opt(ctx(1, Realm)),
  pname: opt(ctx(2, PrincipalName)),
  flags: opt(ctx(3, kerberosFlags)),
  authtime: opt(ctx(4, kerberosTime)),
  starttime: opt(ctx(5, kerberosTime)),
  endtime: opt(ctx(6, kerberosTime)),
  renewTill: opt(ctx(7, kerberosTime)),
  srealm: opt(ctx(8, Realm)),
  sname: opt(ctx(9, PrincipalName)),
  caddr: opt(ctx(10, HostAddresses)),
}, 'KrbCredInfo');

export interface EncKrbCredPart {
  ticketInfo: KrbCredInfo[];
  nonce?: number;
  timestamp?: Date;
  usec?: number;
  sAddress?: HostAddress;
  rAddress?: HostAddress;
}
export const EncKrbCredPart: Codec<EncKrbCredPart> = app(29, seq({
  ticketInfo: ctx(0, seqOf(KrbCredInfo)),
  nonce: opt(ctx(1, Nonce)),
  timestamp: opt(ctx(2, kerberosTime)),
  usec: opt(ctx(3, Microseconds)),
  sAddress: opt(ctx(4, HostAddress)),
  rAddress: opt(ctx(5, HostAddress)),
}), 'EncKrbCredPart');
