/**
 * RFC 4178 §4 SPNEGO tokens (module SPNEGOASNOneSpec, EXPLICIT TAGS, DER):
 *
 *   NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp }
 *   NegTokenInit ::= SEQUENCE { mechTypes [0] MechTypeList, reqFlags [1] ContextFlags OPTIONAL,
 *                               mechToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL, ... }
 *   NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] MechType OPTIONAL,
 *                               responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL, ... }
 *
 * The initial token is wrapped in the RFC 2743 §3.1 header with the SPNEGO
 * OID; later ones are not (§4.2). Decoding ignores unknown fields, as §6
 * requires, and Microsoft's NegTokenInit2 negHints [3] (mechListMIC then
 * sits at [4]). The DER of mechTypes is kept as received: the mechListMIC
 * covers exactly those bytes (§5 a).
 */

import {
  Asn1Error, DerReader, TagClass, UniversalTag, ctx, enumerated, objectIdentifier, octetString, opt, raw, seq,
  seqOf, type Element,
} from '../asn1/index.js';
import { bytesEqual } from '../core/bytes.js';
import { DefectiveTokenError, BadMechError } from './errors.js';
import { decodeInitialContextToken, encodeInitialContextToken, looksFramed } from './framing.js';
import { describeMech, MechOid } from './oids.js';

/** RFC 4178 §4.2.2 negState. */
export const NegState = Object.freeze({
  ACCEPT_COMPLETED: 0,
  ACCEPT_INCOMPLETE: 1,
  REJECT: 2,
  REQUEST_MIC: 3,
} as const);
export type NegState = (typeof NegState)[keyof typeof NegState];

export interface NegTokenInit {
  readonly mechTypes: readonly string[];
  readonly mechToken?: Uint8Array;
  readonly mechListMIC?: Uint8Array;
}

export interface DecodedNegTokenInit extends NegTokenInit {
  /** The DER of the MechTypeList exactly as received (what the mechListMIC covers). */
  readonly mechTypesDer: Uint8Array;
}

export interface NegTokenResp {
  readonly negState?: NegState;
  readonly supportedMech?: string;
  readonly responseToken?: Uint8Array;
  readonly mechListMIC?: Uint8Array;
}

const MechTypeList = seqOf(objectIdentifier, 'MechTypeList');

/** DER of a MechTypeList: the bytes a mechListMIC is computed over. */
export function encodeMechTypes(mechTypes: readonly string[]): Uint8Array {
  return MechTypeList.encode([...mechTypes]);
}

const NegTokenInitCodec = ctx(0, seq({
  mechTypes: ctx(0, raw),
  mechToken: opt(ctx(2, octetString)),
  mechListMIC: opt(ctx(3, octetString)),
}, 'NegTokenInit'));

const NegTokenRespCodec = ctx(1, seq({
  negState: opt(ctx(0, enumerated)),
  supportedMech: opt(ctx(1, objectIdentifier)),
  responseToken: opt(ctx(2, octetString)),
  mechListMIC: opt(ctx(3, octetString)),
}, 'NegTokenResp'));

/** The initiator's first token: NegTokenInit in the RFC 2743 header with the SPNEGO OID. `mechTypesDer` from encodeMechTypes. */
export function encodeNegTokenInit(mechTypesDer: Uint8Array, fields: { readonly mechToken?: Uint8Array; readonly mechListMIC?: Uint8Array } = {}): Uint8Array {
  return encodeInitialContextToken(MechOid.SPNEGO, NegTokenInitCodec.encode({
    mechTypes: mechTypesDer,
    ...(fields.mechToken === undefined ? {} : { mechToken: fields.mechToken }),
    ...(fields.mechListMIC === undefined ? {} : { mechListMIC: fields.mechListMIC }),
  }));
}

/** Any later token: NegTokenResp, not framed. */
export function encodeNegTokenResp(t: NegTokenResp): Uint8Array {
  return NegTokenRespCodec.encode({
    ...(t.negState === undefined ? {} : { negState: t.negState }),
    ...(t.supportedMech === undefined ? {} : { supportedMech: t.supportedMech }),
    ...(t.responseToken === undefined ? {} : { responseToken: t.responseToken }),
    ...(t.mechListMIC === undefined ? {} : { mechListMIC: t.mechListMIC }),
  });
}

export type SpnegoToken =
  | { readonly type: 'init'; readonly value: DecodedNegTokenInit }
  | { readonly type: 'resp'; readonly value: NegTokenResp };

/**
 * Decodes a SPNEGO token: a framed NegTokenInit, or a NegTokenResp (bare,
 * or framed as old Sun implementations sent it). Throws DefectiveTokenError,
 * or BadMechError for a framed token of another mechanism.
 */
export function decodeSpnegoToken(token: Uint8Array): SpnegoToken {
  let inner = token;
  if (looksFramed(token)) {
    const framed = decodeInitialContextToken(token, 'SPNEGO token');
    if (framed.mechOid !== MechOid.SPNEGO) {
      throw new BadMechError(`the token is for ${describeMech(framed.mechOid)}, not SPNEGO`, { detail: { mechOid: framed.mechOid } });
    }
    inner = framed.inner;
  }
  try {
    const reader = new DerReader(inner, {}, 'NegotiationToken');
    const outer = reader.element(0, inner.length, 'NegotiationToken');
    if (outer.end !== inner.length) throw new DefectiveTokenError(`SPNEGO token has ${inner.length - outer.end} octet(s) after its end`);
    if (outer.cls !== TagClass.CONTEXT || !outer.constructed || (outer.num !== 0 && outer.num !== 1)) {
      throw new DefectiveTokenError('SPNEGO token is neither a NegTokenInit [0] nor a NegTokenResp [1]');
    }
    const body = single(reader, outer, 'NegotiationToken');
    if (body.cls !== TagClass.UNIVERSAL || body.num !== UniversalTag.SEQUENCE) {
      throw new DefectiveTokenError('SPNEGO token body is not a SEQUENCE');
    }
    const fields = contextFields(reader, body, outer.num === 0 ? 'NegTokenInit' : 'NegTokenResp');
    return outer.num === 0 ? { type: 'init', value: readInit(reader, fields) } : { type: 'resp', value: readResp(reader, fields) };
  } catch (err) {
    if (err instanceof Asn1Error) throw new DefectiveTokenError(`SPNEGO token is malformed: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The one element inside an explicit tag. */
function single(reader: DerReader, el: Element, path: string): Element {
  const kids = reader.children(el, path);
  if (kids.length !== 1) throw new DefectiveTokenError(`${path}: expected one element inside [${el.num}], found ${kids.length}`);
  return kids[0]!;
}

/** Context-tagged fields of an extensible SEQUENCE by tag number, in increasing order; unknown ones are skipped later. */
function contextFields(reader: DerReader, body: Element, path: string): Map<number, Element> {
  const out = new Map<number, Element>();
  let last = -1;
  for (const kid of reader.children(body, path)) {
    if (kid.cls !== TagClass.CONTEXT || !kid.constructed) throw new DefectiveTokenError(`${path}: unexpected element with tag class ${kid.cls}`);
    if (kid.num <= last) throw new DefectiveTokenError(`${path}: field [${kid.num}] is out of order or repeated`);
    last = kid.num;
    out.set(kid.num, single(reader, kid, `${path}[${kid.num}]`));
  }
  return out;
}

function readInit(reader: DerReader, f: Map<number, Element>): DecodedNegTokenInit {
  const types = f.get(0);
  if (types === undefined) throw new DefectiveTokenError('NegTokenInit has no mechTypes');
  const mechTypes = MechTypeList.read(reader, types, 'NegTokenInit.mechTypes');
  if (mechTypes.length === 0) throw new DefectiveTokenError('NegTokenInit offers no mechanisms');
  // reqFlags [1] is not integrity protected and acceptors MUST ignore it (§4.2.1).
  const token = f.get(2);
  // [3] is mechListMIC, or negHints (a SEQUENCE) in Microsoft's NegTokenInit2, whose MIC is then at [4].
  const three = f.get(3);
  const mic = three !== undefined && three.num === UniversalTag.OCTET_STRING && three.cls === TagClass.UNIVERSAL ? three : f.get(4);
  return {
    mechTypes,
    mechTypesDer: reader.bytes.slice(types.start, types.end),
    ...(token === undefined ? {} : { mechToken: octetString.read(reader, token, 'NegTokenInit.mechToken') }),
    ...(mic === undefined ? {} : { mechListMIC: octetString.read(reader, mic, 'NegTokenInit.mechListMIC') }),
  };
}

function readResp(reader: DerReader, f: Map<number, Element>): NegTokenResp {
  const state = f.get(0);
  const mech = f.get(1);
  const token = f.get(2);
  const micEl = f.get(3);
  let negState: NegState | undefined;
  if (state !== undefined) {
    const v = enumerated.read(reader, state, 'NegTokenResp.negState');
    if (v < 0 || v > 3) throw new DefectiveTokenError(`NegTokenResp negState ${v} is not one of 0..3`);
    negState = v as NegState;
  }
  const responseToken = token === undefined ? undefined : octetString.read(reader, token, 'NegTokenResp.responseToken');
  let mechListMIC = micEl === undefined ? undefined : octetString.read(reader, micEl, 'NegTokenResp.mechListMIC');
  // Legacy peers echo the response token in the MIC field (pyspnego#17, MIT get_negTokenResp): not a MIC.
  if (mechListMIC !== undefined && responseToken !== undefined && bytesEqual(mechListMIC, responseToken)) mechListMIC = undefined;
  return {
    ...(negState === undefined ? {} : { negState }),
    ...(mech === undefined ? {} : { supportedMech: objectIdentifier.read(reader, mech, 'NegTokenResp.supportedMech') }),
    ...(responseToken === undefined ? {} : { responseToken }),
    ...(mechListMIC === undefined ? {} : { mechListMIC }),
  };
}

/** 'accept-completed' … for messages. */
export function negStateName(s: number): string {
  return ['accept-completed', 'accept-incomplete', 'reject', 'request-mic'][s] ?? `negState ${s}`;
}
