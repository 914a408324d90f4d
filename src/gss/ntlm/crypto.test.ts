/**
 * NTLMv2 cryptography against [MS-NLMP] §4.2.4 (via gss-ntlmssp's and
 * Chromium's transcriptions, see vectors.ts) and Chromium's MIC vector.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex, toHex } from '../../core/bytes.js';
import { rc4, rc4Stream } from '../../crypto/index.js';
import { BadBindingsError } from '../errors.js';
import { seededRandom, type RandomSource } from '../../core/random.js';
import {
  acceptAuthenticate, acceptorExportedSessionKey, avTimestamp, buildAuthenticate, encodeChallenge, chooseExportedSessionKey, computeMic, decodeAuthenticate, decodeChallenge, filetimeFromUnixMs, kxkeyV2,
  lmowfv2, lmv2Response, NegotiateFlags, NtlmIntegrityError, NtlmNegotiationError, NtlmSessionSecurity, ntHash, ntlmv2Response,
  ntowfv2, sealKey, signKey, unwrapSessionKey, verifyMic, verifyNtlmv2Response, wrapSessionKey,
} from './index.js';
import { CHROMIUM, COMMON, V2 } from './vectors.js';

const h = fromHex;
const fixed = (hex: string): RandomSource => ({ bytes: (n) => h(hex).slice(0, n), int: () => 0 });

test('NTOWFv2 and LMOWFv2 from the password and from the NT hash (§4.2.4.1.1)', () => {
  assert.equal(toHex(ntowfv2({ password: COMMON.password }, COMMON.user, COMMON.domain)), V2.responseKeyNT);
  assert.equal(toHex(ntowfv2({ ntHash: ntHash(COMMON.password) }, COMMON.user, COMMON.domain)), V2.responseKeyNT);
  assert.equal(toHex(lmowfv2({ password: COMMON.password }, COMMON.user, COMMON.domain)), V2.responseKeyNT);
  // §4.2.2.1.2 NTOWFv1("Password") is the NT hash.
  assert.equal(toHex(ntHash(COMMON.password)), 'a4f49c406510bdcab6824ee7c30fd852');
  // The user name is upper-cased, the domain is not.
  assert.equal(toHex(ntowfv2({ password: COMMON.password }, 'user', COMMON.domain)), V2.responseKeyNT);
  assert.notEqual(toHex(ntowfv2({ password: COMMON.password }, COMMON.user, 'DOMAIN')), V2.responseKeyNT);
  // Upper-casing keeps the length, as Windows does: "ß" is left alone rather than becoming "SS".
  assert.equal(toHex(ntowfv2({ password: 'x' }, 'stra\u00dfe', 'D')), toHex(ntowfv2({ password: 'x' }, 'STRA\u00dfE', 'D')));
  assert.notEqual(toHex(ntowfv2({ password: 'x' }, 'stra\u00dfe', 'D')), toHex(ntowfv2({ password: 'x' }, 'STRASSE', 'D')));
});

test('NTLMv2 response: temp, NTProofStr, SessionBaseKey (§4.2.4.1.2, §4.2.4.1.3, §4.2.4.2.2)', () => {
  const r = ntlmv2Response({
    responseKeyNT: h(V2.responseKeyNT), serverChallenge: h(COMMON.serverChallenge), clientChallenge: h(COMMON.clientChallenge),
    timestamp: COMMON.time, targetInfo: h(V2.targetInfo),
  });
  assert.equal(toHex(r.temp), V2.temp);
  assert.equal(toHex(r.ntProofStr), V2.ntProofStr);
  assert.equal(toHex(r.sessionBaseKey), V2.sessionBaseKey);
  assert.equal(toHex(r.ntChallengeResponse), V2.ntProofStr + V2.temp);
  assert.equal(toHex(kxkeyV2(r.sessionBaseKey)), V2.sessionBaseKey);
  // The acceptor recomputes it from the received blob.
  assert.equal(toHex(verifyNtlmv2Response(h(V2.responseKeyNT), h(COMMON.serverChallenge), r.ntProofStr, r.temp)), V2.sessionBaseKey);
  const wrong = ntowfv2({ password: 'Passw0rd' }, COMMON.user, COMMON.domain);
  assert.throws(() => verifyNtlmv2Response(wrong, h(COMMON.serverChallenge), r.ntProofStr, r.temp), (e: unknown) => e instanceof NtlmIntegrityError && !e.message.includes('Passw0rd'));
});

test('LMv2 response (§4.2.4.2.1)', () => {
  assert.equal(toHex(lmv2Response(h(V2.responseKeyNT), h(COMMON.serverChallenge), h(COMMON.clientChallenge))), V2.lmv2Response);
});

test('KEY_EXCH: the encrypted random session key (§4.2.4.2.3) and its unwrapping', () => {
  const flags = decodeChallenge(h(V2.challenge)).flags;
  const { exportedSessionKey, encryptedRandomSessionKey } = chooseExportedSessionKey(flags, h(V2.sessionBaseKey), fixed(COMMON.randomSessionKey));
  assert.equal(toHex(exportedSessionKey), COMMON.randomSessionKey);
  assert.equal(toHex(encryptedRandomSessionKey!), V2.encryptedSessionKey);
  assert.equal(toHex(wrapSessionKey(h(V2.sessionBaseKey), h(COMMON.randomSessionKey))), V2.encryptedSessionKey);
  assert.equal(toHex(unwrapSessionKey(h(V2.sessionBaseKey), h(V2.encryptedSessionKey))), COMMON.randomSessionKey);
  assert.equal(toHex(acceptorExportedSessionKey(flags, h(V2.sessionBaseKey), h(V2.encryptedSessionKey))), COMMON.randomSessionKey);
  assert.throws(() => acceptorExportedSessionKey(flags, h(V2.sessionBaseKey), undefined), NtlmNegotiationError);
  // Without KEY_EXCH the KeyExchangeKey is exported as it is.
  const noKx = flags & ~NegotiateFlags.KEY_EXCH;
  assert.equal(toHex(chooseExportedSessionKey(noKx, h(V2.sessionBaseKey), seededRandom(1)).exportedSessionKey), V2.sessionBaseKey);
  assert.equal(chooseExportedSessionKey(noKx, h(V2.sessionBaseKey), seededRandom(1)).encryptedRandomSessionKey, undefined);
});

test('the §4.2.4.3 AUTHENTICATE message verifies end to end as an acceptor would', () => {
  const challenge = decodeChallenge(h(V2.challenge));
  const auth = decodeAuthenticate(h(V2.authenticate));
  const key = ntowfv2({ password: COMMON.password }, auth.user, auth.domain);
  const sbk = verifyNtlmv2Response(key, challenge.serverChallenge, auth.ntlmv2!.ntProofStr, auth.ntlmv2!.blob);
  assert.equal(toHex(sbk), V2.sessionBaseKey);
  assert.equal(toHex(acceptorExportedSessionKey(auth.flags, kxkeyV2(sbk), auth.encryptedRandomSessionKey)), COMMON.randomSessionKey);
});

test('SIGNKEY and SEALKEY (§4.2.4.4), and the 56/40-bit seal key rules', () => {
  const flags = decodeChallenge(h(V2.challenge)).flags;
  const esk = h(COMMON.randomSessionKey);
  assert.equal(toHex(signKey(flags, esk, 'client')), V2.clientSignKey);
  assert.equal(toHex(sealKey(flags, esk, 'client')), V2.clientSealKey);
  const k128 = toHex(sealKey(flags, esk, 'client'));
  const k56 = toHex(sealKey(flags & ~NegotiateFlags.NEGOTIATE_128, esk, 'client'));
  const k40 = toHex(sealKey(flags & ~(NegotiateFlags.NEGOTIATE_128 | NegotiateFlags.NEGOTIATE_56), esk, 'client'));
  assert.equal(new Set([k128, k56, k40]).size, 3);
  // 56-bit: only the first 7 octets count.
  const other = esk.slice();
  other[7] = 0;
  assert.equal(toHex(sealKey(flags & ~NegotiateFlags.NEGOTIATE_128, other, 'client')), k56);
  assert.notEqual(toHex(signKey(flags, esk, 'server')), V2.clientSignKey);
  assert.throws(() => signKey(flags & ~NegotiateFlags.EXTENDED_SESSIONSECURITY, esk, 'client'), NtlmNegotiationError);
});

test('GSS_WrapEx of "Plaintext" with sequence number 0 (§4.2.4.4), then unwrapped by the server', () => {
  const flags = decodeChallenge(h(V2.challenge)).flags;
  const client = new NtlmSessionSecurity(flags, h(COMMON.randomSessionKey), 'client');
  const server = new NtlmSessionSecurity(flags, h(COMMON.randomSessionKey), 'server');
  const { sealed, signature } = client.seal(h(V2.plaintext));
  assert.equal(toHex(sealed), V2.sealed);
  assert.equal(toHex(signature), V2.signature);
  assert.equal(toHex(server.unseal(sealed, signature)), V2.plaintext);
  // Sequence numbers move on in both directions; a replay fails.
  const second = client.seal(h(V2.plaintext));
  assert.equal(toHex(second.signature.subarray(12)), '01000000');
  assert.equal(toHex(server.unseal(second.sealed, second.signature)), V2.plaintext);
  assert.throws(() => server.unseal(second.sealed, second.signature), NtlmIntegrityError);
});

test('sign/verify both ways, with and without KEY_EXCH; tampering is refused', () => {
  for (const flags of [decodeChallenge(h(V2.challenge)).flags, decodeChallenge(h(V2.challenge)).flags & ~NegotiateFlags.KEY_EXCH]) {
    const client = new NtlmSessionSecurity(flags, h(COMMON.randomSessionKey), 'client');
    const server = new NtlmSessionSecurity(flags, h(COMMON.randomSessionKey), 'server');
    const msg = h('00112233');
    const sig = server.sign(msg);
    client.verify(msg, sig);
    const sig2 = client.sign(msg);
    const bad = sig2.slice();
    bad[5]! ^= 1;
    assert.throws(() => server.verify(msg, bad), NtlmIntegrityError);
    const wrapped = client.seal(h('deadbeef'));
    assert.throws(() => server.unseal(wrapped.sealed, wrapped.signature.subarray(0, 8)), NtlmIntegrityError);
  }
});

test('MIC over NEGOTIATE ‖ CHALLENGE ‖ AUTHENTICATE with the MIC zeroed (Chromium vector)', () => {
  const negotiate = h(CHROMIUM.negotiate);
  const challenge = h(V2.challenge);
  const authenticate = h(CHROMIUM.authenticate);
  // Chromium's client: NTLMv2 response with its own timestamp and the extended TargetInfo.
  const r = ntlmv2Response({
    responseKeyNT: h(V2.responseKeyNT), serverChallenge: h(COMMON.serverChallenge), clientChallenge: h(COMMON.clientChallenge),
    timestamp: CHROMIUM.clientTimestamp, targetInfo: h(CHROMIUM.targetInfo),
  });
  assert.equal(toHex(r.ntProofStr), CHROMIUM.ntProofStr);
  assert.equal(toHex(r.sessionBaseKey), CHROMIUM.sessionBaseKey);
  // No KEY_EXCH: ExportedSessionKey = KeyExchangeKey = SessionBaseKey.
  const esk = kxkeyV2(r.sessionBaseKey);
  assert.equal(toHex(computeMic(esk, negotiate, challenge, authenticate)), CHROMIUM.mic);
  verifyMic(esk, negotiate, challenge, authenticate);
  // Any altered octet of any of the three messages breaks it (downgrade protection).
  const flipped = negotiate.slice();
  flipped[12]! ^= 0x02;
  assert.throws(() => verifyMic(esk, flipped, challenge, authenticate), NtlmIntegrityError);
  const authFlipped = authenticate.slice();
  authFlipped[61]! ^= 0x01;
  assert.throws(() => verifyMic(esk, negotiate, challenge, authFlipped), NtlmIntegrityError);
});

test('FILETIME from Unix milliseconds', () => {
  assert.equal(filetimeFromUnixMs(0), 116444736000000000n);
  // Chromium's kClientTimestamp: Tue, 23 May 2017 20:13:07 UTC.
  assert.equal(filetimeFromUnixMs(Date.UTC(2017, 4, 23, 20, 13, 7)), CHROMIUM.clientTimestamp);
});

/** Hands out the given octets in order, as a client's random source would. */
function scripted(...chunks: string[]): RandomSource {
  const queue = chunks.map((c) => h(c));
  return {
    bytes(n) {
      const next = queue.shift();
      assert.ok(next !== undefined && next.length === n, `unexpected random request of ${n} octets`);
      return next;
    },
    int: () => 0,
  };
}

test('buildAuthenticate reproduces Chromium\'s NTLMv2 response, and acceptAuthenticate checks proof, key and MIC', () => {
  const input = {
    negotiate: h(CHROMIUM.negotiate), challenge: h(V2.challenge), user: COMMON.user, domain: COMMON.domain, workstation: COMMON.workstation,
    secret: { password: COMMON.password }, timestamp: CHROMIUM.clientTimestamp, channelBindingsHash: h(CHROMIUM.channelBindingsHash), targetName: 'HTTP/Server',
  };
  const built = buildAuthenticate({ ...input, random: scripted(COMMON.clientChallenge, COMMON.randomSessionKey) });
  const a = decodeAuthenticate(built.authenticate);
  // Same NTLMv2 response as Chromium's client for the same inputs (its TargetInfo order: server pairs, Flags, CB, TargetName).
  assert.equal(toHex(a.ntlmv2!.ntProofStr), CHROMIUM.ntProofStr);
  assert.equal(toHex(a.ntChallengeResponse.subarray(44, 44 + h(CHROMIUM.targetInfo).length)), CHROMIUM.targetInfo);
  // The §4.2.4 CHALLENGE negotiates KEY_EXCH: the random key 0x55… is exported, wrapped under the SessionBaseKey.
  assert.equal(toHex(built.exportedSessionKey), COMMON.randomSessionKey);
  assert.equal(toHex(unwrapSessionKey(h(CHROMIUM.sessionBaseKey), a.encryptedRandomSessionKey!)), COMMON.randomSessionKey);
  assert.equal(toHex(a.lmChallengeResponse), toHex(lmv2Response(h(V2.responseKeyNT), h(COMMON.serverChallenge), h(COMMON.clientChallenge))));
  const accepted = acceptAuthenticate(input.negotiate, input.challenge, built.authenticate, () => ({ ntHash: ntHash(COMMON.password) }));
  assert.equal(toHex(accepted.exportedSessionKey), COMMON.randomSessionKey);
  assert.equal(accepted.message.ntlmv2?.targetInfo.targetName, 'HTTP/Server');
  // Channel bindings (EPA): the acceptor's own hash must match the client's.
  acceptAuthenticate(input.negotiate, input.challenge, built.authenticate, () => input.secret, { channelBindingsHash: h(CHROMIUM.channelBindingsHash) });
  assert.throws(() => acceptAuthenticate(input.negotiate, input.challenge, built.authenticate, () => input.secret, { channelBindingsHash: new Uint8Array(16) }),
    (e: unknown) => e instanceof BadBindingsError);
  // A NEGOTIATE altered in transit (flags stripped by a man in the middle) is caught by the MIC.
  const downgraded = input.negotiate.slice();
  downgraded[14] = 0;
  assert.throws(() => acceptAuthenticate(downgraded, input.challenge, built.authenticate, () => input.secret), NtlmIntegrityError);
  assert.throws(() => acceptAuthenticate(input.negotiate, input.challenge, built.authenticate, () => ({ password: 'wrong' })), NtlmIntegrityError);
  // A client without a MIC (the §4.2.4.3 message) is refused.
  assert.throws(() => acceptAuthenticate(input.negotiate, input.challenge, h(V2.authenticate), () => input.secret), (e: unknown) => e instanceof NtlmIntegrityError && /no MIC/.test(e.message));
});

test('buildAuthenticate uses the server\'s MsvAvTimestamp and then sends Z(24) as LM response', () => {
  const c = decodeChallenge(h(V2.challenge));
  const challenge = encodeChallenge({ ...c, targetInfo: { pairs: [...c.targetInfo!.pairs, avTimestamp(0x01d2d400fdc80b80n)] } });
  const built = buildAuthenticate({
    negotiate: h(CHROMIUM.negotiate), challenge, user: 'User', domain: 'Domain', workstation: 'WS', secret: { password: 'Password' },
    timestamp: 1n, random: seededRandom(7),
  });
  const a = decodeAuthenticate(built.authenticate);
  assert.equal(a.ntlmv2!.timestamp, 0x01d2d400fdc80b80n);
  assert.equal(toHex(a.lmChallengeResponse), '00'.repeat(24));
  assert.equal(toHex(a.ntlmv2!.targetInfo.channelBindings!), '00'.repeat(16));
  acceptAuthenticate(h(CHROMIUM.negotiate), challenge, built.authenticate, () => ({ password: 'Password' }));
});

test('rc4Stream continues one keystream across calls', () => {
  const key = h('0102030405');
  const s = rc4Stream(key);
  const data = h('00112233445566778899aabbccddeeff0011');
  assert.equal(toHex(concatBytes(s(data.subarray(0, 5)), s(data.subarray(5)))), toHex(rc4(key, data)));
});
