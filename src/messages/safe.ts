/**
 * RFC 4120 §5.6 KRB_SAFE Message Specification: KRB-SAFE [APPLICATION 20]
 * and KRB-SAFE-BODY. s-address is read as OPTIONAL (Heimdal's module makes
 * it so, and some senders omit it); the RFC makes it mandatory, so senders
 * should set it.
 */

import { app, ctx, kerberosTime, octetString, opt, seq } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import { Checksum, HostAddress, Microseconds, Pvno, SeqNumber, msgType } from './basic.js';
import { MessageType } from './registries.js';

export interface KrbSafeBody {
  userData: Uint8Array;
  timestamp?: Date;
  usec?: number;
  seqNumber?: number;
  sAddress?: HostAddress;
  rAddress?: HostAddress;
}
export const KrbSafeBody: Codec<KrbSafeBody> = seq({
  userData: ctx(0, octetString),
  timestamp: opt(ctx(1, kerberosTime)),
  usec: opt(ctx(2, Microseconds)),
  seqNumber: opt(ctx(3, SeqNumber)),
  sAddress: opt(ctx(4, HostAddress)),
  rAddress: opt(ctx(5, HostAddress)),
}, 'KRB-SAFE-BODY');

export interface KrbSafe {
  pvno: 5;
  msgType: 20;
  safeBody: KrbSafeBody;
  cksum: Checksum;
}
export const KrbSafe: Codec<KrbSafe> = app(20, seq({
  pvno: ctx(0, Pvno),
  msgType: ctx(1, msgType(MessageType.KRB_SAFE)),
  safeBody: ctx(2, KrbSafeBody),
  cksum: ctx(3, Checksum),
}), 'KRB-SAFE');
