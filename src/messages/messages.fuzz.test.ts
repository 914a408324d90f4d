/**
 * Fuzzing every RFC 4120 codec (src/testing/fuzz.ts): random bytes and
 * mutations of MIT's reference encodings (vectors/mit-reference-encode.ts)
 * give only Asn1Error subclasses; a value a codec accepts re-encodes and
 * decodes back to the same value. (Not always to the same octets: decoders
 * take a few encodings MIT peers send, EncASRepPart tagged [APPLICATION 26]
 * and sequence numbers written as negative INTEGERs, and encoders write the
 * canonical form.)
 * Also decodeMessage, the TCP framing and the principal-name parser.
 */

import assert from 'node:assert/strict';
import { fromHex, utf8 } from '../core/bytes.js';
import type { Codec } from '../asn1/index.js';
import { decodableSeeds, fuzzSuite, type FuzzTarget, type FuzzTargets } from '../testing/fuzz.js';
import {
  AdAndOr, AdIfRelevant, ApRep, ApReq, AsRep, AsReq, Authenticator, AuthorizationData, Checksum, EncApRepPart, EncAsRepPart,
  EncKdcRepPart, EncKrbCredPart, EncKrbPrivPart, EncTgsRepPart, EncTicketPart, EncryptedData, EncryptionKey, EtypeInfo, EtypeInfo2,
  HostAddress, HostAddresses, KdcReqBody, KerbPaPacRequest, KrbCred, KrbError, KrbPriv, KrbSafe, KrbSafeBody, LastReq, MethodData,
  PaData, PaEncTsEnc, PrincipalName, TcpFrameDecoder, TgsRep, TgsReq, Ticket, TransitedEncoding, TypedData, decodeMessage,
  encodeTcpFrame, principalNameFromString, principalNameToString,
} from './index.js';
import { GOKRB5_ENTRIES, MIT_REFERENCE_ENCODE } from './vectors/mit-reference-encode.js';

const VECTORS: readonly Uint8Array[] = [...Object.values(MIT_REFERENCE_ENCODE), ...Object.values(GOKRB5_ENTRIES)]
  .map((hex) => fromHex(hex.replace(/\s+/g, '')));

function seedsFor(codec: Codec<any>): Uint8Array[] {
  return decodableSeeds(codec, VECTORS);
}

/**
 * The value without the exact input octets kept next to it (`withRaw`, and
 * KDC-REQ's rawReqBody: the KDC-REQ-BODY a checksum covers): those are the
 * input's own, not re-encoded.
 */
function withoutRaw(v: unknown): unknown {
  if (v instanceof Uint8Array || v instanceof Date || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(withoutRaw);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => !(k === 'raw' && 'value' in o) && k !== 'rawReqBody');
  return Object.fromEntries(keys.map((k) => [k, withoutRaw(o[k])]));
}

function codecTarget(codec: Codec<any>, extraSeeds: readonly Uint8Array[] = []): () => FuzzTarget {
  return () => ({
    seeds: [...seedsFor(codec), ...extraSeeds],
    run(input) {
      const value = codec.decode(input);
      assert.deepEqual(withoutRaw(codec.decode(codec.encode(value))), withoutRaw(value), `${codec.name}: an accepted value does not survive re-encoding`);
    },
  });
}

// Seeds the MIT file has no entry for: built with our own encoders.
const extra = {
  pacRequest: [KerbPaPacRequest.encode({ includePac: true }), KerbPaPacRequest.encode({ includePac: false })],
  adIfRelevant: [AdIfRelevant.encode([{ adType: 128, adData: utf8('pac') }, { adType: 1, adData: new Uint8Array(0) }])],
  adAndOr: [AdAndOr.encode({ conditionCount: 1, elements: [{ adType: 1, adData: utf8('x') }] })],
  typedData: [TypedData.encode([{ dataType: 1, dataValue: utf8('v') }, { dataType: 2 }])],
  hostAddress: [HostAddress.encode({ addrType: 2, address: Uint8Array.of(127, 0, 0, 1) })],
};

const CODECS: Readonly<Record<string, Codec<any>>> = {
  Ticket, EncTicketPart, KdcReqBody, AsReq, TgsReq, AsRep, TgsRep, EncKdcRepPart, EncAsRepPart, EncTgsRepPart,
  ApReq, Authenticator, ApRep, EncApRepPart, KrbSafe, KrbSafeBody, KrbPriv, EncKrbPrivPart, KrbCred, EncKrbCredPart, KrbError,
  PaEncTsEnc, EtypeInfo, EtypeInfo2, MethodData, PaData, AuthorizationData, PrincipalName, HostAddresses, EncryptedData,
  EncryptionKey, Checksum, LastReq, TransitedEncoding,
};

const targets: Record<string, () => FuzzTarget> = {};
for (const [name, codec] of Object.entries(CODECS)) targets[name] = codecTarget(codec);
targets['KerbPaPacRequest'] = codecTarget(KerbPaPacRequest, extra.pacRequest);
targets['AdIfRelevant'] = codecTarget(AdIfRelevant, extra.adIfRelevant);
targets['AdAndOr'] = codecTarget(AdAndOr, extra.adAndOr);
targets['TypedData'] = codecTarget(TypedData, extra.typedData);
targets['HostAddress'] = codecTarget(HostAddress, extra.hostAddress);

targets['decodeMessage'] = () => ({
  seeds: VECTORS,
  weight: 3,
  run(input) {
    const m = decodeMessage(input);
    assert.ok(typeof m.type === 'string');
  },
});

targets['TcpFrameDecoder'] = () => ({
  seeds: VECTORS.slice(0, 8).map((v) => encodeTcpFrame(v)),
  weight: 2,
  run(input) {
    // The same stream in two chunks split at a point taken from the input, then whole.
    const split = input.length === 0 ? 0 : input[0]! % (input.length + 1);
    const chunked = new TcpFrameDecoder({ maxLength: 4096 });
    const frames = [...chunked.push(input.subarray(0, split)), ...chunked.push(input.subarray(split))];
    const whole = new TcpFrameDecoder({ maxLength: 4096 }).push(input);
    assert.deepEqual(frames, whole);
  },
});

targets['principalNameFromString'] = () => ({
  seeds: ['alice@EXAMPLE.TEST', 'HTTP/web.example.test@EXAMPLE.TEST', 'a\\/b\\@c/d@R', 'krbtgt/R@R', '@R', 'x\\'].map(utf8),
  dictionary: ['/', '@', '\\', '\\0', '\\n', '\u0000', '\u00e9'].map(utf8),
  maxRandomLength: 64,
  run(input) {
    const parsed = principalNameFromString(Buffer.from(input).toString('utf8'));
    principalNameToString(parsed.name, parsed.realm);
  },
});

fuzzSuite(import.meta.url, targets as FuzzTargets);
