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
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import * as asn1js from 'asn1js';
import { join } from 'node:path';
import { seededRandom, systemClock, systemKeyPairs } from '../core/index.js';
import {
  createRealmCa, issueKdcCertificate, issueUserCertificate, Oid, signCms, softwareSigner, validateCertificate, verifyCms,
} from './index.js';
import { AsReq, AsRep, TcpFrameDecoder, encodeTcpFrame } from '../messages/index.js';
import type { RealmCa } from './index.js';
import { startMitRealm, type MitRealm } from '../testing/mit-realm.js';
import { mitTool } from '../testing/mit-tools.js';
import { scratch } from './openssl.test-support.js';

const REALM = 'EXAMPLE.TEST';
/** Debian installs the plugin under the multiarch directory. */
const PKINIT_PLUGIN = readdirSync('/usr/lib').map((d) => `/usr/lib/${d}/krb5/plugins/preauth/pkinit.so`).find((f) => existsSync(f))
  ?? '/usr/lib/<multiarch>/krb5/plugins/preauth/pkinit.so';
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

/** A TCP relay in front of krb5kdc that keeps every frame each way (MIT sends PKINIT requests over TCP: they exceed udp_preference_limit). */
async function relay(target: number, rewrite?: (request: Uint8Array) => Promise<Uint8Array>): Promise<{ port: number; requests: Uint8Array[]; replies: Uint8Array[]; failures: unknown[]; close(): Promise<void> }> {
  const requests: Uint8Array[] = [];
  const replies: Uint8Array[] = [];
  const failures: unknown[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client); sockets.add(upstream);
    const up = new TcpFrameDecoder();
    const down = new TcpFrameDecoder();
    let queue = Promise.resolve();
    client.on('data', (d) => {
      if (rewrite === undefined) { requests.push(...up.push(new Uint8Array(d))); upstream.write(d); return; }
      for (const frame of up.push(new Uint8Array(d))) {
        queue = queue.then(async () => {
          const out = await rewrite(frame);
          requests.push(out);
          upstream.write(encodeTcpFrame(out));
        }).catch((err: unknown) => { failures.push(err); client.destroy(); upstream.destroy(); });
      }
    });
    upstream.on('data', (d) => { replies.push(...down.push(new Uint8Array(d))); client.write(d); });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    port, requests, replies, failures,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** The [0] IMPLICIT OCTET STRING at the head of a PA-PK-AS-REQ (RFC 4556 §3.2.1) or inside dhInfo of a PA-PK-AS-REP (§3.2.3). */
function firstImplicitOctets(der: Uint8Array, depth: number): Uint8Array {
  let node = asn1js.fromBER(der.slice().buffer).result as asn1js.Constructed;
  for (let i = 0; i < depth; i++) node = node.valueBlock.value[0] as asn1js.Constructed;
  const prim = node.valueBlock.value[0] as unknown as asn1js.Primitive;
  assert.equal(prim.idBlock.tagClass, 3);
  assert.equal(prim.idBlock.tagNumber, 0);
  return new Uint8Array(prim.valueBlock.valueHexView);
}

test('verifyCms accepts the SignedData MIT kinit and MIT krb5kdc exchange (signed AuthPack, signed KDCDHKeyInfo)', async () => {
  const alice = await issueUserCertificate(ca, { principal: `alice@${REALM}` });
  const pem = alice.pem();
  const proxy = await relay(realm.kdcPort);
  const conf = readFileSync(realm.krb5ConfPath, 'utf8').split(`127.0.0.1:${realm.kdcPort}`).join(`127.0.0.1:${proxy.port}`)
    + '\n[libdefaults]\n udp_preference_limit = 1\n';
  writeFileSync(dir.path('relay-krb5.conf'), conf);
  try {
    const cert = dir.write('cap.pem', pem.certificate);
    const key = dir.write('cap.key', pem.key!);
    const k = await realm.run(mitTool('kinit'), ['-X', `X509_user_identity=FILE:${cert},${key}`, `alice@${REALM}`], {
      env: { KRB5CCNAME: `FILE:${join(realm.dir, 'cap.cc')}`, KRB5_CONFIG: dir.path('relay-krb5.conf') }, input: '',
    });
    assert.equal(k.code, 0, k.stderr);
  } finally {
    await proxy.close();
  }
  const pkReq = proxy.requests.map((m) => AsReq.decode(m)).flatMap((m) => m.padata ?? []).find((p) => p.padataType === 16);
  assert.ok(pkReq !== undefined, 'kinit sent PA-PK-AS-REQ');
  const authPack = await verifyCms(firstImplicitOctets(pkReq.padataValue, 0), { expectedContentType: Oid.pkinitAuthData });
  assert.equal(authPack.digestAlgorithm, 'SHA-256');
  assert.deepEqual(authPack.signerCertificate, alice.certificate);
  const who = await validateCertificate({ certificate: authPack.signerCertificate, anchors: [ca.certificate], now: systemClock().now(), purpose: 'pkinit-client' });
  assert.deepEqual(who.pkinitSanNames, [`alice@${REALM}`]);

  const rep = proxy.replies.filter((m) => m[0] === 0x6b).map((m) => AsRep.decode(m)).flatMap((m) => m.padata ?? []).find((p) => p.padataType === 17);
  assert.ok(rep !== undefined, 'krb5kdc answered with PA-PK-AS-REP');
  // dhInfo [0] is EXPLICIT (the RFC 4556 module has EXPLICIT TAGS): A0 { 30 { 80 <ContentInfo> … } }.
  const dh = await verifyCms(firstImplicitOctets(rep.padataValue, 1), { expectedContentType: Oid.pkinitDhKeyData });
  const kdcWho = await validateCertificate({ certificate: dh.signerCertificate, anchors: [ca.certificate], now: systemClock().now(), purpose: 'pkinit-kdc' });
  assert.deepEqual(kdcWho.pkinitSanNames, [`krbtgt/${REALM}@${REALM}`]);
});

test('MIT krb5kdc verifies an AuthPack re-signed by signCms, and refuses one signed by a key not matching the certificate', async () => {
  const alice = await issueUserCertificate(ca, { principal: `alice@${REALM}` });
  const pem = alice.pem();
  const signer = softwareSigner(alice.certificate, alice.privateKey!);
  let resigned = 0;
  let useWrongKey = false;
  const other = await issueUserCertificate(ca, { principal: `bob@${REALM}` });
  const rewrite = async (frame: Uint8Array): Promise<Uint8Array> => {
    const req = AsReq.decode(frame);
    const pa = (req.padata ?? []).find((p) => p.padataType === 16);
    if (pa === undefined) return frame;
    // Keep MIT's AuthPack (its paChecksum covers the request body), replace only its signature.
    const theirs = await verifyCms(firstImplicitOctets(pa.padataValue, 0), { expectedContentType: Oid.pkinitAuthData });
    const ours = await signCms({
      contentType: Oid.pkinitAuthData, content: theirs.content,
      signer: useWrongKey ? { ...signer, sign: (d: Uint8Array) => softwareSigner(other.certificate, other.privateKey!).sign(d) } : signer,
    });
    const seq = asn1js.fromBER(pa.padataValue.slice().buffer).result as asn1js.Sequence;
    const rest = seq.valueBlock.value.slice(1);
    const replaced = new asn1js.Sequence({
      value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: ours.slice().buffer }), ...rest],
    });
    pa.padataValue = new Uint8Array(replaced.toBER(false));
    resigned++;
    return AsReq.encode(req);
  };
  const failures: unknown[] = [];
  const run = async (name: string): Promise<{ code: number | null; stderr: string }> => {
    const proxy = await relay(realm.kdcPort, rewrite);
    const conf = readFileSync(realm.krb5ConfPath, 'utf8').split(`127.0.0.1:${realm.kdcPort}`).join(`127.0.0.1:${proxy.port}`)
      + '\n[libdefaults]\n udp_preference_limit = 1\n';
    writeFileSync(dir.path(`${name}-krb5.conf`), conf);
    try {
      const cert = dir.write(`${name}.pem`, pem.certificate);
      const key = dir.write(`${name}.key`, pem.key!);
      return await realm.run(mitTool('kinit'), ['-X', `X509_user_identity=FILE:${cert},${key}`, `alice@${REALM}`], {
        env: { KRB5_TRACE: dir.path(`${name}.trace`), KRB5CCNAME: `FILE:${join(realm.dir, `${name}.cc`)}`, KRB5_CONFIG: dir.path(`${name}-krb5.conf`) }, input: '',
      });
    } finally {
      failures.push(...proxy.failures);
      await proxy.close();
    }
  };
  // The relay changes the PA-PK-AS-REQ bytes, which the RFC 8636 KDF mixes into the reply key, so kinit
  // cannot decrypt the reply in the end; what matters is that krb5kdc verified our SignedData and issued.
  const logBefore = (await realm.kdcLog()).length;
  const good = await run('resign');
  assert.deepEqual(failures, []);
  assert.ok(resigned >= 1);
  const goodLog = (await realm.kdcLog()).slice(logBefore);
  assert.match(goodLog, /ISSUE: .*alice@EXAMPLE\.TEST for krbtgt/, goodLog);
  assert.doesNotMatch(goodLog, /verify failure/);
  assert.match(readFileSync(dir.path('resign.trace'), 'utf8'), /PKINIT client verified DH reply/);
  assert.notEqual(good.code, 0);
  useWrongKey = true;
  const badBefore = (await realm.kdcLog()).length;
  const bad = await run('resign-bad');
  assert.notEqual(bad.code, 0);
  const badLog = (await realm.kdcLog()).slice(badBefore);
  assert.match(badLog, /preauth \(pkinit\) verify failure/, badLog);
  assert.doesNotMatch(badLog, /ISSUE/);
});
