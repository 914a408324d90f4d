/**
 * PKINIT reply-key derivation from the Diffie-Hellman shared secret:
 * RFC 4556 §3.2.3.1 octetstring2key (SHA-1, used when the client offers no
 * KDF) and the RFC 8636 §8 algorithm-agility KDF (NIST SP 800-56A
 * concatenation KDF with a DER OtherInfo binding the names, the AS-REQ and
 * the PA-PK-AS-REP).
 */

import { createHash } from 'node:crypto';
import { concatBytes } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';
import { Krb5PrincipalName, PkinitOid, PkinitSuppPubInfo, Sp80056aOtherInfo } from '../messages/index.js';
import { getEnctype } from './enctypes.js';
import type { EnctypeOptions } from './enctypes.js';
import { randomToKey } from './keys.js';
import type { Key } from './keys.js';

export type PkinitKdfHash = 'sha1' | 'sha256' | 'sha512';

/** RFC 8636 §7: KDF OID → hash (frozen, null prototype; resolve with `pkinitKdfHash`). */
export const PKINIT_KDF_HASHES: Readonly<Record<string, PkinitKdfHash>> = Object.freeze(Object.assign(
  Object.create(null) as Record<string, PkinitKdfHash>, {
    [PkinitOid.kdfAhSha1]: 'sha1',
    [PkinitOid.kdfAhSha256]: 'sha256',
    [PkinitOid.kdfAhSha512]: 'sha512',
  } as const,
));

const KDF_OIDS: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  sha1: PkinitOid.kdfAhSha1,
  sha256: PkinitOid.kdfAhSha256,
  sha512: PkinitOid.kdfAhSha512,
}));

/** The hash of a KDFAlgorithmId (RFC 8636 §7), or undefined for a KDF we do not implement. */
export function pkinitKdfHash(kdfId: string): PkinitKdfHash | undefined {
  return PKINIT_KDF_HASHES[kdfId];
}

/** The KDFAlgorithmId OID of a hash. */
export function pkinitKdfOid(hash: PkinitKdfHash): string {
  const oid = KDF_OIDS[hash];
  if (oid === undefined) throw new InvalidArgumentError(`unknown PKINIT KDF hash ${String(hash)}`);
  return oid;
}

function bytesArg(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`${what} must be a Uint8Array`);
  return value;
}

/**
 * RFC 4556 §3.2.3.1: random-to-key(K-truncate(SHA1(0x00|x) | SHA1(0x01|x) | …))
 * with x = sharedSecret | clientDHNonce | serverDHNonce and a one-octet counter.
 */
export function octetString2Key(
  enctype: number, sharedSecret: Uint8Array, clientDhNonce?: Uint8Array, serverDhNonce?: Uint8Array, opts?: EnctypeOptions,
): Key {
  const need = getEnctype(enctype, opts).keySeedBytes;
  const x = concatBytes(
    bytesArg(sharedSecret, 'sharedSecret'),
    clientDhNonce === undefined ? new Uint8Array(0) : bytesArg(clientDhNonce, 'clientDhNonce'),
    serverDhNonce === undefined ? new Uint8Array(0) : bytesArg(serverDhNonce, 'serverDhNonce'),
  );
  const blocks: Uint8Array[] = [];
  let have = 0;
  for (let counter = 0; have < need; counter++) {
    // 20 octets per round; no key seed needs anywhere near 256 rounds.
    const h = createHash('sha1').update(Uint8Array.of(counter)).update(x).digest();
    blocks.push(new Uint8Array(h));
    have += h.length;
  }
  return randomToKey(enctype, concatBytes(...blocks).slice(0, need), opts);
}

export interface PkinitKdfInput {
  readonly hash: PkinitKdfHash;
  readonly enctype: number;
  /** Z: the DH shared secret (left-padded to the size of p) or the ECDH x-coordinate. */
  readonly sharedSecret: Uint8Array;
  /** The client (partyUInfo): a KRB5PrincipalName value or its DER. */
  readonly clientName: Krb5PrincipalName | Uint8Array;
  /** The KDC's TGS principal (partyVInfo): a KRB5PrincipalName value or its DER. */
  readonly serverName: Krb5PrincipalName | Uint8Array;
  /** The DER AS-REQ as the KDC received it. */
  readonly asReq: Uint8Array;
  /** The DER PA-PK-AS-REP (the padata-value) as the KDC sent it. */
  readonly pkAsRep: Uint8Array;
}

function nameDer(name: Krb5PrincipalName | Uint8Array): Uint8Array {
  return name instanceof Uint8Array ? name : Krb5PrincipalName.encode(name);
}

/** The DER OtherInfo of RFC 8636 §8 for these inputs (exposed for tests and tracing; not secret). */
export function pkinitKdfOtherInfo(input: Omit<PkinitKdfInput, 'sharedSecret'>): Uint8Array {
  const kdfOid = pkinitKdfOid(input.hash);
  return Sp80056aOtherInfo.encode({
    // The KDF's own identifier, parameters absent (RFC 8636 §8).
    algorithmId: { algorithm: kdfOid },
    partyUInfo: nameDer(input.clientName),
    partyVInfo: nameDer(input.serverName),
    suppPubInfo: PkinitSuppPubInfo.encode({
      enctype: input.enctype, asReq: bytesArg(input.asReq, 'asReq'), pkAsRep: bytesArg(input.pkAsRep, 'pkAsRep'),
    }),
  });
}

/**
 * RFC 8636 §8 key material: `length` octets of
 * H(counter32 | Z | OtherInfo) for counter = 1, 2, … (big-endian).
 * `pkinitKdf` feeds keySeedBytes of it to random-to-key.
 */
export function pkinitKdfOctets(input: PkinitKdfInput, length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length <= 0) throw new InvalidArgumentError('length must be a positive integer');
  const z = bytesArg(input.sharedSecret, 'sharedSecret');
  const otherInfo = pkinitKdfOtherInfo(input);
  const blocks: Uint8Array[] = [];
  let have = 0;
  for (let counter = 1; have < length; counter++) {
    const c = new Uint8Array(4);
    new DataView(c.buffer).setUint32(0, counter);
    const h = createHash(input.hash).update(c).update(z).update(otherInfo).digest();
    blocks.push(new Uint8Array(h));
    have += h.length;
  }
  return concatBytes(...blocks).slice(0, length);
}

/** RFC 8636 §8: the AS reply key. */
export function pkinitKdf(input: PkinitKdfInput, opts?: EnctypeOptions): Key {
  const need = getEnctype(input.enctype, opts).keySeedBytes;
  return randomToKey(input.enctype, pkinitKdfOctets(input, need), opts);
}

/** The KDC's default KDF preference (MIT's order: SHA-256, SHA-1, SHA-512). */
export const DEFAULT_KDF_PREFERENCE: readonly PkinitKdfHash[] = Object.freeze(['sha256', 'sha1', 'sha512']);

/**
 * RFC 8636 §6: the KDF the KDC answers with — the first of its preferences
 * the client offered in AuthPack.supportedKDFs. Undefined when none matches
 * (or the client sent no list): the KDC then falls back to octetstring2key
 * when the client offered no list at all, and otherwise answers
 * KDC_ERR_NO_ACCEPTABLE_KDF (100).
 */
export function chooseKdf(
  offered: readonly { readonly kdfId: string }[], preference: readonly PkinitKdfHash[] = DEFAULT_KDF_PREFERENCE,
): PkinitKdfHash | undefined {
  return preference.find((h) => offered.some((k) => pkinitKdfHash(k.kdfId) === h));
}

/** RFC 4556 §3.2.1 PKAuthenticator.paChecksum: SHA-1 of the DER KDC-REQ-BODY as sent. */
export function pkAuthenticatorChecksum(reqBodyDer: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(bytesArg(reqBodyDer, 'reqBodyDer')).digest());
}
