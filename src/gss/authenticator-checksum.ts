/**
 * RFC 4121 §4.1.1 authenticator checksum, cksumtype 0x8003 (GSS_KRB5_CHECKSUM):
 *
 *   0..3    Lgth    16, little-endian
 *   4..19   Bnd     MD5 of the channel bindings, or 16 zero octets
 *   20..23  Flags   context flags, little-endian (RFC 2744 values)
 *   24..25  DlgOpt  1, little-endian          } only with GSS_C_DELEG_FLAG
 *   26..27  Dlgth   length of Deleg            }
 *   28..    Deleg   KRB-CRED                   }
 *   ..      Exts    extensions (ignored)
 *
 * MIT's acceptor also takes a big-endian Lgth (it flips its reading of the
 * other integers to match); so do we. Extensions past the defined fields
 * are ignored as §4.1.1 requires of acceptors that do not know them.
 */

import { concatBytes } from '../core/bytes.js';
import { DefectiveTokenError } from './errors.js';
import { GssFlags } from './oids.js';

/** The checksum type of the GSS-API authenticator checksum. */
export const GSS_CHECKSUM_TYPE = 0x8003;
/** DlgOpt value for a KRB-CRED in the Deleg field. */
export const KRB5_GSS_FOR_CREDS_OPTION = 1;

export interface GssChecksum {
  /** The 16-octet Bnd field. */
  readonly bnd: Uint8Array;
  readonly flags: number;
  /** The KRB-CRED (DER) when DlgOpt 1 is present. */
  readonly delegation?: Uint8Array;
}

export function encodeGssChecksum(value: GssChecksum): Uint8Array {
  if (value.bnd.length !== 16) throw new RangeError('Bnd must be 16 octets');
  const head = new Uint8Array(24);
  const view = new DataView(head.buffer);
  view.setUint32(0, 16, true);
  head.set(value.bnd, 4);
  const flags = value.delegation === undefined ? value.flags & ~GssFlags.DELEG : value.flags | GssFlags.DELEG;
  view.setUint32(20, flags >>> 0, true);
  if (value.delegation === undefined) return head;
  if (value.delegation.length > 0xffff) throw new RangeError('a KRB-CRED in the Deleg field is limited to 65535 octets');
  const opt = new Uint8Array(4);
  new DataView(opt.buffer).setUint16(0, KRB5_GSS_FOR_CREDS_OPTION, true);
  new DataView(opt.buffer).setUint16(2, value.delegation.length, true);
  return concatBytes(head, opt, value.delegation);
}

export function decodeGssChecksum(bytes: Uint8Array): GssChecksum {
  if (bytes.length < 24) {
    throw new DefectiveTokenError(`the GSS-API authenticator checksum has ${bytes.length} octets; at least 24 are required (RFC 4121 §4.1.1)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little = true;
  if (view.getUint32(0, true) !== 16) {
    if (view.getUint32(0, false) !== 16) {
      throw new DefectiveTokenError('the GSS-API authenticator checksum does not start with Lgth 16 (RFC 4121 §4.1.1)');
    }
    little = false;
  }
  const bnd = bytes.slice(4, 20);
  const flags = view.getUint32(20, little);
  if ((flags & GssFlags.DELEG) === 0 || bytes.length < 28) return { bnd, flags };
  const dlgOpt = view.getUint16(24, little);
  const dlgth = view.getUint16(26, little);
  if (dlgOpt !== KRB5_GSS_FOR_CREDS_OPTION) {
    throw new DefectiveTokenError(`the GSS-API authenticator checksum has delegation option ${dlgOpt}, not 1 (KRB-CRED)`);
  }
  if (28 + dlgth > bytes.length) {
    throw new DefectiveTokenError(`the GSS-API authenticator checksum declares a ${dlgth}-octet KRB-CRED but has only ${bytes.length - 28} octets left`);
  }
  return { bnd, flags, delegation: bytes.slice(28, 28 + dlgth) };
}
