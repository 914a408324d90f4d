import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import {
  ChecksumType, checksumTypeName, generateKey, getChecksumType, InappropriateChecksumError, makeChecksum,
  UnsupportedChecksumError, verifyChecksum, WeakChecksumError,
} from './index.js';

const data = utf8('KDC-REQ-BODY bytes');

test('checksum profiles: names, sizes and the enctype they are keyed with', () => {
  const want: Record<number, [string, number, number | undefined]> = {
    15: ['hmac-sha1-96-aes128', 12, 17],
    16: ['hmac-sha1-96-aes256', 12, 18],
    19: ['hmac-sha256-128-aes128', 16, 19],
    20: ['hmac-sha384-192-aes256', 24, 20],
    [-138]: ['hmac-md5-rc4', 16, undefined],
  };
  for (const [n, [name, size, enctype]] of Object.entries(want)) {
    const p = getChecksumType(Number(n));
    assert.deepEqual([p.name, p.macSize, p.enctype], [name, size, enctype]);
    assert.equal(checksumTypeName(Number(n)), name);
    assert.ok(Object.isFrozen(p));
  }
  assert.equal(getChecksumType(ChecksumType.HMAC_MD5).weak, true);
  assert.ok(Object.isFrozen(ChecksumType));
});

test('make/verify round-trips for every checksum type with its key; any change is rejected', () => {
  const pairs: Array<[number, number]> = [[15, 17], [16, 18], [19, 19], [20, 20], [-138, 23]];
  for (const [cksumtype, enctype] of pairs) {
    const key = generateKey(enctype, seededRandom(cksumtype + 500), { allowWeak: true });
    const c = makeChecksum(cksumtype, key, 6, data);
    const weak = { allowWeak: true };
    assert.equal(c.length, getChecksumType(cksumtype).macSize);
    assert.ok(verifyChecksum(cksumtype, key, 6, data, c, weak));
    assert.ok(!verifyChecksum(cksumtype, key, 7, data, c, weak), 'other usage');
    assert.ok(!verifyChecksum(cksumtype, key, 6, utf8('KDC-REQ-BODY byteS'), c, weak), 'other data');
    assert.ok(!verifyChecksum(cksumtype, key, 6, data, c.subarray(1), weak), 'truncated');
    assert.ok(!verifyChecksum(cksumtype, key, 6, data, new Uint8Array([...c, 0]), weak), 'extended');
    for (let i = 0; i < c.length; i++) {
      const t = c.slice();
      t[i] = t[i]! ^ 0x80;
      assert.ok(!verifyChecksum(cksumtype, key, 6, data, t, weak), `byte ${i}`);
    }
  }
});

test('hmac-md5 (-138) is weak: verifyChecksum refuses it (WeakChecksumError, krbCode 50) unless weak crypto is allowed', () => {
  const aes = generateKey(18, seededRandom(1));
  const c = makeChecksum(-138, aes, 17, data);
  for (const options of [undefined, {}, { allowWeak: false }]) {
    assert.throws(() => verifyChecksum(-138, aes, 17, data, c, options), (e: unknown) => {
      assert.ok(e instanceof WeakChecksumError);
      assert.ok(e instanceof InappropriateChecksumError);
      assert.equal(e.krbCode, 50);
      assert.match(e.hint ?? '', /hmac-sha1-96-aes256/);
      return true;
    });
  }
  // With weak crypto on it takes any key, as MIT's does (MS-SFU PA-FOR-USER signs with it whatever the key).
  assert.ok(verifyChecksum(-138, aes, 17, data, c, { allowWeak: true }));
  const rc4 = generateKey(23, seededRandom(2), { allowWeak: true });
  assert.throws(() => verifyChecksum(-138, rc4, 17, data, makeChecksum(-138, rc4, 17, data)), WeakChecksumError);
});

test('unkeyed checksum types (crc32 1, rsa-md4 2, rsa-md5 7, sha1 14) are never accepted, weak crypto or not', () => {
  const key = generateKey(18, seededRandom(4));
  for (const cksumtype of [1, 2, 7, 14]) {
    for (const allowWeak of [false, true]) {
      assert.throws(() => verifyChecksum(cksumtype, key, 6, data, new Uint8Array(16), { allowWeak }), UnsupportedChecksumError);
    }
  }
});

test('unknown checksum types throw UnsupportedChecksumError (krbCode 15)', () => {
  const key = generateKey(18, seededRandom(2));
  assert.throws(() => makeChecksum(12, key, 1, data), (e: unknown) => {
    assert.ok(e instanceof UnsupportedChecksumError);
    assert.equal(e.krbCode, 15);
    assert.match(e.message, /checksum type 12 \(hmac-sha1-des3\)/);
    assert.match(e.hint ?? '', /hmac-sha1-96-aes256 \(16\)/);
    return true;
  });
  assert.throws(() => verifyChecksum(99, key, 1, data, new Uint8Array(12)), /checksum type 99 \(cksumtype 99\)/);
});

test('a checksum type tied to another enctype throws InappropriateChecksumError (krbCode 50)', () => {
  const key = generateKey(17, seededRandom(3));
  assert.throws(() => makeChecksum(16, key, 1, data), (e: unknown) => {
    assert.ok(e instanceof InappropriateChecksumError);
    assert.equal(e.krbCode, 50);
    assert.match(e.message, /aes256-cts-hmac-sha1-96 keys, not aes128-cts-hmac-sha1-96 \(17\)/);
    return true;
  });
  assert.throws(() => verifyChecksum(19, key, 1, data, new Uint8Array(16)), InappropriateChecksumError);
});
