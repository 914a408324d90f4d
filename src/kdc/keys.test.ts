import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../core/random.js';
import { generateKey } from '../crypto/index.js';
import type { StoredKey } from '../store/index.js';
import { masterKeyProtector } from './keys.js';

const PRINCIPAL = 'alice@EXAMPLE.TEST';

function wrapped(seed: number): { keys: ReturnType<typeof masterKeyProtector>; plain: ReturnType<typeof generateKey>; stored: StoredKey } {
  const random = seededRandom(seed);
  const keys = masterKeyProtector(generateKey(18, random), random);
  const plain = generateKey(18, random);
  return { keys, plain, stored: Object.freeze({ enctype: 18, kvno: 1, keyvalue: keys.seal(plain, PRINCIPAL) }) };
}

test('masterKeyProtector opens a stored key once and hands out the same key object afterwards', () => {
  const { keys, plain, stored } = wrapped(1);
  const first = keys.open(stored, PRINCIPAL);
  assert.deepEqual(first.keyvalue, plain.keyvalue);
  assert.equal(keys.open(stored, PRINCIPAL), first);
  assert.ok(Object.isFrozen(first));
  // A replaced record (a PrincipalCache refresh) is a new StoredKey: opened afresh, same bytes.
  const replaced: StoredKey = { ...stored, keyvalue: new Uint8Array(stored.keyvalue) };
  const again = keys.open(replaced, PRINCIPAL);
  assert.notEqual(again, first);
  assert.deepEqual(again.keyvalue, plain.keyvalue);
});

test('masterKeyProtector never serves a cached key for a StoredKey whose blob changed in place', () => {
  const { keys, stored } = wrapped(2);
  const other = generateKey(18, seededRandom(3));
  const mutable: { enctype: number; kvno: number; keyvalue: Uint8Array } = { enctype: 18, kvno: 1, keyvalue: new Uint8Array(stored.keyvalue) };
  keys.open(mutable, PRINCIPAL);
  // Same array, new octets (a store that reuses its buffers).
  mutable.keyvalue.set(keys.seal(other, PRINCIPAL));
  assert.deepEqual(keys.open(mutable, PRINCIPAL).keyvalue, other.keyvalue);
  // New array on the same object.
  const third = generateKey(18, seededRandom(4));
  mutable.keyvalue = keys.seal(third, PRINCIPAL);
  assert.deepEqual(keys.open(mutable, PRINCIPAL).keyvalue, third.keyvalue);
  // Blob wiped: the cached key is not returned; opening fails as it would uncached.
  mutable.keyvalue.fill(0);
  assert.throws(() => keys.open(mutable, PRINCIPAL), { code: 'ERR_BAD_INTEGRITY' });
});
