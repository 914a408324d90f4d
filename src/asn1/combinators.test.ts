/** The combinators: SEQUENCE field order and presence, explicit/implicit tags, CHOICE, raw bytes, paths. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../core/bytes.js';
import {
  Asn1EncodeError, Asn1Error, Asn1TagError, Asn1TrailingError, Asn1TruncatedError, Asn1ValueError, TagClass,
  acceptAlso, app, asn1FieldName, boolean, choice, constant, ctx, implicit, int32, kerberosString, kerberosTime, octetString,
  opt, raw, seq, seqOf, withRaw,
} from './index.js';
import type { Infer } from './index.js';

const Name = seq({
  nameType: ctx(0, int32),
  nameString: ctx(1, seqOf(kerberosString)),
}, 'PrincipalName');
const Thing = app(5, seq({
  version: ctx(0, constant(int32, 5, { krbCode: 3 })),
  name: opt(ctx(1, Name)),
  when: ctx(2, kerberosTime),
  flag: opt(ctx(3, boolean)),
}), 'THING');
type Thing = Infer<typeof Thing>;

// Compile-time check of inference: required and optional properties with the right types.
const sample: Thing = { version: 5, when: new Date(Date.UTC(2020, 0, 1)) };
// @ts-expect-error version is the literal 5
const _bad: Thing = { version: 6, when: new Date(0) };

const SAMPLE_HEX = '65 1a 30 18 a0 03 02 01 05 a2 11 18 0f 32 30 32 30 30 31 30 31 30 30 30 30 30 30 5a';

function asn1Error(fn: () => unknown): Asn1Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Asn1Error) return e;
    throw e;
  }
  assert.fail('expected an Asn1Error');
}

test('seq/ctx/app encode in definition order and omit absent optionals', () => {
  assert.equal(toHex(Thing.encode(sample)), toHex(fromHex(SAMPLE_HEX)));
  assert.deepEqual(Thing.decode(fromHex(SAMPLE_HEX)), sample);
  const full: Thing = { ...sample, name: { nameType: 1, nameString: ['a', 'b'] }, flag: true };
  assert.deepEqual(Thing.decode(Thing.encode(full)), full);
});

test('field names in paths are the kebab-case ASN.1 names', () => {
  assert.equal(asn1FieldName('reqBody'), 'req-body');
  assert.equal(asn1FieldName('encAuthorizationData'), 'enc-authorization-data');
  assert.equal(asn1FieldName('s2kparams'), 's2kparams');
  const bad = Thing.encode({ ...sample, name: { nameType: 1, nameString: ['a', 'b'] } });
  // Corrupt the second name-string: make 'b' (0x62) a non-UTF-8 byte.
  const i = bad.lastIndexOf(0x62);
  bad[i] = 0xff;
  const e = asn1Error(() => Thing.decode(bad));
  assert.ok(e instanceof Asn1ValueError);
  assert.equal(e.path, 'THING.name.name-string[1]');
  assert.equal(e.offset, i - 2);
});

test('a missing required field is ERR_ASN1_TAG naming the field', () => {
  // [0] version then directly [3] flag: [2] when is missing.
  const e = asn1Error(() => Thing.decode(fromHex('65 0c 30 0a a0 03 02 01 05 a3 03 01 01 ff')));
  assert.ok(e instanceof Asn1TagError);
  assert.equal(e.path, 'THING.when');
  assert.match(e.message, /required field when/);
});

test('fields out of order, repeated or unknown are ERR_ASN1_TAG', () => {
  const when = 'a2 11 18 0f 32 30 32 30 30 31 30 31 30 30 30 30 30 30 5a';
  const v = 'a0 03 02 01 05';
  const wrap = (body: string): Uint8Array => {
    const b = fromHex(body);
    return fromHex(`65 ${(b.length + 2).toString(16)} 30 ${b.length.toString(16)} ${toHex(b)}`);
  };
  assert.match(asn1Error(() => Thing.decode(wrap(`${when} ${v}`))).message, /required field version/);
  assert.match(asn1Error(() => Thing.decode(wrap(`${v} ${when} ${when}`))).message, /out of order or repeated/);
  assert.match(asn1Error(() => Thing.decode(wrap(`${v} ${when} a9 03 01 01 ff`))).message, /unknown field \[9\]/);
  assert.match(asn1Error(() => Thing.decode(wrap(`${v} ${when} a3 03 01 01 ff a1 02 30 00`))).message, /out of order/);
});

test('a constant field rejects other values with its krbCode', () => {
  const bytes = fromHex(SAMPLE_HEX);
  bytes[8] = 4; // version 4
  const e = asn1Error(() => Thing.decode(bytes));
  assert.ok(e instanceof Asn1ValueError);
  assert.equal(e.krbCode, 3);
  assert.equal(e.path, 'THING.version');
  assert.throws(() => Thing.encode({ ...sample, version: 4 as 5 }), Asn1EncodeError);
});

test('an explicit tag must hold exactly one element', () => {
  const Wrapped = ctx(0, int32);
  assert.ok(asn1Error(() => Wrapped.decode(fromHex('a0 00'))) instanceof Asn1TruncatedError);
  assert.ok(asn1Error(() => Wrapped.decode(fromHex('a0 06 02 01 01 02 01 02'))) instanceof Asn1TrailingError);
  assert.ok(asn1Error(() => Wrapped.decode(fromHex('80 01 01'))) instanceof Asn1TagError); // primitive [0]
});

test('wrong tag in a field is ERR_ASN1_TAG at the field', () => {
  // when holds an INTEGER instead of GeneralizedTime.
  const e = asn1Error(() => Thing.decode(fromHex('65 0c 30 0a a0 03 02 01 05 a2 03 02 01 00')));
  assert.ok(e instanceof Asn1TagError);
  assert.equal(e.path, 'THING.when');
  assert.equal(e.offset, 11);
  assert.match(e.message, /expected GeneralizedTime but found INTEGER/);
});

test('missing required field on encode is Asn1EncodeError with its path', () => {
  const e = (() => {
    try {
      Thing.encode({ version: 5 } as Thing);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(e instanceof Asn1EncodeError);
  assert.equal((e as Asn1EncodeError).path, 'THING.when');
});

test('implicit() re-tags content, keeping the constructed bit', () => {
  const I = implicit(TagClass.CONTEXT, 2, octetString);
  assert.deepEqual(I.encode(fromHex('abcd')), fromHex('82 02 ab cd'));
  assert.deepEqual(I.decode(fromHex('82 02 ab cd')), fromHex('abcd'));
  const S = implicit(TagClass.APPLICATION, 0, seqOf(int32));
  assert.deepEqual(S.encode([1]), fromHex('60 03 02 01 01'));
});

test('choice dispatches on tag; acceptAlso encodes with the first', () => {
  const C = choice({ num: int32, text: kerberosString });
  type C = Infer<typeof C>;
  const n: C = { type: 'num', value: 7 };
  assert.deepEqual(C.decode(C.encode(n)), n);
  assert.deepEqual(C.decode(fromHex('1b 01 41')), { type: 'text', value: 'A' });
  assert.ok(asn1Error(() => C.decode(fromHex('04 00'))) instanceof Asn1TagError);
  assert.throws(() => choice({ a: int32, b: int32 }), TypeError);
  const Either = acceptAlso(app(25, int32), app(26, int32));
  assert.deepEqual(Either.encode(1), fromHex('79 03 02 01 01'));
  assert.equal(Either.decode(fromHex('7a 03 02 01 01')), 1);
});

test('raw keeps exact bytes of any element and checks their framing', () => {
  const R = seq({ a: ctx(0, raw), b: opt(ctx(1, int32)) });
  const bytes = fromHex('30 09 a0 07 30 05 04 03 61 62 63');
  const value = R.decode(bytes);
  assert.deepEqual(value.a, fromHex('30 05 04 03 61 62 63'));
  assert.deepEqual(R.encode(value), bytes);
  // Non-minimal length inside the raw value is still rejected.
  assert.ok(asn1Error(() => R.decode(fromHex('30 0a a0 08 30 06 04 81 03 61 62 63'))) instanceof Asn1Error);
  assert.throws(() => R.encode({ a: fromHex('04 01 61 00') }), Asn1EncodeError);
});

test('withRaw exposes the exact bytes of the element', () => {
  const W = seq({ body: ctx(4, withRaw(seq({ x: ctx(0, int32) }))) });
  const bytes = fromHex('30 09 a4 07 30 05 a0 03 02 01 2a');
  const v = W.decode(bytes);
  assert.deepEqual(v.body.value, { x: 42 });
  assert.deepEqual(v.body.raw, fromHex('30 05 a0 03 02 01 2a'));
});

test('seq rejects definitions whose fields cannot be told apart', () => {
  assert.throws(() => seq({ a: opt(int32), b: int32 }), TypeError);
  assert.throws(() => seq({ a: opt(raw), b: int32 }), TypeError);
});
