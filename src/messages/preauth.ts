/**
 * Pre-authentication data values: RFC 4120 §5.2.7.2 PA-ENC-TS-ENC,
 * §5.2.7.4 ETYPE-INFO, §5.2.7.5 ETYPE-INFO2, and MS-KILE §2.2.3
 * KERB-PA-PAC-REQUEST (padata-type 128).
 */

import { boolean, ctx, int32, kerberosString, kerberosTime, octetString, opt, seq, seqOf } from '../asn1/index.js';
import type { Codec } from '../asn1/index.js';
import { Microseconds } from './basic.js';

export interface PaEncTsEnc {
  patimestamp: Date;
  pausec?: number;
}
export const PaEncTsEnc: Codec<PaEncTsEnc> = seq({
  patimestamp: ctx(0, kerberosTime),
  pausec: opt(ctx(1, Microseconds)),
}, 'PA-ENC-TS-ENC');

export interface EtypeInfoEntry {
  etype: number;
  /** An OCTET STRING in ETYPE-INFO (usually the UTF-8 salt). */
  salt?: Uint8Array;
}
export const EtypeInfoEntry: Codec<EtypeInfoEntry> = seq({
  etype: ctx(0, int32),
  salt: opt(ctx(1, octetString)),
}, 'ETYPE-INFO-ENTRY');

export type EtypeInfo = EtypeInfoEntry[];
export const EtypeInfo: Codec<EtypeInfo> = seqOf(EtypeInfoEntry, 'ETYPE-INFO');

export interface EtypeInfo2Entry {
  etype: number;
  salt?: string;
  s2kparams?: Uint8Array;
}
export const EtypeInfo2Entry: Codec<EtypeInfo2Entry> = seq({
  etype: ctx(0, int32),
  salt: opt(ctx(1, kerberosString)),
  s2kparams: opt(ctx(2, octetString)),
}, 'ETYPE-INFO2-ENTRY');

export type EtypeInfo2 = EtypeInfo2Entry[];
export const EtypeInfo2: Codec<EtypeInfo2> = seqOf(EtypeInfo2Entry, 'ETYPE-INFO2');

export interface KerbPaPacRequest {
  includePac: boolean;
}
export const KerbPaPacRequest: Codec<KerbPaPacRequest> = seq({
  includePac: ctx(0, boolean),
}, 'KERB-PA-PAC-REQUEST');
