/**
 * Fuzzing the strict DER layer (src/testing/fuzz.ts): the schema-less parser
 * and every primitive codec get random bytes and mutated valid encodings;
 * only Asn1Error subclasses come out, and what is accepted survives a
 * re-encoding (values) or is byte-exact (parseDer: the DER framing has one
 * encoding).
 */

import assert from 'node:assert/strict';
import { concatBytes, fromHex } from '../core/bytes.js';
import { fuzzSuite, type FuzzTarget } from '../testing/fuzz.js';
import { MIT_REFERENCE_ENCODE } from '../messages/vectors/mit-reference-encode.js';
import {
  bigInteger, bitString, boolean, dumpDer, enumerated, generalString, generalizedTime, ia5String, int32, integer, kerberosFlags,
  nullValue, objectIdentifier, octetString, parseDer, uint32, utf8String, type Codec, type DerNode,
} from './index.js';

const VECTORS = Object.values(MIT_REFERENCE_ENCODE).map((hex) => fromHex(hex.replace(/\s+/g, '')));

/** Re-encodes a parsed tree from its elements' own header octets and contents. */
function reencode(bytes: Uint8Array, node: DerNode): Uint8Array {
  const el = node.element;
  const head = bytes.subarray(el.start, el.contentStart);
  if (node.children === undefined) return concatBytes(head, node.content!);
  return concatBytes(head, ...node.children.map((c) => reencode(bytes, c)));
}

function primitive(codec: Codec<any>, seeds: readonly string[]): () => FuzzTarget {
  return () => ({
    seeds: seeds.map(fromHex),
    maxRandomLength: 48,
    weight: 0.5,
    run(input) {
      const value = codec.decode(input);
      assert.deepEqual(codec.decode(codec.encode(value)), value);
    },
  });
}

fuzzSuite(import.meta.url, {
  parseDer: () => ({
    seeds: VECTORS,
    weight: 3,
    run(input) {
      const tree = parseDer(input);
      assert.deepEqual(reencode(input, tree), input, 'the elements of an accepted encoding cover it exactly');
      dumpDer(input);
    },
  }),
  'parseDer (depth and size limits)': () => ({
    seeds: [fromHex('3080'), fromHex('30' + '06' + '3004' + '3002' + '3000'), fromHex('0484ffffffff')],
    run(input) {
      parseDer(input, { maxDepth: 4, maxSize: 256 });
    },
  }),
  INTEGER: primitive(int32, ['020100', '02017f', '02020080', '0204ff000000', '02047fffffff', '020480000000']),
  UInt32: primitive(uint32, ['020100', '020500ffffffff', '020480000000']),
  'INTEGER (range 0..10)': primitive(integer({ min: 0, max: 10 }), ['020100', '02010a']),
  bigInteger: primitive(bigInteger, ['020100', '02090100000000000000ff', '0201ff']),
  ENUMERATED: primitive(enumerated, ['0a0100', '0a0105']),
  BOOLEAN: primitive(boolean, ['0101ff', '010100']),
  NULL: primitive(nullValue, ['0500']),
  'OCTET STRING': primitive(octetString, ['0400', '040401020304']),
  'BIT STRING': primitive(bitString, ['030100', '03020780', '030500fedcba98']),
  KerberosFlags: primitive(kerberosFlags, ['030500fedcba98', '03050040000000', '030100']),
  GeneralString: primitive(generalString, ['1b00', '1b0e415448454e412e4d49542e454455']),
  IA5String: primitive(ia5String, ['1600', '1603616263']),
  UTF8String: primitive(utf8String, ['0c00', '0c02c3a9']),
  KerberosTime: primitive(generalizedTime, ['180f31393934303631303036303331375a', '180f32303236303130313030303030305a']),
  'OBJECT IDENTIFIER': primitive(objectIdentifier, ['06092a864886f712010202', '06062b0601050502', '06032a0304']),
});
