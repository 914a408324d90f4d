/**
 * RFC 6113 §5.1 PRF+: pseudo-random(key, 1 | input) | pseudo-random(key,
 * 2 | input) | … with a one-octet counter, truncated to the length needed.
 * KRB-FX-CF2 (index's `cf2`) XORs PRF+ of two keys and applies random-to-key.
 */

export function prfPlus(prf: (input: Uint8Array) => Uint8Array, input: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const counted = new Uint8Array(1 + input.length);
  counted.set(input, 1);
  for (let filled = 0, counter = 1; filled < length; counter++) {
    if (counter > 255) throw new RangeError('PRF+ output too long for a one-octet counter');
    counted[0] = counter;
    const block = prf(counted);
    out.set(block.subarray(0, length - filled), filled);
    filled += block.length;
  }
  return out;
}
