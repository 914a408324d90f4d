/**
 * The KDC's PKINIT checks that MIT's client never lets reach a KDC (it skips
 * such certificates itself): validity on the KDC's clock, the client EKU,
 * the Microsoft smart-card logon EKU and UPN mapping only when enabled.
 * kerbside's own client is the peer here, through the KDC's processor.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { systemKeyPairs } from '../core/index.js';
import { seededRandom, systemRandom } from '../core/random.js';
import { KerberosClient, clientConfig } from '../client/index.js';
import { inProcessTransport } from '../testing/in-process-kdc.js';
import { memorySink, type MemorySink } from '../events/index.js';
import { AsReq, AuthPack, ErrorCode, PaPkAsReq, PaType, PkinitOid } from '../messages/index.js';
import { generateClientKey, pkAuthenticatorChecksum } from '../crypto/index.js';
import { TCP_PEER, UDP_PEER, asReq, encTimestamp, expectError, passwordKey } from '../testing/kdc-client.js';
import { Oid, createRealmCa, issueKdcCertificate, issueUserCertificate, signCms, softwareSigner, type IssuedCertificate, type RealmCa, type Signer } from '../pki/index.js';
import { pkinitMechanism, type PkinitKdcOptions } from './pkinit.js';
import { DEFAULT_PREAUTH, preauthRegistry } from './preauth.js';
import { startTestRealm, type TestRealm } from './test-realm.js';

const REALM = 'EXAMPLE.TEST';
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 12);
const clock = new ManualClock(T0);
let ca: RealmCa;
let kdcSigner: Signer;
const realms: TestRealm[] = [];

before(async () => {
  ca = await createRealmCa({ realm: REALM, clock, random: systemRandom(), keys: systemKeyPairs() });
  const kdc = await issueKdcCertificate(ca);
  kdcSigner = softwareSigner(kdc.certificate, kdc.privateKey!);
});
after(async () => { for (const r of realms) await r.stop(); });

async function kdcWith(extra: Partial<PkinitKdcOptions> = {}): Promise<{ client: KerberosClient; events: MemorySink; realm: TestRealm }> {
  const events = memorySink();
  const realm = await startTestRealm({
    realm: REALM, clock, random: seededRandom(3), events,
    principals: [{ name: 'alice', password: 'alice-pw-1' }],
    preauth: preauthRegistry([...DEFAULT_PREAUTH.mechanisms, pkinitMechanism({ signer: kdcSigner, anchors: [ca.certificate], random: systemRandom(), ...extra })]),
  });
  realms.push(realm);
  const client = new KerberosClient({
    config: clientConfig({ defaultRealm: REALM, realms: { [REALM]: { kdc: [realm.kdcAddress] } } }), clock, random: seededRandom(4), transport: inProcessTransport(realm),
  });
  return { client, events, realm };
}

async function logon(client: KerberosClient, issued: IssuedCertificate): Promise<unknown> {
  try {
    await client.getInitialCredentials({
      client: 'alice', certificate: { signer: softwareSigner(issued.certificate, issued.privateKey!), anchors: [ca.certificate] },
    });
    return 'issued';
  } catch (err) {
    return err;
  }
}

function refused(events: MemorySink): { code: unknown; reason: string } {
  const e = events.ofType('kdc.request').filter((x) => x.fields['preauth'] === 'pkinit').at(-1)!;
  return { code: e.fields['errorCode'], reason: String(e.fields['reason']) };
}

test('validity on the KDC clock: an expired or not-yet-valid certificate is KDC_ERR_INVALID_CERTIFICATE (71), naming it', async () => {
  const { client, events } = await kdcWith();
  const expired = await issueUserCertificate(ca, { principal: `alice@${REALM}`, notBefore: T0 - 10 * DAY, validityDays: 1 });
  assert.notEqual(await logon(client, expired), 'issued');
  assert.equal(refused(events).code, ErrorCode.KDC_ERR_INVALID_CERTIFICATE);
  assert.match(refused(events).reason, new RegExp(`serial ${expired.serial}`));
  const future = await issueUserCertificate(ca, { principal: `alice@${REALM}`, notBefore: T0 + DAY });
  assert.notEqual(await logon(client, future), 'issued');
  assert.equal(refused(events).code, ErrorCode.KDC_ERR_INVALID_CERTIFICATE);
  assert.equal(await logon(client, await issueUserCertificate(ca, { principal: `alice@${REALM}` })), 'issued');
});

test('EKU: without id-pkinit-KPClientAuth KDC_ERR_INCONSISTENT_KEY_PURPOSE (77); the smart-card logon EKU only with scLogin', async () => {
  const plain = await kdcWith();
  const scOnly = await issueUserCertificate(ca, { principal: `alice@${REALM}`, ekus: [Oid.msSmartCardLogon] });
  assert.notEqual(await logon(plain.client, scOnly), 'issued');
  assert.equal(refused(plain.events).code, ErrorCode.KDC_ERR_INCONSISTENT_KEY_PURPOSE);
  const sc = await kdcWith({ allowSmartCardLogonEku: true });
  assert.equal(await logon(sc.client, scOnly), 'issued');
});

test('UPN SAN: maps to the principal only with pkinit_allow_upn; otherwise KDC_ERR_CLIENT_NAME_MISMATCH (75) that says so', async () => {
  const upnOnly = await issueUserCertificate(ca, { principal: `nobody@${REALM}`, upn: 'alice@example.test' });
  const off = await kdcWith();
  assert.notEqual(await logon(off.client, upnOnly), 'issued');
  assert.equal(refused(off.events).code, ErrorCode.KDC_ERR_CLIENT_NAME_MISMATCH);
  assert.match(refused(off.events).reason, /pkinit_allow_upn is off/);
  const on = await kdcWith({ allowUpn: true });
  assert.equal(await logon(on.client, upnOnly), 'issued');
});

test('requiresPkinit: a password logon is KDC_ERR_POLICY (12) and not counted as a guess; hints offer only PKINIT; the card works', async () => {
  const { client, events, realm } = await kdcWith();
  await realm.store.update(`alice@${REALM}`, { requiresPkinit: true });
  // The hints offer PKINIT only (no ETYPE-INFO2, no ENC-TIMESTAMP), so a password client gives up before guessing.
  await assert.rejects(client.getInitialCredentials({ client: 'alice', password: 'alice-pw-1' }), /does not offer \(offered: 16, 150\)/);
  // A client that sends a password anyway is refused by policy, before its key is tried.
  const key = await passwordKey('alice', 'alice-pw-1');
  const err = expectError(await realm.kdc.process(asReq({ nonce: 9, till: T0 + 3_600_000, padata: [encTimestamp(key, T0)] }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_POLICY);
  const policy = events.ofType('kdc.request').find((e) => e.fields['result'] === 'KDC_ERR_POLICY')!;
  assert.match(String(policy.fields['reason']), /must log on with a smart card or certificate \(requiresPkinit\); encrypted-timestamp was tried/);
  assert.equal(events.ofType('kdc.preauth_failed').length, 0, 'no password was checked');
  assert.equal(await logon(client, await issueUserCertificate(ca, { principal: `alice@${REALM}` })), 'issued');
});

test('certificate mappings: a certificate whose SAN names someone else logs on as a principal that maps its issuer and serial', async () => {
  const { client, events, realm } = await kdcWith();
  const other = await issueUserCertificate(ca, { principal: `svc-badge@${REALM}` });
  assert.notEqual(await logon(client, other), 'issued');
  assert.equal(refused(events).code, ErrorCode.KDC_ERR_CLIENT_NAME_MISMATCH);
  const issuer = /issuer ([^,]+,O=[^,]+), serial/.exec(refused(events).reason)![1]!;
  await realm.store.update(`alice@${REALM}`, { certificateMappings: [`X509:<I>${issuer}<SR>${other.serial.toUpperCase()}`] });
  assert.equal(await logon(client, other), 'issued');
  await realm.store.update(`alice@${REALM}`, { certificateMappings: [`X509:<I>${issuer}<SR>01`] });
  assert.notEqual(await logon(client, other), 'issued', 'another serial is another certificate');
});

/** A PA-PK-AS-REQ built by hand, so each PKAuthenticator check can be broken on its own. */
async function forged(issued: IssuedCertificate, o: { nonce?: number; checksum?: Uint8Array | null; ctime?: number; dh?: boolean; freshness?: Uint8Array } = {}) {
  const body = { nonce: 77, till: T0 + 10 * 3_600_000 };
  const rawBody = AsReq.decode(asReq(body)).rawReqBody!;
  const pkAuthenticator = {
    cusec: 0, ctime: new Date(o.ctime ?? T0), nonce: o.nonce ?? 77,
    ...(o.checksum === null ? {} : { paChecksum: o.checksum ?? pkAuthenticatorChecksum(rawBody) }),
    ...(o.freshness === undefined ? {} : { freshnessToken: o.freshness }),
  };
  const authPack = AuthPack.encode({
    pkAuthenticator, ...(o.dh === false ? {} : { clientPublicValue: generateClientKey('modp2048', seededRandom(11)).spkiDer }),
    supportedKDFs: [{ kdfId: PkinitOid.kdfAhSha256 }],
  });
  const signedAuthPack = await signCms({ contentType: PkinitOid.pkinitAuthData, content: authPack, signer: softwareSigner(issued.certificate, issued.privateKey!) });
  return asReq({ ...body, padata: [{ padataType: PaType.PA_PK_AS_REQ, padataValue: PaPkAsReq.encode({ signedAuthPack }) }] });
}

test('PKAuthenticator checks on a forged request: paChecksum (79, 41), nonce, skew, RSA mode, a forged freshness token', async () => {
  const { events, realm } = await kdcWith();
  const cert = await issueUserCertificate(ca, { principal: `alice@${REALM}` });
  const code = async (req: Uint8Array): Promise<number | 'AS-REP' | 'nothing'> => {
    const reply = await realm.kdc.process(req, TCP_PEER); // a PKINIT reply is too big for UDP
    if (reply === undefined) return 'nothing';
    return reply[0] === 0x6b ? 'AS-REP' : expectError(reply).errorCode; // [APPLICATION 11] AS-REP
  };
  assert.equal(await code(await forged(cert)), 'AS-REP', 'the unbroken request is answered');
  assert.equal(await code(await forged(cert, { checksum: null })), ErrorCode.KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED);
  assert.equal(await code(await forged(cert, { checksum: new Uint8Array(20) })), ErrorCode.KRB_AP_ERR_MODIFIED);
  assert.equal(await code(await forged(cert, { nonce: 78 })), ErrorCode.KDC_ERR_PREAUTH_FAILED);
  assert.match(refused(events).reason, /nonce/);
  assert.equal(await code(await forged(cert, { ctime: T0 - 10 * 60_000 })), ErrorCode.KRB_AP_ERR_SKEW);
  assert.equal(await code(await forged(cert, { dh: false })), ErrorCode.KDC_ERR_PREAUTH_FAILED);
  assert.match(refused(events).reason, /RSA key transport/);
  assert.equal(await code(await forged(cert, { freshness: new Uint8Array(40) })), ErrorCode.KDC_ERR_PREAUTH_FAILED);
  assert.match(refused(events).reason, /freshness token was not issued by this KDC/);
});
