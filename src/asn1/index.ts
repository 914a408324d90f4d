/**
 * kerbside/asn1: a small strict DER layer written as typed combinators
 * (docs/style.md "ASN.1 in this project"). Decoders reject anything that is not
 * DER and throw `Asn1Error` subclasses carrying `.offset` and `.path`.
 */
export {
  Asn1Error, Asn1TruncatedError, Asn1LengthError, Asn1TagError, Asn1TrailingError, Asn1DepthError,
  Asn1SizeError, Asn1ValueError, Asn1EncodeError,
} from './errors.js';
export type { Asn1ErrorOptions } from './errors.js';
export {
  TagClass, UniversalTag, tag, identifierOctet, sameTag, describeTag, DerReader, encodeLength, encodeTlv,
  DEFAULT_MAX_SIZE, DEFAULT_MAX_DEPTH,
} from './der.js';
export type { Tag, Element, DecodeOptions } from './der.js';
export { makeCodec, fromContent, named, accepts, expectTag } from './codec.js';
export type { Codec, ContentCodec, Optional, Infer } from './codec.js';
export {
  integer, int32, uint32, bigInteger, enumerated, boolean, nullValue, octetString, bitString, kerberosFlags,
  generalString, kerberosString, ia5String, utf8String, generalizedTime, kerberosTime, objectIdentifier,
} from './primitives.js';
export type { IntegerRange, BitString } from './primitives.js';
export {
  ctx, app, implicit, opt, seq, seqOf, choice, acceptAlso, raw, withRaw, map, constant, ValueRejected, asn1FieldName,
} from './combinators.js';
export type { SeqValue, ChoiceValue, WithRaw } from './combinators.js';
export { parseDer, dumpDer } from './inspect.js';
export type { DerNode } from './inspect.js';
