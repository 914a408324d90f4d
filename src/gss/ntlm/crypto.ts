/**
 * NTLMv2 cryptography (MS-NLMP §3.3.2 responses, §3.4 session security,
 * §3.1.5.1.2 MIC). NTLMv1 and LM are deliberately absent.
 *
 * Randomness (client challenge, exported session key) comes from an injected
 * RandomSource; the NTLMv2 timestamp is a parameter (FILETIME). Keys are plain
 * Uint8Arrays; no error or detail ever holds one.
 */

import { createHash, createHmac } from 'node:crypto';
import { concatBytes, constantTimeEqual, type RandomSource } from '../../core/index.js';
import { md4, rc4, rc4Stream } from '../../crypto/index.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { BadBindingsError } from '../errors.js';
import { NtlmIntegrityError, NtlmMicRequiredError, NtlmNegotiationError } from './errors.js';
import {
  avFlags, avString, decodeAuthenticate, decodeChallenge, encodeAuthenticate, encodeTargetInfo, hasFlag, MIC_LENGTH, MIC_OFFSET, MsvAv,
  MsvAvFlags, NegotiateFlags, utf16le,
  type AuthenticateMessage, type AvPair, type DecodedAuthenticateMessage, type NtlmVersion,
} from './messages.js';

const hmacMd5 = (key: Uint8Array, ...data: Uint8Array[]): Uint8Array => {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
};
const md5 = (...data: Uint8Array[]): Uint8Array => {
  const h = createHash('md5');
  for (const d of data) h.update(d);
  return new Uint8Array(h.digest());
};

function need(bytes: Uint8Array, length: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new InvalidArgumentError(`${what} must be ${length} octets`, { detail: { what } });
  }
}

/** Unix milliseconds → FILETIME (100 ns since 1601-01-01), for the NTLMv2 blob and MsvAvTimestamp. */
export function filetimeFromUnixMs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 10_000n + 116_444_736_000_000_000n;
}

/** The NT hash: MD4(UTF-16LE(password)) (§3.3.1 NTOWFv1, reused as NTOWFv2's key). */
export function ntHash(password: string): Uint8Array {
  return md4(utf16le(password));
}

export type NtlmSecret = { readonly password: string } | { readonly ntHash: Uint8Array };

/** NTOWFv2 (§3.3.2): HMAC_MD5(NT hash, UTF-16LE(Uppercase(user) ‖ domain)). */
export function ntowfv2(secret: NtlmSecret, user: string, domain: string): Uint8Array {
  const key = 'password' in secret ? ntHash(secret.password) : secret.ntHash;
  need(key, 16, 'NT hash');
  return hmacMd5(key, utf16le(upcase(user) + domain));
}

/**
 * Windows upper-cases code unit by code unit (RtlUpcaseUnicodeString), so a
 * character whose upper case is longer ("ß" → "SS") stays as it is.
 */
function upcase(text: string): string {
  let out = '';
  for (const ch of text) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

/** LMOWFv2 (§3.3.2) is defined equal to NTOWFv2. */
export const lmowfv2 = ntowfv2;

export interface Ntlmv2ResponseInput {
  readonly responseKeyNT: Uint8Array;
  readonly serverChallenge: Uint8Array;
  readonly clientChallenge: Uint8Array;
  /** FILETIME of the client (or the server's MsvAvTimestamp when it sent one). */
  readonly timestamp: bigint;
  /** The encoded AV_PAIR list, MsvAvEOL included ("ServerName" in §3.3.2). */
  readonly targetInfo: Uint8Array;
}

export interface Ntlmv2ResponseResult {
  readonly ntProofStr: Uint8Array;
  /** NTProofStr ‖ temp: the AUTHENTICATE NtChallengeResponse. */
  readonly ntChallengeResponse: Uint8Array;
  readonly temp: Uint8Array;
  readonly sessionBaseKey: Uint8Array;
}

/** temp = RespType ‖ HiRespType ‖ Z(6) ‖ Time ‖ ClientChallenge ‖ Z(4) ‖ ServerName ‖ Z(4) (§3.3.2). */
export function ntlmv2Temp(timestamp: bigint, clientChallenge: Uint8Array, targetInfo: Uint8Array): Uint8Array {
  need(clientChallenge, 8, 'client challenge');
  if (timestamp < 0n || timestamp >= 1n << 64n) throw new InvalidArgumentError('timestamp must be a 64-bit FILETIME');
  const head = new Uint8Array(28);
  head[0] = 1;
  head[1] = 1;
  const view = new DataView(head.buffer);
  view.setBigUint64(8, timestamp, true);
  head.set(clientChallenge, 16);
  return concatBytes(head, targetInfo, new Uint8Array(4));
}

/** The NTLMv2 NT response, NTProofStr and SessionBaseKey (§3.3.2). */
export function ntlmv2Response(input: Ntlmv2ResponseInput): Ntlmv2ResponseResult {
  need(input.responseKeyNT, 16, 'ResponseKeyNT');
  need(input.serverChallenge, 8, 'server challenge');
  const temp = ntlmv2Temp(input.timestamp, input.clientChallenge, input.targetInfo);
  const ntProofStr = hmacMd5(input.responseKeyNT, input.serverChallenge, temp);
  return { ntProofStr, temp, ntChallengeResponse: concatBytes(ntProofStr, temp), sessionBaseKey: hmacMd5(input.responseKeyNT, ntProofStr) };
}

/** The acceptor's side: NTProofStr recomputed over the received blob ("temp"), compared in constant time. */
export function verifyNtlmv2Response(responseKeyNT: Uint8Array, serverChallenge: Uint8Array, ntProofStr: Uint8Array, blob: Uint8Array): Uint8Array {
  need(responseKeyNT, 16, 'ResponseKeyNT');
  need(serverChallenge, 8, 'server challenge');
  const expected = hmacMd5(responseKeyNT, serverChallenge, blob);
  if (!constantTimeEqual(expected, ntProofStr)) {
    throw new NtlmIntegrityError('the NTLMv2 response does not verify (NTProofStr mismatch)', {
      hint: 'wrong password or NT hash for this user and domain, or the user or domain name differs from the one the client used',
    });
  }
  return hmacMd5(responseKeyNT, ntProofStr);
}

/** LMv2 response (§3.3.2): HMAC_MD5(ResponseKeyLM, ServerChallenge ‖ ClientChallenge) ‖ ClientChallenge. */
export function lmv2Response(responseKeyLM: Uint8Array, serverChallenge: Uint8Array, clientChallenge: Uint8Array): Uint8Array {
  need(responseKeyLM, 16, 'ResponseKeyLM');
  need(serverChallenge, 8, 'server challenge');
  need(clientChallenge, 8, 'client challenge');
  return concatBytes(hmacMd5(responseKeyLM, serverChallenge, clientChallenge), clientChallenge);
}

/** KXKEY for NTLMv2 (§3.4.5.1): the KeyExchangeKey is the SessionBaseKey. */
export function kxkeyV2(sessionBaseKey: Uint8Array): Uint8Array {
  need(sessionBaseKey, 16, 'SessionBaseKey');
  return sessionBaseKey.slice();
}

/**
 * The ExportedSessionKey (§3.1.5.1.2): with KEY_EXCH a fresh random key,
 * sent as RC4K(KeyExchangeKey, key); without it the KeyExchangeKey itself.
 */
export function chooseExportedSessionKey(flags: number, keyExchangeKey: Uint8Array, random: RandomSource): { exportedSessionKey: Uint8Array; encryptedRandomSessionKey?: Uint8Array } {
  need(keyExchangeKey, 16, 'KeyExchangeKey');
  if (!hasFlag(flags, NegotiateFlags.KEY_EXCH)) return { exportedSessionKey: keyExchangeKey.slice() };
  const exportedSessionKey = random.bytes(16);
  return { exportedSessionKey, encryptedRandomSessionKey: rc4(keyExchangeKey, exportedSessionKey) };
}

/** RC4K(KeyExchangeKey, key): wraps (or, the same operation, unwraps) the random session key. */
export function wrapSessionKey(keyExchangeKey: Uint8Array, key: Uint8Array): Uint8Array {
  need(keyExchangeKey, 16, 'KeyExchangeKey');
  need(key, 16, 'session key');
  return rc4(keyExchangeKey, key);
}
export const unwrapSessionKey = wrapSessionKey;

/** The acceptor's ExportedSessionKey from the AUTHENTICATE fields (§3.2.5.1.2). */
export function acceptorExportedSessionKey(flags: number, keyExchangeKey: Uint8Array, encryptedRandomSessionKey: Uint8Array | undefined): Uint8Array {
  if (!hasFlag(flags, NegotiateFlags.KEY_EXCH)) return kxkeyV2(keyExchangeKey);
  if (encryptedRandomSessionKey === undefined) {
    throw new NtlmNegotiationError('KEY_EXCH was negotiated but the AUTHENTICATE message has no EncryptedRandomSessionKey', {
      hint: 'the client is broken: with NTLMSSP_NEGOTIATE_KEY_EXCH it must send a 16-octet wrapped session key',
    });
  }
  return unwrapSessionKey(keyExchangeKey, encryptedRandomSessionKey);
}

export type NtlmRole = 'client' | 'server';

const magic = (text: string): Uint8Array => new Uint8Array(Buffer.from(`${text}\0`, 'latin1'));
const SIGN_MAGIC = { client: magic('session key to client-to-server signing key magic constant'), server: magic('session key to server-to-client signing key magic constant') };
const SEAL_MAGIC = { client: magic('session key to client-to-server sealing key magic constant'), server: magic('session key to server-to-client sealing key magic constant') };

function requireEss(flags: number): void {
  if (!hasFlag(flags, NegotiateFlags.EXTENDED_SESSIONSECURITY)) {
    throw new NtlmNegotiationError('NTLM signing and sealing need extended session security (NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)', {
      hint: 'the peer did not negotiate extended session security; kerbside does not implement the NTLMv1 signing and sealing it would fall back to',
    });
  }
}

/** SIGNKEY (§3.4.5.2): MD5(ExportedSessionKey ‖ magic) for the direction `role` sends in. */
export function signKey(flags: number, exportedSessionKey: Uint8Array, role: NtlmRole): Uint8Array {
  requireEss(flags);
  need(exportedSessionKey, 16, 'ExportedSessionKey');
  return md5(exportedSessionKey, SIGN_MAGIC[role]);
}

/** SEALKEY (§3.4.5.3) with extended session security: 128-, 56- or 40-bit key material, then MD5 with the magic. */
export function sealKey(flags: number, exportedSessionKey: Uint8Array, role: NtlmRole): Uint8Array {
  requireEss(flags);
  need(exportedSessionKey, 16, 'ExportedSessionKey');
  const n = hasFlag(flags, NegotiateFlags.NEGOTIATE_128) ? 16 : hasFlag(flags, NegotiateFlags.NEGOTIATE_56) ? 7 : 5;
  return md5(exportedSessionKey.subarray(0, n), SEAL_MAGIC[role]);
}

/** MIC (§3.1.5.1.2): HMAC_MD5(ExportedSessionKey, NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE with the MIC field zeroed). */
export function computeMic(exportedSessionKey: Uint8Array, negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array): Uint8Array {
  need(exportedSessionKey, 16, 'ExportedSessionKey');
  if (authenticate.length < MIC_OFFSET + MIC_LENGTH) throw new InvalidArgumentError('the AUTHENTICATE message has no room for a MIC');
  const zeroed = authenticate.slice();
  zeroed.fill(0, MIC_OFFSET, MIC_OFFSET + MIC_LENGTH);
  return hmacMd5(exportedSessionKey, negotiate, challenge, zeroed);
}

/** Checks the MIC at offset 72 of a received AUTHENTICATE message, in constant time. */
export function verifyMic(exportedSessionKey: Uint8Array, negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array): void {
  const expected = computeMic(exportedSessionKey, negotiate, challenge, authenticate);
  if (!constantTimeEqual(expected, authenticate.subarray(MIC_OFFSET, MIC_OFFSET + MIC_LENGTH))) {
    throw new NtlmIntegrityError('the AUTHENTICATE message MIC does not verify: the NTLM messages were altered', {
      hint: 'a NEGOTIATE, CHALLENGE or AUTHENTICATE message was modified in transit (a downgrade attempt), or the session key differs',
    });
  }
}

/** NTLMSSP_MESSAGE_SIGNATURE with extended session security (§2.2.2.9.1): Version 1, 8-octet checksum, SeqNum. */
export const SIGNATURE_LENGTH = 16;

function u32le(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

/**
 * One direction of NTLM session security (§3.4): signing key, RC4 sealing
 * handle (a keystream that runs across every message) and sequence number.
 */
class Direction {
  readonly #signKey: Uint8Array;
  readonly #sealKey: Uint8Array;
  #rc4: (data: Uint8Array) => Uint8Array;
  readonly #keyExch: boolean;
  #seq = 0;

  constructor(flags: number, exportedSessionKey: Uint8Array, role: NtlmRole) {
    this.#signKey = signKey(flags, exportedSessionKey, role);
    this.#sealKey = sealKey(flags, exportedSessionKey, role);
    this.#rc4 = rc4Stream(this.#sealKey);
    this.#keyExch = hasFlag(flags, NegotiateFlags.KEY_EXCH);
  }

  /** Restarts the RC4 keystream from the sealing key; the sequence number runs on. */
  resetRc4(): void {
    this.#rc4 = rc4Stream(this.#sealKey);
  }

  /** MAC (§3.4.4.2): HMAC_MD5(SigningKey, SeqNum ‖ Message)[0..8], RC4-encrypted with KEY_EXCH. */
  mac(message: Uint8Array): Uint8Array {
    const seq = u32le(this.#seq);
    this.#seq = (this.#seq + 1) >>> 0;
    let checksum = hmacMd5(this.#signKey, seq, message).subarray(0, 8);
    if (this.#keyExch) checksum = this.#rc4(checksum);
    return concatBytes(u32le(1), checksum, seq);
  }

  crypt(data: Uint8Array): Uint8Array {
    return this.#rc4(data);
  }
}

/**
 * NTLM session security with extended session security (§3.4.3, §3.4.4.2).
 * The client sends with the client-to-server keys and receives with the
 * server-to-client keys; the server the other way round. Sequence numbers
 * count per direction from 0.
 */
export class NtlmSessionSecurity {
  readonly #out: Direction;
  readonly #in: Direction;

  constructor(flags: number, exportedSessionKey: Uint8Array, role: NtlmRole) {
    const peer: NtlmRole = role === 'client' ? 'server' : 'client';
    this.#out = new Direction(flags, exportedSessionKey, role);
    this.#in = new Direction(flags, exportedSessionKey, peer);
  }

  /** GSS_GetMIC: the 16-octet signature of `message`. */
  sign(message: Uint8Array): Uint8Array {
    return this.#out.mac(message);
  }

  /** GSS_VerifyMIC: throws NtlmIntegrityError unless `signature` is the next expected one over `message`. */
  verify(message: Uint8Array, signature: Uint8Array): void {
    check(this.#in.mac(message), signature);
  }

  /** GSS_WrapEx (§3.4.3): RC4 over the message, then the signature over the plaintext. */
  seal(message: Uint8Array): { sealed: Uint8Array; signature: Uint8Array } {
    const sealed = this.#out.crypt(message);
    return { sealed, signature: this.#out.mac(message) };
  }

  /**
   * MS-SPNG §3.3.5.1: after the SPNEGO mechListMIC was signed (outbound) or
   * verified (inbound), the RC4 state of that direction starts over, so the
   * first application message sees the same key state as the MIC did. The
   * sequence numbers are not reset (the MIC used 0, the next message uses 1),
   * as Windows and gss-ntlmssp (GSS_NTLMSSP_RESET_CRYPTO_OID) do.
   */
  resetRc4(direction: 'outbound' | 'inbound'): void {
    (direction === 'outbound' ? this.#out : this.#in).resetRc4();
  }

  /** GSS_UnwrapEx: decrypts, then checks the signature over the plaintext. */
  unseal(sealed: Uint8Array, signature: Uint8Array): Uint8Array {
    const message = this.#in.crypt(sealed);
    check(this.#in.mac(message), signature);
    return message;
  }
}

function check(expected: Uint8Array, signature: Uint8Array): void {
  if (signature.length !== SIGNATURE_LENGTH || !constantTimeEqual(expected, signature)) {
    throw new NtlmIntegrityError('the NTLM message signature does not verify', {
      hint: 'the message was altered, replayed or reordered (sequence numbers must match), or the session keys differ',
    });
  }
}

// ---------------------------------------------------------------------------
// The client's AUTHENTICATE (§3.1.5.1.2), built from the other two messages.

export interface ClientAuthenticateInput {
  readonly negotiate: Uint8Array;
  readonly challenge: Uint8Array;
  readonly user: string;
  readonly domain: string;
  readonly workstation: string;
  readonly secret: NtlmSecret;
  /** Client time as FILETIME, used only when the server sent no MsvAvTimestamp. */
  readonly timestamp: bigint;
  readonly random: RandomSource;
  /** MD5 of the channel bindings (gss/channel-bindings.ts), or omitted for Z(16). */
  readonly channelBindingsHash?: Uint8Array;
  /** The SPN the client means to reach (MsvAvTargetName), e.g. "HTTP/www.example.com". */
  readonly targetName?: string;
  readonly version?: NtlmVersion;
}

export interface ClientAuthenticateResult {
  readonly authenticate: Uint8Array;
  readonly exportedSessionKey: Uint8Array;
  readonly flags: number;
}

/**
 * Builds the AUTHENTICATE message: NTLMv2 response over the server's
 * TargetInfo extended with MsvAvFlags (MIC present), MsvAvChannelBindings and
 * MsvAvTargetName, the wrapped session key under KEY_EXCH, and the MIC.
 * The flags are the CHALLENGE's (the server's choice among the client's).
 */
export function buildAuthenticate(input: ClientAuthenticateInput): ClientAuthenticateResult {
  const challenge = decodeChallenge(input.challenge);
  const flags = challenge.flags;
  const serverPairs = challenge.targetInfo?.pairs ?? [];
  const serverTime = challenge.targetInfo?.timestamp;
  const extra: AvPair[] = [];
  const own = new Set<number>([MsvAv.Flags, MsvAv.ChannelBindings, MsvAv.TargetName]);
  const flagsPair = avFlags((challenge.targetInfo?.flags ?? 0) | MsvAvFlags.MIC_PRESENT);
  extra.push(flagsPair, { id: MsvAv.ChannelBindings, value: input.channelBindingsHash?.slice() ?? new Uint8Array(16) });
  if (input.targetName !== undefined) extra.push(avString(MsvAv.TargetName, input.targetName));
  const pairs = [...serverPairs.filter((p) => !own.has(p.id)), ...extra];
  const responseKey = ntowfv2(input.secret, input.user, input.domain);
  const clientChallenge = input.random.bytes(8);
  const r = ntlmv2Response({
    responseKeyNT: responseKey, serverChallenge: challenge.serverChallenge, clientChallenge,
    timestamp: serverTime ?? input.timestamp, targetInfo: encodeTargetInfo(pairs),
  });
  // §3.1.5.1.2: with a server timestamp the LM response is Z(24), else LMv2.
  const lm = serverTime !== undefined ? new Uint8Array(24) : lmv2Response(responseKey, challenge.serverChallenge, clientChallenge);
  const { exportedSessionKey, encryptedRandomSessionKey } = chooseExportedSessionKey(flags, kxkeyV2(r.sessionBaseKey), input.random);
  const message: AuthenticateMessage = {
    flags, lmChallengeResponse: lm, ntChallengeResponse: r.ntChallengeResponse,
    domain: input.domain, user: input.user, workstation: input.workstation,
    ...(encryptedRandomSessionKey !== undefined ? { encryptedRandomSessionKey } : {}),
    ...(input.version !== undefined ? { version: input.version } : {}),
    mic: new Uint8Array(MIC_LENGTH),
  };
  const authenticate = encodeAuthenticate(message);
  authenticate.set(computeMic(exportedSessionKey, input.negotiate, input.challenge, authenticate), MIC_OFFSET);
  return { authenticate, exportedSessionKey, flags };
}

export interface AcceptedAuthenticate {
  readonly message: DecodedAuthenticateMessage;
  readonly exportedSessionKey: Uint8Array;
}

/**
 * The acceptor's checks once it has the SessionBaseKey (§3.2.5.1.2): the
 * ExportedSessionKey (unwrapped under KEY_EXCH) and the MIC, verified
 * whenever the client announces one and demanded when `requireMic` (the
 * default here; NtlmAcceptor passes its own option, default false). Shared by
 * NtlmAcceptor, which gets the SessionBaseKey from its NtlmValidator, and
 * acceptAuthenticate.
 */
export function finishAcceptAuthenticate(
  negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array, message: DecodedAuthenticateMessage, sessionBaseKey: Uint8Array,
  requireMic = true,
): Uint8Array {
  const exportedSessionKey = acceptorExportedSessionKey(message.flags, kxkeyV2(sessionBaseKey), message.encryptedRandomSessionKey);
  // The MIC is present exactly when the client's MsvAvFlags say so (decodeAuthenticate); that flag is
  // covered by NTProofStr, so a MIC announced by the client cannot be dropped in transit (CVE-2019-1040).
  if (message.mic === undefined) {
    if (!requireMic) return exportedSessionKey;
    throw new NtlmMicRequiredError('the AUTHENTICATE message carries no MIC', {
      hint: 'without a MIC the NTLM exchange is not protected against tampering; the client must be NTLMv2 with MsvAvFlags MIC_PRESENT (Windows Vista and later do this), or the acceptor must not set requireMic',
    });
  }
  verifyMic(exportedSessionKey, negotiate, challenge, authenticate);
  return exportedSessionKey;
}

/** The client's MsvAvChannelBindings, or undefined when it sent none or Z(16) (§2.2.2.1: all zero means "no bindings"). */
export function sentChannelBindings(message: DecodedAuthenticateMessage): Uint8Array | undefined {
  const sent = message.ntlmv2?.targetInfo.channelBindings;
  return sent === undefined || sent.every((b) => b === 0) ? undefined : sent;
}

/**
 * The acceptor's checks (§3.2.5.1.2) once it has the user's NT hash: the
 * NTLMv2 proof, the session key, and the MIC, which is required.
 */
export interface AcceptAuthenticateOptions {
  /**
   * MD5 of the channel bindings this acceptor sees (gss/channel-bindings.ts).
   * When given, the client's MsvAvChannelBindings must equal it (EPA); an
   * absent or all-zero value from the client fails with BadBindingsError.
   */
  readonly channelBindingsHash?: Uint8Array;
}

export function acceptAuthenticate(
  negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array, lookup: (user: string, domain: string) => NtlmSecret,
  options: AcceptAuthenticateOptions = {},
): AcceptedAuthenticate {
  const message = decodeAuthenticate(authenticate);
  if (message.ntlmv2 === undefined) {
    throw new NtlmNegotiationError('anonymous NTLM authentication is not accepted', { hint: 'the client sent an empty NT response; configure it with credentials' });
  }
  const serverChallenge = decodeChallenge(challenge).serverChallenge;
  const key = ntowfv2(lookup(message.user, message.domain), message.user, message.domain);
  const sbk = verifyNtlmv2Response(key, serverChallenge, message.ntlmv2.ntProofStr, message.ntlmv2.blob);
  const exportedSessionKey = finishAcceptAuthenticate(negotiate, challenge, authenticate, message, sbk);
  if (options.channelBindingsHash !== undefined) {
    const sent = sentChannelBindings(message);
    if (sent === undefined || !constantTimeEqual(sent, options.channelBindingsHash)) {
      throw new BadBindingsError('the NTLM client\'s channel bindings (MsvAvChannelBindings) do not match this connection', {
        hint: sent === undefined
          ? 'the client sent no channel bindings; it must support Extended Protection for Authentication'
          : 'the client bound its authentication to another TLS channel: a proxy terminating TLS, or a relayed authentication',
      });
    }
  }
  return { message, exportedSessionKey };
}
