/**
 * Negative vectors: malformed input must end in a typed `Asn1Error` (with the
 * path and offset of the problem), never a crash or a hang. Built from MIT's
 * reference_encode.out messages (see vectors/mit-reference-encode.ts).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes, fromHex, utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { encodeLength, encodeTlv, parseDer } from '../asn1/index.js';
import type { Codec, DerNode } from '../asn1/index.js';
import {
  ApRep, ApReq, AsRep, AsReq, Asn1DepthError, Asn1Error, Asn1LengthError, Asn1SizeError, Asn1TagError,
  Asn1TrailingError, Asn1TruncatedError, Asn1ValueError, Authenticator, EncApRepPart, EncKrbCredPart, EncKrbPrivPart,
  EncTgsRepPart, EncTicketPart, EncryptedData, ErrorCode, EtypeInfo2, KdcReqBody, KerbPaPacRequest, KrbCred, KrbError,
  KrbPriv, KrbSafe, MethodData, PaEncTsEnc, TgsRep, TgsReq, Ticket, decodeMessage,
} from './index.js';
import { MIT_REFERENCE_ENCODE } from './vectors/mit-reference-encode.js';

const AS_REQ = fromHex(MIT_REFERENCE_ENCODE['encode_krb5_as_req']!);

function asn1Error(fn: () => unknown): Asn1Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Asn1Error) return e;
    throw e;
  }
  return assert.fail('expected an Asn1Error');
}

/** Re-serialises a parsed tree, letting `edit` replace any node's bytes (lengths are recomputed). */
function rebuild(node: DerNode, bytes: Uint8Array, edit: (n: DerNode) => Uint8Array | undefined): Uint8Array {
  const replaced = edit(node);
  if (replaced !== undefined) return replaced;
  const el = node.element;
  if (node.children === undefined) return bytes.slice(el.start, el.end);
  return encodeTlv(el, concatBytes(...node.children.map((c) => rebuild(c, bytes, edit))));
}

/** The AS-REQ with the KerberosTime of req-body.till ([4] → SEQUENCE → [5]) replaced by `text`. */
function asReqWithTill(text: string): Uint8Array {
  const tree = parseDer(AS_REQ);
  const till = tree.children![0]!.children![3]!.children![0]!.children![5]!.children![0]!;
  return rebuild(tree, AS_REQ, (n) => (n === till ? encodeTlv(n.element, utf8(text)) : undefined));
}

test('the tree rebuild helper is faithful', () => {
  assert.deepEqual(rebuild(parseDer(AS_REQ), AS_REQ, () => undefined), AS_REQ);
  assert.deepEqual(asReqWithTill('19940610060317Z'), AS_REQ);
});

test('AS-REQ with a non-minimal length is ERR_ASN1_LENGTH', () => {
  // Re-encode the outer [APPLICATION 10] length (0x82 0x01 0xE4) as 0x83 0x00 0x01 0xE4.
  const bad = concatBytes(fromHex('6a 83 00 01 e4'), AS_REQ.subarray(4));
  const e = asn1Error(() => AsReq.decode(bad));
  assert.ok(e instanceof Asn1LengthError);
  assert.equal(e.offset, 0);
  // The same inside: pvno's INTEGER as 02 81 01 05.
  const inner = rebuild(parseDer(AS_REQ), AS_REQ, (n) =>
    (n.element.num === 2 && n.element.cls === 0 && n.content![0] === 5 ? fromHex('02 81 01 05') : undefined));
  const e2 = asn1Error(() => AsReq.decode(inner));
  assert.ok(e2 instanceof Asn1LengthError);
  assert.equal(e2.path, 'AS-REQ.pvno');
});

test('AS-REQ with an indefinite length is ERR_ASN1_LENGTH', () => {
  const bad = concatBytes(fromHex('6a 80'), AS_REQ.subarray(4), fromHex('00 00'));
  assert.ok(asn1Error(() => AsReq.decode(bad)) instanceof Asn1LengthError);
  assert.ok(asn1Error(() => decodeMessage(bad)) instanceof Asn1LengthError);
});

test('AS-REQ with a trailing byte is ERR_ASN1_TRAILING', () => {
  const e = asn1Error(() => AsReq.decode(concatBytes(AS_REQ, fromHex('00'))));
  assert.ok(e instanceof Asn1TrailingError);
  assert.equal(e.offset, AS_REQ.length);
});

test('AS-REQ truncated at every offset is a typed error', () => {
  for (let k = 0; k < AS_REQ.length; k++) {
    const cut = AS_REQ.subarray(0, k);
    const e = asn1Error(() => AsReq.decode(cut));
    assert.ok(e instanceof Asn1TruncatedError, `cut at ${k}: ${e.message}`);
    assert.ok(asn1Error(() => decodeMessage(cut)) instanceof Asn1TruncatedError);
  }
});

test('a depth bomb of thousands of nested SEQUENCEs is a typed error', () => {
  let bomb = fromHex('05 00');
  for (let i = 0; i < 4000; i++) bomb = concatBytes(Uint8Array.of(0x30), encodeLength(bomb.length), bomb);
  assert.ok(asn1Error(() => parseDer(bomb)) instanceof Asn1DepthError);
  assert.ok(asn1Error(() => AsReq.decode(bomb)) instanceof Asn1TagError);
  const wrapped = encodeTlv({ cls: 1, constructed: true, num: 10 }, bomb);
  assert.ok(asn1Error(() => decodeMessage(wrapped)) instanceof Asn1Error);
  // Nested where a SEQUENCE OF is expected: padata [3] holding the bomb.
  const tree = parseDer(AS_REQ);
  const padataSeq = tree.children![0]!.children![2]!.children![0]!;
  const bombed = rebuild(tree, AS_REQ, (n) => (n === padataSeq ? bomb : undefined));
  const e = asn1Error(() => AsReq.decode(bombed));
  assert.ok(e instanceof Asn1TagError);
  assert.equal(e.path, 'AS-REQ.padata[0].padata-type');
});

test('an oversized length field (0x84 0x7f 0xff 0xff 0xff) is ERR_ASN1_SIZE', () => {
  const bad = concatBytes(fromHex('6a 84 7f ff ff ff'), AS_REQ.subarray(4));
  assert.ok(asn1Error(() => AsReq.decode(bad)) instanceof Asn1SizeError);
  assert.ok(asn1Error(() => decodeMessage(bad)) instanceof Asn1SizeError);
});

test('a high tag number is ERR_ASN1_TAG', () => {
  assert.ok(asn1Error(() => AsReq.decode(fromHex('7f 8a 00 00'))) instanceof Asn1TagError);
  assert.ok(asn1Error(() => decodeMessage(fromHex('7f 8a 00 00'))) instanceof Asn1TagError);
  // Inside: msg-type [2] written as [31] in the high-tag-number form.
  const tree = parseDer(AS_REQ);
  const msgTypeField = tree.children![0]!.children![1]!;
  const bad = rebuild(tree, AS_REQ, (n) => (n === msgTypeField ? fromHex('bf 1f 03 02 01 0a') : undefined));
  const e = asn1Error(() => AsReq.decode(bad));
  assert.ok(e instanceof Asn1TagError);
  assert.match(e.message, /high-tag-number/);
});

test('a wrong tag in a field names the field', () => {
  const tree = parseDer(AS_REQ);
  const reqBody = tree.children![0]!.children![3]!;
  const bad = rebuild(tree, AS_REQ, (n) =>
    (n === reqBody ? encodeTlv({ ...n.element, num: 5 }, AS_REQ.slice(n.element.contentStart, n.element.end)) : undefined));
  const e = asn1Error(() => AsReq.decode(bad));
  assert.ok(e instanceof Asn1TagError);
  assert.equal(e.path, 'AS-REQ.req-body');
  assert.equal(e.offset, reqBody.element.start);
  // A GeneralString where the realm is expected to be… an OCTET STRING.
  const realm = tree.children![0]!.children![3]!.children![0]!.children![2]!.children![0]!;
  const bad2 = rebuild(tree, AS_REQ, (n) =>
    (n === realm ? encodeTlv({ cls: 0, constructed: false, num: 4 }, n.content!) : undefined));
  assert.equal(asn1Error(() => AsReq.decode(bad2)).path, 'AS-REQ.req-body.realm');
});

test('KerberosTime with fractional seconds is ERR_ASN1_VALUE at AS-REQ.req-body.till', () => {
  const e = asn1Error(() => AsReq.decode(asReqWithTill('19940610060317.5Z')));
  assert.ok(e instanceof Asn1ValueError);
  assert.equal(e.path, 'AS-REQ.req-body.till');
  assert.match(e.message, /YYYYMMDDHHMMSSZ/);
  assert.equal(asn1Error(() => decodeMessage(asReqWithTill('199406100603Z'))).path, 'AS-REQ.req-body.till');
});

test('BOOLEAN 0x01 in KERB-PA-PAC-REQUEST is ERR_ASN1_VALUE', () => {
  assert.deepEqual(KerbPaPacRequest.encode({ includePac: true }), fromHex('30 05 a0 03 01 01 ff'));
  assert.deepEqual(KerbPaPacRequest.decode(fromHex('30 05 a0 03 01 01 00')), { includePac: false });
  const e = asn1Error(() => KerbPaPacRequest.decode(fromHex('30 05 a0 03 01 01 01')));
  assert.ok(e instanceof Asn1ValueError);
  assert.equal(e.path, 'KERB-PA-PAC-REQUEST.include-pac');
  assert.equal(e.offset, 4);
});

test('pvno other than 5 carries KDC_ERR_BAD_PVNO; a mismatched msg-type KRB_AP_ERR_MSG_TYPE', () => {
  const tree = parseDer(AS_REQ);
  const pvno = tree.children![0]!.children![0]!.children![0]!;
  const msgType = tree.children![0]!.children![1]!.children![0]!;
  const e1 = asn1Error(() => AsReq.decode(rebuild(tree, AS_REQ, (n) => (n === pvno ? fromHex('02 01 04') : undefined))));
  assert.equal(e1.krbCode, ErrorCode.KDC_ERR_BAD_PVNO);
  assert.equal(e1.path, 'AS-REQ.pvno');
  const e2 = asn1Error(() => AsReq.decode(rebuild(tree, AS_REQ, (n) => (n === msgType ? fromHex('02 01 0c') : undefined))));
  assert.equal(e2.krbCode, ErrorCode.KRB_AP_ERR_MSG_TYPE);
  assert.equal(e2.path, 'AS-REQ.msg-type');
});

test('decodeMessage rejects tags that are not Kerberos messages', () => {
  for (const hex of ['30 00', '61 00', '7c 00', '04 00', '']) {
    const e = asn1Error(() => decodeMessage(fromHex(hex)));
    assert.equal(e.path, 'KerberosMessage');
    assert.equal(e.offset, 0);
  }
});

test('integer leniency that matches what peers send', () => {
  const enc = (kvno: string): Uint8Array => {
    const k = fromHex(kvno);
    return concatBytes(fromHex('30'), encodeLength(12 + k.length), fromHex('a0 03 02 01 12 a1'), encodeLength(k.length), k,
      fromHex('a2 03 04 01 00'));
  };
  // kvno: signed (Windows/MIT) and unsigned (RFC) encodings both read as unsigned; written signed.
  assert.equal(EncryptedData.decode(enc('02 04 ff 00 00 00')).kvno, 0xff000000);
  assert.equal(EncryptedData.decode(enc('02 05 00 ff 00 00 00')).kvno, 0xff000000);
  assert.deepEqual(EncryptedData.encode({ etype: 18, kvno: 0xff000000, cipher: fromHex('00') }), enc('02 04 ff 00 00 00'));
  assert.ok(asn1Error(() => EncryptedData.decode(enc('02 05 01 00 00 00 00'))) instanceof Asn1ValueError);
  // seq-number: negative encodings read as unsigned, written unsigned.
  const rep = EncApRepPart.decode(fromHex('7b 1f 30 1d a0 11 18 0f 31 39 39 34 30 36 31 30 30 36 30 33 31 37 5a a1 03 02 01 00 a3 03 02 01 ff'));
  assert.equal(rep.seqNumber, 0xffffffff);
  assert.deepEqual(EncApRepPart.encode(rep).subarray(-9), fromHex('a3 07 02 05 00 ff ff ff ff'));
  // nonce: kept as encoded, so a KDC echoes exactly what it got.
  const body = KdcReqBody.decode(KdcReqBody.encode({ kdcOptions: 0, realm: 'R', till: new Date(0), nonce: -5, etype: [18] }));
  assert.equal(body.nonce, -5);
  assert.equal(KdcReqBody.decode(KdcReqBody.encode({ ...body, nonce: 0xfffffffb })).nonce, 0xfffffffb);
});

// ---------------------------------------------------------------- randomized mutations

const TOP_LEVEL: readonly [string, Codec<any>][] = [
  ['encode_krb5_as_req', AsReq], ['encode_krb5_tgs_req', TgsReq], ['encode_krb5_as_rep', AsRep],
  ['encode_krb5_tgs_rep', TgsRep], ['encode_krb5_ap_req', ApReq], ['encode_krb5_ap_rep', ApRep],
  ['encode_krb5_error', KrbError], ['encode_krb5_safe', KrbSafe], ['encode_krb5_priv', KrbPriv],
  ['encode_krb5_cred', KrbCred], ['encode_krb5_authenticator', Authenticator], ['encode_krb5_ticket', Ticket],
  ['encode_krb5_enc_tkt_part', EncTicketPart], ['encode_krb5_enc_kdc_rep_part', EncTgsRepPart],
  ['encode_krb5_ap_rep_enc_part', EncApRepPart], ['encode_krb5_enc_priv_part', EncKrbPrivPart],
  ['encode_krb5_enc_cred_part', EncKrbCredPart], ['encode_krb5_padata_sequence', MethodData],
  ['encode_krb5_etype_info2', EtypeInfo2], ['encode_krb5_pa_enc_ts', PaEncTsEnc],
];

test('randomized mutations of golden messages decode or throw Asn1Error, nothing else (seed 4120)', () => {
  const rnd = seededRandom(4120);
  let decoded = 0;
  let rejected = 0;
  for (const [entry, codec] of TOP_LEVEL) {
    const golden = fromHex(MIT_REFERENCE_ENCODE[entry]!);
    for (let round = 0; round < 300; round++) {
      const m = golden.slice();
      const edits = 1 + rnd.int(3);
      let bytes: Uint8Array = m;
      for (let i = 0; i < edits; i++) {
        const at = rnd.int(bytes.length);
        switch (rnd.int(4)) {
          case 0: bytes[at] = rnd.int(256); break; // replace
          case 1: bytes[at] = bytes[at]! ^ (1 << rnd.int(8)); break; // flip a bit
          case 2: bytes = concatBytes(bytes.subarray(0, at), Uint8Array.of(rnd.int(256)), bytes.subarray(at)); break;
          default: bytes = concatBytes(bytes.subarray(0, at), bytes.subarray(at + 1)); break;
        }
        if (bytes.length === 0) break;
      }
      for (const decode of [(b: Uint8Array) => codec.decode(b), (b: Uint8Array) => decodeMessage(b)]) {
        try {
          decode(bytes);
          decoded++;
        } catch (e) {
          if (!(e instanceof Asn1Error)) throw new Error(`${entry} mutation ${round}: non-Asn1Error ${String(e)}`, { cause: e });
          rejected++;
        }
      }
    }
  }
  // Both outcomes occur: the test exercises real decodes, not only early rejections.
  assert.ok(decoded > 100 && rejected > 1000, `decoded ${decoded}, rejected ${rejected}`);
});
