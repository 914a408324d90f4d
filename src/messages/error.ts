/**
 * RFC 4120 §5.9.1 KRB_ERROR Definition: KRB-ERROR [APPLICATION 30]. The
 * e-data is usually METHOD-DATA (KDC_ERR_PREAUTH_REQUIRED) or TYPED-DATA;
 * decode it with those codecs.
 */

import { app, ctx, int32, kerberosString, kerberosTime, octetString, opt, seq } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import { Microseconds, PrincipalName, Pvno, Realm, msgType } from './basic.js';
import { MessageType } from './registries.js';

export interface KrbError {
  pvno: 5;
  msgType: 30;
  ctime?: Date;
  cusec?: number;
  stime: Date;
  susec: number;
  /** See `ErrorCode` / `errorCodeName`. */
  errorCode: number;
  crealm?: string;
  cname?: PrincipalName;
  realm: string;
  sname: PrincipalName;
  eText?: string;
  eData?: Uint8Array;
}
export const KrbError: Codec<KrbError> = app(30, seq({
  pvno: ctx(0, Pvno),
  msgType: ctx(1, msgType(MessageType.KRB_ERROR)),
  ctime: opt(ctx(2, kerberosTime)),
  cusec: opt(ctx(3, Microseconds)),
  stime: ctx(4, kerberosTime),
  susec: ctx(5, Microseconds),
  errorCode: ctx(6, int32),
  crealm: opt(ctx(7, Realm)),
  cname: opt(ctx(8, PrincipalName)),
  realm: ctx(9, Realm),
  sname: ctx(10, PrincipalName),
  eText: opt(ctx(11, kerberosString)),
  eData: opt(ctx(12, octetString)),
}), 'KRB-ERROR');
