/**
 * Universal primitive types as used by Kerberos (RFC 4120 §5.2), SPNEGO and
 * GSS-API, decoded under DER rules (X.690 §10–11): minimal INTEGERs, BOOLEAN
 * 0x00/0xFF, zero padding bits in BIT STRINGs, GeneralizedTime exactly
 * "YYYYMMDDHHMMSSZ".
 */

import { fromUtf8, toHex, utf8 } from '../core/bytes.js';
import { fromContent } from './codec.js';
import type { Codec } from './codec.js';
import { TagClass, UniversalTag, tag } from './der.js';
import type { DerReader, Element } from './der.js';
import { Asn1EncodeError, Asn1ValueError } from './errors.js';

function universal(num: number): ReturnType<typeof tag> {
  return tag(TagClass.UNIVERSAL, num, false);
}

function valueError(message: string, el: Element, path: string): Asn1ValueError {
  return new Asn1ValueError(message, { offset: el.start, path });
}

// ---------------------------------------------------------------- INTEGER

/** Reads minimal two's-complement INTEGER content as a bigint (linear time, whatever the size). */
function readBigInt(reader: DerReader, el: Element, path: string, what: string): bigint {
  const c = reader.content(el);
  if (c.length === 0) throw valueError(`${what} has no content octets`, el, path);
  if (c.length > 1) {
    const a = c[0]!;
    const b = c[1]!;
    if ((a === 0x00 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0)) {
      throw valueError(`${what} is not minimally encoded (redundant leading 0x${a.toString(16).padStart(2, '0')})`, el, path);
    }
  }
  let v = BigInt(`0x${toHex(c)}`);
  if ((c[0]! & 0x80) !== 0) v -= 1n << BigInt(8 * c.length);
  return v;
}

/** Minimal two's-complement content octets. */
function bigIntContent(value: bigint): Uint8Array {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = Number(v & 0xffn);
    out.unshift(byte);
    v >>= 8n;
    if ((v === 0n && (byte & 0x80) === 0) || (v === -1n && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

export interface IntegerRange {
  readonly min: number;
  readonly max: number;
}

function rangeText(r: IntegerRange): string {
  return `${r.min}..${r.max}`;
}

/**
 * INTEGER as a JavaScript number, constrained to `range` (which must lie in
 * the safe-integer range). Out-of-range values are a decode/encode error.
 */
export function integer(range: IntegerRange, name = 'INTEGER', tagNumber: number = UniversalTag.INTEGER): Codec<number> {
  return fromContent<number>(name, {
    tag: universal(tagNumber),
    encodeContent(value, path) {
      if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
        throw new Asn1EncodeError(`${String(value)} is not an integer in ${name} range ${rangeText(range)}`, { path });
      }
      return bigIntContent(BigInt(value));
    },
    decodeContent(reader, el, path) {
      // Any value in the safe-integer range fits in 8 content octets; refuse longer ones before converting.
      if (el.end - el.contentStart > 8) {
        throw valueError(`${name} of ${el.end - el.contentStart} octets is outside ${rangeText(range)}`, el, path);
      }
      const v = readBigInt(reader, el, path, name);
      if (v < BigInt(range.min) || v > BigInt(range.max)) {
        throw valueError(`${name} value ${v} is outside ${rangeText(range)}`, el, path);
      }
      return Number(v);
    },
  });
}

/** RFC 4120 Int32 ::= INTEGER (-2147483648..2147483647). */
export const int32: Codec<number> = integer({ min: -0x80000000, max: 0x7fffffff }, 'Int32');
/** RFC 4120 UInt32 ::= INTEGER (0..4294967295). */
export const uint32: Codec<number> = integer({ min: 0, max: 0xffffffff }, 'UInt32');

/** INTEGER of any size as a bigint (RSA moduli, DH values, serial numbers). */
export const bigInteger: Codec<bigint> = fromContent<bigint>('INTEGER', {
  tag: universal(UniversalTag.INTEGER),
  encodeContent(value, path) {
    if (typeof value !== 'bigint') throw new Asn1EncodeError(`expected a bigint, got ${typeof value}`, { path });
    return bigIntContent(value);
  },
  decodeContent: (reader, el, path) => readBigInt(reader, el, path, 'INTEGER'),
});

/** ENUMERATED (SPNEGO negState and the like) as a number in Int32 range. */
export const enumerated: Codec<number> = integer({ min: -0x80000000, max: 0x7fffffff }, 'ENUMERATED', UniversalTag.ENUMERATED);

// ---------------------------------------------------------------- BOOLEAN, NULL

/** BOOLEAN: DER allows only 0x00 (FALSE) and 0xFF (TRUE). */
export const boolean: Codec<boolean> = fromContent<boolean>('BOOLEAN', {
  tag: universal(UniversalTag.BOOLEAN),
  encodeContent(value, path) {
    if (typeof value !== 'boolean') throw new Asn1EncodeError(`expected a boolean, got ${typeof value}`, { path });
    return Uint8Array.of(value ? 0xff : 0x00);
  },
  decodeContent(reader, el, path) {
    const c = reader.content(el);
    if (c.length !== 1) throw valueError(`BOOLEAN must have exactly one content octet, found ${c.length}`, el, path);
    if (c[0] === 0x00) return false;
    if (c[0] === 0xff) return true;
    throw valueError(`BOOLEAN content 0x${c[0]!.toString(16).padStart(2, '0')} is not DER (only 0x00 or 0xFF)`, el, path);
  },
});

export const nullValue: Codec<null> = fromContent<null>('NULL', {
  tag: universal(UniversalTag.NULL),
  encodeContent: () => new Uint8Array(0),
  decodeContent(_reader, el, path) {
    if (el.end !== el.contentStart) throw valueError('NULL must have no content', el, path);
    return null;
  },
});

// ---------------------------------------------------------------- OCTET STRING, BIT STRING

export const octetString: Codec<Uint8Array> = fromContent<Uint8Array>('OCTET STRING', {
  tag: universal(UniversalTag.OCTET_STRING),
  encodeContent(value, path) {
    if (!(value instanceof Uint8Array)) throw new Asn1EncodeError('expected a Uint8Array', { path });
    return value;
  },
  decodeContent: (reader, el) => reader.content(el).slice(),
});

export interface BitString {
  /** The bits, first bit in the most significant bit of bytes[0]. */
  readonly bytes: Uint8Array;
  /** Number of padding bits at the end of the last byte (0..7). */
  readonly unusedBits: number;
}

function readBitString(reader: DerReader, el: Element, path: string): BitString {
  const c = reader.content(el);
  if (c.length === 0) throw valueError('BIT STRING has no unused-bits octet', el, path);
  const unusedBits = c[0]!;
  if (unusedBits > 7) throw valueError(`BIT STRING unused-bits octet ${unusedBits} is larger than 7`, el, path);
  if (c.length === 1 && unusedBits !== 0) throw valueError('empty BIT STRING must have 0 unused bits', el, path);
  if (unusedBits > 0 && (c[c.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    throw valueError('BIT STRING padding bits are not zero (DER)', el, path);
  }
  return { bytes: c.slice(1), unusedBits };
}

/** BIT STRING as bytes plus unused-bit count (no NamedBit trimming is applied or checked). */
export const bitString: Codec<BitString> = fromContent<BitString>('BIT STRING', {
  tag: universal(UniversalTag.BIT_STRING),
  encodeContent(value, path) {
    const { bytes, unusedBits } = value;
    if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
      throw new Asn1EncodeError(`invalid unused-bits count ${unusedBits}`, { path });
    }
    if (unusedBits > 0 && (bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
      throw new Asn1EncodeError('BIT STRING padding bits must be zero', { path });
    }
    const out = new Uint8Array(bytes.length + 1);
    out[0] = unusedBits;
    out.set(bytes, 1);
    return out;
  },
  decodeContent: readBitString,
});

/**
 * RFC 4120 §5.2.8 KerberosFlags as an unsigned 32-bit mask, RFC bit i = 2**(31-i).
 * Encodes exactly 32 bits with 0 unused bits, as every implementation does.
 * Decodes longer strings keeping the first 32 bits, and shorter ones with the
 * missing bits as zero (the RFC's lenient option; MIT does the same).
 */
export const kerberosFlags: Codec<number> = fromContent<number>('KerberosFlags', {
  tag: universal(UniversalTag.BIT_STRING),
  encodeContent(value, path) {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
      throw new Asn1EncodeError(`${String(value)} is not a 32-bit flag mask`, { path });
    }
    const v = value >>> 0;
    return Uint8Array.of(0, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  },
  decodeContent(reader, el, path) {
    const { bytes } = readBitString(reader, el, path);
    let v = 0;
    for (let i = 0; i < 4; i++) v = v * 256 + (bytes[i] ?? 0);
    return v >>> 0;
  },
});

// ---------------------------------------------------------------- character strings

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function characterString(name: string, tagNumber: number, ascii: boolean): Codec<string> {
  return fromContent<string>(name, {
    tag: universal(tagNumber),
    encodeContent(value, path) {
      if (typeof value !== 'string') throw new Asn1EncodeError(`expected a string, got ${typeof value}`, { path });
      if (LONE_SURROGATE.test(value)) throw new Asn1EncodeError(`${name} contains a lone UTF-16 surrogate`, { path });
      if (ascii && /[^\x00-\x7f]/.test(value)) throw new Asn1EncodeError(`${name} allows only ASCII characters`, { path });
      return utf8(value);
    },
    decodeContent(reader, el, path) {
      const c = reader.content(el);
      if (ascii) {
        const bad = c.findIndex((x) => x > 0x7f);
        if (bad >= 0) throw valueError(`${name} contains non-ASCII byte 0x${c[bad]!.toString(16)}`, el, path);
      }
      try {
        return fromUtf8(c);
      } catch {
        throw valueError(`${name} is not valid UTF-8`, el, path);
      }
    },
  });
}

/**
 * RFC 4120 §5.2.1 KerberosString ::= GeneralString (IA5String). Decodes any
 * valid UTF-8 (MIT, Heimdal and Windows put UTF-8 there) and encodes UTF-8;
 * other 8-bit encodings (Latin-1…) are rejected as ERR_ASN1_VALUE rather than
 * guessed at.
 */
export const generalString: Codec<string> = characterString('GeneralString', UniversalTag.GeneralString, false);
export const kerberosString: Codec<string> = generalString;
export const ia5String: Codec<string> = characterString('IA5String', UniversalTag.IA5String, true);
export const utf8String: Codec<string> = characterString('UTF8String', UniversalTag.UTF8String, false);

// ---------------------------------------------------------------- GeneralizedTime

const TIME_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/**
 * RFC 4120 §5.2.3 KerberosTime ::= GeneralizedTime, exactly "YYYYMMDDHHMMSSZ"
 * (UTC, no fractional seconds) as a Date. Encoding drops milliseconds.
 */
export const generalizedTime: Codec<Date> = fromContent<Date>('KerberosTime', {
  tag: universal(UniversalTag.GeneralizedTime),
  encodeContent(value, path) {
    if (!(value instanceof Date) || !Number.isFinite(value.getTime())) {
      throw new Asn1EncodeError('expected a valid Date', { path });
    }
    const year = value.getUTCFullYear();
    if (year < 0 || year > 9999) throw new Asn1EncodeError(`year ${year} cannot be written as KerberosTime`, { path });
    const p = (n: number, w = 2): string => String(n).padStart(w, '0');
    const text = `${p(year, 4)}${p(value.getUTCMonth() + 1)}${p(value.getUTCDate())}` +
      `${p(value.getUTCHours())}${p(value.getUTCMinutes())}${p(value.getUTCSeconds())}Z`;
    return utf8(text);
  },
  decodeContent(reader, el, path) {
    const c = reader.content(el);
    const text = c.length === 15 ? String.fromCharCode(...c) : `${c.length} octets`;
    const m = TIME_RE.exec(text);
    if (m === null) {
      throw valueError(`KerberosTime must be exactly YYYYMMDDHHMMSSZ, found ${JSON.stringify(text.slice(0, 32))}`, el, path);
    }
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
    date.setUTCFullYear(y);
    // Date normalises overflow (Feb 30 → Mar 2); a round trip detects it.
    if (mo < 1 || mo > 12 || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
      throw valueError(`KerberosTime ${JSON.stringify(text)} is not a valid UTC date and time`, el, path);
    }
    return date;
  },
});
export const kerberosTime: Codec<Date> = generalizedTime;

// ---------------------------------------------------------------- OBJECT IDENTIFIER

const OID_RE = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;
const MAX_SUBIDENTIFIER_OCTETS = 32;

/** OBJECT IDENTIFIER as a dotted string ('1.2.840.113554.1.2.2'). */
export const objectIdentifier: Codec<string> = fromContent<string>('OBJECT IDENTIFIER', {
  tag: universal(UniversalTag.OBJECT_IDENTIFIER),
  encodeContent(value, path) {
    if (typeof value !== 'string' || !OID_RE.test(value)) {
      throw new Asn1EncodeError(`${JSON.stringify(value)} is not a dotted OID`, { path });
    }
    const arcs = value.split('.').map(BigInt);
    const [a0, a1] = arcs as [bigint, bigint];
    if (a0 > 2n || (a0 < 2n && a1 >= 40n)) throw new Asn1EncodeError(`OID ${value} has invalid first arcs`, { path });
    const out: number[] = [];
    for (const sub of [a0 * 40n + a1, ...arcs.slice(2)]) {
      const group: number[] = [Number(sub & 0x7fn)];
      for (let v = sub >> 7n; v > 0n; v >>= 7n) group.unshift(Number(v & 0x7fn) | 0x80);
      out.push(...group);
    }
    return Uint8Array.from(out);
  },
  decodeContent(reader, el, path) {
    const c = reader.content(el);
    if (c.length === 0) throw valueError('OBJECT IDENTIFIER has no content', el, path);
    if ((c[c.length - 1]! & 0x80) !== 0) throw valueError('OBJECT IDENTIFIER ends inside a subidentifier', el, path);
    const subs: bigint[] = [];
    let v = 0n;
    let subLength = 0;
    for (const byte of c) {
      if (subLength === 0 && byte === 0x80) throw valueError('OBJECT IDENTIFIER subidentifier is not minimal', el, path);
      // 2.25.<UUID> needs 19 octets; anything far longer is an attack, not an OID.
      if (++subLength > MAX_SUBIDENTIFIER_OCTETS) throw valueError('OBJECT IDENTIFIER subidentifier is too long', el, path);
      v = (v << 7n) | BigInt(byte & 0x7f);
      if ((byte & 0x80) === 0) {
        subs.push(v);
        v = 0n;
        subLength = 0;
      }
    }
    const first = subs[0]!;
    const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
    return [...head, ...subs.slice(1)].join('.');
  },
});
