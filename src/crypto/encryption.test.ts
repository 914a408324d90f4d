import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import {
  CiphertextLengthError, decrypt, encrypt, generateKey, getEnctype, IntegrityError, KeyLengthError, KeyUsage,
} from './index.js';
import type { Key } from './index.js';

const ENCTYPES = [17, 18, 19, 20, 23] as const;
const weak = { allowWeak: true } as const;

function keyFor(enctype: number, seed: number): Key {
  return generateKey(enctype, seededRandom(seed), weak);
}

for (const enctype of ENCTYPES) {
  const { name, confounderSize, macSize } = getEnctype(enctype, weak);

  test(`${name}: encrypt/decrypt round-trips every plaintext length 0..70`, () => {
    const key = keyFor(enctype, enctype);
    const random = seededRandom(1000 + enctype);
    for (let n = 0; n <= 70; n++) {
      const p = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      const c = encrypt(key, KeyUsage.AP_REQ_AUTH, p, random);
      assert.equal(c.length, n + confounderSize + macSize, `length for ${n}`);
      assert.deepEqual(decrypt(key, KeyUsage.AP_REQ_AUTH, c), p, `round trip of ${n} octets`);
    }
  });

  test(`${name}: flipping any ciphertext byte fails with IntegrityError (krbCode 31)`, () => {
    const key = keyFor(enctype, 7);
    const c = encrypt(key, KeyUsage.KDC_REP_TICKET, Uint8Array.from({ length: 37 }, (_, i) => i), seededRandom(3));
    for (let i = 0; i < c.length; i++) {
      const t = c.slice();
      t[i] = t[i]! ^ 0x01;
      assert.throws(() => decrypt(key, KeyUsage.KDC_REP_TICKET, t), (e: unknown) => {
        assert.ok(e instanceof IntegrityError);
        assert.equal(e.krbCode, 31);
        return true;
      }, `byte ${i}`);
    }
  });

  test(`${name}: a wrong key or usage fails with IntegrityError that names no key bytes`, () => {
    const key = keyFor(enctype, 11);
    const other = keyFor(enctype, 12);
    const c = encrypt(key, KeyUsage.AS_REP_ENCPART, new Uint8Array(20), seededRandom(4));
    assert.throws(() => decrypt(key, KeyUsage.AP_REP_ENCPART, c), IntegrityError);
    assert.throws(() => decrypt(other, KeyUsage.AS_REP_ENCPART, c), (e: unknown) => {
      assert.ok(e instanceof IntegrityError);
      assert.equal(e.code, 'ERR_BAD_INTEGRITY');
      const text = `${e.explain()} ${JSON.stringify(e.detail)}`;
      assert.match(text, new RegExp(name));
      assert.match(text, /AS_REP_ENCPART \(3\)/);
      assert.match(text, /password|keytab|kvno/);
      for (const k of [key, other]) assert.ok(!text.includes(toHex(k.keyvalue)) && !text.includes(toHex(k.keyvalue.subarray(0, 4))));
      return true;
    });
  });

  test(`${name}: ciphertexts shorter than confounder + checksum throw CiphertextLengthError`, () => {
    const key = keyFor(enctype, 13);
    for (let n = 0; n < confounderSize + macSize; n++) {
      assert.throws(() => decrypt(key, 1, new Uint8Array(n)), (e: unknown) => {
        assert.ok(e instanceof CiphertextLengthError);
        assert.ok(e instanceof IntegrityError, 'a truncated ciphertext is an integrity failure too');
        assert.match((e as CiphertextLengthError).message, new RegExp(`${n} octets`));
        return true;
      });
    }
    // The shortest valid ciphertext (empty plaintext) still decrypts.
    assert.deepEqual(decrypt(key, 1, encrypt(key, 1, new Uint8Array(0))), new Uint8Array(0));
  });
}

test('encrypt draws the confounder from the RandomSource: same seed, same ciphertext; new seed, new ciphertext', () => {
  const key = keyFor(18, 1);
  const p = new Uint8Array(10);
  assert.deepEqual(encrypt(key, 2, p, seededRandom(5)), encrypt(key, 2, p, seededRandom(5)));
  assert.notDeepEqual(encrypt(key, 2, p, seededRandom(5)), encrypt(key, 2, p, seededRandom(6)));
  assert.notDeepEqual(encrypt(key, 2, p), encrypt(key, 2, p));
});

test('keys of the wrong length and bad usages are refused with typed errors', () => {
  assert.throws(() => encrypt({ enctype: 18, keyvalue: new Uint8Array(16) }, 1, new Uint8Array(1)), KeyLengthError);
  assert.throws(() => decrypt({ enctype: 17, keyvalue: new Uint8Array(32) }, 1, new Uint8Array(40)), (e: unknown) =>
    e instanceof KeyLengthError && /16 octets, this one has 32/.test(e.message));
  const key = keyFor(17, 2);
  assert.throws(() => encrypt(key, -1, new Uint8Array(1)), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => encrypt(key, 1.5, new Uint8Array(1)), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => encrypt(key, 2 ** 32, new Uint8Array(1)), { code: 'ERR_INVALID_ARGUMENT' });
  assert.deepEqual(decrypt(key, 0xffffffff, encrypt(key, 0xffffffff, Uint8Array.of(1))), Uint8Array.of(1));
});

test('outputs are plain Uint8Arrays, not Buffers', () => {
  for (const enctype of ENCTYPES) {
    const key = keyFor(enctype, 3);
    const c = encrypt(key, 1, new Uint8Array(3));
    assert.equal(Object.getPrototypeOf(c), Uint8Array.prototype);
    assert.equal(Object.getPrototypeOf(decrypt(key, 1, c)), Uint8Array.prototype);
  }
});
