/**
 * Fuzzing the PKINIT codecs (src/testing/fuzz.ts): random bytes and mutations
 * of MIT's pkinit_encode.out vectors (vectors/mit-pkinit-encode.ts) give only
 * Asn1Error subclasses; a value a codec accepts re-encodes and decodes back
 * to the same value.
 */

import assert from 'node:assert/strict';
import { fromHex } from '../core/bytes.js';
import type { Codec } from '../asn1/index.js';
import { decodableSeeds, fuzzSuite, type FuzzTarget, type FuzzTargets } from '../testing/fuzz.js';
import {
  AlgorithmIdentifier, AuthPack, DhRepInfo, ExternalPrincipalIdentifier, KdcDhKeyInfo, KdfAlgorithmId, Krb5PrincipalName, PaPkAsRep,
  PaPkAsReq, PkAuthenticator, PkinitSuppPubInfo, ReplyKeyPack, Sp80056aOtherInfo, SubjectPublicKeyInfoDer, TdDhParameters,
  TdTrustedCertifiers,
} from './index.js';
import { MIT_PKINIT_ENCODE } from './vectors/mit-pkinit-encode.js';

const VECTORS: readonly Uint8Array[] = Object.values(MIT_PKINIT_ENCODE).map((hex) => fromHex(hex.replace(/\s+/g, '')));

function seedsFor(codec: Codec<any>): Uint8Array[] {
  return decodableSeeds(codec, VECTORS);
}

function codecTarget(codec: Codec<any>, extra: readonly Uint8Array[] = []): () => FuzzTarget {
  return () => ({
    seeds: [...seedsFor(codec), ...extra],
    run(input) {
      const value = codec.decode(input);
      assert.deepEqual(codec.decode(codec.encode(value)), value, `${codec.name}: an accepted value does not survive re-encoding`);
    },
  });
}

const extra = {
  algorithmIdentifier: [
    AlgorithmIdentifier.encode({ algorithm: '1.2.840.113549.1.1.11', parameters: Uint8Array.of(0x05, 0x00) }),
    AlgorithmIdentifier.encode({ algorithm: '1.2.840.10045.2.1', parameters: Uint8Array.of(0x06, 0x03, 0x2b, 0x81, 0x04) }),
  ],
  krb5PrincipalName: [Krb5PrincipalName.encode({ realm: 'SU.SE', principalName: { nameType: 1, nameString: ['lha'] } })],
  kdf: [KdfAlgorithmId.encode({ kdfId: '1.3.6.1.5.2.3.6.2' })],
  pkAuthenticator: [PkAuthenticator.encode({
    cusec: 123456, ctime: new Date(Date.UTC(1994, 5, 10, 6, 3, 17)), nonce: 42, paChecksum: Uint8Array.of(1, 2, 3, 4),
    freshnessToken: Uint8Array.of(5, 6),
  })],
  epi: [ExternalPrincipalIdentifier.encode({
    subjectName: Uint8Array.of(0x30, 0x00), issuerAndSerialNumber: Uint8Array.of(1), subjectKeyIdentifier: Uint8Array.of(2, 3),
  }), ExternalPrincipalIdentifier.encode({ subjectKeyIdentifier: Uint8Array.of(9) })],
  dhRepInfo: [DhRepInfo.encode({ dhSignedData: Uint8Array.of(0x30, 0x00), serverDHNonce: Uint8Array.of(1), kdf: { kdfId: '1.3.6.1.5.2.3.6.1' } })],
};

const targets: Record<string, () => FuzzTarget> = {
  PaPkAsReq: codecTarget(PaPkAsReq),
  PaPkAsRep: codecTarget(PaPkAsRep),
  AuthPack: codecTarget(AuthPack),
  PkAuthenticator: codecTarget(PkAuthenticator, extra.pkAuthenticator),
  KdcDhKeyInfo: codecTarget(KdcDhKeyInfo),
  DhRepInfo: codecTarget(DhRepInfo, extra.dhRepInfo),
  ReplyKeyPack: codecTarget(ReplyKeyPack),
  ExternalPrincipalIdentifier: codecTarget(ExternalPrincipalIdentifier, extra.epi),
  TdTrustedCertifiers: codecTarget(TdTrustedCertifiers, [TdTrustedCertifiers.encode(extra.epi.map((e) => ExternalPrincipalIdentifier.decode(e)))]),
  TdDhParameters: codecTarget(TdDhParameters, [TdDhParameters.encode([]),
    TdDhParameters.encode(extra.algorithmIdentifier.map((a) => AlgorithmIdentifier.decode(a)))]),
  AlgorithmIdentifier: codecTarget(AlgorithmIdentifier, extra.algorithmIdentifier),
  SubjectPublicKeyInfoDer: codecTarget(SubjectPublicKeyInfoDer),
  KdfAlgorithmId: codecTarget(KdfAlgorithmId, extra.kdf),
  Krb5PrincipalName: codecTarget(Krb5PrincipalName, extra.krb5PrincipalName),
  PkinitSuppPubInfo: codecTarget(PkinitSuppPubInfo),
  Sp80056aOtherInfo: codecTarget(Sp80056aOtherInfo),
};

fuzzSuite(import.meta.url, targets as FuzzTargets);
