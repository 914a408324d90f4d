import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ManualClock, seededRandom, systemClock, systemKeyPairs, toHex } from '../core/index.js';
import { Krb5PrincipalName, principalNameFromString } from '../messages/index.js';
import { createCrl, createRealmCa, issueKdcCertificate, issueUserCertificate, loadRealmCa, Oid, fromPem, toPem } from './index.js';
import { attime, openssl, scratch } from './openssl.test-support.js';

const T0 = Date.UTC(2026, 0, 1);
const clock = new ManualClock(T0);
const ca = await createRealmCa({ realm: 'EXAMPLE.COM', clock, random: seededRandom(7), keys: systemKeyPairs() });
const kdc = await issueKdcCertificate(ca, { hostnames: ['kdc.example.com', 'kdc2.example.com'] });
const alice = await issueUserCertificate(ca, { principal: 'alice@EXAMPLE.COM', upn: 'alice@example.com', smartCardLogonEku: true });
const dir = scratch();
after(() => dir.done());
const caPem = dir.write('ca.pem', ca.pem().certificate);

function sanOtherNames(der: Uint8Array): { typeId: string; value: Uint8Array }[] {
  const cert = pkijs.Certificate.fromBER(der.slice().buffer);
  const ext = cert.extensions!.find((e) => e.extnID === Oid.subjectAltName)!;
  const seq = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView.slice().buffer).result as asn1js.Sequence;
  return seq.valueBlock.value.filter((g) => g.idBlock.tagNumber === 0).map((g) => {
    const [oid, wrapped] = (g as asn1js.Constructed).valueBlock.value;
    return {
      typeId: (oid as asn1js.ObjectIdentifier).valueBlock.toString(),
      value: new Uint8Array((wrapped as asn1js.Constructed).valueBlock.value[0]!.valueBeforeDecodeView),
    };
  });
}

test('id-pkinit-san is OtherName 1.3.6.1.5.2.2 with [0] EXPLICIT KRB5PrincipalName DER, byte for byte (RFC 4556 §3.2.2)', () => {
  const names = sanOtherNames(alice.certificate);
  const san = names.find((n) => n.typeId === Oid.pkinitSan)!;
  const p = principalNameFromString('alice@EXAMPLE.COM');
  assert.equal(toHex(san.value), toHex(Krb5PrincipalName.encode({ realm: 'EXAMPLE.COM', principalName: p.name })));
  // The whole GeneralName: A0 { 06 08 2B0601050202  A0 { 30 … } }.
  const raw = toHex(alice.certificate);
  assert.ok(raw.includes('06062b0601050202a0'), 'type-id then [0] EXPLICIT');
  const kdcSan = sanOtherNames(kdc.certificate).find((n) => n.typeId === Oid.pkinitSan)!;
  assert.deepEqual(Krb5PrincipalName.decode(kdcSan.value), {
    realm: 'EXAMPLE.COM', principalName: { nameType: 2, nameString: ['krbtgt', 'EXAMPLE.COM'] },
  });
  // RFC 4055 §5: sha256WithRSAEncryption with NULL parameters, in tbs and outer signature.
  assert.equal(raw.split('300d06092a864886f70d01010b0500').length - 1, 2);
  const upn = names.find((n) => n.typeId === Oid.msUpn)!;
  assert.equal(toHex(upn.value), '0c11' + Buffer.from('alice@example.com').toString('hex'));
});

test('openssl -text shows the PKINIT SAN, UPN, dNSNames and EKUs', () => {
  const user = openssl(['x509', '-inform', 'DER', '-text', '-noout'], alice.certificate);
  assert.equal(user.status, 0, user.stderr);
  assert.match(user.stdout, /othername: ?1\.3\.6\.1\.5\.2\.2::/);
  assert.match(user.stdout, /othername: ?UPN::alice@example\.com/);
  assert.match(user.stdout, /PKINIT Client Auth, Microsoft Smartcard Login/);
  assert.match(user.stdout, /Digital Signature/);
  assert.match(user.stdout, /Not Before: Jan {2}1 00:00:00 2026 GMT/);
  const k = openssl(['x509', '-inform', 'DER', '-text', '-noout'], kdc.certificate);
  assert.match(k.stdout, /DNS:kdc\.example\.com, DNS:kdc2\.example\.com/);
  assert.match(k.stdout, /Signing KDC Response/);
  assert.match(k.stdout, /sha256WithRSAEncryption/);
  const c = openssl(['x509', '-inform', 'DER', '-text', '-noout'], ca.certificate);
  assert.match(c.stdout, /CA:TRUE/);
  assert.match(c.stdout, /Certificate Sign, CRL Sign/);
});

test('openssl verify -CAfile accepts the KDC and user certificates', () => {
  const files = [dir.write('kdc.pem', kdc.pem().certificate), dir.write('alice.pem', alice.pem().certificate)];
  const r = openssl(['verify', '-CAfile', caPem, '-attime', attime(T0 + 86_400_000), ...files]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /kdc\.pem: OK/);
  assert.match(r.stdout, /alice\.pem: OK/);
  // and refuses them after they expire
  const late = openssl(['verify', '-CAfile', caPem, '-attime', attime(T0 + 400 * 86_400_000), files[1]!]);
  assert.notEqual(late.status, 0);
});

test('a generated key pair comes back as PKCS#8 PEM that openssl matches to the certificate', () => {
  const keyPem = kdc.pem().key!;
  const certMod = openssl(['x509', '-inform', 'DER', '-noout', '-modulus'], kdc.certificate).stdout;
  const keyMod = openssl(['rsa', '-noout', '-modulus', '-in', dir.write('kdc.key', keyPem)]).stdout;
  assert.equal(certMod, keyMod);
  assert.ok(certMod.startsWith('Modulus='));
  assert.deepEqual(fromPem(toPem('CERTIFICATE', kdc.certificate), 'CERTIFICATE'), kdc.certificate);
});

test('a certificate for a key made elsewhere (smart card): SPKI in, same key out', async () => {
  const pair = await systemKeyPairs().generateEcdsa('P-256');
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const bob = await issueUserCertificate(ca, { principal: 'bob@EXAMPLE.COM', publicKey: spki });
  assert.equal(bob.privateKey, undefined);
  assert.equal(bob.pem().key, undefined);
  const cert = pkijs.Certificate.fromBER(bob.certificate.slice().buffer);
  assert.equal(toHex(new Uint8Array(cert.subjectPublicKeyInfo.toSchema().toBER(false))), toHex(spki));
  const r = openssl(['verify', '-CAfile', caPem, '-attime', attime(T0 + 1000), dir.write('bob.pem', bob.pem().certificate)]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('serial numbers come from the RandomSource, validity from the Clock', async () => {
  const a = await createRealmCa({ realm: 'R.TEST', clock: new ManualClock(T0), random: seededRandom(1), keys: systemKeyPairs() });
  const u1 = await issueUserCertificate(a, { principal: 'u@R.TEST' });
  const b = await createRealmCa({ realm: 'R.TEST', clock: new ManualClock(T0), random: seededRandom(1), keys: systemKeyPairs() });
  const u2 = await issueUserCertificate(b, { principal: 'u@R.TEST' });
  assert.equal(u1.serial, u2.serial);
  assert.equal(u1.serial.length, 32);
  const serialOut = openssl(['x509', '-inform', 'DER', '-noout', '-serial'], u1.certificate).stdout.trim();
  assert.equal(serialOut.toLowerCase(), `serial=${u1.serial}`);
  const dates = openssl(['x509', '-inform', 'DER', '-noout', '-enddate'], u1.certificate).stdout;
  assert.match(dates, /notAfter=Jan {2}1 00:00:00 2027 GMT/);
});

test('openssl crl accepts the CRL and lists the revoked serial', async () => {
  const crl = await createCrl(ca, { revoked: [{ serial: alice.serial, date: T0 + 1000 }], thisUpdate: T0, nextUpdate: T0 + 7 * 86_400_000 });
  const crlPem = dir.write('ca.crl', toPem('X509 CRL', crl));
  const r = openssl(['crl', '-in', crlPem, '-CAfile', caPem, '-noout', '-text']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr + r.stdout, /verify OK/);
  assert.match(r.stdout, new RegExp(`Serial Number: ${alice.serial.toUpperCase()}`));
  const v = openssl(['verify', '-crl_check', '-CAfile', caPem, '-CRLfile', crlPem, '-attime', attime(T0 + 86_400_000), dir.write('a2.pem', alice.pem().certificate)]);
  assert.notEqual(v.status, 0);
  assert.match(v.stdout + v.stderr, /certificate revoked/);
});

test('the CA refuses a principal without realm and a bad host name', async () => {
  await assert.rejects(issueUserCertificate(ca, { principal: 'alice' }), { code: 'ERR_INVALID_ARGUMENT' });
  await assert.rejects(issueKdcCertificate(ca, { hostnames: ['bad host'] }), { code: 'ERR_INVALID_ARGUMENT' });
});

test('loadRealmCa: our own PEM files, and a CA made by openssl', async () => {
  const again = await loadRealmCa({ realm: 'EXAMPLE.COM', certificate: ca.pem().certificate, privateKey: ca.pem().key, clock, random: seededRandom(8), keys: systemKeyPairs() });
  assert.equal(again.subject, 'CN=EXAMPLE.COM Kerberos CA,O=EXAMPLE.COM');
  const carol = await issueUserCertificate(again, { principal: 'carol@EXAMPLE.COM' });
  const r = openssl(['verify', '-CAfile', caPem, '-attime', attime(T0 + 1000), dir.write('carol.pem', carol.pem().certificate)]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  await assert.rejects(loadRealmCa({ realm: 'EXAMPLE.COM', certificate: ca.certificate, privateKey: kdc.pem().key!, clock, random: seededRandom(8), keys: systemKeyPairs() }),
    /does not belong to the CA certificate/);

  const made = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650', '-subj', '/O=OSSL.TEST/CN=OpenSSL CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', dir.path('o.key'), '-out', dir.path('o.pem')]);
  assert.equal(made.status, 0, made.stderr);
  const text = (f: string) => new TextDecoder().decode(dir.read(f));
  const ossl = await loadRealmCa({ realm: 'OSSL.TEST', certificate: text('o.pem'), privateKey: text('o.key'), clock: systemClock(), random: seededRandom(9), keys: systemKeyPairs() });
  const kdc2 = await issueKdcCertificate(ossl);
  const v = openssl(['verify', '-CAfile', dir.path('o.pem'), dir.write('kdc2.pem', kdc2.pem().certificate)]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(openssl(['x509', '-inform', 'DER', '-noout', '-issuer'], kdc2.certificate).stdout, /O = OSSL\.TEST, CN = OpenSSL CA/);
});
