import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../core/bytes.js';
import { ctsDecrypt, ctsEncrypt } from './aes-cts.js';

// RFC 3962 Appendix B, "Some test vectors for CBC with ciphertext stealing",
// AES-128 key "chicken teriyaki", zero IV.
const key = fromHex('636869636b656e207465726979616b69');
const vectors: ReadonlyArray<readonly [input: string, output: string]> = [
  ['4920776f756c64206c696b652074686520',
   'c6353568f2bf8cb4d8a580362da7ff7f97'],
  ['4920776f756c64206c696b65207468652047656e6572616c20476175277320',
   'fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5'],
  ['4920776f756c64206c696b65207468652047656e6572616c2047617527732043',
   '39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584'],
  ['4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c',
   '97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5'],
  ['4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20',
   '97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8'],
  ['4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e',
   '97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8'],
];

for (const [input, output] of vectors) {
  test(`RFC 3962 B: AES-CTS of ${input.length / 2} bytes`, () => {
    assert.equal(toHex(ctsEncrypt(key, fromHex(input))), output);
    assert.equal(toHex(ctsDecrypt(key, fromHex(output))), input);
  });
}

test('AES-CTS of exactly one block is plain AES and round-trips', () => {
  const block = fromHex('00112233445566778899aabbccddeeff');
  // FIPS-197 Appendix C.1 (AES-128): key 000102…0f.
  const fipsKey = fromHex('000102030405060708090a0b0c0d0e0f');
  assert.equal(toHex(ctsEncrypt(fipsKey, block)), '69c4e0d86a7b0430d8cdb78070b4c55a');
  assert.deepEqual(ctsDecrypt(fipsKey, ctsEncrypt(fipsKey, block)), block);
});

test('AES-CTS round-trips every length from one to five blocks with a 256-bit key', () => {
  const k256 = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  for (let n = 16; n <= 80; n++) {
    const p = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
    const c = ctsEncrypt(k256, p);
    assert.equal(c.length, n);
    assert.deepEqual(ctsDecrypt(k256, c), p);
  }
});

test('AES-CTS refuses input shorter than a block', () => {
  assert.throws(() => ctsEncrypt(key, new Uint8Array(15)), RangeError);
  assert.throws(() => ctsDecrypt(key, new Uint8Array(0)), RangeError);
});
