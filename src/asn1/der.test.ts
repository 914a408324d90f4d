/** X.690 §10.1 DER framing rules: definite minimal lengths, no trailing bytes, bounded size and depth. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex } from '../core/bytes.js';
import {
  Asn1DepthError, Asn1Error, Asn1LengthError, Asn1SizeError, Asn1TagError, Asn1TrailingError, Asn1TruncatedError,
  dumpDer, encodeLength, octetString, parseDer, seqOf,
} from './index.js';

function throwsCode(fn: () => unknown, ctor: new (...a: never[]) => Asn1Error, offset?: number): Asn1Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ctor, `expected ${ctor.name}, got ${String(caught)}`);
  assert.ok(caught instanceof Asn1Error);
  if (offset !== undefined) assert.equal((caught as Asn1Error).offset, offset);
  return caught as Asn1Error;
}

test('X.690 §8.1.3: short and long definite lengths decode', () => {
  assert.deepEqual(octetString.decode(fromHex('04 03 616263')), fromHex('616263'));
  const long = new Uint8Array(200).fill(7);
  assert.deepEqual(octetString.decode(concatBytes(fromHex('04 81 c8'), long)), long);
  const longer = new Uint8Array(300).fill(1);
  assert.deepEqual(octetString.decode(concatBytes(fromHex('04 82 01 2c'), longer)), longer);
});

test('encodeLength writes minimal lengths', () => {
  assert.deepEqual(encodeLength(0), fromHex('00'));
  assert.deepEqual(encodeLength(127), fromHex('7f'));
  assert.deepEqual(encodeLength(128), fromHex('81 80'));
  assert.deepEqual(encodeLength(256), fromHex('82 01 00'));
  assert.deepEqual(encodeLength(0x1000000), fromHex('84 01 00 00 00'));
});

test('DER: indefinite length 0x80 is rejected', () => {
  const e = throwsCode(() => octetString.decode(fromHex('04 80 61 00 00')), Asn1LengthError, 0);
  assert.equal(e.code, 'ERR_ASN1_LENGTH');
});

test('DER: long form for a length under 128 is rejected', () => {
  throwsCode(() => octetString.decode(fromHex('04 81 03 616263')), Asn1LengthError, 0);
});

test('DER: a long-form length with a leading zero byte is rejected', () => {
  const body = new Uint8Array(200);
  throwsCode(() => octetString.decode(concatBytes(fromHex('04 82 00 c8'), body)), Asn1LengthError, 0);
});

test('a length field longer than 4 bytes is rejected', () => {
  throwsCode(() => octetString.decode(fromHex('04 85 01 00 00 00 00')), Asn1LengthError, 0);
});

test('a declared length beyond the size limit is ERR_ASN1_SIZE (0x84 0x7f 0xff 0xff 0xff)', () => {
  const e = throwsCode(() => octetString.decode(fromHex('04 84 7f ff ff ff 00')), Asn1SizeError, 0);
  assert.equal(e.code, 'ERR_ASN1_SIZE');
});

test('input larger than maxSize is rejected before parsing', () => {
  throwsCode(() => octetString.decode(fromHex('04 03 616263'), { maxSize: 4 }), Asn1SizeError, 0);
});

test('a length running past the input is ERR_ASN1_TRUNCATED', () => {
  throwsCode(() => octetString.decode(fromHex('04 05 616263')), Asn1TruncatedError, 0);
  throwsCode(() => octetString.decode(fromHex('04')), Asn1TruncatedError, 0);
  throwsCode(() => octetString.decode(fromHex('04 82 01')), Asn1TruncatedError, 0);
  throwsCode(() => octetString.decode(new Uint8Array(0)), Asn1TruncatedError, 0);
});

test('a child running past its parent is ERR_ASN1_TRUNCATED at the child', () => {
  // SEQUENCE of length 3 holding an OCTET STRING claiming 5 bytes.
  throwsCode(() => seqOf(octetString).decode(fromHex('30 03 04 05 61')), Asn1TruncatedError, 2);
});

test('trailing bytes after the top-level value are rejected', () => {
  const e = throwsCode(() => octetString.decode(fromHex('04 01 61 00')), Asn1TrailingError, 3);
  assert.equal(e.code, 'ERR_ASN1_TRAILING');
});

test('high-tag-number form (tag 31) is rejected with a clear error', () => {
  const e = throwsCode(() => parseDer(fromHex('1f 81 00 00')), Asn1TagError, 0);
  assert.match(e.message, /high-tag-number/);
  throwsCode(() => parseDer(fromHex('bf 1f 00')), Asn1TagError, 0);
});

test('nesting deeper than maxDepth is ERR_ASN1_DEPTH (depth bomb of 5000 SEQUENCEs)', () => {
  // 30 80 ... would be indefinite; build definite lengths from the inside out.
  let bomb = fromHex('05 00');
  for (let i = 0; i < 5000; i++) {
    const len = encodeLength(bomb.length);
    bomb = concatBytes(Uint8Array.of(0x30), len, bomb);
  }
  const e = throwsCode(() => parseDer(bomb), Asn1DepthError);
  assert.equal(e.code, 'ERR_ASN1_DEPTH');
  // A nesting of 10 is fine under the default limit and rejected under a limit of 5.
  let small = fromHex('05 00');
  for (let i = 0; i < 10; i++) small = concatBytes(Uint8Array.of(0x30), encodeLength(small.length), small);
  assert.ok(parseDer(small).children);
  throwsCode(() => parseDer(small, { maxDepth: 5 }), Asn1DepthError);
});

test('parseDer and dumpDer show the structure', () => {
  const dump = dumpDer(fromHex('30 08 04 02 6869 02 02 0100'));
  assert.equal(dump, 'SEQUENCE @0 len=8\n  OCTET STRING @2 len=2 "hi"\n  INTEGER @6 len=2 0100');
});

test('errors carry offset and path in message and detail', () => {
  const e = throwsCode(() => seqOf(octetString, 'Things').decode(fromHex('30 04 04 01 61 05')), Asn1TruncatedError, 5);
  assert.equal(e.path, 'Things');
  assert.match(e.message, /^Things: .*offset 5/);
  assert.deepEqual(e.detail, { path: 'Things', offset: 5 });
});
