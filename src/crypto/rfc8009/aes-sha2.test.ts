import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex, toHex, utf8 } from '../../core/bytes.js';
import { encryptWithConfounder } from '../encryption.js';
import { decrypt, makeChecksum, prf, stringToKey, verifyChecksum } from '../index.js';
import { KC, KE, KI, usageConstant } from '../rfc3961/dk.js';
import { kdfHmacSha2 } from './kdf.js';

// All vectors: RFC 8009 Appendix A ("Test Vectors").
const K128 = fromHex('3705d96080c17728a0e800eab6e0d23c');
const K256 = fromHex('6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52');
const EMPTY = new Uint8Array(0);

test('RFC 8009 A: string-to-key (32768 iterations, salt with 16 random octets)', async () => {
  const salt = concatBytes(fromHex('10df9dd783e5bc8acea1730e74355f61'), utf8('ATHENA.MIT.EDUraeburn'));
  const params = fromHex('00008000');
  assert.equal(toHex((await stringToKey(19, 'password', salt, params)).keyvalue), '089bca48b105ea6ea77ca5d2f39dc5e7');
  assert.equal(toHex((await stringToKey(20, 'password', salt, params)).keyvalue),
    '45bd806dbf6a833a9cffc1c94589a222367a79bc21c413718906e9f578a78467');
  // 32768 is also the default when s2kparams are absent (§4).
  assert.equal(toHex((await stringToKey(19, 'password', salt)).keyvalue), '089bca48b105ea6ea77ca5d2f39dc5e7');
});

test('RFC 8009 A: key derivation for usage 2 (Kc, Ke, Ki) with KDF-HMAC-SHA2', () => {
  const derive = (hash: 'sha256' | 'sha384', key: Uint8Array, purpose: number, bits: number): string =>
    toHex(kdfHmacSha2(hash, key, usageConstant(2, purpose), EMPTY, bits));
  assert.equal(derive('sha256', K128, KC, 128), 'b31a018a48f54776f403e9a396325dc3');
  assert.equal(derive('sha256', K128, KE, 128), '9b197dd1e8c5609d6e67c3e37c62c72e');
  assert.equal(derive('sha256', K128, KI, 128), '9fda0e56ab2d85e1569a688696c26a6c');
  assert.equal(derive('sha384', K256, KC, 192), 'ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d');
  assert.equal(derive('sha384', K256, KE, 256), '56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49');
  assert.equal(derive('sha384', K256, KI, 192), '69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f');
});

// Sample encryptions with usage 2 and the given confounders: (plaintext, confounder, ciphertext).
const encryptions: ReadonlyArray<readonly [enctype: 19 | 20, plaintext: string, confounder: string, ciphertext: string]> = [
  [19, '', '7e5895eaf2672435bad817f545a37148',
    'ef85fb890bb8472f4dab20394dca781dad877eda39d50c870c0d5a0a8e48c718'],
  [19, '000102030405', '7bca285e2fd4130fb55b1a5c83bc5b24',
    '84d7f30754ed987bab0bf3506beb09cfb55402cef7e6877ce99e247e52d16ed4421dfdf8976c'],
  [19, '000102030405060708090a0b0c0d0e0f', '56ab21713ff62c0a1457200f6fa9948f',
    '3517d640f50ddc8ad3628722b3569d2ae07493fa8263254080ea65c1008e8fc295fb4852e7d83e1e7c48c37eebe6b0d3'],
  [19, '000102030405060708090a0b0c0d0e0f1011121314', 'a7a4e29a4728ce10664fb64e49ad3fac',
    '720f73b18d9859cd6ccb4346115cd336c70f58edc0c4437c5573544c31c813bce1e6d072c186b39a413c2f92ca9b8334a287ffcbfc'],
  [20, '', 'f764e9fa15c276478b2c7d0c4e5f58e4',
    '41f53fa5bfe7026d91faf9be959195a058707273a96a40f0a01960621ac612748b9bbfbe7eb4ce3c'],
  [20, '000102030405', 'b80d3251c1f6471494256ffe712d0b9a',
    '4ed7b37c2bcac8f74f23c1cf07e62bc7b75fb3f637b9f559c7f664f69eab7b6092237526ea0d1f61cb20d69d10f2'],
  [20, '000102030405060708090a0b0c0d0e0f', '53bf8a0d105265d4e276428624ce5e63',
    'bc47ffec7998eb91e8115cf8d19dac4bbbe2e163e87dd37f49beca92027764f68cf51f14d798c2273f35df574d1f932e40c4ff255b36a266'],
  [20, '000102030405060708090a0b0c0d0e0f1011121314', '763e65367e864f02f55153c7e3b58af1',
    '40013e2df58e8751957d2878bcd2d6fe101ccfd556cb1eae79db3c3ee86429f2b2a602ac86fef6ecb647d6295fae077a1feb517508d2c16b4192e01f62'],
];

for (const [enctype, plaintext, confounder, ciphertext] of encryptions) {
  test(`RFC 8009 A: enctype ${enctype} encryption of ${plaintext.length / 2} octets`, () => {
    const key = { enctype, keyvalue: enctype === 19 ? K128 : K256 };
    assert.equal(toHex(encryptWithConfounder(key, 2, fromHex(plaintext), fromHex(confounder))), ciphertext);
    assert.equal(toHex(decrypt(key, 2, fromHex(ciphertext))), plaintext);
  });
}

test('RFC 8009 A: checksums hmac-sha256-128-aes128 (19) and hmac-sha384-192-aes256 (20), usage 2', () => {
  const data = fromHex('000102030405060708090a0b0c0d0e0f1011121314');
  const c19 = makeChecksum(19, { enctype: 19, keyvalue: K128 }, 2, data);
  assert.equal(toHex(c19), 'd78367186643d67b411cba9139fc1dee');
  assert.ok(verifyChecksum(19, { enctype: 19, keyvalue: K128 }, 2, data, c19));
  assert.equal(toHex(makeChecksum(20, { enctype: 20, keyvalue: K256 }, 2, data)),
    '45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a');
});

test('RFC 8009 A: pseudo-random function of "test"', () => {
  assert.equal(toHex(prf({ enctype: 19, keyvalue: K128 }, utf8('test'))),
    '9d188616f63852fe86915bb840b4a886ff3e6bb0f819b49b893393d393854295');
  assert.equal(toHex(prf({ enctype: 20, keyvalue: K256 }, utf8('test'))),
    '9801f69a368c2bf675e59521e177d9a07f67efe1cfde8d3c8d6f6a0256e3b17db3c1b62ad1b8553360d17367eb1514d2');
});
