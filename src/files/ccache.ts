/**
 * MIT credential cache FILE format, bytes in and bytes out (MIT krb5
 * doc/formats/ccache_file_format.rst and src/lib/krb5/ccache/ccmarshal.c;
 * checked against caches MIT 1.20 kinit writes).
 *
 * 0x05, version (1–4). Versions 3 and 4 are big-endian; version 4 adds a
 * header of tagged fields (tag 1: KDC time offset, seconds and microseconds).
 * Then the default principal and credentials up to the end of the file.
 * Lengths and counts are 32-bit, enctypes and address/authdata types 16-bit,
 * times unsigned 32-bit seconds. Versions 1 and 2 (host byte order, pre-1.0)
 * are refused. Configuration entries are credentials whose server is
 * `krb5_ccache_conf_data/<key>[/<principal>]@X-CACHECONF:` with the value in
 * the ticket field and every other field zero.
 */

import { fromUtf8, utf8 } from '../core/bytes.js';
import { InvalidArgumentError } from '../core/errors.js';
import { ByteReader, ByteWriter, timestampSeconds } from './binary.js';
import { CcacheFormatError } from './errors.js';
import { NT_UNKNOWN, principalEquals, principalToString, type Principal } from './principal.js';

export const CCACHE_VERSION_3 = 0x0503;
export const CCACHE_VERSION_4 = 0x0504;

/** Header field tag of the KDC time offset (the only tag MIT defines). */
export const CCACHE_TAG_KDC_OFFSET = 1;

export interface CcacheKey {
  readonly enctype: number;
  readonly keyvalue: Uint8Array;
}

export interface CcacheAddress {
  readonly addrType: number;
  readonly address: Uint8Array;
}

export interface CcacheAuthData {
  /** Signed 16-bit, as MIT sign-extends it. */
  readonly adType: number;
  readonly adData: Uint8Array;
}

export interface Credential {
  readonly client: Principal;
  readonly server: Principal;
  readonly key: CcacheKey;
  readonly authtime: Date;
  /** Absent when the file holds 0 (no separate start time). */
  readonly starttime?: Date;
  readonly endtime: Date;
  /** Absent when the file holds 0 (not renewable). */
  readonly renewTill?: Date;
  /** True for a ticket encrypted in a session key (user-to-user). */
  readonly isSkey: boolean;
  /** RFC 4120 TicketFlags as an unsigned 32-bit mask (bit 0 = 0x80000000). */
  readonly ticketFlags: number;
  readonly addresses: readonly CcacheAddress[];
  readonly authdata: readonly CcacheAuthData[];
  /** The Ticket's DER bytes, kept as they came (a configuration value for config entries). */
  readonly ticket: Uint8Array;
  /** Empty when there is none. */
  readonly secondTicket: Uint8Array;
}

export interface KdcTimeOffset {
  /** KDC time minus local time, seconds part (signed). */
  readonly seconds: number;
  readonly microseconds: number;
}

export interface HeaderField {
  readonly tag: number;
  readonly value: Uint8Array;
}

export interface CredentialCache {
  /** File format version; kerbside writes 4 unless told 3. */
  readonly version: 3 | 4;
  readonly kdcTimeOffset?: KdcTimeOffset;
  /** Version 4 header fields with tags kerbside does not interpret, kept for re-serialisation. */
  readonly otherHeaderFields?: readonly HeaderField[];
  readonly defaultPrincipal: Principal;
  /** Tickets and configuration entries in file order. */
  readonly credentials: readonly Credential[];
}

const fail = (message: string, offset: number, reason: CcacheFormatError['reason']): Error =>
  new CcacheFormatError(`credential cache: ${message}`, { offset, reason });

/** Decodes a FILE ccache (versions 3 and 4). */
export function decodeCcache(bytes: Uint8Array): CredentialCache {
  const r = new ByteReader(bytes, fail);
  const magic = r.u8('file format version');
  const v = r.u8('file format version');
  if (magic !== 5 || v < 1 || v > 4) {
    throw new CcacheFormatError(
      `credential cache: file format version 0x${((magic << 8) | v).toString(16).padStart(4, '0')} is not a ccache version (0x0501–0x0504)`,
      { offset: 0, reason: 'bad-version', hint: 'the file is not an MIT/Heimdal FILE credential cache, or it is damaged' },
    );
  }
  if (v < 3) {
    throw new CcacheFormatError(
      `credential cache: file format version 0x050${v} (host byte order, before MIT krb5 1.0) is not supported`,
      { offset: 0, reason: 'bad-version', hint: 'run kinit again to write a current (version 4) cache' },
    );
  }
  const version = v as 3 | 4;
  let kdcTimeOffset: KdcTimeOffset | undefined;
  const otherHeaderFields: HeaderField[] = [];
  if (version === 4) {
    const header = r.sub(r.u16('header length'), 'header');
    while (header.remaining > 0) {
      const tag = header.u16('header field tag');
      const field = header.sub(header.u16('header field length'), `header field ${tag}`);
      if (tag === CCACHE_TAG_KDC_OFFSET && field.remaining === 8) {
        kdcTimeOffset = { seconds: field.i32('KDC offset seconds'), microseconds: field.i32('KDC offset microseconds') };
      } else {
        otherHeaderFields.push({ tag, value: field.bytesN(field.remaining, 'header field value') });
      }
    }
  }
  const defaultPrincipal = readPrincipal(r, 'default principal');
  const credentials: Credential[] = [];
  while (r.remaining > 0) credentials.push(readCredential(r, version));
  return {
    version,
    ...(kdcTimeOffset === undefined ? {} : { kdcTimeOffset }),
    ...(otherHeaderFields.length === 0 ? {} : { otherHeaderFields }),
    defaultPrincipal,
    credentials,
  };
}

function readData(r: ByteReader, what: string): Uint8Array {
  return r.bytesN(r.u32(`${what} length`), what);
}

function readCount(r: ByteReader, what: string, minItemSize: number): number {
  const at = r.offset;
  const n = r.u32(what);
  // Every item takes bytes: a count that cannot fit is corrupt (and must not drive a long loop).
  if (n * minItemSize > r.remaining) throw r.error(`${what} ${n} cannot fit in the ${r.remaining} bytes left`, 'length-out-of-range', at);
  return n;
}

function readPrincipal(r: ByteReader, what: string): Principal {
  const nameType = r.u32(`${what} name type`);
  const count = readCount(r, `${what} component count`, 4);
  const realm = r.text(r.u32(`${what} realm length`), `${what} realm`);
  const components: string[] = [];
  for (let i = 0; i < count; i++) components.push(r.text(r.u32(`${what} component length`), `${what} component ${i}`));
  return { realm, nameType, components };
}

function readCredential(r: ByteReader, version: 3 | 4): Credential {
  const client = readPrincipal(r, 'client');
  const server = readPrincipal(r, 'server');
  const enctype = r.u16('key enctype');
  if (version === 3) r.u16('key enctype (repeated in version 3)');
  const keyvalue = readData(r, 'key');
  const authtime = r.u32('authtime');
  const starttime = r.u32('starttime');
  const endtime = r.u32('endtime');
  const renewTill = r.u32('renew-till');
  const skeyAt = r.offset;
  const isSkey = r.u8('is_skey');
  if (isSkey > 1) throw r.error(`is_skey is ${isSkey}, not 0 or 1`, 'bad-value', skeyAt);
  const ticketFlags = r.u32('ticket flags');
  const addresses: CcacheAddress[] = [];
  for (let i = readCount(r, 'address count', 6); i > 0; i--) {
    addresses.push({ addrType: r.u16('address type'), address: readData(r, 'address') });
  }
  const authdata: CcacheAuthData[] = [];
  for (let i = readCount(r, 'authdata count', 6); i > 0; i--) {
    authdata.push({ adType: r.i16('authdata type'), adData: readData(r, 'authdata') });
  }
  const ticket = readData(r, 'ticket');
  const secondTicket = readData(r, 'second ticket');
  return {
    client, server, key: { enctype, keyvalue },
    authtime: fromSeconds(authtime),
    ...(starttime === 0 ? {} : { starttime: fromSeconds(starttime) }),
    endtime: fromSeconds(endtime),
    ...(renewTill === 0 ? {} : { renewTill: fromSeconds(renewTill) }),
    isSkey: isSkey === 1, ticketFlags, addresses, authdata, ticket, secondTicket,
  };
}

const fromSeconds = (s: number): Date => new Date(s * 1000);

/** Encodes a FILE ccache (version 4 unless `cache.version` is 3). */
export function encodeCcache(cache: CredentialCache): Uint8Array {
  const w = new ByteWriter();
  const version = cache.version;
  if (version !== 3 && version !== 4) throw new InvalidArgumentError(`credential cache version ${String(version)} cannot be written (3 or 4)`);
  w.u16(version === 4 ? CCACHE_VERSION_4 : CCACHE_VERSION_3);
  if (version === 4) {
    const header = new ByteWriter();
    if (cache.kdcTimeOffset !== undefined) {
      header.u16(CCACHE_TAG_KDC_OFFSET);
      header.u16(8);
      header.i32(cache.kdcTimeOffset.seconds);
      header.i32(cache.kdcTimeOffset.microseconds);
    }
    for (const f of cache.otherHeaderFields ?? []) {
      header.u16(f.tag);
      header.u16(f.value.length);
      header.bytes(f.value);
    }
    const h = header.finish();
    w.u16(h.length);
    w.bytes(h);
  }
  writePrincipal(w, cache.defaultPrincipal);
  for (const c of cache.credentials) writeCredential(w, c, version);
  return w.finish();
}

function writeData(w: ByteWriter, data: Uint8Array): void {
  w.u32(data.length);
  w.bytes(data);
}

function writePrincipal(w: ByteWriter, p: Principal): void {
  w.u32(p.nameType >>> 0);
  w.u32(p.components.length);
  writeData(w, utf8(p.realm));
  for (const c of p.components) writeData(w, utf8(c));
}

function writeCredential(w: ByteWriter, c: Credential, version: 3 | 4): void {
  writePrincipal(w, c.client);
  writePrincipal(w, c.server);
  w.u16(c.key.enctype & 0xffff);
  if (version === 3) w.u16(c.key.enctype & 0xffff);
  writeData(w, c.key.keyvalue);
  w.u32(timestampSeconds(c.authtime));
  w.u32(c.starttime === undefined ? 0 : timestampSeconds(c.starttime));
  w.u32(timestampSeconds(c.endtime));
  w.u32(c.renewTill === undefined ? 0 : timestampSeconds(c.renewTill));
  w.u8(c.isSkey ? 1 : 0);
  w.u32(c.ticketFlags >>> 0);
  w.u32(c.addresses.length);
  for (const a of c.addresses) {
    w.u16(a.addrType);
    writeData(w, a.address);
  }
  w.u32(c.authdata.length);
  for (const a of c.authdata) {
    w.i16(a.adType);
    writeData(w, a.adData);
  }
  writeData(w, c.ticket);
  writeData(w, c.secondTicket);
}

// ---------------------------------------------------------------------------
// Configuration entries

export const CONFIG_REALM = 'X-CACHECONF:';
export const CONFIG_PREFIX = 'krb5_ccache_conf_data';

/** Configuration keys MIT krb5 uses (doc/formats/ccache_file_format.rst). */
export const CcacheConfigKey = Object.freeze({
  FAST_AVAIL: 'fast_avail',
  PA_CONFIG_DATA: 'pa_config_data',
  PA_TYPE: 'pa_type',
  PROXY_IMPERSONATOR: 'proxy_impersonator',
  REFRESH_TIME: 'refresh_time',
  START_REALM: 'start_realm',
} as const);

/** True for a configuration entry rather than a ticket. */
export function isConfigEntry(c: Credential): boolean {
  return c.server.realm === CONFIG_REALM && c.server.components[0] === CONFIG_PREFIX
    && (c.server.components.length === 2 || c.server.components.length === 3);
}

/** The tickets of a cache, without configuration entries. */
export function ticketsOf(cache: CredentialCache): Credential[] {
  return cache.credentials.filter((c) => !isConfigEntry(c));
}

function configServer(key: string, principal: Principal | undefined): Principal {
  const components = principal === undefined ? [CONFIG_PREFIX, key] : [CONFIG_PREFIX, key, principalToString(principal)];
  return { realm: CONFIG_REALM, nameType: NT_UNKNOWN, components };
}

function configMatches(c: Credential, server: Principal): boolean {
  return isConfigEntry(c) && principalEquals(c.server, server);
}

/**
 * The value of configuration `key` (associated with `principal` when given),
 * as stored: bytes. `getConfigString` decodes it as UTF-8.
 */
export function getConfig(cache: CredentialCache, key: string, principal?: Principal): Uint8Array | undefined {
  const server = configServer(key, principal);
  return cache.credentials.find((c) => configMatches(c, server))?.ticket;
}

export function getConfigString(cache: CredentialCache, key: string, principal?: Principal): string | undefined {
  const v = getConfig(cache, key, principal);
  return v === undefined ? undefined : fromUtf8(v);
}

/**
 * A copy of `cache` with configuration `key` set to `value` (replacing an
 * existing entry in place, else appended), or removed when `value` is
 * undefined. The entry's client is the cache's default principal, as MIT writes it.
 */
export function setConfig(
  cache: CredentialCache, key: string, value: string | Uint8Array | undefined, principal?: Principal,
): CredentialCache {
  if (key === '' || key.includes('/')) throw new InvalidArgumentError(`ccache configuration key "${key}" must be non-empty and contain no "/"`);
  const server = configServer(key, principal);
  const entry = value === undefined
    ? undefined
    : configEntry(cache.defaultPrincipal, server, typeof value === 'string' ? utf8(value) : value);
  const credentials: Credential[] = [];
  let placed = false;
  for (const c of cache.credentials) {
    if (!configMatches(c, server)) credentials.push(c);
    else if (entry !== undefined && !placed) {
      credentials.push(entry);
      placed = true;
    }
  }
  if (entry !== undefined && !placed) credentials.push(entry);
  return { ...cache, credentials };
}

function configEntry(client: Principal, server: Principal, value: Uint8Array): Credential {
  const zero = new Date(0);
  return {
    client, server, key: { enctype: 0, keyvalue: new Uint8Array(0) },
    authtime: zero, endtime: zero, isSkey: false, ticketFlags: 0,
    addresses: [], authdata: [], ticket: value.slice(), secondTicket: new Uint8Array(0),
  };
}

/** All configuration entries as { key, principal?, value }. */
export function listConfig(cache: CredentialCache): Array<{ key: string; principal?: string; value: Uint8Array }> {
  return cache.credentials.filter(isConfigEntry).map((c) => {
    const [, key, principal] = c.server.components;
    return { key: key!, ...(principal === undefined ? {} : { principal }), value: c.ticket };
  });
}

// ---------------------------------------------------------------------------
// Building caches

/** An empty version 4 cache for `principal`, as `kinit` starts one. */
export function newCcache(principal: Principal, options: { kdcTimeOffset?: KdcTimeOffset } = {}): CredentialCache {
  return { version: 4, ...(options.kdcTimeOffset === undefined ? {} : { kdcTimeOffset: options.kdcTimeOffset }), defaultPrincipal: principal, credentials: [] };
}

/**
 * A copy of `cache` with `cred` stored. A ticket for the same client and
 * server replaces the older one in place (so a refreshed TGT does not pile up);
 * otherwise the credential is appended, as MIT's FILE cache appends.
 */
export function storeCredential(cache: CredentialCache, cred: Credential): CredentialCache {
  const same = (c: Credential): boolean => !isConfigEntry(c) && principalEquals(c.client, cred.client)
    && principalEquals(c.server, cred.server) && c.isSkey === cred.isSkey;
  const index = cache.credentials.findIndex(same);
  const credentials = index < 0
    ? [...cache.credentials, cred]
    : cache.credentials.flatMap((c, i) => (i === index ? [cred] : same(c) ? [] : [c]));
  return { ...cache, credentials };
}
