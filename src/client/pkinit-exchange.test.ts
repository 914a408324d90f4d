/**
 * The PKINIT AS exchange, sans-IO, against a KDC played by the test with
 * kerbside's own pieces (crypto agree(), pki signCms, pkinitKdf): what the
 * client puts in the signed AuthPack (RFC 4556 §3.2.1, RFC 8070 §4,
 * RFC 8636 §6) and every check it makes on the reply (§3.2.3, §3.2.4).
 * MIT interop is in pkinit.test.ts.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { systemKeyPairs } from '../core/keypairs.js';
import { toHex } from '../core/bytes.js';
import {
  acceptedDhParameters, agree, decodeClientPublicKey, encrypt, generateKey, KeyUsage, octetString2Key, pkinitKdf, type Key,
} from '../crypto/index.js';
import {
  AsRep, AsReq, AuthPack, EncAsRepPart, EncTicketPart, ErrorCode, KdcDhKeyInfo, KdcReqBody, KrbError, MethodData, NameType,
  PaPkAsRep, PaPkAsReq, PaType, PkinitOid, TdDhParameters, TicketFlags, TypedData, type PaData, type PrincipalName,
} from '../messages/index.js';
import {
  createRealmCa, issueKdcCertificate, issueUserCertificate, signCms, softwareSigner, verifyCms, type Signer,
} from '../pki/index.js';
import {
  AsExchange, PkinitBadReplyError, PkinitGroupNotAcceptedError, PkinitKdcCertificateError, PkinitKdcNameMismatchError,
  PkinitNotOfferedError, PkinitRejectedError, type CertificateKeySource,
} from './index.js';

const REALM = 'EXAMPLE.TEST';
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
const HOUR = 3_600_000;
const ALICE: PrincipalName = { nameType: NameType.NT_PRINCIPAL, nameString: ['alice'] };
const TGS: PrincipalName = { nameType: NameType.NT_SRV_INST, nameString: ['krbtgt', REALM] };
const TOKEN = new Uint8Array([0xf0, 0x0d, 0x01, 0x02]);

const clock = new ManualClock(T0);
const keys = systemKeyPairs();
const ca = await createRealmCa({ realm: REALM, clock, random: seededRandom(1), keys });
const otherCa = await createRealmCa({ realm: REALM, clock, random: seededRandom(2), keys, subject: 'CN=Other CA,O=OTHER' });
const kdcCert = await issueKdcCertificate(ca);
const kdcSigner = softwareSigner(kdcCert.certificate, kdcCert.privateKey!);
const wrongKdc = await issueKdcCertificate(ca, { realm: 'WRONG.TEST' });
const wrongKdcSigner = softwareSigner(wrongKdc.certificate, wrongKdc.privateKey!);
const alice = await issueUserCertificate(ca, { principal: `alice@${REALM}` });
const aliceSigner = softwareSigner(alice.certificate, alice.privateKey!);

function source(extra: Partial<CertificateKeySource> = {}): CertificateKeySource {
  return { kind: 'certificate', signer: aliceSigner, anchors: [ca.certificate], ...extra };
}

function exchange(src: CertificateKeySource = source(), seed = 5): AsExchange {
  return new AsExchange(
    { client: { realm: REALM, components: ['alice'], nameType: 1 }, keySource: src, etypes: [18, 17], lifetime: 10 * HOUR },
    { now: () => clock.now(), random: seededRandom(seed) },
  );
}

function krbError(code: number, eData?: Uint8Array, eText?: string): Uint8Array {
  return KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(T0), susec: 0, errorCode: code, realm: REALM, sname: TGS,
    ...(eData !== undefined ? { eData } : {}), ...(eText !== undefined ? { eText } : {}),
  });
}

const preauthRequired = (methods: PaData[] = [
  { padataType: PaType.PA_PK_AS_REQ, padataValue: new Uint8Array(0) },
  { padataType: PaType.PA_AS_FRESHNESS, padataValue: TOKEN },
]): Uint8Array => krbError(ErrorCode.KDC_ERR_PREAUTH_REQUIRED, MethodData.encode(methods));

interface KdcOptions {
  readonly signer?: Signer;
  readonly nonceShift?: number;
  readonly kdf?: string | null;
  readonly encryptWith?: (key: Key) => Key;
}

/** Plays the KDC's half (RFC 4556 §3.2.3.1): DH with the client's value, signed KDCDHKeyInfo, the AS-REP under the derived key. */
async function kdcReply(asReqBytes: Uint8Array, o: KdcOptions = {}): Promise<{ reply: Uint8Array; replyKey: Key }> {
  const req = AsReq.decode(asReqBytes);
  const pa = req.padata?.find((p) => p.padataType === PaType.PA_PK_AS_REQ);
  assert.ok(pa !== undefined);
  const signed = await verifyCms(PaPkAsReq.decode(pa.padataValue).signedAuthPack, { expectedContentType: PkinitOid.pkinitAuthData });
  const authPack = AuthPack.decode(signed.content);
  const random = seededRandom(99);
  const agreement = agree(authPack.clientPublicValue!, random);
  const dhSignedData = await signCms({
    contentType: PkinitOid.pkinitDHKeyData,
    content: KdcDhKeyInfo.encode({
      subjectPublicKey: { bytes: agreement.serverPublicValue, unusedBits: 0 },
      nonce: (authPack.pkAuthenticator.nonce + (o.nonceShift ?? 0)) >>> 0,
    }),
    signer: o.signer ?? kdcSigner,
  });
  const kdf = o.kdf === undefined ? PkinitOid.kdfAhSha256 : o.kdf;
  const pkAsRep = PaPkAsRep.encode({ type: 'dhInfo', value: { dhSignedData, ...(kdf !== null ? { kdf: { kdfId: kdf } } : {}) } });
  const replyKey = kdf === null
    ? octetString2Key(18, agreement.sharedSecret)
    : pkinitKdf({
      hash: kdf === PkinitOid.kdfAhSha1 ? 'sha1' : kdf === PkinitOid.kdfAhSha512 ? 'sha512' : 'sha256',
      enctype: 18, sharedSecret: agreement.sharedSecret,
      clientName: { realm: REALM, principalName: req.reqBody.cname! }, serverName: { realm: REALM, principalName: req.reqBody.sname! },
      asReq: asReqBytes, pkAsRep,
    });
  const session = generateKey(18, random);
  const ticketKey = generateKey(18, random);
  const ticket = {
    tktVno: 5 as const, realm: REALM, sname: TGS,
    encPart: {
      etype: 18, kvno: 1, cipher: encrypt(ticketKey, KeyUsage.KDC_REP_TICKET, EncTicketPart.encode({
        flags: TicketFlags.initial | TicketFlags.preAuthent, key: { keytype: 18, keyvalue: session.keyvalue },
        crealm: REALM, cname: ALICE, transited: { trType: 1, contents: new Uint8Array(0) },
        authtime: new Date(T0), endtime: new Date(T0 + 10 * HOUR),
      }), random),
    },
  };
  const enc = EncAsRepPart.encode({
    key: { keytype: 18, keyvalue: session.keyvalue }, lastReq: [], nonce: req.reqBody.nonce,
    flags: TicketFlags.initial | TicketFlags.preAuthent, authtime: new Date(T0), endtime: new Date(T0 + 10 * HOUR),
    srealm: REALM, sname: TGS,
  });
  const key = o.encryptWith === undefined ? replyKey : o.encryptWith(replyKey);
  const reply = AsRep.encode({
    pvno: 5, msgType: 11, padata: [{ padataType: PaType.PA_PK_AS_REP, padataValue: pkAsRep }],
    crealm: REALM, cname: ALICE, ticket, encPart: { etype: 18, cipher: encrypt(key, KeyUsage.AS_REP_ENCPART, enc, random) },
  });
  return { reply, replyKey };
}

/** Runs the first two rounds; returns the exchange and the PKINIT AS-REQ. */
async function toPkinitRequest(src?: CertificateKeySource): Promise<{ ex: AsExchange; request: Uint8Array }> {
  const ex = exchange(src);
  const step = await ex.handle(preauthRequired());
  assert.equal(step.kind, 'send');
  return { ex, request: step.kind === 'send' ? step.request : new Uint8Array(0) };
}

test('the first AS-REQ asks for a freshness token with an empty PA-AS-FRESHNESS (RFC 8070 §4)', () => {
  const req = AsReq.decode(exchange().request());
  assert.deepEqual(req.padata, [{ padataType: PaType.PA_AS_FRESHNESS, padataValue: new Uint8Array(0) }]);
});

test('the signed AuthPack binds the body sent: nonce, SHA-1 paChecksum, freshness token, the signer\'s certificate, DH value, KDFs', async () => {
  const { request } = await toPkinitRequest();
  const req = AsReq.decode(request);
  assert.deepEqual(req.padata?.map((p) => p.padataType), [PaType.PA_PK_AS_REQ]);
  const signed = await verifyCms(PaPkAsReq.decode(req.padata![0]!.padataValue).signedAuthPack, { expectedContentType: PkinitOid.pkinitAuthData });
  assert.equal(toHex(signed.signerCertificate), toHex(alice.certificate));
  const ap = AuthPack.decode(signed.content);
  assert.equal(ap.pkAuthenticator.nonce, req.reqBody.nonce >>> 0);
  assert.equal(toHex(ap.pkAuthenticator.paChecksum!), createHash('sha1').update(KdcReqBody.encode(req.reqBody)).digest('hex'));
  assert.equal(toHex(ap.pkAuthenticator.freshnessToken!), toHex(TOKEN));
  assert.equal(ap.pkAuthenticator.ctime.getTime(), T0);
  assert.equal(ap.pkAuthenticator.cusec, 0);
  assert.equal(decodeClientPublicKey(ap.clientPublicValue!).group, 'modp2048');
  assert.deepEqual(ap.supportedKDFs, [{ kdfId: PkinitOid.kdfAhSha256 }, { kdfId: PkinitOid.kdfAhSha1 }, { kdfId: PkinitOid.kdfAhSha512 }]);
});

test('a reply under the RFC 8636 KDF (sha256, sha1, sha512) and under octetstring2key decrypts; paType is 16', async () => {
  for (const kdf of [PkinitOid.kdfAhSha256, PkinitOid.kdfAhSha1, PkinitOid.kdfAhSha512, null]) {
    const { ex, request } = await toPkinitRequest();
    const { reply } = await kdcReply(request, { kdf });
    const step = await ex.handle(reply);
    assert.equal(step.kind, 'done', String(kdf));
    if (step.kind === 'done') {
      assert.equal(step.result.paType, 16);
      assert.deepEqual(step.result.credential.server.components, ['krbtgt', REALM]);
    }
  }
});

test('ECDH P-256 and modp4096 work with a KDC that accepts them', async () => {
  for (const group of ['P-256', 'modp4096'] as const) {
    const { ex, request } = await toPkinitRequest(source({ group }));
    const ap = AuthPack.decode((await verifyCms(PaPkAsReq.decode(AsReq.decode(request).padata![0]!.padataValue).signedAuthPack,
      { expectedContentType: PkinitOid.pkinitAuthData })).content);
    assert.equal(decodeClientPublicKey(ap.clientPublicValue!).group, group);
    const step = await ex.handle((await kdcReply(request)).reply);
    assert.equal(step.kind, 'done');
  }
});

test('KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED with TD-DH-PARAMETERS: one retry with the KDC\'s first supported group', async () => {
  const { ex } = await toPkinitRequest(source({ group: 'P-256' }));
  const td = TypedData.encode([{ dataType: 109, dataValue: TdDhParameters.encode(acceptedDhParameters(['modp4096', 'modp2048'])) }]);
  const step = await ex.handle(krbError(ErrorCode.KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED, td));
  assert.equal(step.kind, 'send');
  const request = step.kind === 'send' ? step.request : new Uint8Array(0);
  const ap = AuthPack.decode((await verifyCms(PaPkAsReq.decode(AsReq.decode(request).padata![0]!.padataValue).signedAuthPack,
    { expectedContentType: PkinitOid.pkinitAuthData })).content);
  assert.equal(decodeClientPublicKey(ap.clientPublicValue!).group, 'modp4096');
  // A second refusal is final.
  await assert.rejects(ex.handle(krbError(ErrorCode.KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED, td)), PkinitGroupNotAcceptedError);
  // No group we support: final at once.
  const other = (await toPkinitRequest()).ex;
  await assert.rejects(other.handle(krbError(ErrorCode.KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED)), (e: unknown) => {
    assert.ok(e instanceof PkinitGroupNotAcceptedError);
    assert.equal(e.krbCode, 65);
    return true;
  });
});

test('the KDC must offer PA-PK-AS-REQ; its RFC 4556 refusals are PkinitRejectedError naming our certificate', async () => {
  await assert.rejects(exchange().handle(preauthRequired([{ padataType: PaType.PA_ENC_TIMESTAMP, padataValue: new Uint8Array(0) }])),
    PkinitNotOfferedError);
  const { ex } = await toPkinitRequest(source({ description: 'FILE:/home/alice/alice.pem' }));
  await assert.rejects(ex.handle(krbError(62, undefined, 'untrusted')), (e: unknown) => {
    assert.ok(e instanceof PkinitRejectedError);
    assert.equal(e.krbCode, 62);
    assert.match(e.message, /does not trust the client certificate .*FILE:\/home\/alice\/alice\.pem/);
    assert.ok(e.message.includes(`(subject "CN=alice,O=${REALM}", issuer "CN=${REALM} Kerberos CA,O=${REALM}", serial ${alice.serial}): untrusted`), e.message);
    return true;
  });
});

test('reply checks: KDC certificate trust (names it), krbtgt name, KDCDHKeyInfo nonce, KDF offered, reply key', async () => {
  const cases: Array<[string, KdcOptions, CertificateKeySource | undefined, (e: unknown) => boolean]> = [
    ['untrusted anchors', {}, source({ anchors: [otherCa.certificate] }), (e) => {
      assert.ok(e instanceof PkinitKdcCertificateError, String(e));
      assert.match(e.message, new RegExp(`subject "CN=krbtgt/${REALM}, ?O=${REALM}".*serial ${kdcCert.serial}`));
      return true;
    }],
    ['another realm\'s KDC', { signer: wrongKdcSigner }, undefined, (e) => {
      assert.ok(e instanceof PkinitKdcNameMismatchError, String(e));
      assert.equal(e.krbCode, 76);
      return true;
    }],
    ['nonce', { nonceShift: 1 }, undefined, (e) => e instanceof PkinitBadReplyError && /nonce mismatch/.test(e.message)],
    ['kdf', { kdf: '1.2.3.4' }, undefined, (e) => e instanceof PkinitBadReplyError && /KDF 1\.2\.3\.4/.test(e.message)],
    ['reply key', { encryptWith: () => generateKey(18, seededRandom(3)) }, undefined,
      (e) => e instanceof PkinitBadReplyError && /does not decrypt with the PKINIT reply key/.test(e.message)],
  ];
  for (const [name, kdcOptions, src, check] of cases) {
    const { ex, request } = await toPkinitRequest(src);
    const { reply } = await kdcReply(request, kdcOptions);
    await assert.rejects(ex.handle(reply), check, name);
  }
});

test('an AS-REP without PA-PK-AS-REP (a principal without requires_preauth) says so', async () => {
  const ex = exchange();
  const random = seededRandom(4);
  const longTerm = generateKey(18, random);
  const enc = EncAsRepPart.encode({
    key: { keytype: 18, keyvalue: longTerm.keyvalue }, lastReq: [], nonce: AsReq.decode(ex.request()).reqBody.nonce,
    flags: 0, authtime: new Date(T0), endtime: new Date(T0 + HOUR), srealm: REALM, sname: TGS,
  });
  const reply = AsRep.encode({
    pvno: 5, msgType: 11, crealm: REALM, cname: ALICE,
    ticket: { tktVno: 5, realm: REALM, sname: TGS, encPart: { etype: 18, kvno: 1, cipher: new Uint8Array(32) } },
    encPart: { etype: 18, cipher: encrypt(longTerm, KeyUsage.AS_REP_ENCPART, enc, random) },
  });
  await assert.rejects(ex.handle(reply), (e: unknown) => e instanceof PkinitNotOfferedError && /requires_preauth/.test(String((e as PkinitNotOfferedError).hint)));
});
