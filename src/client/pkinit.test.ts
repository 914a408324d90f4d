/**
 * PKINIT client (RFC 4556, RFC 8636 KDF, RFC 8070 freshness) against MIT
 * krb5kdc 1.20 with krb5-pkinit: `kerbside kinit -X X509_user_identity=…`
 * with a software key (FILE:) and with a key on a SoftHSM2 token (PKCS11:),
 * then MIT klist reading the cache and MIT kvno using the TGT. The
 * certificates come from kerbside's realm CA (src/pki/ca.ts); the token key
 * is generated on SoftHSM2 (Debian package softhsm2).
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { systemRandom } from '../core/random.js';
import { systemKeyPairs } from '../core/keypairs.js';
import { readCcache } from '../files/index.js';
import {
  createRealmCa, issueKdcCertificate, issueUserCertificate, openToken, PinIncorrectError, toPem, type RealmCa,
} from '../pki/index.js';
import { createSoftHsmToken, useSoftHsmConfig, type SoftHsmToken } from '../testing/softhsm.js';
import { checkRun, mitTool } from '../testing/mit-tools.js';
import { startMitRealm, type MitRealm } from '../testing/mit-realm.js';
import { runCli, runCliInProcess } from '../testing/kerbside-cli.js';
import {
  cachedPaType, clientConfigFromKrb5, KerberosClient, openX509Identity, parseX509Identity, PkinitKdcCertificateError,
  PkinitKdcNameMismatchError,
} from './index.js';
import { Krb5Config } from '../files/index.js';

const REALM = 'PKINIT.TEST';
const PIN = '246810';
const WRONG_PIN = '135799';
const CARD_ID = new Uint8Array([0xc0, 0xde]);

let dir = '';
let ca: RealmCa;
let otherCa: RealmCa;
let token: SoftHsmToken;
let mit: MitRealm;
const clock = systemClock();
const random = systemRandom();

/** Files of a FILE: identity; keys written 0600. */
async function writeIdentity(name: string, cert: Uint8Array, keyPem: string): Promise<{ cert: string; key: string }> {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  await writeFile(certPath, toPem('CERTIFICATE', cert));
  await writeFile(keyPath, keyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  return { cert: certPath, key: keyPath };
}

let alice: { cert: string; key: string };
let caPath = '';
let kdcSerial = '';
let krb5Conf: Krb5Config;
let otherCaPath = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-pkinit-'));
  useSoftHsmConfig(dir);
  token = await createSoftHsmToken({ dir, label: 'kerbside-card', pin: PIN, soPin: '11223344' });
  const keys = systemKeyPairs();
  ca = await createRealmCa({ realm: REALM, clock, random, keys });
  otherCa = await createRealmCa({ realm: REALM, clock, random, keys, subject: 'CN=Someone else,O=ELSEWHERE' });
  caPath = join(dir, 'ca.pem');
  otherCaPath = join(dir, 'other-ca.pem');
  await writeFile(caPath, ca.pem().certificate);
  await writeFile(otherCaPath, otherCa.pem().certificate);

  const kdc = await issueKdcCertificate(ca);
  kdcSerial = kdc.serial;
  const kdcFiles = await writeIdentity('kdc', kdc.certificate, kdc.pem().key!);
  const a = await issueUserCertificate(ca, { principal: `alice@${REALM}` });
  alice = await writeIdentity('alice', a.certificate, a.pem().key!);

  // Carol's card: the key pair is made on the token; the CA certifies its public key.
  const t = await openToken({ module: token.module, slot: token.slot });
  try {
    await t.login(PIN);
    const spki = await t.generateRsaKeyPair({ id: CARD_ID, label: 'carol-card', bits: 2048 });
    const c = await issueUserCertificate(ca, { principal: `carol@${REALM}`, publicKey: spki });
    await t.writeCertificate({ id: CARD_ID, label: 'carol-card', der: c.certificate });
  } finally {
    await t.close();
  }

  mit = await startMitRealm({
    realm: REALM,
    principals: [
      { name: 'alice', randkey: true, attrs: ['+requires_preauth'] },
      { name: 'carol', randkey: true, attrs: ['+requires_preauth'] },
      { name: 'host/svc.pkinit.test', randkey: true },
    ],
    kdcRealmConf: { pkinit_identity: `FILE:${kdcFiles.cert},${kdcFiles.key}`, pkinit_anchors: `FILE:${caPath}` },
    libdefaults: { pkinit_anchors: `FILE:${caPath}` },
  });
  krb5Conf = await Krb5Config.load({ paths: mit.krb5ConfPath });
});

after(async () => {
  await mit?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

function kerbside(args: readonly string[], ccache: string, secrets: readonly string[] = []) {
  return runCliInProcess([...args], { env: { ...mit.env, KRB5CCNAME: ccache }, secrets });
}

async function mitUses(ccache: string, principal: string): Promise<void> {
  const klist = checkRun('klist', await mit.run(mitTool('klist'), ['-c', ccache]));
  assert.match(klist.stdout, new RegExp(`Default principal: ${principal}@PKINIT\\.TEST`));
  assert.match(klist.stdout, /krbtgt\/PKINIT\.TEST@PKINIT\.TEST/);
  const kvno = await mit.run(mitTool('kvno'), ['-c', ccache, `host/svc.pkinit.test@${REALM}`]);
  assert.equal(kvno.code, 0, `kvno failed:\n${kvno.stderr}\nKDC log:\n${await mit.kdcLog()}`);
  assert.match(kvno.stdout, /host\/svc\.pkinit\.test@PKINIT\.TEST: kvno = \d+/);
}

test('kinit -X X509_user_identity=FILE:cert,key gets a TGT from MIT krb5kdc; MIT klist and kvno use the cache', async () => {
  const ccache = `FILE:${join(dir, 'alice.cc')}`;
  const r = await kerbside(['kinit', '-V', '-X', `X509_user_identity=FILE:${alice.cert},${alice.key}`, 'alice'], ccache);
  assert.equal(r.code, 0, `kinit failed:\n${r.stderr}\nKDC log:\n${await mit.kdcLog()}`);
  assert.match(r.stdout, /Using identity: FILE:/);
  await mitUses(ccache, 'alice');
  // The cache records PKINIT as the pre-authentication used (pa_type 16, as MIT's kinit writes it).
  assert.equal(cachedPaType(await readCcache(ccache)), 16);
  const log = await mit.kdcLog();
  assert.match(log, /ISSUE: .*alice@PKINIT\.TEST for krbtgt/);
  // RFC 8070: the empty PA-AS-FRESHNESS got a token, which went back in the PKAuthenticator.
  assert.doesNotMatch(log, /no freshness token received from alice/);
});

test('kinit -X X509_user_identity=PKCS11:… signs with the SoftHSM2 key; the PIN is asked for with the token label', async () => {
  const ccache = `FILE:${join(dir, 'carol.cc')}`;
  const identity = `PKCS11:module_name=${token.module}:slotid=${token.slot}:certid=c0de`;
  const r = await kerbside(['kinit', '-X', `X509_user_identity=${identity}`, 'carol'], ccache, [PIN]);
  assert.equal(r.code, 0, `kinit failed:\n${r.stderr}\nKDC log:\n${await mit.kdcLog()}`);
  await mitUses(ccache, 'carol');
  assert.equal(cachedPaType(await readCcache(ccache)), 16);
  // token=LABEL instead of slotid, no certid (the only certificate on the token).
  const byLabel = await kerbside(['kinit', '-X', `X509_user_identity=PKCS11:module_name=${token.module}:token=kerbside-card`, 'carol'],
    `FILE:${join(dir, 'carol2.cc')}`, [PIN]);
  assert.equal(byLabel.code, 0, byLabel.stderr);
});

test('a wrong PIN fails with the token\'s typed error; the PIN appears nowhere in the output', async () => {
  const ccache = `FILE:${join(dir, 'wrong-pin.cc')}`;
  const identity = `PKCS11:module_name=${token.module}:slotid=${token.slot}`;
  const r = await kerbside(['kinit', '-X', `X509_user_identity=${identity}`, 'carol'], ccache, [WRONG_PIN]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^kinit: logging in on token "kerbside-card" \(slot \d+\): the PIN is incorrect \(CKR_PIN_INCORRECT\)/m);
  assert.ok(!r.stderr.includes(WRONG_PIN) && !r.stdout.includes(WRONG_PIN), r.stderr);
  assert.ok(!r.stderr.includes(PIN));
  // The library: PinIncorrectError from the token, before anything is sent to the KDC.
  await assert.rejects(openX509Identity(parseX509Identity(identity), { readPin: () => Promise.resolve(WRONG_PIN) }), (e: unknown) => {
    assert.ok(e instanceof PinIncorrectError, String(e));
    assert.ok(!e.message.includes(WRONG_PIN) && !JSON.stringify(e.detail).includes(WRONG_PIN));
    return true;
  });
});

test('a KDC certificate that does not chain to the given anchors is PkinitKdcCertificateError naming the certificate', async () => {
  const ccache = `FILE:${join(dir, 'untrusted.cc')}`;
  const r = await kerbside(['kinit', '-X', `X509_user_identity=FILE:${alice.cert},${alice.key}`, '-X', `X509_anchors=FILE:${otherCaPath}`, 'alice'], ccache);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^kinit: the KDC certificate of PKINIT\.TEST is not acceptable/m);
  assert.match(r.stderr, /subject "CN=krbtgt\/PKINIT\.TEST, ?O=PKINIT\.TEST"/);
  assert.match(r.stderr, /issuer "CN=PKINIT\.TEST Kerberos CA, ?O=PKINIT\.TEST"/);

  // Through the library: the typed error, with the failed check and the certificate in detail.
  const id = await aliceIdentity();
  await assert.rejects(libraryClient().getInitialCredentials({ client: 'alice', certificate: { signer: id.signer, anchors: [otherCa.certificate] } }),
    (e: unknown) => {
      assert.ok(e instanceof PkinitKdcCertificateError, String(e));
      assert.equal(e.detail['serial'], kdcSerial);
      assert.equal(e.detail['check'], 'chain');
      assert.equal(e.krbCode, 70);
      return true;
    });
});

test('ECDH P-256: MIT krb5kdc 1.20 answers KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED; the retry takes a group from its TD-DH-PARAMETERS', async () => {
  const refusals = (log: string): number => (log.match(/preauth \(pkinit\) verify failure: Key parameters not accepted/g) ?? []).length;
  const before = refusals(await mit.kdcLog());
  const id = await aliceIdentity();
  const result = await libraryClient().getInitialCredentials({
    client: 'alice', certificate: { signer: id.signer, anchors: [ca.certificate], group: 'P-256' },
  });
  assert.equal(result.paType, 16);
  assert.equal(result.credential.server.components.join('/'), `krbtgt/${REALM}`);
  // MIT 1.20's KDC has no ECDH (it arrived in krb5 1.22): one refusal, then a MODP group it listed.
  assert.equal(refusals(await mit.kdcLog()), before + 1);
  // modp4096 directly: accepted at once.
  const r4096 = await libraryClient().getInitialCredentials({
    client: 'alice', certificate: { signer: id.signer, anchors: [ca.certificate], group: 'modp4096' },
  });
  assert.equal(r4096.paType, 16);
  assert.equal(refusals(await mit.kdcLog()), before + 1);
});

test('the PIN is read from piped stdin by the real binary, prompted with the token label on stderr', async () => {
  const ccache = `FILE:${join(dir, 'piped.cc')}`;
  const identity = `PKCS11:module_name=${token.module}:slotid=${token.slot}:certid=c0de`;
  const r = await runCli(['kinit', '-X', `X509_user_identity=${identity}`, 'carol'], {
    env: { ...mit.env, KRB5CCNAME: ccache, SOFTHSM2_CONF: token.env.SOFTHSM2_CONF }, input: `${PIN}\n`,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'PIN for kerbside-card: ');
  assert.ok(!r.stdout.includes(PIN));
  await mitUses(ccache, 'carol');
});

test('a KDC certificate for another realm is PkinitKdcNameMismatchError (76); pkinit_kdc_hostname accepts its dNSName', async () => {
  const realm = 'OTHER.TEST';
  const kdc = await issueKdcCertificate(ca, { realm: 'ELSEWHERE.TEST', hostnames: ['kdc.other.test'] });
  const files = await writeIdentity('kdc-other', kdc.certificate, kdc.pem().key!);
  const u = await issueUserCertificate(ca, { principal: `dora@${realm}` });
  const dora = await writeIdentity('dora', u.certificate, u.pem().key!);
  const other = await startMitRealm({
    realm,
    principals: [{ name: 'dora', randkey: true, attrs: ['+requires_preauth'] }],
    kdcRealmConf: { pkinit_identity: `FILE:${files.cert},${files.key}`, pkinit_anchors: `FILE:${caPath}` },
  });
  try {
    const config = clientConfigFromKrb5(await Krb5Config.load({ paths: other.krb5ConfPath }));
    const id = await openX509Identity(parseX509Identity(`FILE:${dora.cert},${dora.key}`), { readPin: () => Promise.reject(new Error('no PIN')) });
    const client = new KerberosClient({ config, clock, random });
    await assert.rejects(client.getInitialCredentials({ client: 'dora', certificate: { signer: id.signer, anchors: [ca.certificate] } }),
      (e: unknown) => {
        assert.ok(e instanceof PkinitKdcNameMismatchError, String(e));
        assert.equal(e.krbCode, 76);
        assert.match(e.message, /is not for krbtgt\/OTHER\.TEST@OTHER\.TEST \(it names krbtgt\/ELSEWHERE\.TEST@ELSEWHERE\.TEST, DNS:kdc\.other\.test\)/);
        assert.match(e.message, new RegExp(`serial ${kdc.serial}`));
        return true;
      });
    const ok = await client.getInitialCredentials({
      client: 'dora', certificate: { signer: id.signer, anchors: [ca.certificate], kdcHostnames: ['KDC.other.test'] },
    });
    assert.equal(ok.paType, 16);
  } finally {
    await other.stop();
  }
});

function libraryClient(): KerberosClient {
  return new KerberosClient({ config: clientConfigFromKrb5(krb5Conf), clock, random });
}

function aliceIdentity() {
  return openX509Identity(parseX509Identity(`FILE:${alice.cert},${alice.key}`), { readPin: () => Promise.reject(new Error('no PIN here')) });
}
