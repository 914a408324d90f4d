/**
 * MS-NLMP §2.2: the three NTLM messages (NEGOTIATE, CHALLENGE, AUTHENTICATE),
 * the AV_PAIR list of the CHALLENGE's TargetInfo (§2.2.2.1) and the NTLMv2
 * response inside AUTHENTICATE (§2.2.2.8).
 *
 * Decoders are strict: signature "NTLMSSP\0", the expected MessageType, every
 * payload field inside the buffer, not overlapping the fixed header nor each
 * other, at most 64 KiB, UTF-16LE strings of even length that decode. A v1
 * (24-octet) NT response is refused with NtlmV1RefusedError. MaxLen of a
 * field is ignored on receipt, as §2.2.1.1 requires; encoders write Len.
 * Encoders lay out the payload in the order Windows uses (the §4.2.4.3
 * example), so the spec's messages come out byte for byte.
 */

import { NtlmAvPairError, NtlmFormatError, NtlmTooLargeError, NtlmV1RefusedError } from './errors.js';

/** No NTLM message comes near this; bounds memory on hostile input. */
export const MAX_NTLM_MESSAGE = 64 * 1024;

const SIGNATURE = Uint8Array.of(0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00); // "NTLMSSP\0"

export const NtlmMessageType = Object.freeze({ NEGOTIATE: 1, CHALLENGE: 2, AUTHENTICATE: 3 } as const);

/** NEGOTIATE flags (MS-NLMP §2.2.2.5). */
export const NegotiateFlags = Object.freeze({
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  DATAGRAM: 0x00000040,
  LM_KEY: 0x00000080,
  NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  IDENTIFY: 0x00100000,
  REQUEST_NON_NT_SESSION_KEY: 0x00400000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  NEGOTIATE_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  NEGOTIATE_56: 0x80000000,
} as const);

export const hasFlag = (flags: number, flag: number): boolean => ((flags & flag) >>> 0) === flag >>> 0;

/** AV_PAIR ids (MS-NLMP §2.2.2.1). */
export const MsvAv = Object.freeze({
  EOL: 0x0000,
  NbComputerName: 0x0001,
  NbDomainName: 0x0002,
  DnsComputerName: 0x0003,
  DnsDomainName: 0x0004,
  DnsTreeName: 0x0005,
  Flags: 0x0006,
  Timestamp: 0x0007,
  SingleHost: 0x0008,
  TargetName: 0x0009,
  ChannelBindings: 0x000a,
} as const);

/** MsvAvFlags bits (§2.2.2.1). */
export const MsvAvFlags = Object.freeze({
  ACCOUNT_AUTHENTICATION_CONSTRAINED: 0x1,
  MIC_PRESENT: 0x2,
  UNTRUSTED_SPN_SOURCE: 0x4,
} as const);

/** VERSION (§2.2.2.10): debugging only; revision is NTLMSSP_REVISION_W2K3 (15). */
export interface NtlmVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
  readonly revision: number;
}

export interface AvPair {
  readonly id: number;
  readonly value: Uint8Array;
}

/** A decoded AV_PAIR list: the pairs in wire order (EOL excluded) and the known ones by name. */
export interface TargetInfo {
  readonly pairs: readonly AvPair[];
  readonly nbComputerName?: string;
  readonly nbDomainName?: string;
  readonly dnsComputerName?: string;
  readonly dnsDomainName?: string;
  readonly dnsTreeName?: string;
  readonly flags?: number;
  /** FILETIME: 100 ns intervals since 1601-01-01 UTC. */
  readonly timestamp?: bigint;
  readonly singleHost?: Uint8Array;
  readonly targetName?: string;
  readonly channelBindings?: Uint8Array;
}

export interface NegotiateMessage {
  readonly flags: number;
  readonly domain?: string;
  readonly workstation?: string;
  readonly version?: NtlmVersion;
}

export interface ChallengeMessage {
  readonly flags: number;
  readonly serverChallenge: Uint8Array;
  readonly targetName?: string;
  readonly targetInfo?: { readonly pairs: readonly AvPair[] };
  readonly version?: NtlmVersion;
}

export interface DecodedChallengeMessage extends ChallengeMessage {
  readonly targetInfo?: TargetInfo;
  /** The TargetInfo bytes as received (the client copies them into its NTLMv2 response). */
  readonly targetInfoBytes?: Uint8Array;
}

export interface AuthenticateMessage {
  readonly flags: number;
  readonly lmChallengeResponse: Uint8Array;
  readonly ntChallengeResponse: Uint8Array;
  readonly domain: string;
  readonly user: string;
  readonly workstation: string;
  readonly encryptedRandomSessionKey?: Uint8Array;
  readonly version?: NtlmVersion;
  /** 16 octets at offset 72 (zeros while the MIC is being computed). */
  readonly mic?: Uint8Array;
}

/** NTLMv2_RESPONSE (§2.2.2.8) with its NTLMv2_CLIENT_CHALLENGE (§2.2.2.7). */
export interface Ntlmv2Response {
  readonly ntProofStr: Uint8Array;
  /** The octets after NTProofStr ("temp" of §3.3.2), exactly as received. */
  readonly blob: Uint8Array;
  readonly timestamp: bigint;
  readonly clientChallenge: Uint8Array;
  readonly targetInfo: TargetInfo;
}

export interface DecodedAuthenticateMessage extends AuthenticateMessage {
  /** Undefined for an anonymous AUTHENTICATE (empty NT response). */
  readonly ntlmv2: Ntlmv2Response | undefined;
}

// ---------------------------------------------------------------------------
// Bytes

const hint = {
  framing: 'the peer sent a malformed NTLM message; check that it speaks NTLMSSP (MS-NLMP) and that the token was not truncated or altered in transit',
  avPairs: 'the TargetInfo AV_PAIR list must end with MsvAvEOL and name each id once (MS-NLMP §2.2.2.1)',
} as const;

function fail(message: string, detail: Record<string, unknown> = {}): never {
  throw new NtlmFormatError(message, { hint: hint.framing, detail });
}

function failAv(message: string, detail: Record<string, unknown> = {}): never {
  throw new NtlmAvPairError(message, { hint: hint.avPairs, detail });
}

const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** An account as Windows writes it: DOMAIN\\user, or the bare user name for a local account (empty domain). */
export function ntlmAccountName(user: string, domain: string): string {
  return domain === '' ? user : `${domain}\\${user}`;
}

/** True when `bytes` is a raw NTLMSSP message (the "NTLMSSP\0" signature), not SPNEGO or Kerberos. */
export function isNtlmToken(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** The MessageType (NtlmMessageType) of a raw NTLMSSP message, 0 when `bytes` is too short to carry one. */
export function ntlmMessageType(bytes: Uint8Array): number {
  return isNtlmToken(bytes) && bytes.length >= 12 ? u32(bytes, 8) : 0;
}
const u64 = (b: Uint8Array, at: number): bigint => BigInt(u32(b, at)) | (BigInt(u32(b, at + 4)) << 32n);

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}
function put32(b: Uint8Array, at: number, v: number): void {
  for (let i = 0; i < 4; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}
function put64(b: Uint8Array, at: number, v: bigint): void {
  put32(b, at, Number(v & 0xffffffffn));
  put32(b, at + 4, Number((v >> 32n) & 0xffffffffn));
}

export function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) put16(out, 2 * i, text.charCodeAt(i));
  return out;
}

const utf16Decoder = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });

function decodeUtf16(bytes: Uint8Array, field: string): string {
  if (bytes.length % 2 !== 0) fail(`NTLM ${field}: UTF-16LE string of odd length ${bytes.length}`, { field });
  try {
    return utf16Decoder.decode(bytes);
  } catch {
    return fail(`NTLM ${field}: not valid UTF-16LE`, { field });
  }
}

/** OEM strings: the code page is unknown to us, so only octets 0..255 (Latin-1) round-trip. */
function oem(text: string, field: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) fail(`NTLM ${field}: character U+${c.toString(16)} cannot be sent as an OEM string; negotiate Unicode`, { field });
    out[i] = c;
  }
  return out;
}

const fromOem = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');

const encodeString = (text: string, unicode: boolean, field: string): Uint8Array => (unicode ? utf16le(text) : oem(text, field));
const decodeString = (bytes: Uint8Array, unicode: boolean, field: string): string => (unicode ? decodeUtf16(bytes, field) : fromOem(bytes));

function encodeVersion(v: NtlmVersion | undefined): Uint8Array {
  const out = new Uint8Array(8);
  if (v === undefined) return out;
  out[0] = v.major & 0xff;
  out[1] = v.minor & 0xff;
  put16(out, 2, v.build);
  out[7] = v.revision & 0xff;
  return out;
}

const decodeVersion = (b: Uint8Array, at: number): NtlmVersion => ({ major: b[at]!, minor: b[at + 1]!, build: u16(b, at + 2), revision: b[at + 7]! });

// ---------------------------------------------------------------------------
// Framing: header with (Len, MaxLen, Offset) field descriptors, then a payload.

interface Field {
  readonly name: string;
  readonly at: number; // where the descriptor sits in the header
}

interface Located {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
}

function checkEnvelope(bytes: Uint8Array, type: number, minHeader: number, what: string): void {
  if (!(bytes instanceof Uint8Array)) fail(`NTLM ${what}: not a byte array`);
  if (bytes.length > MAX_NTLM_MESSAGE) {
    throw new NtlmTooLargeError(`NTLM ${what} of ${bytes.length} octets is over the ${MAX_NTLM_MESSAGE}-octet limit`, {
      hint: 'no genuine NTLM message is this large; the peer is broken or hostile',
      detail: { length: bytes.length },
    });
  }
  if (bytes.length < 12) fail(`NTLM ${what}: ${bytes.length} octets is too short for a signature and message type`, { length: bytes.length });
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) fail(`NTLM ${what}: signature is not "NTLMSSP\\0"`, { offset: i });
  const got = u32(bytes, 8);
  if (got !== type) fail(`NTLM ${what}: MessageType is ${got}, expected ${type}`, { messageType: got });
  if (bytes.length < minHeader) fail(`NTLM ${what}: truncated header (${bytes.length} of ${minHeader} octets)`, { length: bytes.length });
}

/** Reads the descriptors and checks every non-empty field lies in [headerEnd, length) without overlap. */
function locate(bytes: Uint8Array, fields: readonly Field[], what: string): Located[] {
  return fields.map((f) => {
    const length = u16(bytes, f.at);
    const offset = u32(bytes, f.at + 4);
    if (length > 0 && offset + length > bytes.length) {
      fail(`NTLM ${what}: ${f.name} (offset ${offset}, length ${length}) runs past the end of the ${bytes.length}-octet message`, { field: f.name, offset, length });
    }
    if (length === 0 && offset > bytes.length) fail(`NTLM ${what}: empty ${f.name} has offset ${offset} outside the message`, { field: f.name, offset });
    return { name: f.name, offset, length };
  });
}

function checkLayout(located: readonly Located[], headerEnd: number, what: string): void {
  const present = located.filter((l) => l.length > 0);
  for (const l of present) {
    if (l.offset < headerEnd) fail(`NTLM ${what}: ${l.name} at offset ${l.offset} overlaps the ${headerEnd}-octet header`, { field: l.name, offset: l.offset });
  }
  for (let i = 0; i < present.length; i++) {
    for (let j = i + 1; j < present.length; j++) {
      const a = present[i]!;
      const b = present[j]!;
      if (a.offset < b.offset + b.length && b.offset < a.offset + a.length) {
        fail(`NTLM ${what}: ${a.name} and ${b.name} overlap`, { fields: [a.name, b.name] });
      }
    }
  }
}

const slice = (bytes: Uint8Array, l: Located): Uint8Array => bytes.slice(l.offset, l.offset + l.length);

/** Writes the header descriptors and payload in the given order; empty fields point at the current payload position. */
function assemble(header: Uint8Array, fields: readonly { at: number; value: Uint8Array; name: string }[], what: string): Uint8Array {
  let total = header.length;
  for (const f of fields) total += f.value.length;
  if (total > MAX_NTLM_MESSAGE) {
    throw new NtlmTooLargeError(`NTLM ${what} would be ${total} octets, over the ${MAX_NTLM_MESSAGE}-octet limit`, { detail: { length: total } });
  }
  const out = new Uint8Array(total);
  out.set(header);
  let at = header.length;
  for (const f of fields) {
    if (f.value.length > 0xffff) fail(`NTLM ${what}: ${f.name} is ${f.value.length} octets, over 65535`, { field: f.name });
    put16(out, f.at, f.value.length);
    put16(out, f.at + 2, f.value.length);
    put32(out, f.at + 4, at);
    out.set(f.value, at);
    at += f.value.length;
  }
  return out;
}

function newHeader(size: number, type: number): Uint8Array {
  const h = new Uint8Array(size);
  h.set(SIGNATURE);
  put32(h, 8, type);
  return h;
}

// ---------------------------------------------------------------------------
// AV_PAIR list (§2.2.2.1)

const STRING_AVS: ReadonlyMap<number, keyof TargetInfo> = new Map<number, keyof TargetInfo>([
  [MsvAv.NbComputerName, 'nbComputerName'],
  [MsvAv.NbDomainName, 'nbDomainName'],
  [MsvAv.DnsComputerName, 'dnsComputerName'],
  [MsvAv.DnsDomainName, 'dnsDomainName'],
  [MsvAv.DnsTreeName, 'dnsTreeName'],
  [MsvAv.TargetName, 'targetName'],
]);

export const avString = (id: number, text: string): AvPair => ({ id, value: utf16le(text) });
export function avFlags(flags: number): AvPair {
  const value = new Uint8Array(4);
  put32(value, 0, flags);
  return { id: MsvAv.Flags, value };
}
export function avTimestamp(filetime: bigint): AvPair {
  const value = new Uint8Array(8);
  put64(value, 0, filetime);
  return { id: MsvAv.Timestamp, value };
}

/** Encodes the pairs and the terminating MsvAvEOL; refuses EOL inside the list and duplicate ids. */
export function encodeTargetInfo(pairs: readonly AvPair[]): Uint8Array {
  const seen = new Set<number>();
  let size = 4;
  for (const p of pairs) {
    if (!Number.isInteger(p.id) || p.id < 0 || p.id > 0xffff) failAv(`AV_PAIR id ${p.id} is not a 16-bit value`);
    if (p.id === MsvAv.EOL) failAv('MsvAvEOL inside the AV_PAIR list: it is written once, at the end');
    if (seen.has(p.id)) failAv(`AV_PAIR id ${p.id} appears twice`, { avId: p.id });
    if (p.value.length > 0xffff) failAv(`AV_PAIR id ${p.id} is ${p.value.length} octets, over 65535`, { avId: p.id });
    seen.add(p.id);
    size += 4 + p.value.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of pairs) {
    put16(out, at, p.id);
    put16(out, at + 2, p.value.length);
    out.set(p.value, at + 4);
    at += 4 + p.value.length;
  }
  return out; // last four octets are already zero: MsvAvEOL, length 0
}

/** Decodes an AV_PAIR list that must end exactly at MsvAvEOL (or, with `trailing`, returns where EOL ended). */
function parseAvPairs(bytes: Uint8Array, from: number, to: number): { info: TargetInfo; end: number } {
  const pairs: AvPair[] = [];
  const info: Record<string, unknown> = {};
  const seen = new Set<number>();
  let at = from;
  for (;;) {
    if (at + 4 > to) failAv('AV_PAIR list ends without MsvAvEOL', { offset: at });
    const id = u16(bytes, at);
    const len = u16(bytes, at + 2);
    at += 4;
    if (id === MsvAv.EOL) {
      if (len !== 0) failAv(`MsvAvEOL with length ${len}, must be 0`, { offset: at - 4 });
      break;
    }
    if (at + len > to) failAv(`AV_PAIR id ${id} (length ${len}) runs past the end of the list`, { avId: id, offset: at - 4 });
    if (seen.has(id)) failAv(`AV_PAIR id ${id} appears twice`, { avId: id });
    seen.add(id);
    const value = bytes.slice(at, at + len);
    at += len;
    pairs.push({ id, value });
    const name = STRING_AVS.get(id);
    if (name !== undefined) {
      info[name] = decodeUtf16(value, `AV_PAIR ${name}`);
    } else if (id === MsvAv.Flags) {
      if (len !== 4) failAv(`MsvAvFlags of length ${len}, must be 4`, { avId: id });
      info['flags'] = u32(value, 0);
    } else if (id === MsvAv.Timestamp) {
      if (len !== 8) failAv(`MsvAvTimestamp of length ${len}, must be 8`, { avId: id });
      info['timestamp'] = u64(value, 0);
    } else if (id === MsvAv.SingleHost) {
      // Single_Host_Data (§2.2.2.2): Size, Z4, CustomData(8), MachineID(32); Size covers the whole structure.
      if (len < 48 || u32(value, 0) !== len) failAv(`MsvAvSingleHost of length ${len} does not hold a Single_Host_Data structure of its own size`, { avId: id });
      info['singleHost'] = value;
    } else if (id === MsvAv.ChannelBindings) {
      if (len !== 16) failAv(`MsvAvChannelBindings of length ${len}, must be 16 (an MD5 hash)`, { avId: id });
      info['channelBindings'] = value;
    }
    // Other ids (newer Windows releases add some) are kept in `pairs` untouched.
  }
  return { info: { ...(info as Omit<TargetInfo, 'pairs'>), pairs }, end: at };
}

/** Decodes a complete TargetInfo: the list must end with MsvAvEOL and nothing may follow it. */
export function decodeTargetInfo(bytes: Uint8Array): TargetInfo {
  const { info, end } = parseAvPairs(bytes, 0, bytes.length);
  if (end !== bytes.length) failAv(`${bytes.length - end} octets after MsvAvEOL`, { offset: end });
  return info;
}

// ---------------------------------------------------------------------------
// NEGOTIATE_MESSAGE (§2.2.1.1)

export function encodeNegotiate(m: NegotiateMessage): Uint8Array {
  const version = hasFlag(m.flags, NegotiateFlags.VERSION);
  const h = newHeader(version ? 40 : 32, NtlmMessageType.NEGOTIATE);
  put32(h, 12, m.flags);
  if (version) h.set(encodeVersion(m.version), 32);
  // Domain and workstation are OEM strings here whatever the Unicode flag says (§2.2.1.1).
  return assemble(h, [
    { at: 16, name: 'DomainName', value: m.domain === undefined ? new Uint8Array(0) : oem(m.domain, 'DomainName') },
    { at: 24, name: 'Workstation', value: m.workstation === undefined ? new Uint8Array(0) : oem(m.workstation, 'Workstation') },
  ], 'NEGOTIATE');
}

export function decodeNegotiate(bytes: Uint8Array): NegotiateMessage {
  checkEnvelope(bytes, NtlmMessageType.NEGOTIATE, 32, 'NEGOTIATE');
  const flags = u32(bytes, 12);
  const version = hasFlag(flags, NegotiateFlags.VERSION);
  if (version && bytes.length < 40) fail('NTLM NEGOTIATE: VERSION flag set but the header has no Version field', { length: bytes.length });
  const [domain, workstation] = locate(bytes, [{ name: 'DomainName', at: 16 }, { name: 'Workstation', at: 24 }], 'NEGOTIATE') as [Located, Located];
  checkLayout([domain, workstation], version ? 40 : 32, 'NEGOTIATE');
  return {
    flags,
    ...(hasFlag(flags, NegotiateFlags.OEM_DOMAIN_SUPPLIED) ? { domain: fromOem(slice(bytes, domain)) } : {}),
    ...(hasFlag(flags, NegotiateFlags.OEM_WORKSTATION_SUPPLIED) ? { workstation: fromOem(slice(bytes, workstation)) } : {}),
    ...(version ? { version: decodeVersion(bytes, 32) } : {}),
  };
}

// ---------------------------------------------------------------------------
// CHALLENGE_MESSAGE (§2.2.1.2)

export function encodeChallenge(m: ChallengeMessage): Uint8Array {
  if (m.serverChallenge.length !== 8) fail(`NTLM CHALLENGE: ServerChallenge must be 8 octets, not ${m.serverChallenge.length}`);
  const version = hasFlag(m.flags, NegotiateFlags.VERSION);
  const h = newHeader(version ? 56 : 48, NtlmMessageType.CHALLENGE);
  put32(h, 20, m.flags);
  h.set(m.serverChallenge, 24);
  if (version) h.set(encodeVersion(m.version), 48);
  const unicode = hasFlag(m.flags, NegotiateFlags.UNICODE);
  return assemble(h, [
    { at: 12, name: 'TargetName', value: m.targetName === undefined ? new Uint8Array(0) : encodeString(m.targetName, unicode, 'TargetName') },
    { at: 40, name: 'TargetInfo', value: m.targetInfo === undefined ? new Uint8Array(0) : encodeTargetInfo(m.targetInfo.pairs) },
  ], 'CHALLENGE');
}

export function decodeChallenge(bytes: Uint8Array): DecodedChallengeMessage {
  // The 32-octet form of pre-2003 servers has no TargetInfo and so cannot carry NTLMv2: refused.
  checkEnvelope(bytes, NtlmMessageType.CHALLENGE, 48, 'CHALLENGE');
  const flags = u32(bytes, 20);
  const version = hasFlag(flags, NegotiateFlags.VERSION);
  if (version && bytes.length < 56) fail('NTLM CHALLENGE: VERSION flag set but the header has no Version field', { length: bytes.length });
  const [name, info] = locate(bytes, [{ name: 'TargetName', at: 12 }, { name: 'TargetInfo', at: 40 }], 'CHALLENGE') as [Located, Located];
  checkLayout([name, info], version ? 56 : 48, 'CHALLENGE');
  const unicode = hasFlag(flags, NegotiateFlags.UNICODE);
  const targetInfoBytes = info.length > 0 ? slice(bytes, info) : undefined;
  return {
    flags,
    serverChallenge: bytes.slice(24, 32),
    ...(name.length > 0 ? { targetName: decodeString(slice(bytes, name), unicode, 'TargetName') } : {}),
    ...(targetInfoBytes !== undefined ? { targetInfo: decodeTargetInfo(targetInfoBytes), targetInfoBytes } : {}),
    ...(version ? { version: decodeVersion(bytes, 48) } : {}),
  };
}

// ---------------------------------------------------------------------------
// AUTHENTICATE_MESSAGE (§2.2.1.3)

/** Offset of the MIC field when present (§2.2.1.3). */
export const MIC_OFFSET = 72;
export const MIC_LENGTH = 16;

export function encodeAuthenticate(m: AuthenticateMessage): Uint8Array {
  if (m.mic !== undefined && m.mic.length !== MIC_LENGTH) fail(`NTLM AUTHENTICATE: MIC must be 16 octets, not ${m.mic.length}`);
  const key = m.encryptedRandomSessionKey ?? new Uint8Array(0);
  if (key.length !== 0 && key.length !== 16) fail(`NTLM AUTHENTICATE: EncryptedRandomSessionKey must be 16 octets, not ${key.length}`);
  const version = hasFlag(m.flags, NegotiateFlags.VERSION);
  const size = m.mic !== undefined ? 88 : version ? 72 : 64;
  const h = newHeader(size, NtlmMessageType.AUTHENTICATE);
  put32(h, 60, m.flags);
  if (size >= 72) h.set(encodeVersion(version ? m.version : undefined), 64);
  if (m.mic !== undefined) h.set(m.mic, MIC_OFFSET);
  const unicode = hasFlag(m.flags, NegotiateFlags.UNICODE);
  // Payload order of Windows (and of the §4.2.4.3 example): names first, then responses, then the key.
  return assemble(h, [
    { at: 28, name: 'DomainName', value: encodeString(m.domain, unicode, 'DomainName') },
    { at: 36, name: 'UserName', value: encodeString(m.user, unicode, 'UserName') },
    { at: 44, name: 'Workstation', value: encodeString(m.workstation, unicode, 'Workstation') },
    { at: 12, name: 'LmChallengeResponse', value: m.lmChallengeResponse },
    { at: 20, name: 'NtChallengeResponse', value: m.ntChallengeResponse },
    { at: 52, name: 'EncryptedRandomSessionKey', value: key },
  ], 'AUTHENTICATE');
}

/** Parses NTLMv2_RESPONSE (§2.2.2.8); octets after MsvAvEOL are kept in `blob` (Windows pads with zeros). */
export function decodeNtlmv2Response(nt: Uint8Array): Ntlmv2Response {
  if (nt.length === 24) {
    throw new NtlmV1RefusedError('the peer sent an NTLMv1 response (24 octets); NTLMv1 is not accepted, only NTLMv2', {
      hint: 'set the client to send NTLMv2 only (Windows: "Network security: LAN Manager authentication level" = "Send NTLMv2 response only. Refuse LM & NTLM"), or use Kerberos',
    });
  }
  // NTProofStr(16) RespType HiRespType Reserved1(2) Reserved2(4) TimeStamp(8) ChallengeFromClient(8) Reserved3(4) AvPairs(≥4).
  if (nt.length < 48) fail(`NTLM AUTHENTICATE: NT response of ${nt.length} octets is too short for NTLMv2`, { length: nt.length });
  if (nt[16] !== 1 || nt[17] !== 1) fail(`NTLM AUTHENTICATE: NTLMv2 response type ${nt[16]}/${nt[17]}, expected 1/1`, { respType: nt[16] });
  const { info } = parseAvPairs(nt, 44, nt.length);
  return {
    ntProofStr: nt.slice(0, 16),
    blob: nt.slice(16),
    timestamp: u64(nt, 24),
    clientChallenge: nt.slice(32, 40),
    targetInfo: info,
  };
}

export function decodeAuthenticate(bytes: Uint8Array): DecodedAuthenticateMessage {
  checkEnvelope(bytes, NtlmMessageType.AUTHENTICATE, 64, 'AUTHENTICATE');
  const flags = u32(bytes, 60);
  const located = locate(bytes, [
    { name: 'LmChallengeResponse', at: 12 },
    { name: 'NtChallengeResponse', at: 20 },
    { name: 'DomainName', at: 28 },
    { name: 'UserName', at: 36 },
    { name: 'Workstation', at: 44 },
    { name: 'EncryptedRandomSessionKey', at: 52 },
  ], 'AUTHENTICATE');
  const [lm, nt, domain, user, workstation, key] = located as [Located, Located, Located, Located, Located, Located];
  // Check the fields against the shortest header first so a response is never read from header octets.
  checkLayout(located, 64, 'AUTHENTICATE');
  const ntBytes = slice(bytes, nt);
  const ntlmv2 = ntBytes.length === 0 ? undefined : decodeNtlmv2Response(ntBytes);
  if (lm.length !== 0 && lm.length !== 1 && lm.length !== 24) fail(`NTLM AUTHENTICATE: LM response of ${lm.length} octets (expected 0, 1 or 24)`, { length: lm.length });
  if (key.length !== 0 && key.length !== 16) fail(`NTLM AUTHENTICATE: EncryptedRandomSessionKey of ${key.length} octets (expected 0 or 16)`, { length: key.length });
  const version = hasFlag(flags, NegotiateFlags.VERSION);
  // The MIC is present exactly when the client says so in MsvAvFlags (§2.2.2.1, §3.1.5.1.2).
  const micPresent = ntlmv2 !== undefined && ((ntlmv2.targetInfo.flags ?? 0) & MsvAvFlags.MIC_PRESENT) !== 0;
  const headerEnd = micPresent ? 88 : version ? 72 : 64;
  if (bytes.length < headerEnd) fail(`NTLM AUTHENTICATE: truncated header (${bytes.length} of ${headerEnd} octets)`, { length: bytes.length });
  checkLayout(located, headerEnd, 'AUTHENTICATE');
  const unicode = hasFlag(flags, NegotiateFlags.UNICODE);
  return {
    flags,
    lmChallengeResponse: slice(bytes, lm),
    ntChallengeResponse: ntBytes,
    domain: decodeString(slice(bytes, domain), unicode, 'DomainName'),
    user: decodeString(slice(bytes, user), unicode, 'UserName'),
    workstation: decodeString(slice(bytes, workstation), unicode, 'Workstation'),
    ...(key.length > 0 ? { encryptedRandomSessionKey: slice(bytes, key) } : {}),
    ...(version ? { version: decodeVersion(bytes, 64) } : {}),
    ...(micPresent ? { mic: bytes.slice(MIC_OFFSET, MIC_OFFSET + MIC_LENGTH) } : {}),
    ntlmv2,
  };
}
