import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { fromHex, toHex, utf8 } from '../../core/bytes.js';
import { encryptWithConfounder } from '../encryption.js';
import { decrypt, IntegrityError, makeChecksum, prf, stringToKey, verifyChecksum } from '../index.js';
import { msUsage } from './rc4-hmac.js';
import { rc4 } from './rc4.js';

const weak = { allowWeak: true } as const;

// MIT krb5 src/lib/crypto/crypto_tests/t_decrypt.c, arcfour-hmac (usage 3 exercises the 3 → 8 mapping).
const known: ReadonlyArray<readonly [usage: number, plaintext: string, key: string, ciphertext: string]> = [
  [0, '', 'f81fec39255f5784e850c4377c88bd85', '02c1eb15586144122ec717763dd348bf00434ddc6585954c'],
  [1, '1', '67d1300d281223867f9647ff48721273', '6156e0cc04e0a0874f9fda008f498a7adbbc80b70b14dddbc0'],
  [2, '9 bytesss', '3e40ab6093695281b3ac1a9304224d98',
    '0f9ad121d99d4a09448e4f1f718c4f5cbe6096262c66f29df232a87c9f98755d55'],
  [3, '13 bytes byte', '4ba2fbf0379faed87a254d3b353d5a7e',
    '612c57568b17a70352bae8cf26fb9459a6f3353cd35fd439db3107cbec765d326dfc04c1dd'],
  [4, '30 bytes bytes bytes bytes byt', '68f263db3fce15d031c9eab02d67107a',
    '95f9047c3ad75891c2e9b04b16566dc8b6eb9ce4231afb2542ef87a7b5a0f260a99f0460508de0cecc632d07c354124e46c5d2234eb8'],
];

for (const [usage, plaintext, key, ciphertext] of known) {
  test(`MIT t_decrypt.c: arcfour-hmac usage ${usage} decrypts ${JSON.stringify(plaintext)}`, () => {
    const k = { enctype: 23, keyvalue: fromHex(key) };
    const c = fromHex(ciphertext);
    assert.deepEqual(decrypt(k, usage, c), utf8(plaintext));
    // The confounder is RC4-encrypted, so re-encrypting with the recovered one reproduces the vector.
    assert.equal(toHex(encryptWithConfounder(k, usage, utf8(plaintext), recoverConfounder(k.keyvalue, usage, c))), ciphertext);
  });
}

/** Re-derives the confounder of a known ciphertext (K3 = HMAC-MD5(K1, checksum), RC4 over conf|plaintext). */
function recoverConfounder(key: Uint8Array, usage: number, ciphertext: Uint8Array): Uint8Array {
  const t = new Uint8Array(4);
  new DataView(t.buffer).setUint32(0, msUsage(usage), true);
  const k1 = createHmac('md5', key).update(t).digest();
  const k3 = createHmac('md5', k1).update(ciphertext.subarray(0, 16)).digest();
  return rc4(k3, ciphertext.subarray(16)).subarray(0, 8);
}

test('RFC 4757 usage mapping: 3 → 8, 23 → 13, others unchanged', () => {
  assert.equal(msUsage(3), 8);
  assert.equal(msUsage(23), 13);
  for (const u of [1, 2, 4, 7, 8, 9, 11, 12, 22, 24, 1024]) assert.equal(msUsage(u), u);
  // So an AS-REP part (3) and a TGS-REP part (8) are interchangeable under RC4.
  const k = { enctype: 23, keyvalue: fromHex('4ba2fbf0379faed87a254d3b353d5a7e') };
  const c = encryptWithConfounder(k, 3, utf8('EncASRepPart'), fromHex('0706050403020100'));
  assert.deepEqual(decrypt(k, 8, c), utf8('EncASRepPart'));
});

test('usage 9 (TGS-REP part under a subkey): encrypts as 9 (Windows), decrypts 9 and RFC 4757\'s 8 (MIT enc_rc4.c)', () => {
  const k = { enctype: 23, keyvalue: fromHex('68f263db3fce15d031c9eab02d67107a') };
  const conf = fromHex('0001020304050607');
  const p = utf8('EncTGSRepPart');
  const as9 = encryptWithConfounder(k, 9, p, conf);
  const as8 = encryptWithConfounder(k, 8, p, conf);
  assert.notDeepEqual(as9, as8);
  assert.deepEqual(decrypt(k, 9, as9), p);
  assert.deepEqual(decrypt(k, 9, as8), p);
  assert.throws(() => decrypt(k, 8, as9), IntegrityError);
  assert.throws(() => decrypt(k, 10, as8), IntegrityError);
});

// MIT krb5 src/lib/crypto/crypto_tests/t_cksums.c, hmac-md5-rc4 (-138), usage 6.
test('MIT t_cksums.c: hmac-md5 (-138) checksum', () => {
  const k = { enctype: 23, keyvalue: fromHex('f7d3a155af5e238a0b7a871a96ba2ab2') };
  const data = utf8('seventeen eighteen nineteen twenty');
  const c = makeChecksum(-138, k, 6, data);
  assert.equal(toHex(c), 'eb38cc97e2230f59da4117dc5859d7ec');
  assert.ok(verifyChecksum(-138, k, 6, data, c, { allowWeak: true }));
  assert.ok(!verifyChecksum(-138, k, 7, data, c, { allowWeak: true }));
});

test('RFC 4757 §3 string-to-key is the NT hash (MIT spake t_vectors.c: arcfour "password" initial key)', async () => {
  const k = await stringToKey(23, 'password', 'IGNORED.SALTuser', undefined, weak);
  assert.equal(toHex(k.keyvalue), '8846f7eaee8fb117ad06bdd830b7586c');
  assert.deepEqual(await stringToKey(23, utf8('password'), '', new Uint8Array(0), weak), k);
  await assert.rejects(stringToKey(23, 'password', '', fromHex('00001000'), weak), { code: 'ERR_BAD_S2K_PARAMS' });
  await assert.rejects(stringToKey(23, Uint8Array.of(0xff, 0xfe), '', undefined, weak), { code: 'ERR_INVALID_ARGUMENT' });
});

test('arcfour-hmac PRF is HMAC-SHA1 (20 octets)', () => {
  const k = { enctype: 23, keyvalue: fromHex('f7d3a155af5e238a0b7a871a96ba2ab2') };
  const expected = createHmac('sha1', k.keyvalue).update('prf input').digest();
  assert.deepEqual(prf(k, utf8('prf input')), new Uint8Array(expected));
});
