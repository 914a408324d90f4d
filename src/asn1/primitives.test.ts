/** Universal types under DER (X.690 §8, §10, §11) and RFC 4120 §5.2 constraints. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../core/bytes.js';
import {
  Asn1EncodeError, Asn1Error, Asn1TagError, Asn1ValueError, bigInteger, bitString, boolean, enumerated,
  generalString, ia5String, int32, integer, kerberosFlags, kerberosTime, nullValue, objectIdentifier, octetString,
  uint32, utf8String,
} from './index.js';
import type { Codec } from './index.js';

function rejects<T>(codec: Codec<T>, hex: string, ctor: new (...a: never[]) => Asn1Error = Asn1ValueError): void {
  assert.throws(() => codec.decode(fromHex(hex)), (e: unknown) => e instanceof ctor && e instanceof Asn1Error, hex);
}
function roundTrip<T>(codec: Codec<T>, value: T, hex: string): void {
  assert.equal(toHex(codec.encode(value)), toHex(fromHex(hex)), `encode ${String(value)}`);
  assert.deepEqual(codec.decode(fromHex(hex)), value);
}

test('INTEGER: minimal two\'s complement both ways', () => {
  roundTrip(int32, 0, '02 01 00');
  roundTrip(int32, 127, '02 01 7f');
  roundTrip(int32, 128, '02 02 00 80');
  roundTrip(int32, -1, '02 01 ff');
  roundTrip(int32, -128, '02 01 80');
  roundTrip(int32, -129, '02 02 ff 7f');
  roundTrip(int32, 0x7fffffff, '02 04 7f ff ff ff');
  roundTrip(int32, -0x80000000, '02 04 80 00 00 00');
  roundTrip(uint32, 0xffffffff, '02 05 00 ff ff ff ff');
  roundTrip(bigInteger, 0x0123456789abcdef0123n, '02 0a 01 23 45 67 89 ab cd ef 01 23');
  roundTrip(bigInteger, -(2n ** 64n), '02 09 ff 00 00 00 00 00 00 00 00');
  roundTrip(enumerated, 2, '0a 01 02');
});

test('INTEGER: non-minimal encodings are rejected', () => {
  rejects(int32, '02 02 00 7f');
  rejects(int32, '02 02 ff 80');
  rejects(int32, '02 00');
});

test('Int32 / UInt32 ranges are checked on decode and encode', () => {
  assert.equal(int32.decode(fromHex('02 04 80 00 00 00')), -0x80000000);
  rejects(int32, '02 05 00 80 00 00 00'); // …2^31 is not
  rejects(uint32, '02 01 ff');
  rejects(uint32, '02 05 01 00 00 00 00');
  rejects(int32, '02 09 01 00 00 00 00 00 00 00 00');
  assert.throws(() => int32.encode(2 ** 31), Asn1EncodeError);
  assert.throws(() => uint32.encode(-1), Asn1EncodeError);
  assert.throws(() => int32.encode(1.5), Asn1EncodeError);
  const small = integer({ min: 0, max: 999999 }, 'Microseconds');
  rejects(small, '02 03 0f 42 40'); // 1000000
});

test('BOOLEAN: DER allows only 0x00 and 0xFF (0x01 is rejected)', () => {
  roundTrip(boolean, true, '01 01 ff');
  roundTrip(boolean, false, '01 01 00');
  rejects(boolean, '01 01 01');
  rejects(boolean, '01 02 00 00');
  rejects(boolean, '01 00');
});

test('NULL has no content', () => {
  roundTrip(nullValue, null, '05 00');
  rejects(nullValue, '05 01 00');
});

test('OCTET STRING round-trips and the constructed form is rejected', () => {
  roundTrip(octetString, fromHex('00ff10'), '04 03 00 ff 10');
  roundTrip(octetString, new Uint8Array(0), '04 00');
  rejects(octetString, '24 03 04 01 61', Asn1TagError);
});

test('BIT STRING: unused bits 0..7, zero padding, empty string has 0 unused', () => {
  roundTrip(bitString, { bytes: fromHex('a0'), unusedBits: 5 }, '03 02 05 a0');
  roundTrip(bitString, { bytes: new Uint8Array(0), unusedBits: 0 }, '03 01 00');
  rejects(bitString, '03 02 08 00');
  rejects(bitString, '03 01 03');
  rejects(bitString, '03 02 05 a1'); // padding bit set
  rejects(bitString, '03 00');
});

test('KerberosFlags (RFC 4120 §5.2.8): 32 bits out, longer and shorter accepted in', () => {
  roundTrip(kerberosFlags, 0xfedcba98, '03 05 00 fe dc ba 98');
  roundTrip(kerberosFlags, 0, '03 05 00 00 00 00 00');
  assert.deepEqual(kerberosFlags.encode(0x80000000 | 0), fromHex('03 05 00 80 00 00 00')); // negative int → same mask
  assert.equal(kerberosFlags.decode(fromHex('03 06 00 40 81 00 10 ff')), 0x40810010); // first 32 of 40 bits
  assert.equal(kerberosFlags.decode(fromHex('03 02 07 80')), 0x80000000); // RFC lenient option: missing bits are zero
  rejects(kerberosFlags, '03 05 08 00 00 00 00');
  rejects(kerberosFlags, '03 05 01 00 00 00 01');
  assert.throws(() => kerberosFlags.encode(2 ** 32), Asn1EncodeError);
});

test('KerberosString: UTF-8 in GeneralString accepted and written; invalid UTF-8 rejected', () => {
  roundTrip(generalString, 'ATHENA.MIT.EDU', '1b 0e 41 54 48 45 4e 41 2e 4d 49 54 2e 45 44 55');
  roundTrip(generalString, 'jörg', '1b 05 6a c3 b6 72 67');
  rejects(generalString, '1b 02 e9 41'); // Latin-1 é
  assert.throws(() => generalString.encode('\ud800'), Asn1EncodeError);
  roundTrip(utf8String, 'π', '0c 02 cf 80');
  roundTrip(ia5String, 'abc', '16 03 61 62 63');
  rejects(ia5String, '16 02 c3 b6');
  assert.throws(() => ia5String.encode('ö'), Asn1EncodeError);
});

test('KerberosTime (RFC 4120 §5.2.3): exactly YYYYMMDDHHMMSSZ', () => {
  const t = new Date(Date.UTC(1994, 5, 10, 6, 3, 17));
  roundTrip(kerberosTime, t, '18 0f 31 39 39 34 30 36 31 30 30 36 30 33 31 37 5a');
  // Milliseconds are dropped when encoding.
  assert.deepEqual(kerberosTime.encode(new Date(t.getTime() + 999)), kerberosTime.encode(t));
  const enc = (s: string): string => `18 ${s.length.toString(16).padStart(2, '0')} ${toHex(new TextEncoder().encode(s))}`;
  rejects(kerberosTime, enc('19940610060317.5Z')); // fractional seconds
  rejects(kerberosTime, enc('19940610060317'));
  rejects(kerberosTime, enc('199406100603Z'));
  rejects(kerberosTime, enc('19940610060317+0000'));
  rejects(kerberosTime, enc('19940230060317Z')); // Feb 30
  rejects(kerberosTime, enc('19941310060317Z'));
  rejects(kerberosTime, enc('19940610246017Z'));
  rejects(kerberosTime, enc('19940610236060Z'));
  roundTrip(kerberosTime, new Date(Date.UTC(2000, 1, 29, 23, 59, 59)), enc('20000229235959Z'));
  const y50 = new Date(0);
  y50.setUTCFullYear(50, 0, 1);
  roundTrip(kerberosTime, y50, enc('00500101000000Z'));
  assert.throws(() => kerberosTime.encode(new Date(Number.NaN)), Asn1EncodeError);
  rejects(kerberosTime, '17 0d 39 34 30 36 31 30 30 36 30 33 31 37 5a', Asn1TagError); // UTCTime
});

test('OBJECT IDENTIFIER: dotted strings both ways, minimal subidentifiers', () => {
  roundTrip(objectIdentifier, '1.2.840.113554.1.2.2', '06 09 2a 86 48 86 f7 12 01 02 02');
  roundTrip(objectIdentifier, '1.3.6.1.5.5.2', '06 06 2b 06 01 05 05 02');
  roundTrip(objectIdentifier, '2.999.3', '06 03 88 37 03');
  roundTrip(objectIdentifier, '1.2.3.18446744073709551616', '06 0c 2a 03 82 80 80 80 80 80 80 80 80 00');
  rejects(objectIdentifier, '06 03 2a 80 01');
  rejects(objectIdentifier, '06 02 2a 86');
  rejects(objectIdentifier, '06 00');
  assert.throws(() => objectIdentifier.encode('3.1'), Asn1EncodeError);
  assert.throws(() => objectIdentifier.encode('1.40'), Asn1EncodeError);
  assert.throws(() => objectIdentifier.encode('1'), Asn1EncodeError);
});

test('a primitive with the constructed bit set, or the wrong tag, is ERR_ASN1_TAG', () => {
  rejects(int32, '22 01 00', Asn1TagError);
  rejects(int32, '04 01 00', Asn1TagError);
  rejects(boolean, '02 01 ff', Asn1TagError);
});

test('huge contents are rejected or decoded in linear time, never by blowing the stack', () => {
  const big = new Uint8Array(600_000).fill(0x31);
  const tlv = (tagByte: number, content: Uint8Array): Uint8Array => {
    const out = new Uint8Array(5 + content.length);
    out.set([tagByte, 0x83, content.length >> 16, (content.length >> 8) & 0xff, content.length & 0xff]);
    out.set(content, 5);
    return out;
  };
  assert.throws(() => kerberosTime.decode(tlv(0x18, big)), Asn1ValueError);
  assert.throws(() => int32.decode(tlv(0x02, big)), Asn1ValueError);
  assert.equal(typeof bigInteger.decode(tlv(0x02, big)), 'bigint');
  assert.throws(() => objectIdentifier.decode(tlv(0x06, new Uint8Array(600_000).fill(0x81).fill(0x01, -1))), Asn1ValueError);
  const manyArcs = new Uint8Array(600_000).fill(0x01);
  manyArcs[0] = 0x2a;
  assert.equal(objectIdentifier.decode(tlv(0x06, manyArcs)).length, 1_200_001);
});
