/**
 * RFC 1320 MD4, needed only for the RC4-HMAC string-to-key (RFC 4757 §3,
 * the NT hash). Node's OpenSSL 3 offers MD4 only through the legacy provider,
 * which kerbside cannot count on, so it is computed here. Not for new uses.
 */

const INIT = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] as const;
// Message-word order and rotation amounts of rounds 2 and 3 (RFC 1320 §3.4).
const R2_ORDER = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15] as const;
const R3_ORDER = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15] as const;
const R1_SHIFT = [3, 7, 11, 19] as const;
const R2_SHIFT = [3, 5, 9, 13] as const;
const R3_SHIFT = [3, 9, 11, 15] as const;

const rotl = (x: number, s: number): number => (x << s) | (x >>> (32 - s));

export function md4(message: Uint8Array): Uint8Array {
  // Padding (§3.1–3.2): 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian.
  const total = Math.ceil((message.length + 9) / 64) * 64;
  const buf = new Uint8Array(total);
  buf.set(message);
  buf[message.length] = 0x80;
  const view = new DataView(buf.buffer);
  view.setUint32(total - 8, (message.length * 8) >>> 0, true);
  view.setUint32(total - 4, Math.floor(message.length / 0x20000000), true);

  let [a, b, c, d] = INIT as readonly number[] as [number, number, number, number];
  const x = new Array<number>(16);
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(off + 4 * i, true);
    const [aa, bb, cc, dd] = [a, b, c, d];
    for (let i = 0; i < 16; i++) {
      const f = (b & c) | (~b & d);
      [a, b, c, d] = [d, rotl((a + f + x[i]!) | 0, R1_SHIFT[i % 4]!), b, c];
    }
    for (let i = 0; i < 16; i++) {
      const g = (b & c) | (b & d) | (c & d);
      [a, b, c, d] = [d, rotl((a + g + x[R2_ORDER[i]!]! + 0x5a827999) | 0, R2_SHIFT[i % 4]!), b, c];
    }
    for (let i = 0; i < 16; i++) {
      const h = b ^ c ^ d;
      [a, b, c, d] = [d, rotl((a + h + x[R3_ORDER[i]!]! + 0x6ed9eba1) | 0, R3_SHIFT[i % 4]!), b, c];
    }
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  [a, b, c, d].forEach((w, i) => ov.setUint32(4 * i, w >>> 0, true));
  return out;
}
