/**
 * DER tag-length-value reading and writing (ITU-T X.690 §8 and §10), strict:
 * definite minimal lengths only, low tag numbers only (Kerberos never needs
 * tag numbers ≥ 31), bounded size and nesting depth. The reader works on one
 * input buffer and reports absolute offsets; it never copies content.
 */

import {
  Asn1DepthError, Asn1LengthError, Asn1SizeError, Asn1TagError, Asn1TruncatedError,
} from './errors.js';

export const TagClass = Object.freeze({
  UNIVERSAL: 0,
  APPLICATION: 1,
  CONTEXT: 2,
  PRIVATE: 3,
} as const);
export type TagClass = (typeof TagClass)[keyof typeof TagClass];

/** Universal tag numbers used by Kerberos, SPNEGO and GSS-API. */
export const UniversalTag = Object.freeze({
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OBJECT_IDENTIFIER: 6,
  ENUMERATED: 10,
  UTF8String: 12,
  SEQUENCE: 16,
  SET: 17,
  PrintableString: 19,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
  GeneralString: 27,
} as const);

const UNIVERSAL_NAMES: Readonly<Record<number, string>> = Object.freeze(Object.assign(Object.create(null), {
  0: 'end-of-contents', 1: 'BOOLEAN', 2: 'INTEGER', 3: 'BIT STRING', 4: 'OCTET STRING', 5: 'NULL',
  6: 'OBJECT IDENTIFIER', 10: 'ENUMERATED', 12: 'UTF8String', 16: 'SEQUENCE', 17: 'SET',
  19: 'PrintableString', 22: 'IA5String', 23: 'UTCTime', 24: 'GeneralizedTime', 27: 'GeneralString',
}) as Record<number, string>);

export interface Tag {
  readonly cls: TagClass;
  readonly constructed: boolean;
  /** 0..30: the high-tag-number form is not supported. */
  readonly num: number;
}

export function tag(cls: TagClass, num: number, constructed: boolean): Tag {
  if (!Number.isInteger(num) || num < 0 || num > 30) {
    throw new RangeError(`tag number ${num} is outside 0..30 (the high-tag-number form is not supported)`);
  }
  return Object.freeze({ cls, constructed, num });
}

/** The identifier octet of a low-number tag. */
export function identifierOctet(t: Tag): number {
  return (t.cls << 6) | (t.constructed ? 0x20 : 0) | t.num;
}

export function sameTag(a: Tag, b: Tag): boolean {
  return a.cls === b.cls && a.num === b.num && a.constructed === b.constructed;
}

/** 'INTEGER', '[APPLICATION 10]', '[2]', '[PRIVATE 3]' (with ' primitive'/' constructed' when unusual). */
export function describeTag(t: Tag): string {
  let name: string;
  switch (t.cls) {
    case TagClass.UNIVERSAL: name = UNIVERSAL_NAMES[t.num] ?? `[UNIVERSAL ${t.num}]`; break;
    case TagClass.APPLICATION: name = `[APPLICATION ${t.num}]`; break;
    case TagClass.CONTEXT: name = `[${t.num}]`; break;
    default: name = `[PRIVATE ${t.num}]`;
  }
  // Universal SEQUENCE/SET are always constructed and the rest primitive: only say so when it is odd.
  const usual = t.cls === TagClass.UNIVERSAL ? (t.num === 16 || t.num === 17) : t.constructed;
  if (t.constructed !== usual) name += t.constructed ? ' (constructed)' : ' (primitive)';
  return name;
}

/** One parsed TLV header; offsets are absolute in the reader's input. */
export interface Element extends Tag {
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

export interface DecodeOptions {
  /** Largest accepted input and declared length, in bytes (default 1 MiB). */
  readonly maxSize?: number;
  /** Deepest accepted nesting of constructed elements (default 32). */
  readonly maxDepth?: number;
}

export const DEFAULT_MAX_SIZE = 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 32;

/** Reads DER elements from one input. Codecs share one reader per decode. */
export class DerReader {
  readonly bytes: Uint8Array;
  readonly maxSize: number;
  readonly maxDepth: number;
  private depth = 0;

  constructor(bytes: Uint8Array, options: DecodeOptions = {}, path = 'input') {
    this.bytes = bytes;
    this.maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (bytes.length > this.maxSize) {
      throw new Asn1SizeError(`input of ${bytes.length} bytes exceeds the ${this.maxSize}-byte limit`, {
        offset: 0, path, hint: 'raise maxSize only if such large messages are expected from a trusted peer',
      });
    }
  }

  /** Parses the TLV header at `pos`; the element must end at or before `limit`. */
  element(pos: number, limit: number, path: string): Element {
    const b = this.bytes;
    if (pos >= limit) {
      throw new Asn1TruncatedError('expected an element but the data ends here', { offset: pos, path });
    }
    const id = b[pos]!;
    const num = id & 0x1f;
    if (num === 0x1f) {
      throw new Asn1TagError(
        `identifier octet 0x${hex(id)} uses the high-tag-number form (tag ≥ 31), which Kerberos never uses`,
        { offset: pos, path },
      );
    }
    if (pos + 1 >= limit) {
      throw new Asn1TruncatedError('the data ends inside a tag-length header', { offset: pos, path });
    }
    const first = b[pos + 1]!;
    let length: number;
    let contentStart: number;
    if (first < 0x80) {
      length = first;
      contentStart = pos + 2;
    } else if (first === 0x80) {
      throw new Asn1LengthError('indefinite length (0x80) is not allowed in DER', { offset: pos, path });
    } else {
      const n = first & 0x7f;
      if (n > 4) {
        throw new Asn1LengthError(`a ${n}-byte length field is longer than any accepted length`, { offset: pos, path });
      }
      if (pos + 2 + n > limit) {
        throw new Asn1TruncatedError('the data ends inside a length field', { offset: pos, path });
      }
      if (b[pos + 2] === 0) {
        throw new Asn1LengthError('non-minimal length: leading zero byte in a long-form length', { offset: pos, path });
      }
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + b[pos + 2 + i]!;
      if (length < 0x80) {
        throw new Asn1LengthError(`non-minimal length: ${length} must use the short form`, { offset: pos, path });
      }
      contentStart = pos + 2 + n;
    }
    if (length > this.maxSize) {
      throw new Asn1SizeError(`declared length ${length} exceeds the ${this.maxSize}-byte limit`, { offset: pos, path });
    }
    const end = contentStart + length;
    if (end > limit) {
      const where = limit === b.length ? 'the input' : 'its enclosing element';
      throw new Asn1TruncatedError(
        `element declares ${length} content bytes but ${where} has only ${Math.max(0, limit - contentStart)} left`,
        { offset: pos, path },
      );
    }
    return { cls: (id >> 6) as TagClass, constructed: (id & 0x20) !== 0, num, start: pos, contentStart, end };
  }

  /** The headers of the elements inside a constructed element, in order. */
  children(el: Element, path: string): Element[] {
    const out: Element[] = [];
    let pos = el.contentStart;
    while (pos < el.end) {
      const child = this.element(pos, el.end, path);
      out.push(child);
      pos = child.end;
    }
    return out;
  }

  /** Runs `fn` one nesting level deeper, enforcing `maxDepth`. */
  nested<T>(el: Element, path: string, fn: () => T): T {
    if (this.depth >= this.maxDepth) {
      throw new Asn1DepthError(`constructed elements nest deeper than the limit of ${this.maxDepth}`, {
        offset: el.start, path,
      });
    }
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  /** Checks that every element below `el` is well-formed DER framing (for opaque values kept as bytes). */
  validate(el: Element, path: string): void {
    if (!el.constructed) return;
    this.nested(el, path, () => {
      for (const child of this.children(el, path)) this.validate(child, path);
    });
  }

  /** The content octets (a view, not a copy). */
  content(el: Element): Uint8Array {
    return this.bytes.subarray(el.contentStart, el.end);
  }
}

/** The DER length octets for a content length. */
export function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let v = length; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** A complete TLV with the given tag around `content` (for constructed tags, the encodings of the children). */
export function encodeTlv(t: Tag, content: Uint8Array): Uint8Array {
  const len = encodeLength(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = identifierOctet(t);
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
