/**
 * Strictness of the PKINIT codecs (RFC 4556 §3.2.1–3.2.3): the IMPLICIT
 * fields are primitive OCTET STRINGs, the EXPLICIT ones are wrapped, fields
 * come in definition order, and nothing follows a value.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import {
  Asn1EncodeError, Asn1Error, Asn1TagError, Asn1TrailingError, AuthPack, DhRepInfo, KdcDhKeyInfo, PaPkAsRep, PaPkAsReq, SubjectPublicKeyInfoDer,
} from './index.js';

test('PA-PK-AS-REQ: signedAuthPack is [0] IMPLICIT (primitive 0x80), not explicit or constructed', () => {
  assert.deepEqual(PaPkAsReq.decode(fromHex('30038001ff')), { signedAuthPack: Uint8Array.of(0xff) });
  assert.throws(() => PaPkAsReq.decode(fromHex('3005a0030401ff')), Asn1TagError);
  assert.throws(() => PaPkAsReq.decode(fromHex('3000')), Asn1TagError);
  // kdcPkId before trustedCertifiers: out of order.
  assert.throws(() => PaPkAsReq.decode(fromHex('30098001ff8200a1023000')), Asn1TagError);
  assert.throws(() => PaPkAsReq.decode(fromHex('30038001ff00')), Asn1TrailingError);
});

test('DHRepInfo: serverDHNonce is [1] EXPLICIT (MIT 1.20); the old implicit form is refused', () => {
  const explicit = DhRepInfo.encode({ dhSignedData: utf8('sd'), serverDHNonce: utf8('n') });
  assert.equal(toHex(explicit), '300980027364a1030401' + '6e');
  assert.throws(() => DhRepInfo.decode(fromHex('30078002736481016e')), Asn1TagError);
});

test('PA-PK-AS-REP: dhInfo is [0] EXPLICIT, encKeyPack [1] IMPLICIT', () => {
  assert.deepEqual(PaPkAsRep.decode(fromHex('8100')), { type: 'encKeyPack', value: new Uint8Array(0) });
  assert.throws(() => PaPkAsRep.decode(fromHex('a1020400')), Asn1TagError);
  assert.throws(() => PaPkAsRep.decode(fromHex('8000')), Asn1TagError);
});

test('KDCDHKeyInfo: nonce is UInt32 and the public key a BIT STRING', () => {
  const v = { subjectPublicKey: { bytes: Uint8Array.of(2, 1, 5), unusedBits: 0 }, nonce: 0xffffffff };
  assert.deepEqual(KdcDhKeyInfo.decode(KdcDhKeyInfo.encode(v)), v);
  assert.throws(() => KdcDhKeyInfo.decode(fromHex('300fa0050303000201a106020500ffffffff')), Asn1Error);
  assert.throws(() => KdcDhKeyInfo.decode(fromHex('300aa0030401ffa103020101')), Asn1TagError);
});

test('AuthPack: clientPublicValue must be a SEQUENCE, kept byte for byte', () => {
  const base = AuthPack.encode({ pkAuthenticator: { cusec: 0, ctime: new Date(Date.UTC(1994, 5, 10, 6, 3, 17)), nonce: 0 } });
  const decoded = AuthPack.decode(base);
  assert.equal(decoded.clientPublicValue, undefined);
  // SubjectPublicKeyInfo { AlgorithmIdentifier { 1.2.3.4 }, BIT STRING '' }.
  const spki = fromHex('300a300506032a0304030100');
  assert.deepEqual(SubjectPublicKeyInfoDer.decode(spki), spki);
  const withKey = AuthPack.encode({ ...decoded, clientPublicValue: spki });
  assert.deepEqual(AuthPack.decode(withKey).clientPublicValue, spki);
  assert.throws(() => AuthPack.encode({ ...decoded, clientPublicValue: Uint8Array.of(0x04, 0x00) }), Asn1EncodeError);
  assert.throws(() => SubjectPublicKeyInfoDer.decode(Uint8Array.of(0x04, 0x00)), Asn1TagError);
});
