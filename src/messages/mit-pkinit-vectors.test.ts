/**
 * Golden vectors: MIT krb5 src/tests/asn.1/pkinit_encode.out (see
 * vectors/mit-pkinit-encode.ts for the commit). For every entry, the value
 * MIT's ktest.c builds (ktest_make_sample_pa_pk_as_req and friends) is
 * rebuilt here; our encoding must equal MIT's bytes exactly and decoding
 * MIT's bytes must give the value back.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import type { Codec } from '../asn1/index.js';
import {
  AlgorithmIdentifier, AuthPack, Asn1EncodeError, Asn1Error, Asn1TagError, DhRepInfo, ExternalPrincipalIdentifier, KdcDhKeyInfo, KdfAlgorithmId,
  Krb5PrincipalName, PaPkAsRep, PaPkAsReq, PkAuthenticator, PkinitOid, PkinitSuppPubInfo, ReplyKeyPack, Sp80056aOtherInfo,
  SubjectPublicKeyInfoDer, TdDhParameters, TdTrustedCertifiers,
} from './index.js';
import { MIT_PKINIT_ENCODE } from './vectors/mit-pkinit-encode.js';

// ktest.c sample values.
const SAMPLE_TIME = new Date(Date.UTC(1994, 5, 10, 6, 3, 17));
const SAMPLE_USEC = 123456;
const SAMPLE_NONCE = 42;
const krb5data = (): Uint8Array => utf8('krb5data');
/** ktest's sample KDF OID: the eight octets "krb5data" as OID content. */
const KRB5DATA_OID = '2.27.114.98.53.100.97.116.97';
/** ktest's sample algorithm identifier: the Kerberos GSS mechanism OID, with parameters an OCTET STRING "params". */
const GSS_KRB5 = '1.2.840.113554.1.2.2';
const paramsOctets = (): Uint8Array => Uint8Array.of(0x04, 0x06, ...utf8('params'));
const samplePrincipal = (): Krb5PrincipalName => ({
  realm: 'ATHENA.MIT.EDU', principalName: { nameType: 1, nameString: ['hftsai', 'extra'] },
});

interface Vector<T> { readonly codec: Codec<T>; readonly value: T }
const v = <T>(codec: Codec<T>, value: NoInfer<T>): Vector<unknown> => ({ codec, value }) as Vector<unknown>;

const VECTORS: Readonly<Record<string, Vector<unknown>>> = {
  'encode_krb5_pa_pk_as_req': v(PaPkAsReq, {
    signedAuthPack: krb5data(),
    trustedCertifiers: [{ subjectName: krb5data(), issuerAndSerialNumber: krb5data(), subjectKeyIdentifier: krb5data() }],
    kdcPkId: krb5data(),
  }),
  'encode_krb5_pa_pk_as_rep(dhInfo)': v(PaPkAsRep, {
    type: 'dhInfo', value: { dhSignedData: krb5data(), serverDHNonce: krb5data(), kdf: { kdfId: KRB5DATA_OID } },
  }),
  'encode_krb5_pa_pk_as_rep(encKeyPack)': v(PaPkAsRep, { type: 'encKeyPack', value: krb5data() }),
  'encode_krb5_auth_pack': v(AuthPack, {
    pkAuthenticator: {
      cusec: SAMPLE_USEC, ctime: SAMPLE_TIME, nonce: SAMPLE_NONCE, paChecksum: utf8('1234'), freshnessToken: krb5data(),
    },
    // SubjectPublicKeyInfo { algorithm { GSS_KRB5, "params" }, subjectPublicKey BIT STRING "krb5data" }.
    clientPublicValue: fromHex('3020301306092A864886F712010202040670617261 6D73030900 6B72623564617461'.replace(/\s+/g, '')),
    supportedCMSTypes: [{ algorithm: GSS_KRB5, parameters: paramsOctets() }, { algorithm: GSS_KRB5 }],
    clientDHNonce: krb5data(),
    supportedKDFs: [{ kdfId: KRB5DATA_OID }],
  }),
  'encode_krb5_kdc_dh_key_info': v(KdcDhKeyInfo, {
    subjectPublicKey: { bytes: krb5data(), unusedBits: 0 }, nonce: SAMPLE_NONCE, dhKeyExpiration: SAMPLE_TIME,
  }),
  'encode_krb5_reply_key_pack': v(ReplyKeyPack, {
    replyKey: { keytype: 1, keyvalue: utf8('12345678') }, asChecksum: { cksumtype: 1, checksum: utf8('1234') },
  }),
  'encode_krb5_sp80056a_other_info': v(Sp80056aOtherInfo, {
    algorithmId: { algorithm: GSS_KRB5 },
    partyUInfo: Krb5PrincipalName.encode(samplePrincipal()),
    partyVInfo: Krb5PrincipalName.encode(samplePrincipal()),
    suppPubInfo: krb5data(),
  }),
  'encode_krb5_pkinit_supp_pub_info': v(PkinitSuppPubInfo, { enctype: 20, asReq: krb5data(), pkAsRep: krb5data() }),
};

for (const [name, vec] of Object.entries(VECTORS)) {
  test(`MIT pkinit_encode.out ${name}: encode matches and decode round-trips`, () => {
    const expected = fromHex(MIT_PKINIT_ENCODE[name]!.replace(/\s+/g, ''));
    assert.equal(toHex(vec.codec.encode(vec.value)), toHex(expected));
    assert.deepEqual(vec.codec.decode(expected), vec.value);
  });
}

test('every entry of MIT pkinit_encode.out has a vector', () => {
  assert.deepEqual(Object.keys(MIT_PKINIT_ENCODE).filter((k) => !(k in VECTORS)), []);
});

test('MIT pkinit_encode.out: the pieces inside the vectors decode on their own', () => {
  const req = PaPkAsReq.decode(fromHex(MIT_PKINIT_ENCODE['encode_krb5_pa_pk_as_req']!.replace(/\s+/g, '')));
  const epi = req.trustedCertifiers!;
  assert.deepEqual(TdTrustedCertifiers.decode(TdTrustedCertifiers.encode(epi)), epi);
  assert.deepEqual(ExternalPrincipalIdentifier.decode(ExternalPrincipalIdentifier.encode({})), {});
  const pack = AuthPack.decode(fromHex(MIT_PKINIT_ENCODE['encode_krb5_auth_pack']!.replace(/\s+/g, '')));
  assert.equal(toHex(PkAuthenticator.encode(pack.pkAuthenticator)).slice(0, 4), '3033');
  assert.deepEqual(SubjectPublicKeyInfoDer.decode(pack.clientPublicValue!), pack.clientPublicValue);
  const rep = PaPkAsRep.decode(fromHex(MIT_PKINIT_ENCODE['encode_krb5_pa_pk_as_rep(dhInfo)']!.replace(/\s+/g, '')));
  assert.equal(rep.type, 'dhInfo');
  if (rep.type === 'dhInfo') assert.deepEqual(DhRepInfo.decode(DhRepInfo.encode(rep.value)), rep.value);
});

test('PKAuthenticator: nonce is UInt32, cusec Microseconds; optional fields absent', () => {
  const base = { cusec: 0, ctime: SAMPLE_TIME, nonce: 0xffffffff };
  assert.deepEqual(PkAuthenticator.decode(PkAuthenticator.encode(base)), base);
  assert.throws(() => PkAuthenticator.encode({ ...base, nonce: 2 ** 32 }), Asn1EncodeError);
  assert.throws(() => PkAuthenticator.encode({ ...base, cusec: 1_000_000 }), Asn1EncodeError);
});

test('AlgorithmIdentifier: parameters are any one DER element kept verbatim; junk is refused', () => {
  const nullParams = { algorithm: '1.2.840.113549.1.1.11', parameters: Uint8Array.of(0x05, 0x00) };
  const der = AlgorithmIdentifier.encode(nullParams);
  assert.equal(toHex(der), '300d06092a864886f70d01010b0500');
  assert.deepEqual(AlgorithmIdentifier.decode(der), nullParams);
  assert.throws(() => AlgorithmIdentifier.decode(fromHex('3000')), Asn1Error);
  assert.throws(() => AlgorithmIdentifier.decode(fromHex('300f06092a864886f70d01010b05000500')), Asn1Error);
  assert.throws(() => AlgorithmIdentifier.decode(fromHex('30020500')), Asn1TagError);
  assert.throws(() => AlgorithmIdentifier.encode({ algorithm: '1.2.3', parameters: Uint8Array.of(0x05) }), Asn1EncodeError);
  assert.deepEqual(TdDhParameters.decode(TdDhParameters.encode([nullParams, { algorithm: '1.2.3' }])),
    [nullParams, { algorithm: '1.2.3' }]);
});

test('KDFAlgorithmId and the OID table', () => {
  assert.equal(toHex(KdfAlgorithmId.encode({ kdfId: PkinitOid.kdfAhSha256 })), '300ca00a06082b06010502030602');
  assert.ok(Object.isFrozen(PkinitOid));
  assert.equal(PkinitOid.pkinitSan, '1.3.6.1.5.2.2');
});

test('PA-PK-AS-REP: an unknown alternative is a tag error', () => {
  assert.throws(() => PaPkAsRep.decode(fromHex('820100')), Asn1TagError);
});
