/**
 * MIT keytab file format, bytes in and bytes out (MIT krb5 doc/formats/
 * keytab_file_format.rst; behaviour checked against MIT 1.20 ktutil/klist).
 *
 * File: 0x05, version (1 or 2), then records. Each record is a signed 32-bit
 * length: positive = an entry that fits in that many bytes (it may be shorter:
 * an entry written into a larger hole), negative = a hole of -length zero bytes
 * left by a deleted entry, zero = end of file. Version 2 is big-endian; version
 * 1 (DCE era) uses host byte order, counts the realm among the components and
 * has no name type. We read both and write version 2.
 *
 * Entry: principal, timestamp (u32), kvno (u8), enctype (u16), key (u16 length
 * + bytes), then a 32-bit kvno. MIT 1.14+ always writes the 32-bit kvno (also
 * for kvno < 256; the 8-bit field then holds kvno mod 256) and, when reading,
 * uses it if at least 4 bytes remain in the record and it is non-zero.
 */

import { endianness } from 'node:os';
import { utf8 } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';
import { defaultSalt as cryptoDefaultSalt } from '../crypto/index.js';
import { ByteReader, ByteWriter, timestampSeconds } from './binary.js';
import { KeytabFormatError } from './errors.js';
import { NT_UNKNOWN, principalEquals, type Principal } from './principal.js';

export const KEYTAB_VERSION_1 = 0x0501;
export const KEYTAB_VERSION_2 = 0x0502;

export interface KeytabEntry {
  readonly principal: Principal;
  /** When the key was added (whole seconds). */
  readonly timestamp: Date;
  readonly kvno: number;
  readonly enctype: number;
  readonly key: Uint8Array;
}

const fail = (message: string, offset: number, reason: KeytabFormatError['reason']): Error =>
  new KeytabFormatError(`keytab: ${message}`, { offset, reason });

/** Decodes a keytab file's bytes. Holes are skipped; a zero record length ends the file. */
export function decodeKeytab(bytes: Uint8Array): KeytabEntry[] {
  const head = new ByteReader(bytes, fail);
  const magic = head.u8('file format version');
  const version = head.u8('file format version');
  if (magic !== 5 || (version !== 1 && version !== 2)) {
    throw new KeytabFormatError(
      `keytab: file format version 0x${((magic << 8) | version).toString(16).padStart(4, '0')} is not a keytab version kerbside reads (0x0501, 0x0502)`,
      { offset: 0, reason: 'bad-version', hint: 'the file is not an MIT/Heimdal keytab, or it is damaged' },
    );
  }
  // Version 1 is in host byte order (MIT writes it with native integers).
  const r = new ByteReader(bytes, fail, version === 1 && endianness() === 'LE', 2);
  const entries: KeytabEntry[] = [];
  while (r.remaining > 0) {
    const at = r.offset;
    const length = r.i32('record length');
    if (length === 0) break;
    if (length < 0) {
      if (-length > r.remaining) {
        throw r.error(`hole of ${-length} bytes at offset ${at} runs past the end of the file`, 'length-out-of-range', at);
      }
      r.skip(-length, 'hole');
      continue;
    }
    if (length > r.remaining) {
      throw r.error(`entry of ${length} bytes at offset ${at} runs past the end of the file (${r.remaining} left)`, 'truncated', at);
    }
    entries.push(decodeEntry(r.sub(length, 'entry', 'record-overrun'), version));
  }
  return entries;
}

function decodeEntry(r: ByteReader, version: number): KeytabEntry {
  let count = r.u16('principal component count');
  if (version === 1) {
    if (count === 0) throw r.error('version 1 entry has a component count of 0 (it must include the realm)', 'bad-value', r.offset - 2);
    count--;
  }
  const realm = r.text(r.u16('realm length'), 'realm');
  const components: string[] = [];
  for (let i = 0; i < count; i++) components.push(r.text(r.u16('component length'), `component ${i}`));
  const nameType = version === 1 ? NT_UNKNOWN : r.u32('name type');
  const timestamp = new Date(r.u32('timestamp') * 1000);
  let kvno = r.u8('kvno');
  const enctype = r.u16('enctype');
  const key = r.bytesN(r.u16('key length'), 'key');
  if (r.remaining >= 4) {
    const kvno32 = r.u32('32-bit kvno');
    if (kvno32 !== 0) kvno = kvno32;
  }
  return { principal: { realm, nameType, components }, timestamp, kvno, enctype, key };
}

/** Encodes entries as a version 2 keytab without holes, as MIT writes a fresh file. */
export function encodeKeytab(entries: readonly KeytabEntry[]): Uint8Array {
  const w = new ByteWriter();
  w.u16(KEYTAB_VERSION_2);
  for (const e of entries) {
    const body = encodeEntry(e);
    w.i32(body.length);
    w.bytes(body);
  }
  return w.finish();
}

function u16Data(w: ByteWriter, data: Uint8Array, what: string): void {
  if (data.length > 0xffff) throw new InvalidArgumentError(`keytab: ${what} is ${data.length} bytes; the format allows at most 65535`);
  w.u16(data.length);
  w.bytes(data);
}

function encodeEntry(e: KeytabEntry): Uint8Array {
  const { principal: p } = e;
  if (p.components.length > 0xffff) throw new InvalidArgumentError('keytab: principal has more than 65535 components');
  if (!Number.isInteger(e.kvno) || e.kvno < 0 || e.kvno > 0xffffffff) {
    throw new InvalidArgumentError(`keytab: kvno ${e.kvno} is not an unsigned 32-bit integer`);
  }
  if (!Number.isInteger(e.enctype) || e.enctype < 0 || e.enctype > 0xffff) {
    throw new InvalidArgumentError(`keytab: enctype ${e.enctype} does not fit the 16-bit enctype field`);
  }
  const w = new ByteWriter();
  w.u16(p.components.length);
  u16Data(w, utf8(p.realm), 'realm');
  for (const c of p.components) u16Data(w, utf8(c), 'principal component');
  w.u32(p.nameType >>> 0);
  w.u32(timestampSeconds(e.timestamp));
  w.u8(e.kvno & 0xff);
  w.u16(e.enctype);
  u16Data(w, e.key, 'key');
  w.u32(e.kvno);
  return w.finish();
}

/** Which entries an operation applies to; absent fields match everything. */
export interface KeytabMatch {
  readonly principal?: Principal;
  /** A kvno, or 'old': every kvno below the highest one of the same principal (as kadmin ktremove … old). */
  readonly kvno?: number | 'old';
  readonly enctype?: number;
}

/** The entries `match` selects. */
export function findKeytabEntries(entries: readonly KeytabEntry[], match: KeytabMatch): KeytabEntry[] {
  const highest = match.kvno === 'old' ? highestKvnos(entries) : undefined;
  return entries.filter((e) => {
    if (match.principal !== undefined && !principalEquals(match.principal, e.principal)) return false;
    if (match.enctype !== undefined && match.enctype !== e.enctype) return false;
    if (highest !== undefined) return e.kvno < highest.get(principalKey(e.principal))!;
    if (match.kvno !== undefined && match.kvno !== e.kvno) return false;
    return true;
  });
}

/** The entries `match` does not select (a new array; the input is not changed). */
export function removeKeytabEntries(entries: readonly KeytabEntry[], match: KeytabMatch): KeytabEntry[] {
  const drop = new Set(findKeytabEntries(entries, match));
  return entries.filter((e) => !drop.has(e));
}

function principalKey(p: Principal): string {
  return JSON.stringify([p.realm, ...p.components]);
}

function highestKvnos(entries: readonly KeytabEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) {
    const k = principalKey(e.principal);
    m.set(k, Math.max(m.get(k) ?? 0, e.kvno));
  }
  return m;
}

/**
 * The default salt of a principal's password-derived keys (RFC 4120 §4):
 * the realm followed by all name components, with no separators.
 */
export function defaultSalt(principal: Principal): string {
  return cryptoDefaultSalt(principal.realm, principal.components);
}
