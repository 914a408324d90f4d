/**
 * RFC 4120 §5.7 KRB_PRIV Message Specification: KRB-PRIV [APPLICATION 21]
 * (no [2] field) and EncKrbPrivPart [APPLICATION 28]. s-address is read as
 * OPTIONAL as in Heimdal's module; senders should set it.
 */

import { app, ctx, kerberosTime, octetString, opt, seq } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import { EncryptedData, HostAddress, Microseconds, Pvno, SeqNumber, msgType } from './basic.js';
import { MessageType } from './registries.js';

export interface KrbPriv {
  pvno: 5;
  msgType: 21;
  encPart: EncryptedData;
}
export const KrbPriv: Codec<KrbPriv> = app(21, seq({
  pvno: ctx(0, Pvno),
  msgType: ctx(1, msgType(MessageType.KRB_PRIV)),
  encPart: ctx(3, EncryptedData),
}), 'KRB-PRIV');

export interface EncKrbPrivPart {
  userData: Uint8Array;
  timestamp?: Date;
  usec?: number;
  seqNumber?: number;
  sAddress?: HostAddress;
  rAddress?: HostAddress;
}
export const EncKrbPrivPart: Codec<EncKrbPrivPart> = app(28, seq({
  userData: ctx(0, octetString),
  timestamp: opt(ctx(1, kerberosTime)),
  usec: opt(ctx(2, Microseconds)),
  seqNumber: opt(ctx(3, SeqNumber)),
  sAddress: opt(ctx(4, HostAddress)),
  rAddress: opt(ctx(5, HostAddress)),
}), 'EncKrbPrivPart');
