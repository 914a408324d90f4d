/**
 * Certificates from the realm CA work for MIT krb5 1.20 PKINIT (krb5-pkinit):
 * MIT kinit logs on to MIT krb5kdc with a user certificate we issued, the KDC
 * presenting a KDC certificate we issued (the client verifies its EKU
 * id-pkinit-KPKdc and krbtgt SAN), both trusting our CA. This checks
 * the id-pkinit-san encoding, the EKUs and key usages against MIT's own
 * checks (pkinit_eku_checking, SAN matching) on both sides.
 */

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom, systemClock, systemKeyPairs } from '../core/index.js';
import { createRealmCa, issueKdcCertificate, issueUserCertificate, Oid } from './index.js';
import type { RealmCa } from './index.js';
import { startMitRealm, type MitRealm } from '../testing/mit-realm.js';
import { mitTool } from '../testing/mit-tools.js';
import { scratch } from './openssl.test-support.js';

const REALM = 'EXAMPLE.TEST';
const PKINIT_PLUGIN = '/usr/lib/x86_64-linux-gnu/krb5/plugins/preauth/pkinit.so';
const dir = scratch();
let ca: RealmCa;
let realm: MitRealm;

before(async () => {
  if (!existsSync(PKINIT_PLUGIN)) throw new Error(`${PKINIT_PLUGIN} is missing: install the Debian package "krb5-pkinit"`);
  // MIT checks validity against the wall clock, so this CA lives in real time.
  ca = await createRealmCa({ realm: REALM, clock: systemClock(), random: seededRandom(31), keys: systemKeyPairs() });
  const kdc = await issueKdcCertificate(ca, { hostnames: ['localhost'] });
  dir.write('ca.pem', ca.pem().certificate);
  dir.write('kdc.pem', kdc.pem().certificate);
  dir.write('kdc.key', kdc.pem().key!);
  realm = await startMitRealm({
    realm: REALM,
    principals: [{ name: 'alice', attrs: ['+requires_preauth'] }, { name: 'bob', attrs: ['+requires_preauth'] }],
    kdcRealmConf: {
      pkinit_identity: `FILE:${dir.path('kdc.pem')},${dir.path('kdc.key')}`,
      pkinit_anchors: `FILE:${dir.path('ca.pem')}`,
      pkinit_allow_upn: 'true',
    },
    libdefaults: { pkinit_anchors: `FILE:${dir.path('ca.pem')}` },
  });
});

after(async () => {
  await realm?.stop();
  dir.done();
});

async function pkinitKinit(principal: string, files: { certificate: string; key: string }, name: string) {
  const cert = dir.write(`${name}.pem`, files.certificate);
  const key = dir.write(`${name}.key`, files.key);
  const ccache = `FILE:${join(realm.dir, `${name}.cc`)}`;
  const r = await realm.run(mitTool('kinit'), ['-X', `X509_user_identity=FILE:${cert},${key}`, principal], {
    env: { KRB5CCNAME: ccache }, input: '',
  });
  return { ...r, ccache };
}

test('MIT kinit gets a TGT from MIT krb5kdc with our user and KDC certificates', async () => {
  const alice = await issueUserCertificate(ca, { principal: `alice@${REALM}` });
  const pem = alice.pem();
  const r = await pkinitKinit(`alice@${REALM}`, { certificate: pem.certificate, key: pem.key! }, 'alice');
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${await realm.kdcLog()}`);
  const klist = await realm.run(mitTool('klist'), ['-c', r.ccache], {});
  assert.match(klist.stdout, new RegExp(`krbtgt/${REALM}@${REALM}`));
  assert.match(await realm.kdcLog(), /ISSUE: .*alice@EXAMPLE\.TEST for krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST/);
});

test('MIT krb5kdc refuses a certificate naming someone else, and one without the PKINIT client EKU', async () => {
  const mallory = await issueUserCertificate(ca, { principal: `mallory@${REALM}` });
  const pm = mallory.pem();
  const wrongName = await pkinitKinit(`bob@${REALM}`, { certificate: pm.certificate, key: pm.key! }, 'mallory');
  assert.notEqual(wrongName.code, 0);
  const noEku = await issueUserCertificate(ca, { principal: `bob@${REALM}`, ekus: [Oid.serverAuth] });
  const pn = noEku.pem();
  const r = await pkinitKinit(`bob@${REALM}`, { certificate: pn.certificate, key: pn.key! }, 'bob');
  assert.notEqual(r.code, 0);
  assert.match(wrongName.stderr, /Client name mismatch/);
  assert.match(r.stderr, /Inconsistent key purpose/);
  assert.doesNotMatch(await realm.kdcLog(), /ISSUE: .*bob@EXAMPLE\.TEST/);
});
