/**
 * Validation and record building shared by every store backend, so that they
 * agree on defaults, on what is rejected and on ordering (the conformance
 * suite checks they do).
 */

import { InvalidArgumentError } from '../core/errors.js';
import type {
  KeyMaterial, ListOptions, NewPrincipal, PrincipalAttributes, PrincipalFlags, PrincipalLimits,
  PrincipalPatch, PrincipalRecord, PurgeKeysOptions, StoredKey,
} from './types.js';

/** Attribute defaults for a new principal: strong by default (docs/architecture.md "Rules of the house"). */
export const DEFAULT_PRINCIPAL_FLAGS: Readonly<PrincipalFlags> = Object.freeze({
  requiresPreauth: true,
  allowForwardable: true,
  allowRenewable: true,
  allowProxiable: false,
  allowPostdated: false,
  disabled: false,
  allowTickets: true,
  allowService: true,
  okAsDelegate: false,
  requiresPasswordChange: false,
  passwordChangeService: false,
  requiresPkinit: false,
  allowNtlm: false,
});

/**
 * The private enctype number under which the NTLM credential (the NT hash) is stored in a key slot,
 * so that it is wrapped and bound to its record like every key (kdc/keys.ts). RFC 3961 §8 leaves
 * negative enctype numbers for local use; no Kerberos peer sends this one and the crypto registry
 * does not know it. Records never show it among `keys` (buildRecord moves it to `ntlmCredential`).
 */
export const NTLM_CREDENTIAL_ENCTYPE = -1_000_023;

export const isNtlmCredential = (k: { readonly enctype: number }): boolean => k.enctype === NTLM_CREDENTIAL_ENCTYPE;

/** Refuses an NTLM credential for a principal whose allowNtlm is off (the store's invariant). */
export function checkNtlmCredential(name: string, attributes: PrincipalAttributes, keys: readonly KeyMaterial[]): void {
  if (!attributes.allowNtlm && keys.some(isNtlmCredential)) {
    throw new InvalidArgumentError(`principal "${name}": an NTLM credential is given but NTLM is not allowed for it`, {
      hint: 'set allowNtlm first (kerbside principal modify NAME --allow-ntlm)',
    });
  }
}

const FLAG_NAMES = Object.keys(DEFAULT_PRINCIPAL_FLAGS) as (keyof PrincipalFlags)[];
const LIMIT_NAMES: readonly (keyof PrincipalLimits)[] = [
  'principalExpiry', 'passwordExpiry', 'lastPasswordChange', 'maxLife', 'maxRenewableLife', 'allowedEnctypes', 'policy',
  'certificateMappings',
];

/** Largest kvno: MIT stores it as a 32-bit unsigned integer. */
export const MAX_KVNO = 0xffffffff;
export const DEFAULT_LIST_LIMIT = 1000;
export const DEFAULT_CHANGE_LOG_LIMIT = 100_000;

/**
 * The realm of a canonical name 'comp1/comp2@REALM': the text after the last
 * '@' that is not escaped by a backslash (MIT quoting).
 */
export function realmOf(name: string): string {
  if (typeof name !== 'string') throw new InvalidArgumentError('a principal name must be a string');
  let at = -1;
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++;
    else if (name[i] === '@') at = i;
  }
  if (at <= 0 || at === name.length - 1) {
    throw new InvalidArgumentError(`principal name "${name}" is not in the canonical form "name@REALM"`, {
      hint: 'the store keys principals by their full name including the realm, e.g. "HTTP/www.example.com@EXAMPLE.COM"',
    });
  }
  return name.slice(at + 1);
}

function checkKvno(kvno: number, what: string): void {
  if (!Number.isInteger(kvno) || kvno < 1 || kvno > MAX_KVNO) {
    throw new InvalidArgumentError(`${what} ${kvno} is not a key version number (1 to ${MAX_KVNO})`);
  }
}

/** Validates keys for one kvno and copies them (callers may reuse or wipe their buffers). */
export function keysForVersion(name: string, keys: readonly KeyMaterial[], kvno: number): StoredKey[] {
  checkKvno(kvno, 'kvno');
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new InvalidArgumentError(`no keys given for principal "${name}"`);
  }
  const seen = new Set<number>();
  return keys.map((k) => {
    if (!Number.isInteger(k.enctype)) throw new InvalidArgumentError(`principal "${name}": enctype ${String(k.enctype)} is not an integer`);
    if (seen.has(k.enctype)) {
      throw new InvalidArgumentError(`principal "${name}": two keys of enctype ${k.enctype} for kvno ${kvno}`, {
        hint: 'a key version holds at most one key per enctype',
      });
    }
    seen.add(k.enctype);
    if (!(k.keyvalue instanceof Uint8Array)) throw new InvalidArgumentError(`principal "${name}": a keyvalue must be a Uint8Array`);
    if (k.salt !== undefined && (!Number.isInteger(k.salt.type) || !(k.salt.value instanceof Uint8Array))) {
      throw new InvalidArgumentError(`principal "${name}": a salt must be { type: integer, value: Uint8Array }`);
    }
    if (k.s2kparams !== undefined && !(k.s2kparams instanceof Uint8Array)) {
      throw new InvalidArgumentError(`principal "${name}": s2kparams must be a Uint8Array`);
    }
    return copyKey({ ...k, kvno });
  });
}

export function copyKey(k: StoredKey): StoredKey {
  return {
    kvno: k.kvno,
    enctype: k.enctype,
    keyvalue: new Uint8Array(k.keyvalue),
    ...(k.salt !== undefined ? { salt: { type: k.salt.type, value: new Uint8Array(k.salt.value) } } : {}),
    ...(k.s2kparams !== undefined ? { s2kparams: new Uint8Array(k.s2kparams) } : {}),
  };
}

function checkLimit(name: string, field: keyof PrincipalLimits, value: unknown): void {
  const bad = (want: string): never => {
    throw new InvalidArgumentError(`principal "${name}": ${field} must be ${want}`);
  };
  if (field === 'policy') {
    if (typeof value !== 'string' || value === '') bad('a non-empty string');
  } else if (field === 'allowedEnctypes') {
    if (!Array.isArray(value) || !value.every((e) => Number.isInteger(e))) bad('an array of enctype numbers');
  } else if (field === 'certificateMappings') {
    if (!Array.isArray(value) || !value.every((m) => typeof m === 'string' && /^X509:<I>.+<(SR|S)>.+$/.test(m))) {
      bad('an array of "X509:<I>issuer<SR>serial" or "X509:<I>issuer<S>subject" strings');
    }
  } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    bad(field === 'maxLife' || field === 'maxRenewableLife' ? 'a whole number of seconds' : 'a time in milliseconds since the epoch');
  }
}

function rejectUnknown(name: string, input: object, allowed: readonly string[]): void {
  for (const k of Object.keys(input)) {
    if (!allowed.includes(k)) throw new InvalidArgumentError(`principal "${name}": unknown attribute "${k}"`);
  }
}

/** The attributes of a new principal: defaults overridden by what `create` was given. */
export function initialAttributes(p: NewPrincipal): PrincipalAttributes {
  rejectUnknown(p.name, p, [...FLAG_NAMES, ...LIMIT_NAMES, 'name', 'keys', 'kvno']);
  const patch: Record<string, unknown> = {};
  for (const f of [...FLAG_NAMES, ...LIMIT_NAMES]) if (p[f] !== undefined) patch[f] = p[f];
  return applyPatch(p.name, { ...DEFAULT_PRINCIPAL_FLAGS }, patch as PrincipalPatch);
}

/** Applies an update: absent = unchanged, null = clear an optional limit. */
export function applyPatch(name: string, current: PrincipalAttributes, patch: PrincipalPatch): PrincipalAttributes {
  rejectUnknown(name, patch, [...FLAG_NAMES, ...LIMIT_NAMES]);
  const next: Record<string, unknown> = { ...current };
  for (const f of FLAG_NAMES) {
    const v = patch[f];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new InvalidArgumentError(`principal "${name}": ${f} must be true or false`);
    next[f] = v;
  }
  for (const f of LIMIT_NAMES) {
    const v = patch[f];
    if (v === undefined) continue;
    if (v === null) {
      delete next[f];
      continue;
    }
    checkLimit(name, f, v);
    next[f] = Array.isArray(v) ? Object.freeze([...(v as readonly unknown[])]) : v;
  }
  return next as unknown as PrincipalAttributes;
}

/** After keys derived from a new password: stamp the change and lift a forced change (as MIT kadm5 does). */
export function passwordChanged(a: PrincipalAttributes, now: number): PrincipalAttributes {
  return { ...a, lastPasswordChange: now, requiresPasswordChange: false };
}

/** Only the attribute fields of a record (what backends persist besides name, keys and times). */
export function attributesOf(r: PrincipalAttributes): PrincipalAttributes {
  const out: Record<string, unknown> = {};
  for (const f of [...FLAG_NAMES, ...LIMIT_NAMES]) if (r[f] !== undefined) out[f] = r[f];
  return out as unknown as PrincipalAttributes;
}

/** Sorts keys newest kvno first; within a kvno the given order is kept (Array.sort is stable). */
export function sortKeys(keys: StoredKey[]): StoredKey[] {
  return keys.sort((a, b) => b.kvno - a.kvno);
}

export function buildRecord(
  name: string, attributes: PrincipalAttributes, keys: StoredKey[], createdAt: number, modifiedAt: number, kvno?: number,
): PrincipalRecord {
  const all = sortKeys(keys);
  const attrs = attributesOf({ ...DEFAULT_PRINCIPAL_FLAGS, ...attributes });
  const kerberos = all.filter((k) => !isNtlmCredential(k));
  const ntlm = attrs.allowNtlm ? all.find(isNtlmCredential) : undefined;
  return {
    // A record stored before a flag existed has that flag's default (e.g. allowService: every principal was a service).
    ...attrs,
    name,
    realm: realmOf(name),
    kvno: kvno ?? kerberos[0]?.kvno ?? 0,
    keys: kerberos,
    ...(ntlm === undefined ? {} : { ntlmCredential: ntlm }),
    createdAt,
    modifiedAt,
  };
}

/** The kvno of a `setKeys` call: the requested one, or current + 1. */
export function nextKvno(name: string, current: number, requested: number | undefined): number {
  if (requested === undefined) {
    if (current >= MAX_KVNO) throw new InvalidArgumentError(`principal "${name}" has reached the largest kvno`);
    return current + 1;
  }
  checkKvno(requested, 'requested kvno');
  if (requested <= current) {
    throw new InvalidArgumentError(`principal "${name}": new kvno ${requested} must be above the current kvno ${current}`, {
      hint: 'omit kvno to take the next version number',
    });
  }
  return requested;
}

/** The kvnos `purgeKeys` removes from `kvnos` (the current one is always kept). */
export function kvnosToPurge(name: string, kvnos: readonly number[], options: PurgeKeysOptions): number[] {
  const { keepNewest, belowKvno } = options;
  if (keepNewest === undefined && belowKvno === undefined) {
    throw new InvalidArgumentError(`purgeKeys for "${name}" needs keepNewest or belowKvno`);
  }
  if (keepNewest !== undefined && (!Number.isInteger(keepNewest) || keepNewest < 1)) {
    throw new InvalidArgumentError(`purgeKeys for "${name}": keepNewest must be at least 1`);
  }
  if (belowKvno !== undefined && !Number.isInteger(belowKvno)) {
    throw new InvalidArgumentError(`purgeKeys for "${name}": belowKvno must be an integer`);
  }
  const desc = [...new Set(kvnos)].sort((a, b) => b - a);
  return desc.filter((kvno, i) => i > 0 && ((keepNewest !== undefined && i >= keepNewest) || (belowKvno !== undefined && kvno < belowKvno)));
}

/** Orders names by their UTF-8 bytes, as SQLite's BINARY collation does. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Translates a shell-style glob (see ListOptions.pattern) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const special = /[\\^$.*+?()[\]{}|/]/;
  const lit = (c: string): string => (special.test(c) ? `\\${c}` : c);
  let out = '';
  const chars = [...glob];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\' && i + 1 < chars.length) out += lit(chars[++i]!);
    else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (chars[j] === '!' || chars[j] === '^') { cls += '^'; j++; }
      if (chars[j] === ']') { cls += '\\]'; j++; }
      for (; j < chars.length && chars[j] !== ']'; j++) {
        const d = chars[j]!;
        if (d === '\\' && j + 1 < chars.length) {
          const e = chars[++j]!;
          cls += special.test(e) || e === '-' ? `\\${e}` : e;
        } else cls += d;
      }
      if (j >= chars.length) out += '\\['; // no closing bracket: a literal '['
      else { out += `[${cls}]`; i = j; }
    } else out += lit(c);
  }
  try {
    return new RegExp(`^${out}$`, 'su');
  } catch (cause) {
    throw new InvalidArgumentError(`"${glob}" is not a usable name pattern`, { hint: 'check bracket ranges such as [a-z]', cause });
  }
}

/** The predicate `list` applies to each name, from its pattern and prefix. */
export function nameFilter(options: ListOptions): (name: string) => boolean {
  const re = options.pattern === undefined ? undefined : globToRegExp(options.pattern);
  const prefix = options.prefix;
  return (name) => (prefix === undefined || name.startsWith(prefix)) && (re === undefined || re.test(name));
}

export function listLimit(options: ListOptions): number {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`list limit must be a positive integer, not ${limit}`);
  return limit;
}

export function checkMetaKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new InvalidArgumentError('a realm metadata key must be a non-empty string');
}

export function checkChangeLogLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidArgumentError(`changeLogLimit must be a positive integer, not ${limit}`);
  return limit;
}
