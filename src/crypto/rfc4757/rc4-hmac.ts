/**
 * RFC 4757 rc4-hmac (enctype 23, MIT name arcfour-hmac) and its checksum
 * hmac-md5 (-138). Deprecated by RFC 8429; kerbside keeps it for Active
 * Directory interop behind `allowWeak`.
 * - String-to-key (§3): K = MD4(UTF-16LE(password)); salt and parameters unused.
 * - Encryption (§3): K1 = HMAC-MD5(K, T) with T the Microsoft usage number as
 *   4 little-endian octets; checksum = HMAC-MD5(K1, conf | plaintext) with an
 *   8-octet confounder; K3 = HMAC-MD5(K1, checksum); output checksum |
 *   RC4(K3, conf | plaintext).
 * - Checksum (§4): Ksign = HMAC-MD5(K, "signaturekey\0"); HMAC-MD5(Ksign,
 *   MD5(T | data)).
 * - PRF: HMAC-SHA1(K, input) (RFC 4757 has none; MIT's, confirmed by RFC 6113 App. A).
 */

import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual, fromUtf8 } from '../../core/bytes.js';
import { InvalidArgumentError } from '../../core/errors.js';
import { S2kParamsError } from '../errors.js';
import type { ChecksumFunction, EnctypeOps } from '../profile.js';
import { md4 } from './md4.js';
import { rc4 } from './rc4.js';

export const RC4_CONFOUNDER_SIZE = 8;
export const RC4_MAC_SIZE = 16;

/**
 * Microsoft usage numbers differ from RFC 4120's in two places: the AS-REP
 * encrypted part (3) uses 8, and GSS wrap-token signing (23) uses 13. Usage 9
 * (TGS-REP part under a subkey) is 8 in RFC 4757 but 9 in Windows; decrypt
 * accepts both.
 */
export function msUsage(usage: number): number {
  if (usage === 3) return 8;
  if (usage === 23) return 13;
  return usage;
}

function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

function usageBytes(ms: number): Uint8Array {
  const t = new Uint8Array(4);
  new DataView(t.buffer).setUint32(0, ms >>> 0, true);
  return t;
}

function decryptWith(key: Uint8Array, ms: number, ciphertext: Uint8Array): Uint8Array | undefined {
  const checksum = ciphertext.subarray(0, RC4_MAC_SIZE);
  const k1 = hmacMd5(key, usageBytes(ms));
  const body = rc4(hmacMd5(k1, checksum), ciphertext.subarray(RC4_MAC_SIZE));
  if (!constantTimeEqual(hmacMd5(k1, body), checksum)) return undefined;
  return body.subarray(RC4_CONFOUNDER_SIZE);
}

export const rc4HmacOps: EnctypeOps = Object.freeze({
  async stringToKey(password: Uint8Array, _salt: Uint8Array, params: Uint8Array | undefined) {
    if (params !== undefined && params.length !== 0) {
      throw new S2kParamsError('arcfour-hmac takes no string-to-key parameters', {
        hint: 'the s2kparams in PA-ETYPE-INFO2 are not meant for rc4-hmac; check the KDC',
      });
    }
    let text: string;
    try {
      text = fromUtf8(password);
    } catch {
      throw new InvalidArgumentError('an arcfour-hmac password given as bytes must be UTF-8 (it is hashed as UTF-16LE text)');
    }
    return md4(Buffer.from(text, 'utf16le'));
  },
  randomToKey: (seed: Uint8Array) => seed.slice(),
  encrypt(key: Uint8Array, usage: number, confounder: Uint8Array, plaintext: Uint8Array) {
    const k1 = hmacMd5(key, usageBytes(msUsage(usage)));
    const checksum = hmacMd5(k1, confounder, plaintext);
    const body = new Uint8Array(confounder.length + plaintext.length);
    body.set(confounder);
    body.set(plaintext, confounder.length);
    const out = new Uint8Array(RC4_MAC_SIZE + body.length);
    out.set(checksum);
    out.set(rc4(hmacMd5(k1, checksum), body), RC4_MAC_SIZE);
    return out;
  },
  /**
   * Windows encrypts TGS-REP parts under a subkey with usage 9, RFC 4757 says
   * 8: like MIT, try 9 and fall back to 8.
   */
  decrypt(key: Uint8Array, usage: number, ciphertext: Uint8Array) {
    return decryptWith(key, msUsage(usage), ciphertext) ?? (usage === 9 ? decryptWith(key, 8, ciphertext) : undefined);
  },
  prf: (key: Uint8Array, input: Uint8Array) => new Uint8Array(createHmac('sha1', key).update(input).digest()),
});

const SIGNATURE_KEY = new TextEncoder().encode('signaturekey\0');

export const hmacMd5Checksum: ChecksumFunction = (key, usage, data) => {
  const ksign = hmacMd5(key, SIGNATURE_KEY);
  const digest = createHash('md5').update(usageBytes(msUsage(usage))).update(data).digest();
  return new Uint8Array(hmacMd5(ksign, digest));
};
