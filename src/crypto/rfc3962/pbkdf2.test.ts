import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../core/bytes.js';
import { S2kParamsError, stringToKey, WeakS2kParamsError } from '../index.js';
import { iterationsFromParams, MAX_ITERATIONS, s2kParamsFromIterations } from './pbkdf2.js';

test('RFC 3962 §4 s2kparams: 4-octet big-endian iteration count; absent or empty means the default', () => {
  assert.equal(iterationsFromParams(undefined, 4096, 'x'), 4096);
  assert.equal(iterationsFromParams(new Uint8Array(0), 32768, 'x'), 32768);
  assert.equal(iterationsFromParams(fromHex('000004b0'), 4096, 'x'), 1200);
  assert.deepEqual(s2kParamsFromIterations(32768), fromHex('00008000'));
  assert.equal(iterationsFromParams(s2kParamsFromIterations(MAX_ITERATIONS), 1, 'x'), 0xffffff);
});

test('malformed or absurd s2kparams are refused before any work (MIT limit 2^24 - 1)', async () => {
  assert.throws(() => iterationsFromParams(fromHex('001000'), 4096, 'aes256-cts-hmac-sha1-96'), (e: unknown) =>
    e instanceof S2kParamsError && /must be 4 octets/.test(e.message));
  assert.throws(() => iterationsFromParams(fromHex('01000000'), 4096, 'x'), /16777216 PBKDF2 iterations; at most 16777215/);
  assert.throws(() => iterationsFromParams(fromHex('00000000'), 4096, 'x'), /4294967296 PBKDF2 iterations/);
  assert.throws(() => s2kParamsFromIterations(0), S2kParamsError);
  await assert.rejects(stringToKey(18, 'password', 'salt', fromHex('ffffffff')), { code: 'ERR_BAD_S2K_PARAMS' });
  await assert.rejects(stringToKey(19, 'password', 'salt', fromHex('00')), { code: 'ERR_BAD_S2K_PARAMS' });
});

test('fewer iterations than the enctype default are refused (WeakS2kParamsError), as MIT pbkdf2_string_to_key does, unless allowLowIterations', async () => {
  for (const [enctype, below] of [[17, 4095], [18, 1], [19, 32767], [20, 4096]] as const) {
    await assert.rejects(stringToKey(enctype, 'password', 'salt', s2kParamsFromIterations(below)), (e: unknown) => {
      assert.ok(e instanceof WeakS2kParamsError);
      assert.ok(e instanceof S2kParamsError);
      return true;
    });
  }
  // allow_weak_crypto does not lower the floor (MIT has only a test switch for it).
  await assert.rejects(stringToKey(18, 'password', 'salt', s2kParamsFromIterations(2), { allowWeak: true }), WeakS2kParamsError);
  assert.equal((await stringToKey(18, 'password', 'salt', s2kParamsFromIterations(2), { allowLowIterations: true })).keyvalue.length, 32);
  assert.equal((await stringToKey(18, 'password', 'salt', s2kParamsFromIterations(4096))).keyvalue.length, 32);
});
