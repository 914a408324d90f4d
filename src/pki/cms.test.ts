import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, seededRandom, systemKeyPairs, utf8, toHex } from '../core/index.js';
import {
  CmsContentTypeError, CmsDigestNotAcceptedError, CmsSignatureError, CmsSignerNotFoundError, CmsFormatError, Oid,
  createRealmCa, issueUserCertificate, signCms, softwareSigner, verifyCms, toPem, validateCertificate,
} from './index.js';
import type { Signer } from './index.js';
import { attime, openssl, scratch } from './openssl.test-support.js';

const T0 = Date.UTC(2026, 0, 1);
const clock = new ManualClock(T0);
const keys = systemKeyPairs();
const ca = await createRealmCa({ realm: 'EXAMPLE.COM', clock, random: seededRandom(21), keys });
const alice = await issueUserCertificate(ca, { principal: 'alice@EXAMPLE.COM' });
const signer = softwareSigner(alice.certificate, alice.privateKey!);
const dir = scratch();
after(() => dir.done());
const caPem = dir.write('ca.pem', ca.pem().certificate);
const alicePem = dir.write('alice.pem', alice.pem().certificate);
const aliceKey = dir.write('alice.key', alice.pem().key!);
// Stands in for a DER AuthPack: the bytes are opaque to CMS.
const content = utf8('AuthPack bytes \u0000\u0001\u0002 of some length '.repeat(8));

test('signCms output verifies in openssl cms -verify (with -CAfile) and gives the content back', async () => {
  const der = await signCms({ contentType: Oid.pkinitAuthData, content, signer });
  const inFile = dir.write('signed.der', der);
  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', inFile, '-binary', '-CAfile', caPem, '-purpose', 'any',
    '-attime', attime(T0 + 1000), '-out', dir.path('out.bin')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /Verification successful/);
  assert.equal(toHex(dir.read('out.bin')), toHex(content));
  const noverify = openssl(['cms', '-verify', '-inform', 'DER', '-in', inFile, '-binary', '-noverify', '-out', dir.path('out2.bin')]);
  assert.equal(noverify.status, 0, noverify.stderr);
  // What MIT's cms_signeddata_create writes: eContentType id-pkinit-authData, SHA-256, content-type + message-digest only.
  const dump = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', inFile]).stdout;
  assert.match(dump, /eContentType: .*\(1\.3\.6\.1\.5\.2\.3\.1\)/);
  assert.match(dump, /digestAlgorithm: *\n\s*algorithm: sha256 /);
  assert.match(dump, /signatureAlgorithm: *\n\s*algorithm: sha256WithRSAEncryption/);
  assert.match(dump, /signerInfos:\s*\n\s*version: 1/);
  assert.match(dump, /object: contentType/);
  assert.match(dump, /object: messageDigest/);
  assert.doesNotMatch(dump, /signingTime/);
  assert.match(dump, /issuerAndSerialNumber/);
  // and our own verifier agrees
  const v = await verifyCms(der, { expectedContentType: Oid.pkinitAuthData });
  assert.equal(toHex(v.content), toHex(content));
  assert.equal(toHex(v.signerCertificate), toHex(alice.certificate));
  assert.equal(v.digestAlgorithm, 'SHA-256');
  assert.equal(v.certificates.length, 1);
});

test('verifyCms accepts openssl cms -sign -md sha256 -econtent_type id-pkinit-authData', async () => {
  const inFile = dir.write('content.bin', content);
  const r = openssl(['cms', '-sign', '-binary', '-nodetach', '-md', 'sha256', '-econtent_type', Oid.pkinitAuthData,
    '-signer', alicePem, '-inkey', aliceKey, '-in', inFile, '-outform', 'DER', '-out', dir.path('os.der')]);
  assert.equal(r.status, 0, r.stderr);
  const v = await verifyCms(dir.read('os.der'), { expectedContentType: Oid.pkinitAuthData });
  assert.equal(toHex(v.content), toHex(content));
  assert.equal(toHex(v.signerCertificate), toHex(alice.certificate));
  // the signer's chain is then validate.ts's business
  const chain = await validateCertificate({ certificate: v.signerCertificate, anchors: [ca.certificate], now: T0 + 1000, purpose: 'pkinit-client' });
  assert.deepEqual(chain.pkinitSanNames, ['alice@EXAMPLE.COM']);
});

test('SHA-1 in the SignerInfo (openssl -md sha1): KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED (80)', async () => {
  const inFile = dir.write('content1.bin', content);
  const r = openssl(['cms', '-sign', '-binary', '-nodetach', '-md', 'sha1', '-econtent_type', Oid.pkinitAuthData,
    '-signer', alicePem, '-inkey', aliceKey, '-in', inFile, '-outform', 'DER', '-out', dir.path('sha1.der')]);
  assert.equal(r.status, 0, r.stderr);
  await assert.rejects(verifyCms(dir.read('sha1.der'), { expectedContentType: Oid.pkinitAuthData }),
    (e) => e instanceof CmsDigestNotAcceptedError && e.krbCode === 80 && /SHA-1/.test(e.message));
});

test('wrong content type: typed error naming both types', async () => {
  const der = await signCms({ contentType: Oid.pkinitDhKeyData, content, signer });
  await assert.rejects(verifyCms(der, { expectedContentType: Oid.pkinitAuthData }),
    (e) => e instanceof CmsContentTypeError && e.code === 'ERR_PKI_CMS_CONTENT_TYPE'
      && e.message.includes(Oid.pkinitDhKeyData) && e.message.includes(Oid.pkinitAuthData));
  assert.equal((await verifyCms(der, { expectedContentType: Oid.pkinitDhKeyData })).contentType, Oid.pkinitDhKeyData);
});

test('tampered content or signature: KDC_ERR_INVALID_SIG (64)', async () => {
  const der = await signCms({ contentType: Oid.pkinitAuthData, content, signer });
  const hex = toHex(der);
  const at = hex.indexOf(toHex(content)) / 2;
  assert.ok(at > 0);
  const tampered = der.slice();
  tampered[at + 3]! ^= 0x01;
  await assert.rejects(verifyCms(tampered, { expectedContentType: Oid.pkinitAuthData }),
    (e) => e instanceof CmsSignatureError && e.krbCode === 64 && /message digest/.test(e.message));
  const badSig = der.slice();
  badSig[badSig.length - 10]! ^= 0x01;
  await assert.rejects(verifyCms(badSig, { expectedContentType: Oid.pkinitAuthData }),
    (e) => e instanceof CmsSignatureError && e.krbCode === 64 && /signature does not verify/.test(e.message));
  // openssl agrees that they are bad
  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', dir.write('t.der', tampered), '-binary', '-noverify', '-out', dir.path('t.out')]);
  assert.notEqual(r.status, 0);
});

test('a signer whose certificate is not the key\'s: openssl refuses, so do we', async () => {
  const bob = await issueUserCertificate(ca, { principal: 'bob@EXAMPLE.COM' });
  const liar: Signer = { certificate: bob.certificate, algorithm: 'rsa-sha256', sign: (d) => signer.sign(d) };
  const der = await signCms({ contentType: Oid.pkinitAuthData, content, signer: liar });
  await assert.rejects(verifyCms(der, { expectedContentType: Oid.pkinitAuthData }), CmsSignatureError);
});

test('ECDSA signer (token-style r||s signatures) round-trips through openssl', async () => {
  const pair = await keys.generateEcdsa('P-256');
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const carol = await issueUserCertificate(ca, { principal: 'carol@EXAMPLE.COM', publicKey: spki });
  const ec = softwareSigner(carol.certificate, pair.privateKey);
  assert.equal(ec.algorithm, 'ecdsa-sha256');
  const der = await signCms({ contentType: Oid.pkinitAuthData, content, signer: ec, certificates: [ca.certificate] });
  const r = openssl(['cms', '-verify', '-inform', 'DER', '-in', dir.write('ec.der', der), '-binary', '-CAfile', caPem, '-purpose', 'any',
    '-attime', attime(T0 + 1000), '-out', dir.path('ec.out')]);
  assert.equal(r.status, 0, r.stderr);
  const v = await verifyCms(der, { expectedContentType: Oid.pkinitAuthData });
  assert.equal(v.certificates.length, 2);
  // a PKCS#8 key works as well as a CryptoKey
  const p8 = softwareSigner(alice.certificate, new Uint8Array(await crypto.subtle.exportKey('pkcs8', alice.privateKey!)));
  await verifyCms(await signCms({ contentType: Oid.pkinitAuthData, content, signer: p8 }), { expectedContentType: Oid.pkinitAuthData });
});

test('missing signer certificate and garbage: typed errors', async () => {
  const inFile = dir.write('content2.bin', content);
  openssl(['cms', '-sign', '-binary', '-nodetach', '-nocerts', '-md', 'sha256', '-econtent_type', Oid.pkinitAuthData,
    '-signer', alicePem, '-inkey', aliceKey, '-in', inFile, '-outform', 'DER', '-out', dir.path('nocerts.der')]);
  await assert.rejects(verifyCms(dir.read('nocerts.der'), { expectedContentType: Oid.pkinitAuthData }), CmsSignerNotFoundError);
  await assert.rejects(verifyCms(new Uint8Array([0x30, 0x80, 0, 0]), { expectedContentType: Oid.pkinitAuthData }), CmsFormatError);
  await assert.rejects(verifyCms(utf8(toPem('CMS', content)), { expectedContentType: Oid.pkinitAuthData }), CmsFormatError);
});
