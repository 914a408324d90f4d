import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex } from '../../core/bytes.js';
import { rc4 } from './rc4.js';

// RFC 6229 §2 (test vectors for RC4): keystream at offsets 0, 16, 240, 256, 4080, 4096.
const vectors: ReadonlyArray<readonly [key: string, offsets: Readonly<Record<number, string>>]> = [
  ['0102030405', {
    0: 'b2396305f03dc027ccc3524a0a1118a8',
    16: '6982944f18fc82d589c403a47a0d0919',
    240: '28cb1132c96ce286421dcaadb8b69eae',
    256: '1cfcf62b03eddb641d77dfcf7f8d8c93',
  }],
  ['0102030405060708090a0b0c0d0e0f10', {
    0: '9ac7cc9a609d1ef7b2932899cde41b97',
    16: '5248c4959014126a6e8a84f11d1a9e1c',
    240: '065902e4b620f6cc36c8589f66432f2b',
    256: 'd39d566bc6bce3010768151549f3873f',
    4080: 'ff38265c1642c1abe8d3c2fe5e572bf8',
    4096: 'a36a4c301ae8ac13610ccbc12256cacc',
  }],
];

for (const [key, offsets] of vectors) {
  test(`RFC 6229: RC4 keystream for the ${key.length * 4}-bit key ${key}`, () => {
    const stream = rc4(fromHex(key), new Uint8Array(4112));
    for (const [offset, expected] of Object.entries(offsets)) {
      assert.equal(toHex(stream.subarray(Number(offset), Number(offset) + 16)), expected, `offset ${offset}`);
    }
  });
}

test('RC4 decryption is encryption', () => {
  const key = fromHex('0102030405060708090a0b0c0d0e0f10');
  const text = Uint8Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(rc4(key, rc4(key, text)), text);
});
