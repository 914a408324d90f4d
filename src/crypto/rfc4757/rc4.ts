/**
 * RC4 (ARCFOUR) stream cipher, as used by RFC 4757. Node's OpenSSL 3 offers
 * it only through the legacy provider, so it is computed here. Encryption and
 * decryption are the same operation. Not for new uses.
 */

export function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  return rc4Stream(key)(data);
}

/**
 * An RC4 keystream that continues across calls: NTLM's sealing handle
 * (MS-NLMP §3.4.3) encrypts every message and checksum of a session with one
 * running key state.
 */
export function rc4Stream(key: Uint8Array): (data: Uint8Array) => Uint8Array {
  if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1..256 bytes');
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    const si = s[i]!;
    j = (j + si + key[i % key.length]!) & 0xff;
    s[i] = s[j]!;
    s[j] = si;
  }
  let i = 0;
  let j = 0;
  return (data) => {
    const out = new Uint8Array(data.length);
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[n] = data[n]! ^ s[(si + sj) & 0xff]!;
    }
    return out;
  };
}
