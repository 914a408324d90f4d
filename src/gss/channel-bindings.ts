/**
 * Channel bindings: RFC 2744 §3.11 gss_channel_bindings_struct, hashed into
 * the authenticator checksum's Bnd field as RFC 4121 §4.1.1.2 says (MD5 over
 * every field, integers and lengths as 4 octets little-endian, zero-length
 * values contribute only their length), and the RFC 5929 §4
 * `tls-server-end-point` binding that HTTP Negotiate over TLS uses (EPA).
 */

import { createHash } from 'node:crypto';
import { concatBytes, utf8 } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Asn1Error, DerReader, TagClass, objectIdentifier } from '../asn1/index.js';

export interface ChannelBindings {
  /** GSS_C_AF_* of the initiator's address (0 = GSS_C_AF_UNSPEC, the usual choice). */
  readonly initiatorAddrType?: number;
  readonly initiatorAddress?: Uint8Array;
  readonly acceptorAddrType?: number;
  readonly acceptorAddress?: Uint8Array;
  /** For TLS: `tls-server-end-point:` followed by the certificate hash (see tlsServerEndPoint). */
  readonly applicationData?: Uint8Array;
}

/**
 * How an acceptor treats the initiator's bindings (IIS Extended Protection):
 * - 'none': ignore them;
 * - 'allow': verify them when the initiator sent some (a non-zero Bnd) and
 *   accept an initiator that sent none;
 * - 'require': the initiator must send bindings and they must match.
 */
export type ChannelBindingPolicy = 'none' | 'allow' | 'require';

const ZERO_BND = new Uint8Array(16);

function le32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

/** The 16-octet Bnd value: MD5 of the bindings, or 16 zero octets for no bindings (RFC 4121 §4.1.1.2 (3)). */
export function channelBindingsHash(bindings: ChannelBindings | undefined): Uint8Array {
  if (bindings === undefined) return ZERO_BND.slice();
  const field = (value: Uint8Array | undefined): Uint8Array => {
    const v = value ?? new Uint8Array(0);
    return concatBytes(le32(v.length), v);
  };
  const data = concatBytes(
    le32(bindings.initiatorAddrType ?? 0), field(bindings.initiatorAddress),
    le32(bindings.acceptorAddrType ?? 0), field(bindings.acceptorAddress),
    field(bindings.applicationData),
  );
  return new Uint8Array(createHash('md5').update(data).digest());
}

/** True for the all-zero Bnd an initiator without bindings sends. */
export function isZeroBindingsHash(bnd: Uint8Array): boolean {
  return bnd.every((b) => b === 0);
}

// RFC 5929 §4.1: the hash of the certificate's signature algorithm, except
// that MD5 and SHA-1 become SHA-256. Keys are signatureAlgorithm OIDs.
const SIGNATURE_HASHES: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha256', // dsa-with-sha1
  '2.16.840.1.101.3.4.3.2': 'sha256', // dsa-with-sha256
  // Ed25519/Ed448 have no separate hash; RFC 5929 leaves them undefined and
  // Windows, Go and OpenSSL-based stacks use SHA-256.
  '1.3.101.112': 'sha256',
  '1.3.101.113': 'sha256',
}));

// RSASSA-PSS names its hash in the parameters (RFC 4055 §3.1); the default is SHA-1 → SHA-256.
const RSASSA_PSS = '1.2.840.113549.1.1.10';
const PSS_HASHES: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  '1.3.14.3.2.26': 'sha256',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
}));

/** The hash RFC 5929 §4.1 prescribes for a DER X.509 certificate. */
export function tlsServerEndPointHashAlgorithm(certificateDer: Uint8Array): string {
  let sigOid: string;
  let pssHash: string | undefined;
  try {
    const r = new DerReader(certificateDer, {}, 'Certificate');
    const cert = r.element(0, certificateDer.length, 'Certificate');
    const [, sigAlg] = r.children(cert, 'Certificate');
    if (sigAlg === undefined) throw new InvalidArgumentError('the certificate has no signatureAlgorithm');
    const [oidEl, params] = r.children(sigAlg, 'Certificate.signatureAlgorithm');
    if (oidEl === undefined) throw new InvalidArgumentError('the certificate signatureAlgorithm has no OID');
    sigOid = objectIdentifier.decode(certificateDer.subarray(oidEl.start, oidEl.end));
    if (sigOid === RSASSA_PSS && params !== undefined && params.constructed) {
      // RSASSA-PSS-params: hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1.
      const first = r.children(params, 'RSASSA-PSS-params')[0];
      if (first !== undefined && first.cls === TagClass.CONTEXT && first.num === 0) {
        const alg = r.children(first, 'hashAlgorithm')[0];
        const hashOidEl = alg === undefined ? undefined : r.children(alg, 'hashAlgorithm')[0];
        if (hashOidEl !== undefined) pssHash = objectIdentifier.decode(certificateDer.subarray(hashOidEl.start, hashOidEl.end));
      }
    }
  } catch (err) {
    if (err instanceof Asn1Error) {
      throw new InvalidArgumentError(`the server certificate is not DER X.509: ${err.message}`, { cause: err });
    }
    throw err;
  }
  const hash = sigOid === RSASSA_PSS ? PSS_HASHES[pssHash ?? '1.3.14.3.2.26'] : SIGNATURE_HASHES[sigOid];
  if (hash === undefined) {
    throw new InvalidArgumentError(`no tls-server-end-point hash is defined for certificate signature algorithm ${sigOid}`, {
      hint: 'RFC 5929 §4.1 defines the hash by the signature algorithm; pass the hash explicitly for unusual certificates',
      detail: { signatureAlgorithm: sigOid },
    });
  }
  return hash;
}

/**
 * RFC 5929 §4 `tls-server-end-point` bindings for the server's DER
 * certificate (what Windows sends for EPA and MIT/Heimdal clients build from
 * the TLS session): application data `tls-server-end-point:` + hash.
 */
export function tlsServerEndPoint(certificateDer: Uint8Array, hashAlgorithm?: string): ChannelBindings {
  const algorithm = hashAlgorithm ?? tlsServerEndPointHashAlgorithm(certificateDer);
  const digest = new Uint8Array(createHash(algorithm).update(certificateDer).digest());
  return { applicationData: concatBytes(utf8('tls-server-end-point:'), digest) };
}
