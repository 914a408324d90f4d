/**
 * PKINIT identity and anchor syntax as MIT writes it (krb5.conf(5) "PKINIT
 * options", kinit -X), the krb5.conf PKINIT settings, and kinit's -X usage
 * errors. The files are made by kerbside's realm CA; `openssl verify` (Debian
 * package openssl) agrees that the chain read from a FILE: identity is whole.
 */

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { systemKeyPairs } from '../core/keypairs.js';
import { toHex } from '../core/bytes.js';
import { Krb5Config } from '../files/index.js';
import { createRealmCa, issueUserCertificate, toPem } from '../pki/index.js';
import { checkRun, requireTool, runProgram, baseEnvironment } from '../testing/mit-tools.js';
import { runCliInProcess } from '../testing/kerbside-cli.js';
import {
  clientConfigFromKrb5, loadAnchors, openX509Identity, parseX509Identity, pkinitAnchorsFor, PkinitIdentityError,
} from './index.js';

const REALM = 'EXAMPLE.TEST';
const clock = new ManualClock(Date.UTC(2026, 0, 1));
const keys = systemKeyPairs();
const ca = await createRealmCa({ realm: REALM, clock, random: seededRandom(11), keys });
const ca2 = await createRealmCa({ realm: REALM, clock, random: seededRandom(12), keys, subject: 'CN=Second CA,O=EXAMPLE.TEST' });
const user = await issueUserCertificate(ca, { principal: `alice@${REALM}` });
const dir = await mkdtemp(join(tmpdir(), 'kerbside-pkinit-id-'));
after(() => rm(dir, { recursive: true, force: true }));
const noPin = { readPin: (): Promise<string> => Promise.reject(new Error('no PIN expected')) };

test('X509_user_identity FILE: and PKCS11: parse as MIT writes them', () => {
  assert.deepEqual(parseX509Identity('FILE:/a/cert.pem,/a/key.pem'), { kind: 'file', certificate: '/a/cert.pem', key: '/a/key.pem' });
  // No key file: the key is in the certificate file (MIT).
  assert.deepEqual(parseX509Identity('FILE:/a/both.pem'), { kind: 'file', certificate: '/a/both.pem', key: '/a/both.pem' });
  const p = parseX509Identity('PKCS11:module_name=/usr/lib/x.so:slotid=3:token=Alice card:certid=CA5d:certlabel=auth');
  assert.equal(p.kind, 'pkcs11');
  if (p.kind === 'pkcs11') {
    assert.equal(p.module, '/usr/lib/x.so');
    assert.equal(p.slot, 3);
    assert.equal(p.tokenLabel, 'Alice card');
    assert.equal(toHex(p.certId!), 'ca5d');
    assert.equal(p.certLabel, 'auth');
  }
  // The module may be given bare, as MIT allows.
  assert.deepEqual(parseX509Identity('PKCS11:/usr/lib/x.so:slotid=0'), { kind: 'pkcs11', module: '/usr/lib/x.so', slot: 0 });
  for (const [bad, why] of [
    ['DIR:/etc/certs', /unsupported X509_user_identity/], ['PKCS12:/a.p12', /unsupported/], ['cert.pem', /unsupported/],
    ['FILE:', /bad FILE identity/], ['FILE:a,b,c', /bad FILE identity/],
    ['PKCS11:module_name=/x.so:slotid=one', /bad slotid/], ['PKCS11:module_name=/x.so:certid=abc', /bad certid/],
    ['PKCS11:module_name=/x.so:pin=1234', /unknown PKCS11 identity option "pin"/], ['PKCS11:slotid=1', /names no module/],
  ] as const) {
    assert.throws(() => parseX509Identity(bad), (e: unknown) => e instanceof PkinitIdentityError && why.test(e.message), bad);
  }
});

test('anchors: FILE: with a PEM bundle or one DER certificate, DIR: with every certificate file; missing files are named', async () => {
  const bundle = join(dir, 'bundle.pem');
  await writeFile(bundle, ca.pem().certificate + ca2.pem().certificate);
  const der = join(dir, 'ca2.der');
  await writeFile(der, ca2.certificate);
  const anchorDir = join(dir, 'anchors');
  await mkdir(anchorDir);
  await writeFile(join(anchorDir, 'a.pem'), ca.pem().certificate);
  await writeFile(join(anchorDir, 'b.crt'), ca2.pem().certificate);
  await writeFile(join(anchorDir, 'README'), 'not a certificate');
  const hex = (list: Uint8Array[]): string[] => list.map(toHex);
  assert.deepEqual(hex(await loadAnchors([`FILE:${bundle}`])), hex([ca.certificate, ca2.certificate]));
  assert.deepEqual(hex(await loadAnchors([`FILE:${der}`, bundle])), hex([ca2.certificate, ca.certificate, ca2.certificate]));
  assert.deepEqual(hex(await loadAnchors([`DIR:${anchorDir}`])), hex([ca.certificate, ca2.certificate]));
  await assert.rejects(loadAnchors([`FILE:${join(dir, 'absent.pem')}`]), (e: unknown) =>
    e instanceof PkinitIdentityError && e.message.includes('absent.pem') && /ENOENT/.test(e.message));
  await assert.rejects(loadAnchors(['ENV:X']), PkinitIdentityError);
});

test('a FILE: identity: leaf first, the rest is the chain; PKCS#8 and PKCS#1 keys sign; a bad key file says so without its content', async () => {
  const pkcs8 = user.pem().key!;
  const pkcs1 = createPrivateKey(pkcs8).export({ type: 'pkcs1', format: 'pem' }).toString();
  const certPath = join(dir, 'alice-chain.pem');
  await writeFile(certPath, user.pem().certificate + ca.pem().certificate);
  for (const [name, keyText] of [['pkcs8', pkcs8], ['pkcs1', pkcs1]] as const) {
    const keyPath = join(dir, `alice-${name}.key`);
    await writeFile(keyPath, keyText, { mode: 0o600 });
    const id = await openX509Identity(parseX509Identity(`FILE:${certPath},${keyPath}`), noPin);
    assert.equal(toHex(id.signer.certificate), toHex(user.certificate));
    assert.deepEqual(id.chain.map(toHex), [toHex(ca.certificate)]);
    assert.equal(id.signer.algorithm, 'rsa-sha256');
    const data = new TextEncoder().encode('to be signed');
    const sig = await id.signer.sign(data);
    assert.ok(verify('sha256', data, createPublicKey(createPrivateKey(pkcs8)), sig), name);
    await id.close();
  }
  // openssl agrees the chain from the file is whole.
  const caPath = join(dir, 'ca-only.pem');
  await writeFile(caPath, ca.pem().certificate);
  const leafPath = join(dir, 'leaf.pem');
  await writeFile(leafPath, toPem('CERTIFICATE', user.certificate));
  checkRun('openssl verify', await runProgram(requireTool('openssl', 'openssl'), [
    'verify', '-attime', String(Math.floor(clock.now() / 1000) + 60), '-CAfile', caPath, leafPath,
  ], { env: baseEnvironment() }));

  const garbage = join(dir, 'garbage.key');
  await writeFile(garbage, '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n');
  await assert.rejects(openX509Identity(parseX509Identity(`FILE:${certPath},${garbage}`), noPin), (e: unknown) => {
    assert.ok(e instanceof PkinitIdentityError);
    assert.match(e.message, /holds no usable private key/);
    assert.ok(!e.message.includes('c2VjcmV0') && !JSON.stringify(e.detail).includes('c2VjcmV0'));
    return true;
  });
  await assert.rejects(openX509Identity(parseX509Identity('PKCS11:module_name=/nowhere.so'), noPin), /needs slotid= or token=/);
});

test('krb5.conf: pkinit_anchors of the realm win over [libdefaults]; pkinit_dh_min_bits and pkinit_kdc_hostname are read', async () => {
  const path = join(dir, 'krb5.conf');
  await writeFile(path, [
    '[libdefaults]', '  default_realm = EXAMPLE.TEST', '  pkinit_anchors = FILE:/etc/default-ca.pem', '  pkinit_dh_min_bits = 4096',
    '[realms]', '  EXAMPLE.TEST = {', '    kdc = 127.0.0.1:88', '    pkinit_anchors = FILE:/etc/example-ca.pem',
    '    pkinit_anchors = DIR:/etc/example-cas', '    pkinit_kdc_hostname = kdc.example.test', '  }',
    '  OTHER.TEST = {', '    kdc = 127.0.0.1:89', '  }', '',
  ].join('\n'));
  const config = clientConfigFromKrb5(await Krb5Config.load({ paths: path }));
  assert.deepEqual(pkinitAnchorsFor(config, 'EXAMPLE.TEST'), ['FILE:/etc/example-ca.pem', 'DIR:/etc/example-cas']);
  assert.deepEqual(pkinitAnchorsFor(config, 'OTHER.TEST'), ['FILE:/etc/default-ca.pem']);
  assert.deepEqual(config.realms['EXAMPLE.TEST']?.pkinitKdcHostnames, ['kdc.example.test']);
  assert.equal(config.pkinitGroup, 'modp4096');
  const plain = join(dir, 'plain.conf');
  await writeFile(plain, '[libdefaults]\n  default_realm = EXAMPLE.TEST\n');
  assert.equal(clientConfigFromKrb5(await Krb5Config.load({ paths: plain })).pkinitGroup, 'modp2048');
});

test('kinit -X: unknown attributes, bad identities and -k with a certificate are usage errors (exit 2)', async () => {
  const path = join(dir, 'usage.conf');
  await writeFile(path, '[libdefaults]\n  default_realm = EXAMPLE.TEST\n[realms]\n  EXAMPLE.TEST = {\n    kdc = 127.0.0.1:1\n  }\n');
  const env = { KRB5_CONFIG: path, KRB5CCNAME: `FILE:${join(dir, 'cc')}` };
  for (const [args, why] of [
    [['-X', 'flag_RSA_PROTOCOL=yes'], /unsupported -X attribute flag_RSA_PROTOCOL/],
    [['-X', 'X509_user_identity=PKCS12:/a.p12'], /unsupported X509_user_identity/],
    [['-k', '-X', `X509_user_identity=FILE:${join(dir, 'x.pem')}`], /cannot be combined/],
  ] as const) {
    const r = await runCliInProcess(['kinit', ...args, 'alice'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, why);
  }
  // No anchors anywhere: refused before anything is sent, with the fix.
  const none = await runCliInProcess(['kinit', '-X', `X509_user_identity=FILE:${join(dir, 'alice-chain.pem')},${join(dir, 'alice-pkcs8.key')}`, 'alice'], { env });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no PKINIT trust anchors for realm EXAMPLE\.TEST/);
  assert.match(none.stderr, /X509_anchors=FILE:ca\.pem|pkinit_anchors/);
});
