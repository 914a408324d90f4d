import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes, fromHex, toHex, utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { generateKey } from '../crypto/index.js';
import {
  BadMechError, BadMicError, CfxFlags, channelBindingsHash, decodeGssChecksum, decodeInitialContextToken, decodeKrb5Token,
  DefectiveTokenError, encodeGssChecksum, encodeInitialContextToken, encodeKrb5Token, GssFlags, Krb5TokenId, makeMicToken,
  makeWrapToken, MechOid, SequenceWindow, tlsServerEndPoint, tlsServerEndPointHashAlgorithm, unwrapToken, verifyMicToken,
  GssUnavailableError, PendingContexts,
} from './index.js';
import { ManualClock } from '../core/clock.js';

const testdata = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'gss', 'testdata');

function pemToDer(pem: string): Uint8Array {
  return new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

// ---------------------------------------------------------------- RFC 2743 §3.1 framing

test('RFC 2743 §3.1 / RFC 1964 §1.1: krb5 AP-REQ token header bytes', () => {
  const token = encodeKrb5Token(Krb5TokenId.AP_REQ, fromHex('6e00'));
  // 60 len | 06 09 2a864886f712010202 | 01 00 | message
  assert.equal(toHex(token), '600f06092a864886f71201020201006e00');
  const back = decodeKrb5Token(token);
  assert.equal(back.mechOid, MechOid.KRB5);
  assert.equal(back.tokenId, Krb5TokenId.AP_REQ);
  assert.equal(toHex(back.message), '6e00');
});

test('RFC 2743 §3.1: long-form length and the SPNEGO OID 1.3.6.1.5.5.2', () => {
  const inner = new Uint8Array(200).fill(7);
  const token = encodeInitialContextToken(MechOid.SPNEGO, inner);
  assert.equal(toHex(token.subarray(0, 11)), '6081d006062b0601050502');
  const back = decodeInitialContextToken(token);
  assert.equal(back.mechOid, MechOid.SPNEGO);
  assert.deepEqual(back.inner, inner);
});

test('framing: the Microsoft Kerberos OID is accepted as Kerberos; other OIDs and bad headers are typed errors', () => {
  const ms = encodeKrb5Token(Krb5TokenId.AP_REP, fromHex('6f00'), MechOid.KRB5_MS);
  assert.equal(toHex(ms.subarray(2, 13)), '06092a864882f712010202');
  assert.equal(decodeKrb5Token(ms).mechOid, MechOid.KRB5_MS);
  assert.throws(() => decodeKrb5Token(encodeInitialContextToken(MechOid.SPNEGO, fromHex('0100'))), BadMechError);
  assert.throws(() => decodeKrb5Token(encodeInitialContextToken(MechOid.KRB5, fromHex('0404'))), DefectiveTokenError);
  assert.throws(() => decodeKrb5Token(fromHex('a0030101ff')), DefectiveTokenError);
  assert.throws(() => decodeKrb5Token(concatBytes(ms, fromHex('00'))), DefectiveTokenError);
  assert.throws(() => decodeKrb5Token(ms.subarray(0, ms.length - 1)), DefectiveTokenError);
});

// ---------------------------------------------------------------- RFC 4121 §4.1.1 checksum

test('RFC 4121 §4.1.1: 0x8003 checksum layout (Lgth, Bnd, Flags little-endian; DlgOpt/Dlgth/Deleg)', () => {
  const bnd = new Uint8Array(16).fill(0xab);
  const plain = encodeGssChecksum({ bnd, flags: GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG });
  assert.equal(toHex(plain), `10000000${'ab'.repeat(16)}3e000000`);
  const deleg = encodeGssChecksum({ bnd, flags: GssFlags.MUTUAL, delegation: fromHex('7603') });
  assert.equal(toHex(deleg), `10000000${'ab'.repeat(16)}0300000001000200` + '7603');
  assert.deepEqual(decodeGssChecksum(deleg), { bnd, flags: GssFlags.MUTUAL | GssFlags.DELEG, delegation: fromHex('7603') });
  // Extensions after the Flags field are ignored (§4.1.1).
  assert.deepEqual(decodeGssChecksum(concatBytes(plain, fromHex('0000000100000000'))), { bnd, flags: 0x3e });
});

test('RFC 4121 §4.1.1: big-endian Lgth (accepted like MIT) and malformed checksums', () => {
  const be = fromHex(`00000010${'00'.repeat(16)}00000002`);
  assert.equal(decodeGssChecksum(be).flags, GssFlags.MUTUAL);
  assert.throws(() => decodeGssChecksum(new Uint8Array(23)), DefectiveTokenError);
  assert.throws(() => decodeGssChecksum(fromHex(`11000000${'00'.repeat(16)}00000000`)), DefectiveTokenError);
  // DELEG with a Dlgth running past the end
  assert.throws(() => decodeGssChecksum(fromHex(`10000000${'00'.repeat(16)}010000000100ff00`)), DefectiveTokenError);
});

test('RFC 4121 §4.1.1.2: Bnd is zeros without bindings, else MD5 over the little-endian struct', () => {
  assert.equal(toHex(channelBindingsHash(undefined)), '00'.repeat(16));
  const app = utf8('tls-server-end-point:abc');
  const expected = createHash('md5').update(concatBytes(
    fromHex('00000000'), fromHex('00000000'), fromHex('00000000'), fromHex('00000000'), fromHex('18000000'), app,
  )).digest('hex');
  assert.equal(toHex(channelBindingsHash({ applicationData: app })), expected);
  assert.notEqual(toHex(channelBindingsHash({ applicationData: app, initiatorAddrType: 2, initiatorAddress: fromHex('7f000001') })), expected);
});

test('RFC 5929 §4.1: tls-server-end-point uses the signature hash, SHA-256 for SHA-1/MD5', () => {
  const rsa = pemToDer(readFileSync(join(testdata, 'cert-rsa-sha256.pem'), 'utf8'));
  const ec = pemToDer(readFileSync(join(testdata, 'cert-ecdsa-sha384.pem'), 'utf8'));
  const sha1 = pemToDer(readFileSync(join(testdata, 'cert-rsa-sha1.pem'), 'utf8'));
  assert.equal(tlsServerEndPointHashAlgorithm(rsa), 'sha256');
  assert.equal(tlsServerEndPointHashAlgorithm(ec), 'sha384');
  assert.equal(tlsServerEndPointHashAlgorithm(sha1), 'sha256');
  const cb = tlsServerEndPoint(ec);
  assert.equal(toHex(cb.applicationData!), toHex(concatBytes(utf8('tls-server-end-point:'), createHash('sha384').update(ec).digest())));
  assert.throws(() => tlsServerEndPoint(fromHex('3000')));
});

// ---------------------------------------------------------------- RFC 4121 §4.2 CFX tokens

const random = seededRandom(4121);
const initiatorKey = generateKey(18, random);
const acceptorSubkey = generateKey(18, random);

test('RFC 4121 §4.2.6.1: MIC token header and round trip, initiator → acceptor', () => {
  const msg = utf8('hello');
  const token = makeMicToken({ key: initiatorKey, sentByAcceptor: false, acceptorSubkey: false }, 7n, msg);
  assert.equal(toHex(token.subarray(0, 16)), '04040' + '0ffffffffff0000000000000007');
  assert.equal(token.length, 16 + 12); // hmac-sha1-96-aes256
  assert.equal(verifyMicToken({ key: initiatorKey, expectSentByAcceptor: false }, msg, token), 7n);
  assert.throws(() => verifyMicToken({ key: initiatorKey, expectSentByAcceptor: false }, utf8('hellO'), token), BadMicError);
  // Reflected to its sender: wrong direction.
  assert.throws(() => verifyMicToken({ key: initiatorKey, expectSentByAcceptor: true }, msg, token), BadMicError);
});

test('RFC 4121 §4.2.6.2: confidential Wrap with the acceptor subkey, EC filler and RRC rotation', () => {
  const sender = { key: acceptorSubkey, sentByAcceptor: true, acceptorSubkey: true, random };
  const receiver = { key: initiatorKey, acceptorSubkey, expectSentByAcceptor: true };
  for (const [ec, rrc] of [[0, 0], [16, 28], [3, 1000]] as const) {
    const token = makeWrapToken(sender, 42n, utf8('secret message'), { ec, rrc });
    assert.equal(token[0], 0x05);
    assert.equal(token[1], 0x04);
    assert.equal(token[2], CfxFlags.SENT_BY_ACCEPTOR | CfxFlags.SEALED | CfxFlags.ACCEPTOR_SUBKEY);
    assert.equal((token[4]! << 8) | token[5]!, ec);
    assert.equal((token[6]! << 8) | token[7]!, rrc);
    const r = unwrapToken(receiver, token);
    assert.deepEqual([new TextDecoder().decode(r.message), r.conf, r.seq], ['secret message', true, 42n]);
  }
  const token = makeWrapToken(sender, 1n, utf8('x'));
  const tampered = token.slice();
  tampered[tampered.length - 1]! ^= 1;
  assert.throws(() => unwrapToken(receiver, tampered), BadMicError);
  // The outer header's sequence number must match the encrypted copy.
  const moved = token.slice();
  moved[15]! ^= 1;
  assert.throws(() => unwrapToken(receiver, moved), BadMicError);
});

test('RFC 4121 §4.2.6.2: integrity-only Wrap (EC = checksum length, RRC rotation) and an empty message', () => {
  const sender = { key: initiatorKey, sentByAcceptor: false, acceptorSubkey: false };
  const receiver = { key: initiatorKey, expectSentByAcceptor: false };
  for (const rrc of [0, 12, 5]) {
    const token = makeWrapToken(sender, 9n, utf8('plain text'), { conf: false, rrc });
    assert.equal(token[2], 0);
    assert.equal((token[4]! << 8) | token[5]!, 12);
    const r = unwrapToken(receiver, token);
    assert.deepEqual([new TextDecoder().decode(r.message), r.conf], ['plain text', false]);
  }
  const plain = makeWrapToken(sender, 0n, utf8('plain text'), { conf: false });
  assert.equal(new TextDecoder().decode(plain.subarray(16, 26)), 'plain text');
  const altered = plain.slice();
  altered[16]! ^= 0x20;
  assert.throws(() => unwrapToken(receiver, altered), BadMicError);
  assert.deepEqual(unwrapToken(receiver, makeWrapToken(sender, 3n, new Uint8Array(0))).message, new Uint8Array(0));
});

test('RFC 4121 §4.2: malformed per-message tokens and rc4 keys are typed errors', () => {
  const receiver = { key: initiatorKey, expectSentByAcceptor: false };
  assert.throws(() => unwrapToken(receiver, new Uint8Array(10)), DefectiveTokenError);
  assert.throws(() => verifyMicToken(receiver, utf8('m'), fromHex('0505' + '00'.repeat(26))), DefectiveTokenError);
  assert.throws(() => verifyMicToken(receiver, utf8('m'), fromHex('040400fffffffffe' + '00'.repeat(20))), DefectiveTokenError);
  const rc4 = generateKey(23, random, { allowWeak: true });
  assert.throws(() => makeMicToken({ key: rc4, sentByAcceptor: false, acceptorSubkey: false }, 0n, utf8('m')), GssUnavailableError);
});

// ---------------------------------------------------------------- RFC 2743 §1.2.3 sequencing

test('RFC 2743 §1.2.3: replay detection and sequence reporting over a 64-token window', () => {
  const w = new SequenceWindow(1000, { replay: true, sequence: true });
  assert.equal(w.check(1000n), 'ok');
  assert.equal(w.check(1001n), 'ok');
  assert.equal(w.check(1001n), 'duplicate');
  assert.equal(w.check(1005n), 'gap');
  assert.equal(w.check(1003n), 'unseq');
  assert.equal(w.check(1003n), 'duplicate');
  assert.equal(w.check(1006n), 'ok');
  assert.equal(w.check(1200n), 'gap');
  assert.equal(w.check(1006n), 'old');
  const replayOnly = new SequenceWindow(0xfffffffe, { replay: true, sequence: false });
  assert.equal(replayOnly.check(0xfffffffen), 'ok');
  assert.equal(replayOnly.check(0x100000000n), 'ok'); // out of order is fine without the sequence flag
  assert.equal(replayOnly.check(0xffffffffn), 'ok');
  assert.equal(replayOnly.check(0xffffffffn), 'duplicate');
  const none = new SequenceWindow(5, { replay: false, sequence: false });
  assert.equal(none.check(5n), 'ok');
  assert.equal(none.check(5n), 'ok');
});

// ---------------------------------------------------------------- pending contexts

test('pending contexts: bounded in size and expiring on the injected clock', async () => {
  const clock = new ManualClock();
  const table = new PendingContexts<string, number>({ clock, maxEntries: 2, ttlMs: 1000 });
  table.set('a', 1);
  table.set('b', 2);
  table.set('c', 3);
  assert.equal(table.get('a'), undefined);
  assert.equal(table.size, 2);
  await clock.advance(500);
  table.set('b', 20); // restarts b's lifetime
  await clock.advance(600);
  assert.equal(table.get('c'), undefined);
  assert.equal(table.take('b'), 20);
  assert.equal(table.size, 0);
});
