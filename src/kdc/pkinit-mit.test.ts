/**
 * PKINIT in the kerbside KDC against MIT krb5 1.20's client (kinit with
 * krb5-pkinit): FILE identities issued by the kerbside realm CA, MODP 2048
 * and the RFC 8636 KDF (MIT's defaults), klist and kvno with the TGT, and
 * each refusal as MIT reports it (docs/pkinit.md).
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { systemKeyPairs } from '../core/index.js';
import { systemRandom } from '../core/random.js';
import { memorySink, type MemorySink } from '../events/index.js';
import { createCrl, createRealmCa, issueKdcCertificate, issueUserCertificate, softwareSigner, type RealmCa } from '../pki/index.js';
import { baseEnvironment, mitTool, parseKlistCache, requireTool, runProgram } from '../testing/mit-tools.js';
import { pkinitMechanism, type PkinitKdcOptions } from './pkinit.js';
import { DEFAULT_PREAUTH, preauthRegistry } from './preauth.js';
import { startTestRealm, type TestRealm } from './test-realm.js';

const REALM = 'EXAMPLE.TEST';
const DAY = 86_400_000;
let dir: string;
let ca: RealmCa;
let events: MemorySink;
let realm: TestRealm;
let kdcOptions: PkinitKdcOptions;

async function writeIdentity(name: string, issued: { pem(): { certificate: string; key?: string } }): Promise<string> {
  const pem = issued.pem();
  await writeFile(join(dir, `${name}.pem`), pem.certificate);
  await writeFile(join(dir, `${name}.key`), pem.key!, { mode: 0o600 });
  return `FILE:${join(dir, `${name}.pem`)},${join(dir, `${name}.key`)}`;
}

async function startRealm(extra: Partial<PkinitKdcOptions> = {}): Promise<TestRealm> {
  events = memorySink();
  const r = await startTestRealm({
    realm: REALM, events,
    preauth: preauthRegistry([...DEFAULT_PREAUTH.mechanisms, pkinitMechanism({ ...kdcOptions, ...extra })]),
    principals: [
      { name: 'alice', password: 'alice-password-1' },
      { name: 'bob', randomKey: true },
      { name: 'HTTP/localhost', randomKey: true },
    ],
  });
  await writeFile(join(dir, 'krb5.conf'), r.krb5ConfWith({ pkinit_anchors: `FILE:${join(dir, 'ca.pem')}` }));
  return r;
}

let n = 0;
async function mit(tool: 'kinit' | 'klist' | 'kvno', args: readonly string[], input = '') {
  return runProgram(mitTool(tool), args, {
    env: { ...baseEnvironment(), KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, `cc-${n}`)}`, KRB5RCACHEDIR: dir },
    input,
  });
}

before(async () => {
  requireTool('openssl', 'openssl');
  dir = await mkdtemp(join(tmpdir(), 'kerbside-pkinit-mit-'));
  ca = await createRealmCa({ realm: REALM, clock: systemClock(), random: systemRandom(), keys: systemKeyPairs() });
  await writeFile(join(dir, 'ca.pem'), ca.pem().certificate);
  const kdc = await issueKdcCertificate(ca);
  kdcOptions = {
    signer: softwareSigner(kdc.certificate, kdc.privateKey!), anchors: [ca.certificate], random: systemRandom(),
  };
  realm = await startRealm();
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

test('MIT kinit -X X509_user_identity=FILE: gets a TGT by PKINIT; klist shows it, kvno uses it', async () => {
  n++;
  const identity = await writeIdentity('alice', await issueUserCertificate(ca, { principal: `alice@${REALM}` }));
  const r = await mit('kinit', ['-X', `X509_user_identity=${identity}`, `alice@${REALM}`]);
  assert.equal(r.code, 0, `kinit failed:\n${r.stderr}\n${JSON.stringify(events.ofType('kdc.request').map((e) => e.message), null, 1)}`);
  const list = parseKlistCache((await mit('klist', ['-e', '-f', '-C'])).stdout);
  assert.equal(list.defaultPrincipal, `alice@${REALM}`);
  assert.ok(list.credentials.some((c) => c.service === `krbtgt/${REALM}@${REALM}`), JSON.stringify(list));
  // MIT records how the TGT was obtained: pa_type 16 (PKINIT).
  assert.ok(list.config.some((l) => /pa_type.*= 16/.test(l)), list.config.join('\n'));
  const issued = events.ofType('kdc.request').find((e) => e.fields['result'] === 'issued' && e.fields['exchange'] === 'AS');
  assert.equal(issued?.fields['preauth'], 'pkinit');
  const kvno = await mit('kvno', [`HTTP/localhost@${REALM}`]);
  assert.equal(kvno.code, 0, kvno.stderr);
});

test('a principal with no password at all logs on with its certificate', async () => {
  n++;
  const identity = await writeIdentity('bob', await issueUserCertificate(ca, { principal: `bob@${REALM}` }));
  const r = await mit('kinit', ['-X', `X509_user_identity=${identity}`, `bob@${REALM}`]);
  assert.equal(r.code, 0, r.stderr);
});

/** [preauth, result, reason] of the KDC's request events since `from`. */
function seen(from: number): string[][] {
  return events.ofType('kdc.request').slice(from).map((e) => [String(e.fields['preauth'] ?? '-'), String(e.fields['result']), String(e.fields['reason'] ?? '')]);
}

test('refusals as MIT reports them: another principal\'s certificate, an untrusted issuer, a revoked one; an expired one MIT does not even send', async () => {
  n++;
  let from = events.events.length;
  const bobs = await writeIdentity('bob2', await issueUserCertificate(ca, { principal: `bob@${REALM}` }));
  const mismatch = await mit('kinit', ['-X', `X509_user_identity=${bobs}`, `alice@${REALM}`], '\n');
  assert.notEqual(mismatch.code, 0);
  assert.match(mismatch.stderr, /Client name mismatch/);
  assert.ok(seen(from).some(([p, r, why]) => p === 'pkinit' && r === 'KDC_ERR_CLIENT_NAME_MISMATCH' && /subject CN=bob.*serial [0-9a-f]+\) names bob@EXAMPLE\.TEST, not alice/.test(why!)), JSON.stringify(seen(from)));

  from = events.ofType('kdc.request').length;
  const other = await createRealmCa({ realm: REALM, clock: systemClock(), random: systemRandom(), keys: systemKeyPairs(), subject: 'CN=Other CA' });
  const stranger = await writeIdentity('stranger', await issueUserCertificate(other, { principal: `bob@${REALM}` }));
  // The client trusts both CAs (else MIT does not send the certificate at all); the KDC trusts only the realm's.
  await appendFile(join(dir, 'ca.pem'), other.pem().certificate);
  const r3 = await mit('kinit', ['-X', `X509_user_identity=${stranger}`, `bob@${REALM}`], '\n');
  assert.notEqual(r3.code, 0);
  assert.ok(seen(from).some(([p, r, why]) => p === 'pkinit' && r === 'KDC_ERR_CANT_VERIFY_CERTIFICATE' && /Other CA/.test(why!)), JSON.stringify(seen(from)));

  // MIT's client skips a certificate outside its validity itself (pkinit_identity.c), so the KDC never sees it:
  // the KDC's own validity check is tested in pkinit.test.ts.
  from = events.ofType('kdc.request').length;
  const expired = await writeIdentity('old', await issueUserCertificate(ca, { principal: `bob@${REALM}`, notBefore: systemClock().now() - 10 * DAY, validityDays: 1 }));
  const r2 = await mit('kinit', ['-X', `X509_user_identity=${expired}`, `bob@${REALM}`], '\n');
  assert.notEqual(r2.code, 0);
  assert.ok(!seen(from).some(([, r]) => r === 'issued'));

  const revokedCert = await issueUserCertificate(ca, { principal: `bob@${REALM}` });
  const revoked = await writeIdentity('revoked', revokedCert);
  const now = systemClock().now();
  const crl = await createCrl(ca, { revoked: [{ serial: revokedCert.serial, date: now - 1000 }], thisUpdate: now - 1000, nextUpdate: now + DAY });
  await realm.stop();
  realm = await startRealm({ crls: [crl] });
  from = 0;
  const r4 = await mit('kinit', ['-X', `X509_user_identity=${revoked}`, `bob@${REALM}`], '\n');
  assert.notEqual(r4.code, 0);
  assert.ok(seen(from).some(([p, r, why]) => p === 'pkinit' && r === 'KDC_ERR_REVOKED_CERTIFICATE' && why!.includes(revokedCert.serial)), JSON.stringify(seen(from)));
  // A certificate the CRL does not list still works.
  const fine = await writeIdentity('fine', await issueUserCertificate(ca, { principal: `bob@${REALM}` }));
  assert.equal((await mit('kinit', ['-X', `X509_user_identity=${fine}`, `bob@${REALM}`])).code, 0);
});

test('DH renegotiation: with pkinit_dh_min_bits 4096 MIT\'s MODP 2048 offer gets error 65 with TD-DH-PARAMETERS, and MIT retries with MODP 4096', async () => {
  n++;
  await realm.stop();
  realm = await startRealm({ dhMinBits: 4096 });
  const identity = await writeIdentity('bob-dh', await issueUserCertificate(ca, { principal: `bob@${REALM}` }));
  const r = await mit('kinit', ['-X', `X509_user_identity=${identity}`, `bob@${REALM}`]);
  assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(seen(0))}`);
  const results = seen(0).map(([p, res]) => `${p}:${res}`);
  assert.ok(results.includes('pkinit:KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED'), results.join(' '));
  assert.ok(results.includes('pkinit:issued'), results.join(' '));
});

test('freshness tokens (RFC 8070): MIT sends the token the KDC offers; with pkinit_require_freshness a request without one is refused', async () => {
  n++;
  await realm.stop();
  realm = await startRealm({ requireFreshness: true });
  const identity = await writeIdentity('bob-fresh', await issueUserCertificate(ca, { principal: `bob@${REALM}` }));
  assert.equal((await mit('kinit', ['-X', `X509_user_identity=${identity}`, `bob@${REALM}`])).code, 0, JSON.stringify(seen(0)));
  const stale = await mit('kinit', ['-X', `X509_user_identity=${identity}`, '-X', 'disable_freshness=yes', `bob@${REALM}`], '\n');
  assert.notEqual(stale.code, 0);
  assert.ok(seen(0).some(([p, r, why]) => p === 'pkinit' && r === 'KDC_ERR_PREAUTH_FAILED' && /freshness token/.test(why!)), JSON.stringify(seen(0)));
});
