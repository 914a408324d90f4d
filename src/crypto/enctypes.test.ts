import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KerbsideError } from '../core/errors.js';
import { seededRandom } from '../core/random.js';
import {
  decrypt, DEFAULT_ENCTYPES, defaultChecksumType, encrypt, makeChecksum, Enctype, enctypeFromName, enctypeName, enctypesFromName, generateKey,
  getEnctype, isSupportedEnctype, KeyLengthError, randomToKey, stringToKey, UnsupportedEnctypeError, WeakEnctypeError,
} from './index.js';

test('unknown enctype 99 throws UnsupportedEnctypeError (krbCode 14) naming it and what is enabled', () => {
  assert.throws(() => getEnctype(99), (e: unknown) => {
    assert.ok(e instanceof UnsupportedEnctypeError);
    assert.ok(e instanceof KerbsideError);
    assert.equal(e.code, 'ERR_UNSUPPORTED_ENCTYPE');
    assert.equal(e.krbCode, 14);
    assert.match(e.message, /enctype 99 \(unknown\)/);
    assert.match(e.hint ?? '', /aes256-cts-hmac-sha1-96 \(18\)/);
    assert.equal(e.detail['enctype'], 99);
    return true;
  });
  const key = { enctype: 99, keyvalue: new Uint8Array(16) };
  assert.throws(() => encrypt(key, 1, new Uint8Array(1)), UnsupportedEnctypeError);
  assert.throws(() => decrypt(key, 1, new Uint8Array(64)), UnsupportedEnctypeError);
  assert.throws(() => makeChecksum(15, key, 1, new Uint8Array(1)), UnsupportedEnctypeError);
});

test('known but unimplemented enctypes are named in the error', () => {
  assert.throws(() => getEnctype(16), /enctype 16 \(des3-cbc-sha1\) is not supported/);
  assert.throws(() => getEnctype(1), /des-cbc-crc/);
  assert.throws(() => generateKey(25), UnsupportedEnctypeError);
  assert.equal(isSupportedEnctype(16), false);
  assert.equal(isSupportedEnctype(23), true);
});

test('rc4-hmac (23) is weak: refused without allowWeak, usable with it', async () => {
  assert.throws(() => getEnctype(23), (e: unknown) => {
    assert.ok(e instanceof WeakEnctypeError);
    assert.ok(e instanceof UnsupportedEnctypeError);
    assert.equal(e.code, 'ERR_WEAK_ENCTYPE');
    assert.equal(e.krbCode, 14);
    assert.match(e.message, /arcfour-hmac \(23\)/);
    assert.match(e.hint ?? '', /allowWeak/);
    return true;
  });
  assert.throws(() => generateKey(23), WeakEnctypeError);
  assert.throws(() => randomToKey(23, new Uint8Array(16)), WeakEnctypeError);
  await assert.rejects(stringToKey(23, 'password', ''), WeakEnctypeError);
  const p = getEnctype(23, { allowWeak: true });
  assert.equal(p.weak, true);
  assert.equal(generateKey(23, seededRandom(1), { allowWeak: true }).keyvalue.length, 16);
});

test('profiles carry the RFC parameters and are frozen', () => {
  const expected = {
    17: { keyBytes: 16, macSize: 12, prfSize: 16, defaultIterations: 4096, checksumType: 15, confounderSize: 16 },
    18: { keyBytes: 32, macSize: 12, prfSize: 16, defaultIterations: 4096, checksumType: 16, confounderSize: 16 },
    19: { keyBytes: 16, macSize: 16, prfSize: 32, defaultIterations: 32768, checksumType: 19, confounderSize: 16 },
    20: { keyBytes: 32, macSize: 24, prfSize: 48, defaultIterations: 32768, checksumType: 20, confounderSize: 16 },
    23: { keyBytes: 16, macSize: 16, prfSize: 20, defaultIterations: undefined, checksumType: -138, confounderSize: 8 },
  } as const;
  for (const [n, want] of Object.entries(expected)) {
    const p = getEnctype(Number(n), { allowWeak: true });
    assert.equal(p.enctype, Number(n));
    for (const [field, value] of Object.entries(want)) assert.equal(p[field as keyof typeof p], value, `${n}.${field}`);
    assert.equal(p.keySeedBytes, p.keyBytes);
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.aliases));
    assert.throws(() => { (p as { keyBytes: number }).keyBytes = 1; }, TypeError);
  }
  assert.ok(Object.isFrozen(Enctype) && Object.isFrozen(DEFAULT_ENCTYPES));
  assert.deepEqual([...DEFAULT_ENCTYPES], [18, 17, 20, 19]);
});

test('defaultChecksumType: 17→15, 18→16, 19→19, 20→20, 23→-138', () => {
  assert.deepEqual([17, 18, 19, 20, 23].map(defaultChecksumType), [15, 16, 19, 20, -138]);
  assert.throws(() => defaultChecksumType(99), UnsupportedEnctypeError);
});

test('MIT names and aliases (etypes.c), case-insensitive, and family names', () => {
  assert.equal(enctypeName(18), 'aes256-cts-hmac-sha1-96');
  assert.equal(enctypeName(20), 'aes256-cts-hmac-sha384-192');
  assert.equal(enctypeName(23), 'arcfour-hmac');
  assert.equal(enctypeName(16), 'des3-cbc-sha1');
  assert.equal(enctypeName(99), 'etype 99');
  const names: Record<string, number> = {
    'aes128-cts-hmac-sha1-96': 17, 'aes128-cts': 17, 'aes128-sha1': 17,
    'aes256-cts-hmac-sha1-96': 18, 'AES256-CTS': 18, 'aes256-sha1': 18,
    'aes128-cts-hmac-sha256-128': 19, 'aes128-sha2': 19,
    'aes256-cts-hmac-sha384-192': 20, 'aes256-sha2': 20,
    'arcfour-hmac': 23, 'rc4-hmac': 23, 'arcfour-hmac-md5': 23, 'rc4': 23,
    'aes': 18, 'aes-sha2': 20,
  };
  for (const [name, n] of Object.entries(names)) assert.equal(enctypeFromName(name), n, name);
  assert.equal(enctypeFromName('des3-cbc-sha1'), undefined);
  assert.equal(enctypeFromName('nonsense'), undefined);
  assert.deepEqual(enctypesFromName('aes'), [18, 17, 20, 19]);
  assert.deepEqual(enctypesFromName('aes-sha1'), [18, 17]);
  assert.deepEqual(enctypesFromName('aes128-sha2'), [19]);
  assert.deepEqual(enctypesFromName('camellia'), []);
});

test('generateKey uses the RandomSource; randomToKey checks the seed length', () => {
  assert.deepEqual(generateKey(18, seededRandom(9)), generateKey(18, seededRandom(9)));
  assert.notDeepEqual(generateKey(18, seededRandom(9)), generateKey(18, seededRandom(10)));
  assert.equal(generateKey(20).keyvalue.length, 32);
  const seed = Uint8Array.from({ length: 16 }, (_, i) => i);
  assert.deepEqual(randomToKey(17, seed), { enctype: 17, keyvalue: seed });
  assert.throws(() => randomToKey(18, seed), (e: unknown) => e instanceof KeyLengthError && /32 random octets, got 16/.test(e.message));
});
