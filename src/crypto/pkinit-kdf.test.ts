/**
 * PKINIT key derivation against published vectors:
 * - RFC 8636 §8 KDF: MIT krb5 src/plugins/preauth/pkinit/pkinit_kdf_test.c
 *   (commit 02fff47a6ff9f322431d8c2d50fa463973ec19fd), the RFC 8636
 *   Appendix A values: Z = 256 zero octets, lha@SU.SE, krbtgt/SU.SE@SU.SE,
 *   AS-REQ = 10 × 0xaa, PA-PK-AS-REP = 9 × 0xbb.
 * - RFC 4556 §3.2.3.1 octetstring2key: Heimdal lib/krb5/test_pkinit_dh2key.c
 *   (commit ac11aa3ae1f69dc303e76f31cef8579694592107).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fromHex, toHex } from '../core/bytes.js';
import { Enctype, PKINIT_KDF_HASHES, chooseKdf, pkAuthenticatorChecksum, pkinitKdfHash, pkinitKdfOid, octetString2Key, pkinitKdf, pkinitKdfOctets, pkinitKdfOtherInfo } from './index.js';
import type { PkinitKdfInput } from './index.js';
import { Krb5PrincipalName, PkinitOid, Sp80056aOtherInfo } from '../messages/index.js';

const rfc8636 = (hash: PkinitKdfInput['hash'], enctype: number): PkinitKdfInput => ({
  hash, enctype,
  sharedSecret: new Uint8Array(256),
  clientName: { realm: 'SU.SE', principalName: { nameType: 1, nameString: ['lha'] } },
  serverName: { realm: 'SU.SE', principalName: { nameType: 1, nameString: ['krbtgt', 'SU.SE'] } },
  asReq: new Uint8Array(10).fill(0xaa),
  pkAsRep: new Uint8Array(9).fill(0xbb),
});

test('RFC 8636 KDF, MIT pkinit_kdf_test.c TEST 1 (SHA-1, aes256-cts-hmac-sha1-96)', () => {
  const key = pkinitKdf(rfc8636('sha1', Enctype.AES256_CTS_HMAC_SHA1_96));
  assert.equal(toHex(key.keyvalue), 'e6ab38c9413e035bb079201ed0b6b73d8d49a814a737c04ee6649614206f73ad');
  assert.equal(key.enctype, 18);
});

test('RFC 8636 KDF, MIT pkinit_kdf_test.c TEST 2 (SHA-256, aes256-cts-hmac-sha1-96)', () => {
  const key = pkinitKdf(rfc8636('sha256', Enctype.AES256_CTS_HMAC_SHA1_96));
  assert.equal(toHex(key.keyvalue), '77ef4e48c420ae3fec75109d7981697eed5d295c90c62564f7bfd101fa9bc1d5');
});

/** RFC 3961 §6.3.1 des3 random-to-key (kerbside does not implement des3; the vector needs it). */
function des3RandomToKey(seed: Uint8Array): Uint8Array {
  const out = new Uint8Array(24);
  for (let block = 0; block < 3; block++) {
    let last = 0;
    for (let i = 0; i < 7; i++) {
      const b = seed[block * 7 + i]!;
      out[block * 8 + i] = b;
      last |= (b & 1) << (i + 1);
    }
    out[block * 8 + 7] = last;
  }
  for (let i = 0; i < 24; i++) {
    const hi = out[i]! & 0xfe;
    let ones = 0;
    for (let v = hi; v > 0; v >>= 1) ones += v & 1;
    out[i] = hi | (ones % 2 === 0 ? 1 : 0);
  }
  return out;
}

test('RFC 8636 KDF, MIT pkinit_kdf_test.c TEST 3 (SHA-512, des3-cbc-sha1: 21 seed octets)', () => {
  const seed = pkinitKdfOctets(rfc8636('sha512', 16), 21);
  assert.equal(toHex(des3RandomToKey(seed)), 'd3c78a79d65213efe9a826f75dfb01f72362fb16fb01dad6');
});

test('RFC 8636 OtherInfo: KDF OID without parameters, DER names, PkinitSuppPubInfo', () => {
  const input = rfc8636('sha256', 18);
  const info = Sp80056aOtherInfo.decode(pkinitKdfOtherInfo(input));
  assert.deepEqual(info.algorithmId, { algorithm: PkinitOid.kdfAhSha256 });
  assert.deepEqual(Krb5PrincipalName.decode(info.partyUInfo), input.clientName);
  assert.equal(toHex(info.suppPubInfo!), '3020a003020112a10c040aaaaaaaaaaaaaaaaaaaaaa20b0409bbbbbbbbbbbbbbbbbb');
  // Names given as DER give the same key.
  const der = { ...input, clientName: Krb5PrincipalName.encode(input.clientName as Krb5PrincipalName) };
  assert.deepEqual(pkinitKdf(der), pkinitKdf(input));
});

test('KDF OID table', () => {
  assert.ok(Object.isFrozen(PKINIT_KDF_HASHES));
  assert.equal(Object.getPrototypeOf(PKINIT_KDF_HASHES), null);
  assert.equal(pkinitKdfHash('1.3.6.1.5.2.3.6.2'), 'sha256');
  assert.equal(pkinitKdfHash('toString'), undefined);
  assert.equal(pkinitKdfOid('sha512'), '1.3.6.1.5.2.3.6.3');
  assert.deepEqual({ ...PKINIT_KDF_HASHES }, {
    '1.3.6.1.5.2.3.6.1': 'sha1', '1.3.6.1.5.2.3.6.2': 'sha256', '1.3.6.1.5.2.3.6.3': 'sha512',
  });
});

// i mod 17 for i in 0..n-1, as in Heimdal's tests 2 and 3.
const ramp = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 17);

const HEIMDAL_DH2KEY: readonly (readonly [Uint8Array, string])[] = [
  [new Uint8Array(256), '5ee50d675c809fe59e4a7762c54b65837547eafb159bd8cdc75ffca5911e4c41'],
  [new Uint8Array(128), 'acf7707c08973ddfdb27cd361442ccfba355c8884cb472f37da636d07d56787e'],
  [ramp(128), 'c442da585fcb80e43b47946f254093e37329d99001380db78371db3acf5c797e'],
  [ramp(77), '0053953b84c896f4eb385c3f2e751c4a590ed6ffadca6ff64f47ebeb8d780ffc'],
];
HEIMDAL_DH2KEY.forEach(([secret, expected], i) => {
  test(`RFC 4556 octetstring2key, Heimdal test_pkinit_dh2key.c test ${i} (aes256)`, () => {
    assert.equal(toHex(octetString2Key(Enctype.AES256_CTS_HMAC_SHA1_96, secret).keyvalue), expected);
  });
});

function opensslSha1(data: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(execFileSync('openssl', ['dgst', '-sha1', '-binary'], { input: data }));
  } catch (e) {
    throw new Error(`openssl is needed for this test (Debian package openssl): ${(e as Error).message}`);
  }
}

test('octetstring2key with DH nonces: x = Z | n_c | n_k, one-octet counter from 0 (checked with openssl dgst)', () => {
  const z = ramp(256);
  const nc = fromHex('00112233445566778899aabbccddeeff');
  const nk = fromHex('ffeeddccbbaa99887766554433221100');
  const x = new Uint8Array([...z, ...nc, ...nk]);
  const expected = new Uint8Array([...opensslSha1(new Uint8Array([0, ...x])), ...opensslSha1(new Uint8Array([1, ...x]))]);
  assert.equal(toHex(octetString2Key(18, z, nc, nk).keyvalue), toHex(expected.slice(0, 32)));
  assert.equal(toHex(octetString2Key(17, z, nc, nk).keyvalue), toHex(expected.slice(0, 16)));
});

test('KDF choice: the first KDC preference the client offered (SHA-256, SHA-1, SHA-512 by default)', () => {
  const offer = (...oids: string[]): { kdfId: string }[] => oids.map((kdfId) => ({ kdfId }));
  assert.equal(chooseKdf(offer(PkinitOid.kdfAhSha512, PkinitOid.kdfAhSha1, PkinitOid.kdfAhSha256)), 'sha256');
  assert.equal(chooseKdf(offer(PkinitOid.kdfAhSha512, PkinitOid.kdfAhSha1)), 'sha1');
  assert.equal(chooseKdf(offer('1.2.3.4', PkinitOid.kdfAhSha512)), 'sha512');
  assert.equal(chooseKdf(offer('1.2.3.4')), undefined);
  assert.equal(chooseKdf(offer(PkinitOid.kdfAhSha1, PkinitOid.kdfAhSha512), ['sha512', 'sha1']), 'sha512');
});

test('paChecksum is SHA-1 of the KDC-REQ-BODY (checked with openssl dgst)', () => {
  const body = Uint8Array.from({ length: 100 }, (_, i) => i);
  assert.equal(toHex(pkAuthenticatorChecksum(body)), toHex(opensslSha1(body)));
});
