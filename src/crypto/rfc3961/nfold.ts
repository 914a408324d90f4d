/**
 * RFC 3961 §5.1 n-fold: stretches or shrinks a string to `outBytes` octets so
 * every input bit contributes equally to every output bit. The input is
 * repeated up to the least common multiple of both lengths, each repetition
 * rotated 13 bits further right, and the `outBytes`-sized chunks are added with
 * ones' complement (end-around carry) arithmetic.
 */

export function nfold(input: Uint8Array, outBytes: number): Uint8Array {
  const inBytes = input.length;
  if (inBytes === 0 || !Number.isInteger(outBytes) || outBytes <= 0) {
    throw new RangeError('n-fold needs a non-empty input and a positive output length');
  }
  const total = lcm(inBytes, outBytes);
  const inBits = inBytes * 8;
  const sums = new Array<number>(outBytes).fill(0);

  for (let j = 0; j < total / inBytes; j++) {
    const rotation = (13 * j) % inBits;
    for (let b = 0; b < inBytes; b++) {
      // Byte b of repetition j holds input bits (8b - rotation) .. +7, wrapping around the input.
      const start = (b * 8 - rotation + inBits) % inBits;
      const shift = start & 7;
      const first = input[start >> 3]!;
      const next = input[((start >> 3) + 1) % inBytes]!;
      const at = (j * inBytes + b) % outBytes;
      sums[at] = sums[at]! + (((first << shift) | (next >> (8 - shift))) & 0xff);
    }
  }

  // Propagate carries big-endian; a carry out of the top byte wraps to the bottom.
  let carry = 0;
  do {
    for (let i = outBytes - 1; i >= 0; i--) {
      const v = sums[i]! + carry;
      sums[i] = v & 0xff;
      carry = v >>> 8;
    }
  } while (carry !== 0);
  return Uint8Array.from(sums);
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}
