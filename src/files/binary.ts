/**
 * Bounded readers and writers for the fixed-width integer formats of MIT's
 * keytab and ccache files. Every read checks the bounds first and reports the
 * offset of the field that did not fit; no length field from a file is trusted.
 */

import type { FormatErrorReason } from './errors.js';
import { fromUtf8 } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';

export type FormatErrorFactory = (message: string, offset: number, reason: FormatErrorReason) => Error;

export class ByteReader {
  #view: DataView;
  #pos: number;
  readonly #end: number;

  constructor(
    readonly bytes: Uint8Array,
    private readonly fail: FormatErrorFactory,
    /** Versions 1 and 2 of the MIT formats use host byte order; later ones big-endian. */
    private readonly littleEndian = false,
    start = 0,
    end = bytes.length,
    /** Reason reported when a field runs past `end` (a sub-record may use 'record-overrun'). */
    private readonly shortReason: FormatErrorReason = 'truncated',
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = start;
    this.#end = end;
  }

  get offset(): number { return this.#pos; }
  get remaining(): number { return this.#end - this.#pos; }
  get end(): number { return this.#end; }

  /**
   * A reader over the next `length` bytes (this reader moves past them); a field
   * running past them is reported with `innerReason`.
   */
  sub(length: number, what: string, innerReason: FormatErrorReason = 'truncated'): ByteReader {
    this.#need(length, what);
    const r = new ByteReader(this.bytes, this.fail, this.littleEndian, this.#pos, this.#pos + length, innerReason);
    this.#pos += length;
    return r;
  }

  error(message: string, reason: FormatErrorReason, offset = this.#pos): Error {
    return this.fail(message, offset, reason);
  }

  #need(n: number, what: string): void {
    if (n > this.#end - this.#pos) {
      const where = this.shortReason === 'record-overrun' ? 'in its record' : '';
      throw this.fail(`${what}: needs ${n} byte(s) at offset ${this.#pos}, only ${this.#end - this.#pos} left${where ? ` ${where}` : ''}`, this.#pos, this.shortReason);
    }
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.#view.getUint8(this.#pos++);
  }

  u16(what: string): number {
    this.#need(2, what);
    const v = this.#view.getUint16(this.#pos, this.littleEndian);
    this.#pos += 2;
    return v;
  }

  i16(what: string): number {
    this.#need(2, what);
    const v = this.#view.getInt16(this.#pos, this.littleEndian);
    this.#pos += 2;
    return v;
  }

  u32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.#pos, this.littleEndian);
    this.#pos += 4;
    return v;
  }

  i32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getInt32(this.#pos, this.littleEndian);
    this.#pos += 4;
    return v;
  }

  /** `n` bytes, copied (callers keep them after the file buffer is gone). */
  bytesN(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const out = this.bytes.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Bytes as UTF-8 text; invalid UTF-8 is a format error at the field's offset. */
  text(n: number, what: string): string {
    const at = this.#pos;
    const raw = this.bytesN(n, what);
    try {
      return fromUtf8(raw);
    } catch {
      throw this.fail(`${what}: not valid UTF-8`, at, 'bad-value');
    }
  }

  skip(n: number, what: string): void {
    this.#need(n, what);
    this.#pos += n;
  }
}

/** Appends fixed-width big-endian (or host order, for old versions) fields. */
export class ByteWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  constructor(private readonly littleEndian = false) {}

  get length(): number { return this.#length; }

  #push(b: Uint8Array): void {
    this.#chunks.push(b);
    this.#length += b.length;
  }

  #fixed(size: number, set: (v: DataView) => void): void {
    const b = new Uint8Array(size);
    set(new DataView(b.buffer));
    this.#push(b);
  }

  u8(v: number): void { this.#fixed(1, (d) => d.setUint8(0, checkRange(v, 0, 0xff))); }
  u16(v: number): void { this.#fixed(2, (d) => d.setUint16(0, checkRange(v, 0, 0xffff), this.littleEndian)); }
  i16(v: number): void { this.#fixed(2, (d) => d.setInt16(0, checkRange(v, -0x8000, 0x7fff), this.littleEndian)); }
  u32(v: number): void { this.#fixed(4, (d) => d.setUint32(0, checkRange(v, 0, 0xffffffff), this.littleEndian)); }
  i32(v: number): void { this.#fixed(4, (d) => d.setInt32(0, checkRange(v, -0x80000000, 0x7fffffff), this.littleEndian)); }
  bytes(b: Uint8Array): void { this.#push(b.slice()); }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let o = 0;
    for (const c of this.#chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A time as the unsigned 32-bit seconds both MIT formats store. */
export function timestampSeconds(d: Date): number {
  const s = Math.floor(d.getTime() / 1000);
  if (!Number.isFinite(s) || s < 0 || s > 0xffffffff) {
    throw new InvalidArgumentError(`time ${String(d)} does not fit an unsigned 32-bit seconds field`);
  }
  return s;
}

function checkRange(v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`value ${v} does not fit a binary field that allows ${min}..${max}`);
  }
  return v;
}
