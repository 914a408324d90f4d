/**
 * RFC 4120 §5.10 Application Tag Numbers: dispatch a received message on its
 * outer [APPLICATION n] tag.
 */

import { Asn1TagError, Asn1TruncatedError, TagClass } from '../asn1/index.js';
import type { Codec, DecodeOptions } from '../asn1/index.js';
import { ApRep, ApReq } from './ap.js';
import type { ApRep as ApRepT, ApReq as ApReqT } from './ap.js';
import { KrbCred } from './cred.js';
import type { KrbCred as KrbCredT } from './cred.js';
import { KrbError } from './error.js';
import type { KrbError as KrbErrorT } from './error.js';
import { AsRep, AsReq, TgsRep, TgsReq } from './kdc.js';
import type { AsRep as AsRepT, AsReq as AsReqT, TgsRep as TgsRepT, TgsReq as TgsReqT } from './kdc.js';
import { KrbPriv } from './priv.js';
import type { KrbPriv as KrbPrivT } from './priv.js';
import { KrbSafe } from './safe.js';
import type { KrbSafe as KrbSafeT } from './safe.js';

export type KerberosMessage =
  | { type: 'AS-REQ'; value: AsReqT }
  | { type: 'AS-REP'; value: AsRepT }
  | { type: 'TGS-REQ'; value: TgsReqT }
  | { type: 'TGS-REP'; value: TgsRepT }
  | { type: 'AP-REQ'; value: ApReqT }
  | { type: 'AP-REP'; value: ApRepT }
  | { type: 'KRB-SAFE'; value: KrbSafeT }
  | { type: 'KRB-PRIV'; value: KrbPrivT }
  | { type: 'KRB-CRED'; value: KrbCredT }
  | { type: 'KRB-ERROR'; value: KrbErrorT };

const BY_TAG: ReadonlyMap<number, Codec<any>> = new Map<number, Codec<any>>([
  [10, AsReq], [11, AsRep], [12, TgsReq], [13, TgsRep], [14, ApReq], [15, ApRep],
  [20, KrbSafe], [21, KrbPriv], [22, KrbCred], [30, KrbError],
]);

/** Decodes any top-level Kerberos message; error paths start with the message name ('AS-REQ.req-body…'). */
export function decodeMessage(bytes: Uint8Array, options?: DecodeOptions): KerberosMessage {
  const first = bytes[0];
  if (first === undefined) throw new Asn1TruncatedError('empty input is not a Kerberos message', { offset: 0, path: 'KerberosMessage' });
  const codec = (first >> 6) === TagClass.APPLICATION && (first & 0x20) !== 0 ? BY_TAG.get(first & 0x1f) : undefined;
  if (codec === undefined) {
    throw new Asn1TagError(
      `identifier octet 0x${first.toString(16).padStart(2, '0')} is not the [APPLICATION n] tag of a Kerberos message ` +
      '(AS-REQ 10, AS-REP 11, TGS-REQ 12, TGS-REP 13, AP-REQ 14, AP-REP 15, KRB-SAFE 20, KRB-PRIV 21, KRB-CRED 22, KRB-ERROR 30)',
      { offset: 0, path: 'KerberosMessage', hint: 'is this traffic Kerberos? over TCP, strip the 4-byte length first' },
    );
  }
  return { type: codec.name, value: codec.decode(bytes, options) } as KerberosMessage;
}
