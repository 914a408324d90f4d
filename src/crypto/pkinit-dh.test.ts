/**
 * PKINIT key agreement: both halves agree for every group, the KDC refuses
 * other groups with error 65 (KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED), and OpenSSL (Debian package openssl) is the
 * peer for X9.42 DH (DHX) and EC keys: its SPKIs decode and its derived
 * secrets equal ours.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDiffieHellman } from 'node:crypto';
import { seededRandom } from '../core/random.js';
import { toHex } from '../core/bytes.js';
import { Asn1Error, bigInteger } from '../asn1/index.js';
import {
  DhDomainParameters, DhParametersNotAcceptedError, DhPublicValueError, PKINIT_GROUPS, SubjectPublicKeyInfo, acceptedDhParameters,
  agree, chooseGroup, decodeClientPublicKey, encodeClientPublicKey, generateClientKey, groupOf,
} from './index.js';
import { jacobi } from './pkinit-dh.js';
import type { PkinitGroup } from './index.js';
import { PkinitOid, TdDhParameters } from '../messages/index.js';

for (const group of PKINIT_GROUPS) {
  test(`${group}: client and KDC halves agree`, () => {
    const client = generateClientKey(group, seededRandom(1));
    const kdc = agree(client.spkiDer, seededRandom(2));
    assert.equal(kdc.group, group);
    const z = client.complete(kdc.serverPublicValue);
    assert.equal(toHex(z), toHex(kdc.sharedSecret));
    const size = { modp2048: 256, modp4096: 512, 'P-256': 32, 'P-384': 48 }[group];
    assert.equal(z.length, size);
    // Keys come from the injected RandomSource only: same seed, same key.
    assert.equal(toHex(generateClientKey(group, seededRandom(1)).spkiDer), toHex(client.spkiDer));
    assert.notEqual(toHex(generateClientKey(group, seededRandom(3)).spkiDer), toHex(client.spkiDer));
  });
}

test('MODP 1024 (RFC 2409 group 2) is refused with KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED', () => {
  const dh = getDiffieHellman('modp2');
  const p = BigInt(`0x${dh.getPrime('hex')}`);
  const params = DhDomainParameters.encode({ p, g: 2n, q: (p - 1n) / 2n });
  dh.generateKeys();
  const spki = SubjectPublicKeyInfo.encode({
    algorithm: { algorithm: PkinitOid.dhPublicNumber, parameters: params },
    subjectPublicKey: { bytes: bigInteger.encode(BigInt(`0x${dh.getPublicKey('hex')}`)), unusedBits: 0 },
  });
  assert.throws(() => agree(spki, seededRandom(1)), (e: unknown) => {
    assert.ok(e instanceof DhParametersNotAcceptedError);
    assert.equal(e.krbCode, 65);
    assert.equal(e.code, 'ERR_PKINIT_DH_PARAMETERS_NOT_ACCEPTED');
    assert.match(e.message, /1024-bit MODP group/);
    return true;
  });
});

test('a group outside the KDC policy is refused too; P-521 and unknown algorithms as well', () => {
  const client = generateClientKey('modp4096', seededRandom(1));
  assert.throws(() => agree(client.spkiDer, seededRandom(2), ['modp2048']), DhParametersNotAcceptedError);
  assert.equal(groupOf({ algorithm: PkinitOid.ecPublicKey, parameters: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23) }), undefined);
  assert.equal(groupOf({ algorithm: '1.2.840.113549.1.1.1', parameters: Uint8Array.of(0x05, 0x00) }), undefined);
});

test('TD-DH-PARAMETERS: MODP 2048, MODP 4096, P-256, P-384, and a client picks the first it knows', () => {
  const td = acceptedDhParameters();
  assert.deepEqual(td.map(groupOf), ['modp2048', 'modp4096', 'P-256', 'P-384']);
  const der = TdDhParameters.encode(td);
  assert.deepEqual(TdDhParameters.decode(der), td);
  const params2048 = DhDomainParameters.decode(td[0]!.parameters!);
  assert.equal(params2048.g, 2n);
  assert.equal(params2048.p.toString(2).length, 2048);
  assert.equal(chooseGroup([{ algorithm: '1.2.3' }, td[3]!, td[0]!]), 'P-384');
  assert.equal(chooseGroup([{ algorithm: '1.2.3' }]), undefined);
});

test('bad public values: out of range, outside the subgroup, not on the curve, malformed SPKI', () => {
  const p = DhDomainParameters.decode(acceptedDhParameters()[0]!.parameters!).p;
  const client = generateClientKey('modp2048', seededRandom(1));
  for (const y of [0n, 1n, p - 1n, p]) {
    assert.throws(() => client.complete(bigInteger.encode(y)), DhPublicValueError);
    assert.throws(() => agree(encodeClientPublicKey('modp2048', hexBytes(y)), seededRandom(2)), DhPublicValueError);
  }
  const ec = generateClientKey('P-256', seededRandom(1));
  const offCurve = new Uint8Array(65);
  offCurve[0] = 4;
  offCurve[64] = 1;
  assert.throws(() => ec.complete(offCurve), DhPublicValueError);
  assert.throws(() => ec.complete(offCurve.subarray(0, 33)), DhPublicValueError);
  assert.throws(() => decodeClientPublicKey(Uint8Array.of(0x30, 0x00)), DhPublicValueError);
  assert.throws(() => decodeClientPublicKey(Uint8Array.of(0x04, 0x00)), DhPublicValueError);
});

function hexBytes(v: bigint): Uint8Array {
  const h = v.toString(16);
  return Uint8Array.from(Buffer.from(h.length % 2 === 0 ? h : `0${h}`, 'hex'));
}

function openssl(args: string[]): Buffer {
  try {
    return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('openssl is needed for this test (Debian package openssl)');
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr?.toString() ?? String(e)}`);
  }
}

const OPENSSL_CASES: readonly (readonly [PkinitGroup, string[]])[] = [
  ['modp2048', ['-algorithm', 'DHX', '-pkeyopt', 'group:modp_2048']],
  ['modp4096', ['-algorithm', 'DHX', '-pkeyopt', 'group:modp_4096']],
  ['P-256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']],
  ['P-384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']],
];

for (const [group, genArgs] of OPENSSL_CASES) {
  test(`OpenSSL as the client (${group}): its SPKI decodes and openssl pkeyutl -derive gives our Z`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kerbside-pkinit-dh-'));
    try {
      const key = join(dir, 'client.pem');
      openssl(['genpkey', ...genArgs, '-out', key]);
      const spki = new Uint8Array(openssl(['pkey', '-in', key, '-pubout', '-outform', 'DER']));
      assert.equal(decodeClientPublicKey(spki).group, group);
      const kdc = agree(spki, seededRandom(7));
      // The KDC's public value as an SPKI in the same group, for openssl to read.
      const peer = join(dir, 'kdc.der');
      const bits = SubjectPublicKeyInfo.decode(spki);
      writeFileSync(peer, SubjectPublicKeyInfo.encode({ algorithm: bits.algorithm, subjectPublicKey: { bytes: kdc.serverPublicValue, unusedBits: 0 } }));
      const out = join(dir, 'z.bin');
      openssl(['pkeyutl', '-derive', '-inkey', key, '-peerform', 'DER', '-peerkey', peer, '-out', out]);
      // OpenSSL may strip leading zero octets of a DH secret; RFC 4556 §3.2.3.1 pads to the size of p.
      const theirs = new Uint8Array(readFileSync(out));
      const padded = new Uint8Array(kdc.sharedSecret.length);
      padded.set(theirs, padded.length - theirs.length);
      assert.equal(toHex(padded), toHex(kdc.sharedSecret));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('OpenSSL RFC 7919 ffdhe2048 and PKCS#3 dhKeyAgreement keys decode far enough to be refused with error 65', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kerbside-pkinit-dh-'));
  try {
    for (const args of [['-algorithm', 'DHX', '-pkeyopt', 'group:ffdhe2048'], ['-algorithm', 'DH', '-pkeyopt', 'group:modp_2048']]) {
      const key = join(dir, 'k.pem');
      openssl(['genpkey', ...args, '-out', key]);
      const spki = new Uint8Array(openssl(['pkey', '-in', key, '-pubout', '-outform', 'DER']));
      assert.throws(() => agree(spki, seededRandom(1)), DhParametersNotAcceptedError);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DomainParameters: q may be absent (Microsoft clients), a wrong q is refused, j and validationParms round-trip', () => {
  const { p, g, q } = DhDomainParameters.decode(acceptedDhParameters()[0]!.parameters!);
  const withoutQ = DhDomainParameters.encode({ p, g });
  assert.equal(groupOf({ algorithm: PkinitOid.dhPublicNumber, parameters: withoutQ }), 'modp2048');
  const wrongQ = DhDomainParameters.encode({ p, g, q: q! - 2n });
  assert.equal(groupOf({ algorithm: PkinitOid.dhPublicNumber, parameters: wrongQ }), undefined);
  const full = { p, g, q: q!, j: 2n, validationParms: Uint8Array.of(0x30, 0x06, 0x03, 0x01, 0x00, 0x02, 0x01, 0x07) };
  assert.deepEqual(DhDomainParameters.decode(DhDomainParameters.encode(full)), full);
  assert.deepEqual(DhDomainParameters.decode(DhDomainParameters.encode({ p, g, validationParms: full.validationParms })),
    { p, g, validationParms: full.validationParms });
  assert.throws(() => DhDomainParameters.decode(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05)), Asn1Error);
  assert.throws(() => DhDomainParameters.decode(Uint8Array.of(0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0x00)), Asn1Error);
  assert.throws(() => DhDomainParameters.decode(Uint8Array.of(0x30, 0x08, 0x02, 0x01, 0x05, 0x02, 0x01, 0x02, 0x05, 0x00)), Asn1Error);
  // A Windows-style client (no q) still agrees with us.
  const client = generateClientKey('modp2048', seededRandom(5));
  const spki = SubjectPublicKeyInfo.decode(client.spkiDer);
  const winSpki = SubjectPublicKeyInfo.encode({ ...spki, algorithm: { algorithm: PkinitOid.dhPublicNumber, parameters: withoutQ } });
  const kdc = agree(winSpki, seededRandom(6));
  assert.equal(toHex(client.complete(kdc.serverPublicValue)), toHex(kdc.sharedSecret));
});

test('subgroup check: the Jacobi symbol agrees with y^q mod p for the MODP groups', () => {
  const modPow = (b: bigint, e: bigint, m: bigint): bigint => {
    let r = 1n;
    let x = b % m;
    for (let k = e; k > 0n; k >>= 1n) {
      if ((k & 1n) === 1n) r = (r * x) % m;
      x = (x * x) % m;
    }
    return r;
  };
  const { p, q } = DhDomainParameters.decode(acceptedDhParameters()[0]!.parameters!);
  assert.equal(p % 8n, 7n);
  const rnd = seededRandom(9);
  for (let i = 0; i < 8; i++) {
    const y = (BigInt(`0x${toHex(rnd.bytes(256))}`) % (p - 3n)) + 2n;
    assert.equal(jacobi(y, p) === 1, modPow(y, q!, p) === 1n);
  }
  assert.equal(jacobi(2n, p), 1);
  assert.equal(jacobi(p - 2n, p), -1);
  const client = generateClientKey('modp2048', seededRandom(1));
  assert.throws(() => client.complete(bigInteger.encode(p - 2n)), DhPublicValueError);
});
