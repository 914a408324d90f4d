/**
 * RFC 4121 §4.2 per-message tokens (the "CFX" format), bytes in and out:
 *
 *   MIC  (§4.2.6.1): 04 04 | Flags | FF FF FF FF FF | SND_SEQ(8) | SGN_CKSUM
 *   Wrap (§4.2.6.2): 05 04 | Flags | FF | EC(2) | RRC(2) | SND_SEQ(8) | Data
 *
 * Flags (§4.2.2): 0x01 SentByAcceptor, 0x02 Sealed, 0x04 AcceptorSubkey.
 * Key usages (§2): MIC uses KG-USAGE-{INITIATOR,ACCEPTOR}-SIGN (25/23), Wrap
 * — with or without confidentiality — KG-USAGE-{INITIATOR,ACCEPTOR}-SEAL
 * (24/22), as MIT's k5sealv3.c does. The checksum is the enctype's own
 * keyed checksum (RFC 3961 required checksum mechanism).
 *
 * Confidential Wrap encrypts message | EC filler octets | header (with RRC
 * 0); integrity-only Wrap appends a checksum over message | header (with EC
 * and RRC 0) and puts the checksum length in EC. The data after the header
 * is rotated right by RRC octets; we send RRC 0 (as MIT does) and undo any
 * rotation on input (Windows sends RRC 28).
 */

import { concatBytes, constantTimeEqual } from '../core/bytes.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import {
  decrypt, defaultChecksumType, encrypt, Enctype, getChecksumType, IntegrityError, KeyUsage, makeChecksum,
  verifyChecksum, type Key,
} from '../crypto/index.js';
import { BadMicError, DefectiveTokenError, GssUnavailableError } from './errors.js';

export const CfxTokenId = Object.freeze({ MIC: 0x0404, WRAP: 0x0504 } as const);
export const CfxFlags = Object.freeze({ SENT_BY_ACCEPTOR: 0x01, SEALED: 0x02, ACCEPTOR_SUBKEY: 0x04 } as const);

/** What a sender needs: the key in use, its role, and the next sequence number. */
export interface CfxSender {
  readonly key: Key;
  readonly sentByAcceptor: boolean;
  /** The key is the acceptor's subkey (sets the AcceptorSubkey flag). */
  readonly acceptorSubkey: boolean;
  readonly random?: RandomSource;
}

/** What a receiver needs: the initiator subkey (or session key) and the acceptor subkey if one was agreed. */
export interface CfxReceiver {
  readonly key: Key;
  readonly acceptorSubkey?: Key;
  /** True when we are the initiator, i.e. tokens must carry SentByAcceptor. */
  readonly expectSentByAcceptor: boolean;
}

function requireCfxKey(key: Key): void {
  if (key.enctype === Enctype.RC4_HMAC) {
    throw new GssUnavailableError('per-message tokens with an rc4-hmac session key (RFC 4757 format) are not implemented', {
      hint: 'use AES enctypes for the service principal and the session key',
      detail: { enctype: key.enctype },
    });
  }
}

function header(tokenId: number, flags: number, ec: number, rrc: number, seq: bigint): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint16(0, tokenId);
  h[2] = flags;
  h[3] = 0xff;
  if (tokenId === CfxTokenId.MIC) {
    v.setUint32(4, 0xffffffff);
  } else {
    v.setUint16(4, ec);
    v.setUint16(6, rrc);
  }
  v.setBigUint64(8, seq);
  return h;
}

function senderFlags(s: CfxSender, sealed: boolean): number {
  return (s.sentByAcceptor ? CfxFlags.SENT_BY_ACCEPTOR : 0)
    | (sealed ? CfxFlags.SEALED : 0)
    | (s.acceptorSubkey ? CfxFlags.ACCEPTOR_SUBKEY : 0);
}

function signUsage(sentByAcceptor: boolean): number {
  return sentByAcceptor ? KeyUsage.KG_USAGE_ACCEPTOR_SIGN : KeyUsage.KG_USAGE_INITIATOR_SIGN;
}

function sealUsage(sentByAcceptor: boolean): number {
  return sentByAcceptor ? KeyUsage.KG_USAGE_ACCEPTOR_SEAL : KeyUsage.KG_USAGE_INITIATOR_SEAL;
}

function rotateRight(data: Uint8Array, count: number): Uint8Array {
  if (data.length === 0) return data;
  const r = count % data.length;
  return r === 0 ? data : concatBytes(data.subarray(data.length - r), data.subarray(0, data.length - r));
}

function rotateLeft(data: Uint8Array, count: number): Uint8Array {
  if (data.length === 0) return data;
  const r = count % data.length;
  return r === 0 ? data : concatBytes(data.subarray(r), data.subarray(0, r));
}

/** A MIC token for `message` with sequence number `seq`. */
export function makeMicToken(s: CfxSender, seq: bigint, message: Uint8Array): Uint8Array {
  requireCfxKey(s.key);
  const h = header(CfxTokenId.MIC, senderFlags(s, false), 0, 0, seq);
  const cksum = makeChecksum(defaultChecksumType(s.key.enctype), s.key, signUsage(s.sentByAcceptor), concatBytes(message, h));
  return concatBytes(h, cksum);
}

export interface WrapOptions {
  /** Encrypt (default true). */
  readonly conf?: boolean;
  /** Filler octets before the encrypted header copy (confidential tokens only; default 0). */
  readonly ec?: number;
  /** Right rotation count to apply (default 0, as MIT sends). */
  readonly rrc?: number;
}

/** A Wrap token carrying `message`, encrypted unless `conf` is false. */
export function makeWrapToken(s: CfxSender, seq: bigint, message: Uint8Array, options: WrapOptions = {}): Uint8Array {
  requireCfxKey(s.key);
  const conf = options.conf ?? true;
  const rrc = options.rrc ?? 0;
  const usage = sealUsage(s.sentByAcceptor);
  if (conf) {
    const ec = options.ec ?? 0;
    const inner = header(CfxTokenId.WRAP, senderFlags(s, true), ec, 0, seq);
    const plaintext = concatBytes(message, new Uint8Array(ec), inner);
    const ciphertext = encrypt(s.key, usage, plaintext, s.random ?? systemRandom());
    return concatBytes(header(CfxTokenId.WRAP, senderFlags(s, true), ec, rrc, seq), rotateRight(ciphertext, rrc));
  }
  const cksumtype = defaultChecksumType(s.key.enctype);
  const cksum = makeChecksum(cksumtype, s.key, usage, concatBytes(message, header(CfxTokenId.WRAP, senderFlags(s, false), 0, 0, seq)));
  return concatBytes(header(CfxTokenId.WRAP, senderFlags(s, false), cksum.length, rrc, seq), rotateRight(concatBytes(message, cksum), rrc));
}

interface ParsedHeader {
  readonly flags: number;
  readonly ec: number;
  readonly rrc: number;
  readonly seq: bigint;
}

function parseHeader(token: Uint8Array, tokenId: number, r: CfxReceiver): ParsedHeader {
  const what = tokenId === CfxTokenId.MIC ? 'MIC token' : 'Wrap token';
  if (token.length < 16) throw new DefectiveTokenError(`${what} has ${token.length} octets, fewer than its 16-octet header`);
  const v = new DataView(token.buffer, token.byteOffset, token.byteLength);
  const id = v.getUint16(0);
  if (id !== tokenId) {
    const hint = id === 0x0101 || id === 0x0201 || id === 0x0102 ? 'this is an RFC 1964 (pre-CFX) token, used only with DES or RC4 session keys' : undefined;
    throw new DefectiveTokenError(`${what} has TOK_ID ${id.toString(16).padStart(4, '0')}, expected ${tokenId.toString(16)}`, {
      ...(hint === undefined ? {} : { hint }), detail: { tokenId: id },
    });
  }
  if (token[3] !== 0xff || (tokenId === CfxTokenId.MIC && v.getUint32(4) !== 0xffffffff)) {
    throw new DefectiveTokenError(`${what} has wrong filler octets in its header (RFC 4121 §4.2.6)`);
  }
  const flags = token[2]!;
  const fromAcceptor = (flags & CfxFlags.SENT_BY_ACCEPTOR) !== 0;
  if (fromAcceptor !== r.expectSentByAcceptor) {
    throw new BadMicError(`${what} was sent by the ${fromAcceptor ? 'acceptor' : 'initiator'}, but this side is the ${r.expectSentByAcceptor ? 'initiator' : 'acceptor'}`, {
      hint: 'a token was reflected back to its sender, or both sides think they have the same role',
    });
  }
  return {
    flags,
    ec: tokenId === CfxTokenId.MIC ? 0 : v.getUint16(4),
    rrc: tokenId === CfxTokenId.MIC ? 0 : v.getUint16(6),
    seq: v.getBigUint64(8),
  };
}

/** The key a received token was made with: the acceptor subkey when flagged and agreed (MIT's rule). */
function receiveKey(r: CfxReceiver, flags: number): Key {
  const key = (flags & CfxFlags.ACCEPTOR_SUBKEY) !== 0 && r.acceptorSubkey !== undefined ? r.acceptorSubkey : r.key;
  requireCfxKey(key);
  return key;
}

/** Verifies a MIC token over `message`; returns its sequence number (not yet checked for order). */
export function verifyMicToken(r: CfxReceiver, message: Uint8Array, token: Uint8Array): bigint {
  const h = parseHeader(token, CfxTokenId.MIC, r);
  const key = receiveKey(r, h.flags);
  const ok = verifyChecksum(defaultChecksumType(key.enctype), key, signUsage(r.expectSentByAcceptor),
    concatBytes(message, token.subarray(0, 16)), token.subarray(16), { allowWeak: true }); // type from our key, as in unwrapToken
  if (!ok) throw new BadMicError('MIC token does not verify: the message or the token was altered, or another key was used');
  return h.seq;
}

export interface UnwrapResult {
  readonly message: Uint8Array;
  readonly conf: boolean;
  readonly seq: bigint;
}

/** Opens a Wrap token; returns the message and its sequence number (not yet checked for order). */
export function unwrapToken(r: CfxReceiver, token: Uint8Array): UnwrapResult {
  const h = parseHeader(token, CfxTokenId.WRAP, r);
  const key = receiveKey(r, h.flags);
  const usage = sealUsage(r.expectSentByAcceptor);
  const data = rotateLeft(token.subarray(16), h.rrc);
  if ((h.flags & CfxFlags.SEALED) !== 0) {
    let plaintext: Uint8Array;
    try {
      plaintext = decrypt(key, usage, data);
    } catch (err) {
      if (err instanceof IntegrityError) {
        throw new BadMicError('Wrap token does not decrypt: it was altered, or another key was used', { cause: err });
      }
      throw err;
    }
    if (plaintext.length < 16 + h.ec) throw new DefectiveTokenError('Wrap token plaintext is shorter than its EC filler and header copy');
    const copy = plaintext.subarray(plaintext.length - 16);
    // The encrypted header copy must match (RRC is 0 in the copy, so it is not compared).
    if (!constantTimeEqual(copy.subarray(0, 6), token.subarray(0, 6)) || !constantTimeEqual(copy.subarray(8, 16), token.subarray(8, 16))) {
      throw new BadMicError('Wrap token header does not match the header copy inside the encrypted data');
    }
    return { message: plaintext.slice(0, plaintext.length - 16 - h.ec), conf: true, seq: h.seq };
  }
  const cksumtype = defaultChecksumType(key.enctype);
  const size = getChecksumType(cksumtype).macSize;
  if (h.ec !== size || data.length < size) {
    throw new DefectiveTokenError(`integrity-only Wrap token has EC ${h.ec} and ${data.length} data octets; the ${size}-octet checksum does not fit`);
  }
  const message = data.subarray(0, data.length - size);
  const signedHeader = token.slice(0, 16);
  signedHeader.fill(0, 4, 8); // EC and RRC are zero in the checksummed header
  // The type follows from our own key (RFC 4121 §4.2.4), not from the peer: an RC4 context exists only if weak crypto was allowed.
  if (!verifyChecksum(cksumtype, key, usage, concatBytes(message, signedHeader), data.subarray(data.length - size), { allowWeak: true })) {
    throw new BadMicError('Wrap token checksum does not verify: the message or the token was altered, or another key was used');
  }
  return { message: message.slice(), conf: false, seq: h.seq };
}
