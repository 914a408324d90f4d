/**
 * kerbside/messages: RFC 4120 §5 message types over the strict DER layer.
 * Every type T is both a TypeScript type and a codec value `T` with
 * `T.encode(value)` and `T.decode(bytes)` (throws `Asn1Error` subclasses with
 * `.offset` and `.path`).
 */
export {
  PrincipalName, HostAddress, HostAddresses, AuthorizationDataEntry, AuthorizationData, AdIfRelevant, AdAndOr, PaData,
  MethodData, TypedDataEntry, TypedData, EncryptedData, EncryptionKey, Checksum, TransitedEncoding, LastReqEntry,
  LastReq, Realm, KerberosTime, Kvno, Nonce, SeqNumber, Microseconds, Pvno, msgType,
} from './basic.js';
export { Ticket, EncTicketPart } from './ticket.js';
export {
  KdcReqBody, AsReq, TgsReq, AsRep, TgsRep, EncKdcRepPart, EncAsRepPart, EncTgsRepPart,
} from './kdc.js';
export type { KdcReq, KdcRep } from './kdc.js';
export { ApReq, Authenticator, ApRep, EncApRepPart } from './ap.js';
export { KrbSafe, KrbSafeBody } from './safe.js';
export { KrbPriv, EncKrbPrivPart } from './priv.js';
export { KrbCred, EncKrbCredPart, KrbCredInfo } from './cred.js';
export { KrbError } from './error.js';
export {
  PaEncTsEnc, EtypeInfoEntry, EtypeInfo, EtypeInfo2Entry, EtypeInfo2, KerbPaPacRequest,
} from './preauth.js';
export { decodeMessage } from './message.js';
export type { KerberosMessage } from './message.js';
export {
  PVNO, MessageType, NameType, ErrorCode, errorCodeName, PaType, TypedDataType, AddressType, AuthorizationDataType,
  TransitedEncodingType, LastReqType, TicketFlags, KdcOptions, ApOptions, flagMask, flagNames,
} from './registries.js';
export { principalNameFromString, principalNameToString, PrincipalSyntaxError } from './principal.js';
export type { ParsePrincipalOptions, ParsedPrincipal } from './principal.js';
export {
  encodeTcpFrame, TcpFrameDecoder, FrameError, FrameTooLargeError, DEFAULT_MAX_FRAME_LENGTH,
} from './tcp-framing.js';
// Decode failures are asn1 errors; re-exported so message users need one import.
export {
  Asn1Error, Asn1TruncatedError, Asn1LengthError, Asn1TagError, Asn1TrailingError, Asn1DepthError, Asn1SizeError,
  Asn1ValueError, Asn1EncodeError,
} from '../asn1/index.js';
export type { Codec, DecodeOptions } from '../asn1/index.js';
export {
  Krb5PrincipalName, PkinitOid, AlgorithmIdentifier, SubjectPublicKeyInfoDer, ExternalPrincipalIdentifier, PaPkAsReq, PkAuthenticator,
  KdfAlgorithmId, AuthPack, DhRepInfo, PaPkAsRep, KdcDhKeyInfo, ReplyKeyPack, TdTrustedCertifiers, TdInvalidCertificates,
  TdDhParameters, PkinitSuppPubInfo, Sp80056aOtherInfo,
} from './pkinit.js';
