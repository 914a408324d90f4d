import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex, utf8 } from '../../core/bytes.js';
import { md4 } from './md4.js';

// RFC 1320 Appendix A.5 (test suite).
const suite: ReadonlyArray<readonly [string, string]> = [
  ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
];

for (const [input, digest] of suite) {
  test(`RFC 1320 A.5: MD4(${JSON.stringify(input.length > 20 ? `${input.slice(0, 20)}…` : input)})`, () => {
    assert.equal(toHex(md4(utf8(input))), digest);
  });
}

test('MD4 pads correctly around the 55/56/64-octet block boundaries', () => {
  // Distinct digests for lengths that need one or two padding blocks (no crash, deterministic).
  const seen = new Set<string>();
  for (let n = 50; n <= 130; n++) seen.add(toHex(md4(new Uint8Array(n).fill(0x61))));
  assert.equal(seen.size, 81);
});
