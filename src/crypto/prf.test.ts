import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { cf2, generateKey, getEnctype, prf, stringToKey } from './index.js';
import { prfPlus } from './rfc6113/prf-plus.js';

const weak = { allowWeak: true } as const;

// RFC 6113 Appendix A (also MIT t_cf2.in / t_cf2.expected): k1 = string-to-key("key1", "key1"),
// k2 = string-to-key("key2", "key2"), default parameters; KRB-FX-CF2(k1, k2, "a", "b").
const vectors: ReadonlyArray<readonly [enctype: number, expected: string]> = [
  [17, '97df97e4b798b29eb31ed7280287a92a'],
  [18, '4d6ca4e629785c1f01baf55e2e548566b9617ae3a96868c337cb93b5e72b1c7b'],
  [23, '24d7f6b6bae4e5c00d2082c5ebab3672'],
];

for (const [enctype, expected] of vectors) {
  test(`RFC 6113 Appendix A: KRB-FX-CF2 for enctype ${enctype}`, async () => {
    const k1 = await stringToKey(enctype, 'key1', 'key1', undefined, weak);
    const k2 = await stringToKey(enctype, 'key2', 'key2', undefined, weak);
    const k3 = cf2(k1, k2, 'a', 'b');
    assert.equal(k3.enctype, enctype);
    assert.equal(toHex(k3.keyvalue), expected);
    assert.deepEqual(cf2(k1, k2, utf8('a'), utf8('b')), k3);
  });
}

test('cf2 of keys of different enctypes yields a key of the first enctype', () => {
  const k1 = generateKey(20, seededRandom(1));
  const k2 = generateKey(17, seededRandom(2));
  const k3 = cf2(k1, k2, 'subkeyarmor', 'ticketarmor');
  assert.equal(k3.enctype, 20);
  assert.equal(k3.keyvalue.length, 32);
  assert.notDeepEqual(cf2(k1, k2, 'subkeyarmor', 'ticketarmor'), cf2(k1, k2, 'ticketarmor', 'subkeyarmor'));
});

test('PRF output lengths follow the enctype; PRF+ concatenates counter-prefixed PRF blocks', () => {
  for (const n of [17, 18, 19, 20, 23]) {
    const key = generateKey(n, seededRandom(n), weak);
    assert.equal(prf(key, utf8('x')).length, getEnctype(n, weak).prfSize);
  }
  const key = generateKey(17, seededRandom(4));
  const plus = prfPlus((x) => prf(key, x), utf8('pepper'), 40);
  assert.deepEqual(plus.subarray(0, 16), prf(key, utf8('\x01pepper')));
  assert.deepEqual(plus.subarray(16, 32), prf(key, utf8('\x02pepper')));
  assert.deepEqual(plus.subarray(32), prf(key, utf8('\x03pepper')).subarray(0, 8));
});
