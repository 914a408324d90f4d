/**
 * Randomness, injected. Keys, nonces, confounders and jitter all come from a
 * `RandomSource` so tests can make them repeatable.
 */

import { randomBytes, randomInt } from 'node:crypto';

export interface RandomSource {
  bytes(length: number): Uint8Array;
  /** A uniformly distributed integer in [0, max). */
  int(max: number): number;
}

/** The operating system's CSPRNG. */
export function systemRandom(): RandomSource {
  return {
    bytes: (length) => new Uint8Array(randomBytes(length)),
    int: (max) => randomInt(max),
  };
}

/**
 * A repeatable generator for tests (xorshift128+ seeded by splitmix). Never use
 * it for real keys.
 */
export function seededRandom(seed: number): RandomSource {
  let x = BigInt.asUintN(64, BigInt(seed) + 0x9e3779b97f4a7c15n);
  const split = (): bigint => {
    x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
    let z = x;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  };
  let s0 = split();
  let s1 = split();
  const next = (): bigint => {
    let a = s0;
    const b = s1;
    s0 = b;
    a = BigInt.asUintN(64, a ^ (a << 23n));
    s1 = a ^ b ^ (a >> 17n) ^ (b >> 26n);
    return BigInt.asUintN(64, s1 + b);
  };
  return {
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i += 8) {
        let v = next();
        for (let j = i; j < Math.min(length, i + 8); j++) {
          out[j] = Number(v & 0xffn);
          v >>= 8n;
        }
      }
      return out;
    },
    int(max) {
      if (!Number.isSafeInteger(max) || max <= 0) throw new RangeError('max must be a positive safe integer');
      return Number(next() % BigInt(max));
    },
  };
}
