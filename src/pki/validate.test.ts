import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, seededRandom, systemKeyPairs } from '../core/index.js';
import {
  CertificateDigestError, CertificateInvalidError, CertificateRevokedError, CertificateUntrustedError, KeyPurposeError,
  RevocationStatusUnknownError, Oid, certificatePrincipal, createCrl, createRealmCa, fromPem, issueKdcCertificate,
  issueUserCertificate, validateCertificate,
} from './index.js';
import type { ValidateOptions } from './index.js';
import { openssl, scratch } from './openssl.test-support.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const clock = new ManualClock(T0);
const keys = systemKeyPairs();
const ca = await createRealmCa({ realm: 'EXAMPLE.COM', clock, random: seededRandom(11), keys });
const other = await createRealmCa({ realm: 'EVIL.TEST', subject: 'CN=EXAMPLE.COM Kerberos CA,O=EXAMPLE.COM', clock, random: seededRandom(12), keys });
const alice = await issueUserCertificate(ca, { principal: 'alice@EXAMPLE.COM', upn: 'alice@example.com', smartCardLogonEku: true });
const kdc = await issueKdcCertificate(ca, { hostnames: ['kdc.example.com'] });
const dir = scratch();
after(() => dir.done());

const base = (over: Partial<ValidateOptions> = {}): ValidateOptions => ({
  certificate: alice.certificate, anchors: [ca.certificate], now: T0 + DAY, purpose: 'pkinit-client', ...over,
});

function expectCode(err: unknown, cls: { code: string }, krbCode: number, re?: RegExp): true {
  assert.ok(err instanceof Error);
  const e = err as Error & { code: string; krbCode: number; hint?: string };
  assert.equal(e.code, cls.code);
  assert.equal(e.krbCode, krbCode);
  assert.match(e.message, /subject "O=EXAMPLE\.COM,CN=|subject "/);
  assert.match(e.message, /serial [0-9a-f]+/);
  assert.ok(typeof e.hint === 'string' && e.hint.length > 0);
  assert.doesNotMatch(e.message, /PRIVATE KEY|BEGIN/);
  if (re !== undefined) assert.match(e.message, re);
  return true;
}

test('a good client certificate validates and yields its names and key', async () => {
  const r = await validateCertificate(base({ allowSmartCardLogonEku: true }));
  assert.equal(r.subject, 'CN=alice,O=EXAMPLE.COM');
  assert.equal(r.issuer, 'CN=EXAMPLE.COM Kerberos CA,O=EXAMPLE.COM');
  assert.equal(r.serial, alice.serial);
  assert.deepEqual(r.pkinitSanNames, ['alice@EXAMPLE.COM']);
  assert.deepEqual(r.pkinitSans[0], { realm: 'EXAMPLE.COM', principalName: { nameType: 1, nameString: ['alice'] } });
  assert.deepEqual(r.upns, ['alice@example.com']);
  assert.equal(r.notBefore, T0);
  assert.equal(r.notAfter, T0 + 365 * DAY);
  assert.equal(r.chain.length, 2);
  assert.equal(r.publicKey[0], 0x30);
  assert.deepEqual(certificatePrincipal(r, { realm: 'EXAMPLE.COM', allowUpn: true }), [
    { principal: 'alice@EXAMPLE.COM', source: 'pkinit-san', inRealm: true },
    { principal: 'alice\\@example.com@EXAMPLE.COM', source: 'upn', inRealm: true },
  ]);
  assert.equal(certificatePrincipal(r, { realm: 'OTHER', allowUpn: false })[0]!.inRealm, false);
});

test('a KDC certificate validates for pkinit-kdc, with its dNSNames', async () => {
  const r = await validateCertificate(base({ certificate: kdc.certificate, purpose: 'pkinit-kdc' }));
  assert.deepEqual(r.pkinitSanNames, ['krbtgt/EXAMPLE.COM@EXAMPLE.COM']);
  assert.deepEqual(r.dnsNames, ['kdc.example.com']);
});

test('expired and not-yet-valid: KDC_ERR_INVALID_CERTIFICATE (71)', async () => {
  await assert.rejects(validateCertificate(base({ now: T0 + 366 * DAY })), (e) => expectCode(e, CertificateInvalidError, 71, /expired at 2027-01-01/));
  await assert.rejects(validateCertificate(base({ now: T0 - 1 })), (e) => expectCode(e, CertificateInvalidError, 71, /not valid before 2026-01-01/));
  const later = await issueUserCertificate(ca, { principal: 'later@EXAMPLE.COM', notBefore: T0 + 10 * DAY });
  await assert.rejects(validateCertificate(base({ certificate: later.certificate })), (e) => expectCode(e, CertificateInvalidError, 71));
});

test('untrusted issuer and a forged same-name CA: KDC_ERR_CANT_VERIFY_CERTIFICATE (70)', async () => {
  await assert.rejects(validateCertificate(base({ anchors: [other.certificate] })),
    (e) => expectCode(e, CertificateUntrustedError, 70, /no certificate named as its issuer verifies/));
  const stranger = await createRealmCa({ realm: 'STRANGER.TEST', clock, random: seededRandom(13), keys });
  await assert.rejects(validateCertificate(base({ anchors: [stranger.certificate] })),
    (e) => expectCode(e, CertificateUntrustedError, 70, /neither a trust anchor/));
  // a flipped bit in the signature
  const bad = alice.certificate.slice();
  bad[bad.length - 5]! ^= 1;
  await assert.rejects(validateCertificate(base({ certificate: bad })), (e) => expectCode(e, CertificateUntrustedError, 70));
});

test('revoked by CRL: KDC_ERR_REVOKED_CERTIFICATE (72); a current CRL without it passes', async () => {
  const crl = await createCrl(ca, { revoked: [{ serial: alice.serial, date: T0 + 1000 }], thisUpdate: T0, nextUpdate: T0 + 7 * DAY });
  await assert.rejects(validateCertificate(base({ crls: [crl] })), (e) => expectCode(e, CertificateRevokedError, 72, /revoked at/));
  const clean = await createCrl(ca, { revoked: [], thisUpdate: T0, nextUpdate: T0 + 7 * DAY });
  await validateCertificate(base({ crls: [clean], requireCrl: true }));
  // a CRL signed by another key is not believed
  const forged = await createCrl(other, { revoked: [{ serial: alice.serial, date: T0 }], thisUpdate: T0, nextUpdate: T0 + 7 * DAY });
  await validateCertificate(base({ crls: [forged] }));
});

test('CRL required but missing or stale: KDC_ERR_REVOCATION_STATUS_UNKNOWN (73)', async () => {
  await assert.rejects(validateCertificate(base({ requireCrl: true })), (e) => expectCode(e, RevocationStatusUnknownError, 73));
  const stale = await createCrl(ca, { revoked: [], thisUpdate: T0, nextUpdate: T0 + DAY / 2 });
  await assert.rejects(validateCertificate(base({ crls: [stale], requireCrl: true })), (e) => expectCode(e, RevocationStatusUnknownError, 73));
});

test('wrong EKU: KDC_ERR_INCONSISTENT_KEY_PURPOSE (77)', async () => {
  // a KDC certificate offered as a client's, and the other way round
  await assert.rejects(validateCertificate(base({ certificate: kdc.certificate })), (e) => expectCode(e, KeyPurposeError, 77, /needs 1\.3\.6\.1\.5\.2\.3\.4/));
  await assert.rejects(validateCertificate(base({ purpose: 'pkinit-kdc' })), (e) => expectCode(e, KeyPurposeError, 77));
  const sc = await issueUserCertificate(ca, { principal: 'sc@EXAMPLE.COM', ekus: [Oid.msSmartCardLogon] });
  await assert.rejects(validateCertificate(base({ certificate: sc.certificate })), (e) => expectCode(e, KeyPurposeError, 77));
  await validateCertificate(base({ certificate: sc.certificate, allowSmartCardLogonEku: true }));
});

test('SHA-1 signed certificate (made by openssl): KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED (78)', async () => {
  const caKey = dir.write('ca.key', ca.pem().key);
  const caPem = dir.write('ca.pem', ca.pem().certificate);
  const req = openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', dir.path('u.key'), '-subj', '/CN=old', '-out', dir.path('u.csr')]);
  assert.equal(req.status, 0, req.stderr);
  dir.write('ext.cnf', 'extendedKeyUsage=1.3.6.1.5.2.3.4\nkeyUsage=critical,digitalSignature\n');
  const sig = openssl(['x509', '-req', '-in', dir.path('u.csr'), '-CA', caPem, '-CAkey', caKey, '-sha1', '-set_serial', '5',
    '-days', '30', '-extfile', dir.path('ext.cnf'), '-out', dir.path('u.pem')]);
  assert.equal(sig.status, 0, sig.stderr);
  const der = fromPem(new TextDecoder().decode(dir.read('u.pem')), 'CERTIFICATE');
  assert.match(openssl(['x509', '-inform', 'DER', '-noout', '-text'], der).stdout, /sha1WithRSAEncryption/);
  await assert.rejects(validateCertificate(base({ certificate: der })), (e) => expectCode(e, CertificateDigestError, 78, /1\.2\.840\.113549\.1\.1\.5/));
});

test('an intermediate CA in the chain', async () => {
  // openssl makes an intermediate under our CA; we issue nothing with it, only check the chain walk.
  const caKey = dir.write('ca2.key', ca.pem().key);
  const caPem = dir.write('ca2.pem', ca.pem().certificate);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', dir.path('i.key'), '-subj', '/O=EXAMPLE.COM/CN=Issuing CA', '-out', dir.path('i.csr')]);
  dir.write('i.cnf', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl(['x509', '-req', '-in', dir.path('i.csr'), '-CA', caPem, '-CAkey', caKey, '-sha256', '-set_serial', '9', '-days', '3650', '-extfile', dir.path('i.cnf'), '-out', dir.path('i.pem')]);
  dir.write('u.cnf', 'extendedKeyUsage=1.3.6.1.5.2.3.4\nkeyUsage=critical,digitalSignature\nsubjectAltName=otherName:1.3.6.1.5.2.2;SEQUENCE:princ\n[princ]\nrealm=EXP:0,GENSTR:EXAMPLE.COM\nprincipal_name=EXP:1,SEQUENCE:pn\n[pn]\nname_type=EXP:0,INTEGER:1\nname_string=EXP:1,SEQUENCE:ns\n[ns]\nn=GENSTR:carol\n');
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', dir.path('c.key'), '-subj', '/CN=carol', '-out', dir.path('c.csr')]);
  const s = openssl(['x509', '-req', '-in', dir.path('c.csr'), '-CA', dir.path('i.pem'), '-CAkey', dir.path('i.key'), '-sha256', '-set_serial', '10', '-days', '3650', '-extfile', dir.path('u.cnf'), '-out', dir.path('c.pem')]);
  assert.equal(s.status, 0, s.stderr);
  const inter = fromPem(new TextDecoder().decode(dir.read('i.pem')), 'CERTIFICATE');
  const carol = fromPem(new TextDecoder().decode(dir.read('c.pem')), 'CERTIFICATE');
  // openssl's validity starts at the real time: validate at its notBefore + 1 s.
  const nb = /notBefore=(.*)/.exec(openssl(['x509', '-inform', 'DER', '-noout', '-startdate'], carol).stdout)![1]!;
  const now = Date.parse(nb) + 1000;
  const r = await validateCertificate(base({ certificate: carol, intermediates: [inter], now }));
  assert.equal(r.chain.length, 3);
  // openssl's own encoding of the KRB5PrincipalName SAN (the MIT pkinit docs' recipe) decodes strictly.
  assert.deepEqual(r.pkinitSanNames, ['carol@EXAMPLE.COM']);
  await assert.rejects(validateCertificate(base({ certificate: carol, now })), (e) => expectCode(e, CertificateUntrustedError, 70));
});

test('garbage in: typed error, no crash', async () => {
  await assert.rejects(validateCertificate(base({ certificate: new Uint8Array([0x30, 0x03, 1, 2, 3]) })), { code: 'ERR_PKI_CERT_INVALID', krbCode: 71 });
  await assert.rejects(validateCertificate(base({ certificate: new Uint8Array([...alice.certificate, 0]) })), { code: 'ERR_PKI_CERT_INVALID' });
});
