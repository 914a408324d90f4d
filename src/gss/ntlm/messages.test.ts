/**
 * MS-NLMP §2.2 codecs: the §4.2.4.3 messages byte for byte, Chromium's
 * NEGOTIATE and MIC-bearing AUTHENTICATE (vectors.ts), round trips, and the
 * strict decoder's refusals, each with its typed error.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex, toHex } from '../../core/bytes.js';
import {
  avFlags, avString, avTimestamp, decodeAuthenticate, decodeChallenge, decodeNegotiate, decodeTargetInfo, encodeAuthenticate,
  encodeChallenge, encodeNegotiate, encodeTargetInfo, MAX_NTLM_MESSAGE, MsvAv, NegotiateFlags, NtlmAvPairError, NtlmFormatError,
  NtlmTooLargeError, NtlmV1RefusedError, ntowfv2, verifyNtlmv2Response,
} from './index.js';
import { CHROMIUM, COMMON, V2, WINDOWS_CBT } from './vectors.js';
import { KerbsideError } from '../../core/errors.js';

const h = fromHex;

function put32(b: Uint8Array, at: number, v: number): void {
  for (let i = 0; i < 4; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}
function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = v >>> 8;
}

test('§4.2.4.3 CHALLENGE: decode, and encode back byte for byte', () => {
  const c = decodeChallenge(h(V2.challenge));
  assert.equal(c.flags >>> 0, 0xe28a8233);
  assert.equal(toHex(c.serverChallenge), COMMON.serverChallenge);
  assert.equal(c.targetName, 'Server');
  assert.equal(c.targetInfo?.nbDomainName, 'Domain');
  assert.equal(c.targetInfo?.nbComputerName, 'Server');
  assert.deepEqual(c.targetInfo?.pairs.map((p) => p.id), [MsvAv.NbDomainName, MsvAv.NbComputerName]);
  assert.equal(toHex(c.targetInfoBytes!), V2.targetInfo);
  assert.deepEqual(c.version, { major: 6, minor: 0, build: 6000, revision: 15 });
  assert.equal(toHex(encodeChallenge(c)), V2.challenge);
});

test('§4.2.4.3 AUTHENTICATE: decode, and encode back byte for byte', () => {
  const a = decodeAuthenticate(h(V2.authenticate));
  assert.equal(a.flags >>> 0, 0xe2888235);
  assert.equal(a.user, COMMON.user);
  assert.equal(a.domain, COMMON.domain);
  assert.equal(a.workstation, COMMON.workstation);
  assert.equal(toHex(a.lmChallengeResponse), V2.lmv2Response);
  assert.equal(toHex(a.ntChallengeResponse), V2.ntProofStr + V2.temp);
  assert.equal(toHex(a.encryptedRandomSessionKey!), V2.encryptedSessionKey);
  assert.deepEqual(a.version, { major: 5, minor: 1, build: 2600, revision: 15 });
  assert.equal(a.mic, undefined);
  assert.equal(toHex(a.ntlmv2!.ntProofStr), V2.ntProofStr);
  assert.equal(toHex(a.ntlmv2!.clientChallenge), COMMON.clientChallenge);
  assert.equal(a.ntlmv2!.timestamp, 0n);
  assert.equal(a.ntlmv2!.targetInfo.nbComputerName, 'Server');
  assert.equal(toHex(encodeAuthenticate(a)), V2.authenticate);
});

test('Chromium NEGOTIATE and MIC-bearing AUTHENTICATE decode; the MIC sits at offset 72', () => {
  const n = decodeNegotiate(h(CHROMIUM.negotiate));
  assert.equal(n.flags, 0x00088207);
  assert.equal(n.domain, undefined);
  assert.equal(toHex(encodeNegotiate(n)), CHROMIUM.negotiate);
  const a = decodeAuthenticate(h(CHROMIUM.authenticate));
  assert.equal(toHex(a.mic!), CHROMIUM.mic);
  assert.equal(a.version, undefined); // NEGOTIATE_VERSION not set: the eight octets are zero padding
  assert.equal(a.user, 'User');
  const ti = a.ntlmv2!.targetInfo;
  assert.equal(ti.flags, 2);
  assert.equal(ti.targetName, 'HTTP/Server');
  assert.equal(toHex(ti.channelBindings!), CHROMIUM.channelBindingsHash);
  assert.equal(a.ntlmv2!.timestamp, CHROMIUM.clientTimestamp);
  assert.equal(a.encryptedRandomSessionKey, undefined);
  // Re-encoded in Windows payload order, it decodes to the same message.
  const again = decodeAuthenticate(encodeAuthenticate(a));
  assert.deepEqual(again, a);
});

test('round trips: NEGOTIATE with OEM names and Version, CHALLENGE with every AV pair, OEM AUTHENTICATE', () => {
  const neg = {
    flags: NegotiateFlags.UNICODE | NegotiateFlags.NTLM | NegotiateFlags.OEM_DOMAIN_SUPPLIED | NegotiateFlags.OEM_WORKSTATION_SUPPLIED | NegotiateFlags.VERSION,
    domain: 'DOMAIN', workstation: 'WS01', version: { major: 10, minor: 0, build: 19041, revision: 15 },
  };
  assert.deepEqual(decodeNegotiate(encodeNegotiate(neg)), neg);
  const pairs = [
    avString(MsvAv.NbDomainName, 'EXAMPLE'), avString(MsvAv.NbComputerName, 'SRV'), avString(MsvAv.DnsDomainName, 'example.com'),
    avString(MsvAv.DnsComputerName, 'srv.example.com'), avString(MsvAv.DnsTreeName, 'example.com'), avFlags(2), avTimestamp(0x01d2d400fdc80b80n),
    { id: MsvAv.SingleHost, value: concatBytes(h('30000000'), new Uint8Array(44)) }, avString(MsvAv.TargetName, 'HTTP/srv.example.com'),
    { id: MsvAv.ChannelBindings, value: h(CHROMIUM.channelBindingsHash) }, { id: 0x0042, value: h('0102') },
  ];
  const chal = { flags: NegotiateFlags.UNICODE | NegotiateFlags.TARGET_INFO, serverChallenge: h(COMMON.serverChallenge), targetName: 'EXAMPLE', targetInfo: { pairs } };
  const d = decodeChallenge(encodeChallenge(chal));
  assert.deepEqual(d.targetInfo?.pairs, pairs);
  assert.equal(d.targetInfo?.dnsComputerName, 'srv.example.com');
  assert.equal(d.targetInfo?.dnsTreeName, 'example.com');
  assert.equal(d.targetInfo?.timestamp, 0x01d2d400fdc80b80n);
  assert.equal(d.targetInfo?.singleHost?.length, 48);
  assert.equal(toHex(encodeChallenge(d)), toHex(encodeChallenge(chal)));
  const v2 = decodeAuthenticate(h(V2.authenticate));
  const oem = { ...v2, flags: (v2.flags & ~NegotiateFlags.UNICODE) | NegotiateFlags.OEM, user: 'J\u00f6rg' };
  assert.equal(decodeAuthenticate(encodeAuthenticate(oem)).user, 'J\u00f6rg');
  assert.throws(() => encodeAuthenticate({ ...oem, user: '\u0416' }), NtlmFormatError);
});

test('NTLMv1 responses are refused with their own error', () => {
  const v1 = decodeAuthenticate(h(V2.authenticate));
  const msg = encodeAuthenticate({ ...v1, ntChallengeResponse: new Uint8Array(24).fill(0x11) });
  assert.throws(() => decodeAuthenticate(msg), (e: unknown) => e instanceof NtlmV1RefusedError && e.code === 'ERR_NTLM_V1_REFUSED' && /NTLMv1 is not accepted/.test(e.message));
  // Anonymous (empty NT response) decodes, with no NTLMv2 part.
  const anon = decodeAuthenticate(encodeAuthenticate({ ...v1, ntChallengeResponse: new Uint8Array(0), lmChallengeResponse: new Uint8Array(1) }));
  assert.equal(anon.ntlmv2, undefined);
});

const isTyped = (e: unknown): boolean => e instanceof KerbsideError;

test('truncation at every offset gives a typed error', () => {
  for (const [hex, decode] of [[V2.challenge, decodeChallenge], [V2.authenticate, decodeAuthenticate], [CHROMIUM.authenticate, decodeAuthenticate], [CHROMIUM.negotiate, decodeNegotiate]] as const) {
    const full = h(hex);
    for (let n = 0; n < full.length; n++) {
      assert.throws(() => decode(full.subarray(0, n)), (e: unknown) => e instanceof NtlmFormatError, `length ${n}`);
    }
  }
});

test('signature, message type, offsets outside, overlaps with the header or each other', () => {
  const bad = (mutate: (b: Uint8Array) => void, decode: (b: Uint8Array) => unknown, hex: string, re: RegExp): void => {
    const b = h(hex);
    mutate(b);
    assert.throws(() => decode(b), (e: unknown) => e instanceof NtlmFormatError && re.test(e.message));
  };
  bad((b) => { b[7] = 1; }, decodeAuthenticate, V2.authenticate, /signature/);
  bad((b) => { b[8] = 2; }, decodeAuthenticate, V2.authenticate, /MessageType is 2/);
  bad((b) => { put32(b, 24, 0x1000); }, decodeAuthenticate, V2.authenticate, /runs past the end/);
  bad((b) => { put32(b, 24, 0xffffffff); }, decodeAuthenticate, V2.authenticate, /runs past the end/);
  bad((b) => { put32(b, 32, 40); }, decodeAuthenticate, V2.authenticate, /overlaps the 64-octet header|overlaps the 72-octet header/);
  bad((b) => { put32(b, 32, 66); }, decodeAuthenticate, V2.authenticate, /overlaps the 72-octet header/);
  bad((b) => { put32(b, 40, 0x48 + 4); }, decodeAuthenticate, V2.authenticate, /DomainName and UserName overlap/);
  bad((b) => { put32(b, 44, 0x30); }, decodeChallenge, V2.challenge, /overlaps the 56-octet header/);
  bad((b) => { put32(b, 16, 0x40); }, decodeChallenge, V2.challenge, /TargetName and TargetInfo overlap/);
  // The MIC region (72..88) belongs to the header when MsvAvFlags says a MIC is present.
  bad((b) => { put32(b, 32, 80); put16(b, 28, 8); }, decodeAuthenticate, CHROMIUM.authenticate, /overlaps the 88-octet header/);
  // Odd-length Unicode string.
  bad((b) => { put16(b, 36, 7); }, decodeAuthenticate, V2.authenticate, /odd length/);
});

test('AV_PAIR lists: missing EOL, duplicate id, wrong sizes, trailing octets', () => {
  const ti = h(V2.targetInfo);
  assert.equal(decodeTargetInfo(ti).nbDomainName, 'Domain');
  const av = (bytes: Uint8Array, re: RegExp): void => {
    assert.throws(() => decodeTargetInfo(bytes), (e: unknown) => e instanceof NtlmAvPairError && e.code === 'ERR_NTLM_AV_PAIR' && re.test(e.message));
  };
  av(ti.subarray(0, ti.length - 4), /without MsvAvEOL/);
  av(concatBytes(ti.subarray(0, 16), ti.subarray(0, 16), h('00000000')), /appears twice/);
  av(concatBytes(ti, h('00')), /after MsvAvEOL/);
  av(h('0000010000'), /MsvAvEOL with length 1/);
  av(h('060003000000000000'), /MsvAvFlags of length 3/);
  av(h('0700040000000000' + '00000000'), /MsvAvTimestamp of length 4/);
  av(h('0a000400000000000000' + '0000'), /ChannelBindings of length 4/);
  av(h('08000800080000000000000000000000'), /SingleHost/);
  // Inside a CHALLENGE the same errors come out of decodeChallenge.
  const c = h(V2.challenge);
  c[c.length - 4] = 0x05; // EOL becomes MsvAvDnsTreeName of length 0, and no EOL follows
  assert.throws(() => decodeChallenge(c), NtlmAvPairError);
  // The encoder refuses what the decoder refuses.
  assert.throws(() => encodeTargetInfo([avFlags(0), avFlags(2)]), NtlmAvPairError);
  assert.throws(() => encodeTargetInfo([{ id: MsvAv.EOL, value: new Uint8Array(0) }]), NtlmAvPairError);
});

test('oversized messages are refused before parsing, in both directions', () => {
  const big = new Uint8Array(MAX_NTLM_MESSAGE + 1);
  big.set(h(V2.authenticate));
  for (const decode of [decodeNegotiate, decodeChallenge, decodeAuthenticate]) {
    assert.throws(() => decode(big), (e: unknown) => e instanceof NtlmTooLargeError && e instanceof NtlmFormatError && e.code === 'ERR_NTLM_TOO_LARGE');
  }
  const a = decodeAuthenticate(h(V2.authenticate));
  assert.throws(() => encodeAuthenticate({ ...a, workstation: 'x'.repeat(40000) }), NtlmTooLargeError);
});

test('errors carry a hint and never the password or response bytes', () => {
  const b = h(V2.authenticate);
  put32(b, 24, 0x1000);
  try {
    decodeAuthenticate(b);
    assert.fail('expected a failure');
  } catch (e) {
    assert.ok(isTyped(e));
    const err = e as NtlmFormatError;
    assert.ok(err.hint !== undefined && err.hint.length > 0);
    assert.ok(!err.explain().includes(V2.ntProofStr) && !err.explain().includes(COMMON.password));
  }
});

test('a real Windows 7 AUTHENTICATE (gss-ntlmssp T_NTLMv2_CBT): decode, verify, re-encode byte for byte', () => {
  const bytes = h(WINDOWS_CBT.authenticate);
  const a = decodeAuthenticate(bytes);
  assert.equal(a.user, WINDOWS_CBT.user);
  assert.equal(a.domain, WINDOWS_CBT.domain);
  assert.equal(a.workstation, WINDOWS_CBT.workstation);
  assert.equal(toHex(a.lmChallengeResponse), '00'.repeat(24));
  assert.equal(a.encryptedRandomSessionKey, undefined);
  assert.equal(toHex(a.mic!), WINDOWS_CBT.mic);
  assert.deepEqual(a.version, { major: 6, minor: 1, build: 7600, revision: 15 });
  const ti = a.ntlmv2!.targetInfo;
  assert.equal(ti.timestamp, WINDOWS_CBT.serverTime);
  assert.equal(a.ntlmv2!.timestamp, WINDOWS_CBT.serverTime);
  assert.equal(ti.flags, 2);
  assert.equal(ti.singleHost?.length, 48);
  assert.equal(ti.dnsComputerName, 'DC-ws2008r2.ws2008r2.local');
  assert.equal(ti.targetName, 'HTTP/dc-ws2008r2.ws2008r2.local');
  assert.equal(toHex(ti.channelBindings!), WINDOWS_CBT.channelBindingsHash);
  const key = ntowfv2({ ntHash: h(WINDOWS_CBT.ntHash) }, a.user, a.domain);
  verifyNtlmv2Response(key, h(WINDOWS_CBT.serverChallenge), a.ntlmv2!.ntProofStr, a.ntlmv2!.blob);
  assert.equal(toHex(encodeAuthenticate(a)), WINDOWS_CBT.authenticate);
});

test('NTLMv2 response framing: too short, wrong response type, AV pairs without EOL', () => {
  const a = decodeAuthenticate(h(V2.authenticate));
  const withNt = (nt: Uint8Array): Uint8Array => encodeAuthenticate({ ...a, ntChallengeResponse: nt });
  const nt = a.ntChallengeResponse;
  assert.throws(() => decodeAuthenticate(withNt(nt.subarray(0, 30))), (e: unknown) => e instanceof NtlmFormatError && /too short for NTLMv2/.test(e.message));
  const badType = nt.slice();
  badType[16] = 2;
  assert.throws(() => decodeAuthenticate(withNt(badType)), (e: unknown) => e instanceof NtlmFormatError && /response type/.test(e.message));
  // Cut inside the AV pairs (before MsvAvEOL).
  assert.throws(() => decodeAuthenticate(withNt(nt.subarray(0, 60))), NtlmAvPairError);
  // LM response and session key lengths.
  assert.throws(() => decodeAuthenticate(encodeAuthenticate({ ...a, lmChallengeResponse: new Uint8Array(16) })), /LM response of 16/);
});
