/**
 * RFC 3962 §4 string-to-key parameters, shared by RFC 8009 §4: four octets,
 * an unsigned big-endian PBKDF2 iteration count (00 00 00 00 would mean 2^32).
 * Absent parameters mean the enctype's default. Like MIT, counts of 2^24 and
 * above are refused: a KDC reply asking for them is misconfigured or an attempt
 * to make the client burn CPU.
 */

import { pbkdf2 as pbkdf2Callback } from 'node:crypto';
import { promisify } from 'node:util';
import { S2kParamsError, WeakS2kParamsError } from '../errors.js';

/** The largest iteration count accepted (MIT's limit, 0xFFFFFF). */
export const MAX_ITERATIONS = 0xffffff;

const pbkdf2Async = promisify(pbkdf2Callback);

/** The iteration count of `params`, or `defaultIterations` when they are absent or empty. */
export function iterationsFromParams(params: Uint8Array | undefined, defaultIterations: number, enctypeName: string): number {
  if (params === undefined || params.length === 0) return defaultIterations;
  if (params.length !== 4) {
    throw new S2kParamsError(`string-to-key parameters for ${enctypeName} must be 4 octets (an iteration count), got ${params.length}`, {
      hint: 'the s2kparams in PA-ETYPE-INFO2 are malformed; check the KDC',
      detail: { enctype: enctypeName, length: params.length },
    });
  }
  const iterations = new DataView(params.buffer, params.byteOffset, 4).getUint32(0, false);
  if (iterations === 0 || iterations > MAX_ITERATIONS) {
    const asked = iterations === 0 ? 2 ** 32 : iterations;
    throw new S2kParamsError(`string-to-key parameters for ${enctypeName} ask for ${asked} PBKDF2 iterations; at most ${MAX_ITERATIONS} are accepted`, {
      hint: 'the KDC (or whoever answered in its place) advertises an absurd iteration count; check its principal entry',
      detail: { enctype: enctypeName, iterations: asked },
    });
  }
  return iterations;
}

/**
 * Refuses s2kparams whose iteration count is below the enctype's default
 * (MIT pbkdf2_string_to_key does the same, whatever allow_weak_crypto says).
 * Malformed params are left to iterationsFromParams.
 */
export function checkIterationFloor(params: Uint8Array | undefined, defaultIterations: number, enctypeName: string): void {
  if (params === undefined || params.length !== 4) return;
  const iterations = new DataView(params.buffer, params.byteOffset, 4).getUint32(0, false);
  if (iterations === 0 || iterations >= defaultIterations) return;
  throw new WeakS2kParamsError(
    `the KDC asked for ${iterations} PBKDF2 iterations to derive the ${enctypeName} key from the password; at least ${defaultIterations} are required`, {
      hint: 'a real KDC never lowers the iteration count below the default: this reply most likely comes from a spoofed KDC trying to make the password cheap to guess offline. Check which host answered for the realm (krb5.conf kdc =, DNS SRV records) and do not retry with this password there',
      detail: { enctype: enctypeName, iterations, minimum: defaultIterations },
    });
}

/** Encodes an iteration count as s2kparams (what a KDC puts in PA-ETYPE-INFO2). */
export function s2kParamsFromIterations(iterations: number): Uint8Array {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new S2kParamsError(`PBKDF2 iteration count must be an integer in 1..${MAX_ITERATIONS}, got ${iterations}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, iterations, false);
  return out;
}

/** PBKDF2 (RFC 8018 §5.2) with HMAC over `digest`, on the libuv thread pool. */
export async function pbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number, length: number, digest: string): Promise<Uint8Array> {
  return new Uint8Array(await pbkdf2Async(password, salt, iterations, length, digest));
}
