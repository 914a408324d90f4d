import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../core/random.js';
import { generateKey } from '../crypto/index.js';
import type { StoredKey } from '../store/index.js';
import { KeyRecordMismatchError, KeyUnwrapError } from './errors.js';
import { isLegacyWrappedKey, masterKeyProtector, sealLegacyForTests } from './keys.js';

const PRINCIPAL = 'alice@EXAMPLE.TEST';

function wrapped(seed: number): { keys: ReturnType<typeof masterKeyProtector>; plain: ReturnType<typeof generateKey>; stored: StoredKey } {
  const random = seededRandom(seed);
  const keys = masterKeyProtector(generateKey(18, random), random);
  const plain = generateKey(18, random);
  return { keys, plain, stored: Object.freeze({ enctype: 18, kvno: 1, keyvalue: keys.seal(plain, PRINCIPAL, 1) }) };
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
  mutable.keyvalue.set(keys.seal(other, PRINCIPAL, 1));
  assert.deepEqual(keys.open(mutable, PRINCIPAL).keyvalue, other.keyvalue);
  // New array on the same object.
  const third = generateKey(18, seededRandom(4));
  mutable.keyvalue = keys.seal(third, PRINCIPAL, 1);
  assert.deepEqual(keys.open(mutable, PRINCIPAL).keyvalue, third.keyvalue);
  // Blob wiped: the cached key is not returned; opening fails as it would uncached.
  mutable.keyvalue.fill(0);
  assert.throws(() => keys.open(mutable, PRINCIPAL), KeyUnwrapError);
});

test('a wrapped key is bound to its principal, kvno and enctype: moved to another record it is refused', () => {
  const random = seededRandom(5);
  const master = generateKey(18, random);
  const keys = masterKeyProtector(master, random);
  const plain = generateKey(18, random);
  const blob = keys.seal(plain, PRINCIPAL, 3);
  assert.ok(!isLegacyWrappedKey(blob));
  assert.deepEqual(keys.open({ enctype: 18, kvno: 3, keyvalue: blob }, PRINCIPAL).keyvalue, plain.keyvalue);
  const moved = (stored: StoredKey, principal: string) => assert.throws(() => keys.open(stored, principal), (err: unknown) => {
    assert.ok(err instanceof KeyRecordMismatchError);
    assert.match(err.message, /was wrapped for the enctype 18 key \(kvno 3\) of alice@EXAMPLE\.TEST/);
    assert.doesNotMatch(JSON.stringify({ m: err.message, h: err.hint, d: err.detail }), new RegExp(Buffer.from(plain.keyvalue).toString('hex')));
    return true;
  });
  moved({ enctype: 18, kvno: 3, keyvalue: blob }, 'bob@EXAMPLE.TEST');
  moved({ enctype: 18, kvno: 2, keyvalue: blob }, PRINCIPAL);
  moved({ enctype: 20, kvno: 3, keyvalue: blob }, PRINCIPAL); // aes256-sha384 keys are 32 bytes too
  // Another realm's master key does not open it at all.
  const other = masterKeyProtector(generateKey(18, random), random);
  assert.throws(() => other.open({ enctype: 18, kvno: 3, keyvalue: blob }, PRINCIPAL), (err: unknown) => err instanceof KeyUnwrapError && !(err instanceof KeyRecordMismatchError));
});

test('first-format (unbound) blobs open only with acceptLegacyBlobs, for migrating old realms', () => {
  const random = seededRandom(6);
  const master = generateKey(18, random);
  const plain = generateKey(18, random);
  const old = sealLegacyForTests(master, plain, random);
  assert.ok(isLegacyWrappedKey(old));
  const stored: StoredKey = { enctype: 18, kvno: 1, keyvalue: old };
  assert.throws(() => masterKeyProtector(master, random).open(stored, PRINCIPAL), KeyRecordMismatchError);
  assert.deepEqual(masterKeyProtector(master, random, { acceptLegacyBlobs: true }).open(stored, PRINCIPAL).keyvalue, plain.keyvalue);
});
