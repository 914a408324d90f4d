import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex, utf8 } from '../../core/bytes.js';
import { decrypt, makeChecksum, prf, stringToKey, verifyChecksum } from '../index.js';

const params = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const X64 = 'X'.repeat(64);
const X65 = 'X'.repeat(65);

// RFC 3962 Appendix B: PBKDF2-HMAC-SHA1 string-to-key, "128-bit AES key" / "256-bit AES key".
const s2k: ReadonlyArray<readonly [iterations: number, password: string, salt: string | Uint8Array, aes128: string, aes256: string]> = [
  [1, 'password', 'ATHENA.MIT.EDUraeburn', '42263c6e89f4fc28b8df68ee09799f15',
    'fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161'],
  [2, 'password', 'ATHENA.MIT.EDUraeburn', 'c651bf29e2300ac27fa469d693bdda13',
    'a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff'],
  [1200, 'password', 'ATHENA.MIT.EDUraeburn', '4c01cd46d632d01e6dbe230a01ed642a',
    '55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a'],
  [5, 'password', fromHex('1234567878563412'), 'e9b23d52273747dd5c35cb55be619d8e',
    '97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31'],
  [1200, X64, 'pass phrase equals block size', '59d1bb789a828b1aa54ef9c2883f69ed',
    '89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34'],
  [1200, X65, 'pass phrase exceeds block size', 'cb8005dc5f90179a7f02104c0018751d',
    'd78c5c9cb872a8c9dad4697f0bb5b2d21496c82beb2caeda2112fceea057401b'],
  [50, '\u{1D11E}', 'EXAMPLE.COMpianist', 'f149c1f2e154a73452d43e7fe62a56e5',
    '4b6d9839f84406df1f09cc166db4b83c571848b784a3d6bdc346589a3e393f9e'],
];

for (const [iterations, password, salt, aes128, aes256] of s2k) {
  const label = `${iterations} iterations, salt ${typeof salt === 'string' ? JSON.stringify(salt) : toHex(salt)}`;
  test(`RFC 3962 B: string-to-key aes128 and aes256, ${label}`, async () => {
    assert.equal(toHex((await stringToKey(17, password, salt, params(iterations), { allowLowIterations: true })).keyvalue), aes128);
    assert.equal(toHex((await stringToKey(18, password, salt, params(iterations), { allowLowIterations: true })).keyvalue), aes256);
  });
}

test('RFC 3962 §4: absent s2kparams mean 4096 iterations', async () => {
  const dflt = await stringToKey(18, 'password', 'EXAMPLE.COMuser');
  const explicit = await stringToKey(18, 'password', 'EXAMPLE.COMuser', params(4096));
  assert.deepEqual(dflt, explicit);
  assert.deepEqual(await stringToKey(18, utf8('password'), utf8('EXAMPLE.COMuser')), dflt);
});

// MIT krb5 src/lib/crypto/crypto_tests/t_decrypt.c: known ciphertexts (usage, plaintext, key, ciphertext).
const known: ReadonlyArray<readonly [enctype: number, usage: number, plaintext: string, key: string, ciphertext: string]> = [
  [17, 0, '', '5a5c0f0ba54f3828b2195e66ca24a289',
    '49ff8e11c173d9583a3254fbe7b1f1df36c538e8416784a1672e6676'],
  [17, 1, '1', '98450e3f3baa13f5c99beb936981b06f',
    'f86742f537b35dc2174a4dbaa920faf9042090b065e1ebb1cad9a65394'],
  [17, 2, '9 bytesss', '9062430c8cda3388922e6d6a509f5b7a',
    '68fb9679601f45c78857b2bf820fd6e53eca8d42fd4b1d7024a09205abb7cd2ec26c355d2f'],
  [17, 3, '13 bytes byte', '033ee6502c54fd23e27791e987983827',
    'ec366d0327a933bf49330e650e49bc6b974637fe80bf532fe51795b4809718e6194724db948d1fd637'],
  [17, 4, '30 bytes bytes bytes bytes byt', 'dceeb70b3de76562e689226c76429148',
    'c96081032d5d8eeb7e32b4089f789d0faa481dea74c0f97cbf3146ddfcf8e800156ecb532fc203e30ff600b63b350939fece510f02d7ff1e7bac'],
  [18, 0, '', '17f275f2954f2ed1f90c377ba7f4d6a369aa0136e0bf0c927ad6133c693759a9',
    'e5094c55ee7b38262e2b044280b069379a95bf95bd8376fb3281b435'],
  [18, 1, '1', 'b9477e1ff0329c0050e20ce6c72d2dff27e8fe541ab0954429a9cb5b4f7b1e2a',
    '406150b97aeb76d43b36b62cc1ecdfbe6f40e95755e0beb5c27825f3a4'],
  [18, 2, '9 bytesss', 'b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7',
    '09957aa25fcaf88f7b39e4406e633012d5fea21853f6478da7065caef41fd454a40824eec5'],
  [18, 3, '13 bytes byte', 'e5a72be9b7926c1225bafef9c1872e7ba4cdb2b17893d84abd90acdd8764d966',
    'd8f1aafeec84587cc3e700a774e56651a6d693e174ec4473b5e6d96f80297a653fb818ad893e719f96'],
  [18, 4, '30 bytes bytes bytes bytes byt', 'f1c795e9248a09338d82c3f8d5b567040b0110736845041347235b1404231398',
    'd1137a4d634cfece924dbc3bf6790648bd5cff7de0e7b99460211d0daef3d79a295c688858f3b34b9cbd6eebae81daf6b734d4d498b6714f1c1d'],
];

for (const [enctype, usage, plaintext, key, ciphertext] of known) {
  test(`MIT t_decrypt.c: enctype ${enctype} usage ${usage} decrypts ${JSON.stringify(plaintext)}`, () => {
    const p = decrypt({ enctype, keyvalue: fromHex(key) }, usage, fromHex(ciphertext));
    assert.deepEqual(p, utf8(plaintext));
  });
}

// MIT krb5 src/lib/crypto/crypto_tests/t_cksums.c.
test('MIT t_cksums.c: hmac-sha1-96-aes128 (15) and hmac-sha1-96-aes256 (16)', () => {
  const k17 = { enctype: 17, keyvalue: fromHex('9062430c8cda3388922e6d6a509f5b7a') };
  const c15 = makeChecksum(15, k17, 3, utf8('eight nine ten eleven twelve thirteen'));
  assert.equal(toHex(c15), '01a4b088d45628f6946614e3');
  assert.ok(verifyChecksum(15, k17, 3, utf8('eight nine ten eleven twelve thirteen'), c15));
  const k18 = { enctype: 18, keyvalue: fromHex('b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7') };
  assert.equal(toHex(makeChecksum(16, k18, 4, utf8('fourteen'))), 'e08739e3279e2903ec8e3836');
});

// MIT krb5 src/lib/crypto/crypto_tests/t_prf.c.
const prfs: ReadonlyArray<readonly [enctype: number, key: string, input: string, output: string]> = [
  [17, 'ae272e7cdec86ac5138cdb196d8e297d', '0161', '77b39a37a868920f2a51f9dd150c5717'],
  [17, '67ab1cfef35e4c27ffdeac60385a3e9c', '0162', 'e06c0dd31ff02091994f2ef5178bfe3d'],
  [18, 'c01f157211f7b77eaaf457c3e156690127ee127d810ba6392e97baa243eb0616', '0161', 'b2628c788e2e9c4a9bb4644678c29f2f'],
  [18, 'c01f157211f7b77eaaf457c3e156690127ee127d810ba6392e97baa243eb0616', '0261', 'b406373350cee8a6126f4a9b65a0cd21'],
  [18, '9d520d2d980aa7cb6b693682b62da258b333867951642ce647ae62b1e5e0b5e9', '0162', 'ff0e289ea756c0559a0e911856961a49'],
  [18, '9d520d2d980aa7cb6b693682b62da258b333867951642ce647ae62b1e5e0b5e9', '0262', '0d674dd0f9a6806525a4d92e828bd15a'],
];

for (const [enctype, key, input, output] of prfs) {
  test(`MIT t_prf.c: enctype ${enctype} PRF(${input})`, () => {
    assert.equal(toHex(prf({ enctype, keyvalue: fromHex(key) }, fromHex(input))), output);
  });
}
