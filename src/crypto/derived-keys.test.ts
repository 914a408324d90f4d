import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DerivedKeyCache } from './derived-keys.js';
import { encryptWithConfounder } from './encryption.js';
import { decrypt, makeChecksum } from './index.js';
import type { Key } from './keys.js';

function counting(): { cache: DerivedKeyCache<string>; schedules: number[]; derivations: string[] } {
  const schedules: number[] = [];
  const derivations: string[] = [];
  const cache = new DerivedKeyCache(
    (key) => { schedules.push(key[0]!); return `schedule-${key[0]!}`; },
    (schedule, key, usage, purpose) => {
      derivations.push(`${schedule}/${usage}/${purpose}`);
      return Uint8Array.of(key[0]!, usage & 0xff, purpose);
    },
  );
  return { cache, schedules, derivations };
}

test('DerivedKeyCache derives once per (key, usage, purpose) and schedules each key once', () => {
  const { cache, schedules, derivations } = counting();
  const key = new Uint8Array(16).fill(1);
  const a = cache.get(key, 7, 0xaa);
  assert.equal(cache.get(key, 7, 0xaa), a);
  cache.get(key, 7, 0x55);
  cache.get(key, 6, 0x99);
  assert.deepEqual(schedules, [1]);
  assert.deepEqual(derivations, ['schedule-1/7/170', 'schedule-1/7/85', 'schedule-1/6/153']);
  // Equal bytes in another array are another key: no sharing across arrays.
  cache.get(new Uint8Array(key), 7, 0xaa);
  assert.equal(schedules.length, 2);
});

test('DerivedKeyCache never serves derivations of bytes a key array no longer holds', () => {
  const { cache, schedules } = counting();
  const key = new Uint8Array(16).fill(1);
  assert.deepEqual(cache.get(key, 7, 0xaa), Uint8Array.of(1, 7, 0xaa));
  key.fill(0); // wiped by its owner
  assert.deepEqual(cache.get(key, 7, 0xaa), Uint8Array.of(0, 7, 0xaa));
  key[15] = 9; // a change the first octet does not show
  cache.get(key, 7, 0xaa);
  assert.deepEqual(schedules, [1, 0, 0]);
});

const CONFOUNDER = new Uint8Array(16).fill(0x5a);
const PLAINTEXT = new TextEncoder().encode('derived keys must follow the key bytes');

for (const enctype of [17, 18, 19, 20]) {
  test(`enctype ${enctype}: encrypt/decrypt/checksum follow a key array that is overwritten after use`, () => {
    const size = enctype === 17 || enctype === 19 ? 16 : 32;
    const cksumtype = { 17: 15, 18: 16, 19: 19, 20: 20 }[enctype]!;
    const bytes = new Uint8Array(size).fill(0x11);
    const key: Key = { enctype, keyvalue: bytes };
    const before = encryptWithConfounder(key, 2, PLAINTEXT, CONFOUNDER);
    const mic = makeChecksum(cksumtype, key, 6, PLAINTEXT);
    bytes.fill(0x22);
    const fresh: Key = { enctype, keyvalue: new Uint8Array(size).fill(0x22) };
    const after = encryptWithConfounder(key, 2, PLAINTEXT, CONFOUNDER);
    assert.deepEqual(after, encryptWithConfounder(fresh, 2, PLAINTEXT, CONFOUNDER));
    assert.notDeepEqual(after, before);
    assert.deepEqual(makeChecksum(cksumtype, key, 6, PLAINTEXT), makeChecksum(cksumtype, fresh, 6, PLAINTEXT));
    assert.notDeepEqual(makeChecksum(cksumtype, key, 6, PLAINTEXT), mic);
    assert.throws(() => decrypt(key, 2, before), { code: 'ERR_BAD_INTEGRITY' });
    assert.deepEqual(decrypt(key, 2, after), PLAINTEXT);
  });
}

test('the same key array used as an aes128-sha1 and an aes128-sha2 key derives separately for each', () => {
  const bytes = new Uint8Array(16).fill(0x33);
  const sha1 = encryptWithConfounder({ enctype: 17, keyvalue: bytes }, 3, PLAINTEXT, CONFOUNDER);
  const sha2 = encryptWithConfounder({ enctype: 19, keyvalue: bytes }, 3, PLAINTEXT, CONFOUNDER);
  assert.deepEqual(sha1, encryptWithConfounder({ enctype: 17, keyvalue: new Uint8Array(bytes) }, 3, PLAINTEXT, CONFOUNDER));
  assert.deepEqual(sha2, encryptWithConfounder({ enctype: 19, keyvalue: new Uint8Array(bytes) }, 3, PLAINTEXT, CONFOUNDER));
  assert.deepEqual(decrypt({ enctype: 17, keyvalue: bytes }, 3, sha1), PLAINTEXT);
  assert.deepEqual(decrypt({ enctype: 19, keyvalue: bytes }, 3, sha2), PLAINTEXT);
});
