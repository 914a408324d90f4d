/**
 * `TYPE:residual` names of credential caches and keytabs, resolved as MIT's
 * krb5_cc_resolve / krb5_kt_resolve do: no colon means a FILE path; a
 * one-letter prefix is a Windows drive; any other prefix must be a known type.
 * kerbside implements FILE, DIR and MEMORY caches (FILE keytabs) and says so clearly for the others.
 */

import { tmpdir, userInfo } from 'node:os';
import { InvalidArgumentError } from '../core/errors.js';
import { UnsupportedStorageTypeError } from './errors.js';

export interface FileName {
  readonly type: 'FILE';
  readonly path: string;
}

/**
 * A parsed credential cache name. `DIR:dir` is a collection (its primary
 * cache is named by the `primary` file in dir, else `tkt`); `DIR::dir/tktX`
 * is one cache of a collection (MIT cc_dir.c); `MEMORY:name` lives in this
 * process only.
 */
export type CcacheName =
  | FileName
  | { readonly type: 'DIR'; readonly directory: string; /** DIR::path (one cache), else the primary. */ readonly path?: string }
  | { readonly type: 'MEMORY'; readonly residual: string };

/** The cache types kerbside reads and writes (named in errors about the others). */
export const SUPPORTED_CCACHE_TYPES = Object.freeze(['FILE', 'DIR', 'MEMORY'] as const);

const OTHER_CCACHE_TYPES = new Set(['API', 'KCM', 'KEYRING', 'MSLSA']);
const OTHER_KEYTAB_TYPES = new Set(['MEMORY', 'KDB', 'SRVTAB']);

function splitName(name: string): { prefix: string | undefined; residual: string } {
  const colon = name.indexOf(':');
  if (colon < 0 || (colon === 1 && /^[A-Za-z]$/.test(name[0]!))) return { prefix: undefined, residual: name };
  return { prefix: name.slice(0, colon), residual: name.slice(colon + 1) };
}

/**
 * Parses a ccache name ('FILE:/path' or a plain path, 'DIR:/dir', 'DIR::/dir/tktX',
 * 'MEMORY:name'). Other types are refused with UnsupportedStorageTypeError.
 */
export function parseCcacheName(name: string): CcacheName {
  const { prefix, residual } = splitName(name);
  if (prefix === undefined || prefix === 'FILE') {
    if (residual === '') throw new InvalidArgumentError(`credential cache name "${name}" has an empty path`);
    return { type: 'FILE', path: residual };
  }
  if (prefix === 'DIR') {
    if (!residual.startsWith(':')) {
      if (residual === '') throw new InvalidArgumentError(`credential cache name "${name}" has an empty directory`);
      return { type: 'DIR', directory: residual };
    }
    const path = residual.slice(1);
    const slash = path.lastIndexOf('/');
    // MIT refuses subsidiary names that are not dir/tkt*; so does kerbside, so both tools see the same collection.
    if (slash < 0 || !path.slice(slash + 1).startsWith('tkt')) {
      throw new InvalidArgumentError(`credential cache name "${name}": a DIR:: cache is a file named tkt… in the collection's directory`, {
        hint: 'use DIR:/dir for the collection (its primary cache) or DIR::/dir/tkt… for one cache in it',
      });
    }
    return { type: 'DIR', directory: slash === 0 ? '/' : path.slice(0, slash), path };
  }
  if (prefix === 'MEMORY') {
    if (residual === '') throw new InvalidArgumentError(`credential cache name "${name}" has an empty name`);
    return { type: 'MEMORY', residual };
  }
  const known = OTHER_CCACHE_TYPES.has(prefix);
  const works = SUPPORTED_CCACHE_TYPES.join(', ');
  if (prefix === 'KEYRING') {
    const persistent = residual.startsWith('persistent:');
    const uid = persistent ? residual.slice('persistent:'.length).split(':')[0] : undefined;
    throw new UnsupportedStorageTypeError(
      `credential cache type KEYRING (in "${name}") needs the Linux kernel keyring, which kerbside cannot reach without a native addon; `
        + `the cache types that work are ${works}`,
      {
        detail: { name, type: prefix },
        hint: persistent
          // RHEL and Fedora ship default_ccache_name = KEYRING:persistent:%{uid} in /etc/krb5.conf.d.
          ? `this is the RHEL/Fedora default (default_ccache_name = KEYRING:persistent:%{uid} in krb5.conf or /etc/krb5.conf.d); `
            + `set default_ccache_name = DIR:/run/user/%{uid}/krb5cc (a collection MIT's tools read too), or KRB5CCNAME=DIR:/run/user/${uid ?? '<uid>'}/krb5cc `
            + 'for this shell; tickets already in the keyring are not seen, so run kinit again'
          : `set KRB5CCNAME to a DIR:/dir collection or a FILE:/path cache (or default_ccache_name in krb5.conf)`,
      },
    );
  }
  throw new UnsupportedStorageTypeError(
    known
      ? `credential cache type ${prefix} (in "${name}") is not supported by kerbside; the cache types that work are ${works}`
      : `"${name}" names an unknown credential cache type "${prefix}"`,
    {
      detail: { name, type: prefix },
      hint: known
        ? `set KRB5CCNAME=FILE:/path or DIR:/dir (or default_ccache_name in krb5.conf)`
        : 'use FILE:/path, DIR:/dir, MEMORY:name or a plain path',
    },
  );
}

/** Parses a keytab name ('FILE:/path', 'WRFILE:/path' or a plain path). */
export function parseKeytabName(name: string): FileName {
  const { prefix, residual } = splitName(name);
  if (prefix === undefined || prefix === 'FILE' || prefix === 'WRFILE') {
    if (residual === '') throw new InvalidArgumentError(`keytab name "${name}" has an empty path`);
    return { type: 'FILE', path: residual };
  }
  const known = OTHER_KEYTAB_TYPES.has(prefix);
  throw new UnsupportedStorageTypeError(
    known
      ? `keytab type ${prefix} (in "${name}") is not supported by kerbside; only FILE keytabs are`
      : `"${name}" names an unknown keytab type "${prefix}"`,
    { detail: { name, type: prefix }, hint: 'use FILE:/path or a plain path' },
  );
}

export interface NameEnvironment {
  /** Environment variables (KRB5CCNAME, KRB5_KTNAME, TMPDIR); defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** User id for %{uid}; defaults to process.getuid() where the platform has it. */
  readonly uid?: number;
  /** Effective user id for %{euid}; defaults to process.geteuid() or `uid`. */
  readonly euid?: number;
}

/** MIT's compiled-in default cache name (DEFCCNAME). */
export const DEFAULT_CCACHE_NAME = 'FILE:/tmp/krb5cc_%{uid}';
/** MIT's compiled-in default keytab name (DEFKTNAME). */
export const DEFAULT_KEYTAB_NAME = 'FILE:/etc/krb5.keytab';

function currentUid(which: 'uid' | 'euid', given: NameEnvironment): number {
  const explicit = which === 'uid' ? given.uid : given.euid ?? given.uid;
  if (explicit !== undefined) return explicit;
  const fn = which === 'uid' ? process.getuid : process.geteuid;
  if (fn !== undefined) return fn.call(process);
  const info = userInfo();
  if (info.uid >= 0) return info.uid;
  throw new InvalidArgumentError('no user id is available on this platform to build the default credential cache name', {
    hint: 'set KRB5CCNAME=FILE:/path explicitly',
  });
}

/**
 * Expands MIT path tokens (k5_expand_path_tokens): %{uid}, %{euid}, %{USERID},
 * %{TEMP}, %{null}, %{username}. Unknown tokens are an error, as in MIT.
 */
export function expandPathTokens(path: string, given: NameEnvironment = {}): string {
  const env = given.env ?? process.env;
  return path.replace(/%\{([^}]*)\}/g, (_m, token: string) => {
    switch (token) {
      case 'uid':
      case 'USERID':
        return String(currentUid('uid', given));
      case 'euid':
        return String(currentUid('euid', given));
      case 'TEMP':
        return env['TMPDIR'] ?? tmpdir();
      case 'null':
        return '';
      case 'username':
        return env['USER'] ?? userInfo().username;
      default:
        throw new InvalidArgumentError(`path "${path}" uses the unknown token %{${token}}`, {
          hint: 'MIT supports %{uid}, %{euid}, %{USERID}, %{TEMP}, %{null}, %{username} and a few Windows-only tokens',
        });
    }
  });
}

/**
 * The credential cache name MIT would use: KRB5CCNAME, else the krb5.conf
 * `default_ccache_name`, else FILE:/tmp/krb5cc_<uid>. Tokens are expanded.
 */
export function resolveCcacheName(given: NameEnvironment & { configured?: string } = {}): string {
  const env = given.env ?? process.env;
  const name = env['KRB5CCNAME'] || given.configured || DEFAULT_CCACHE_NAME;
  return expandPathTokens(name, given);
}

/** The keytab name MIT would use: KRB5_KTNAME, else `default_keytab_name`, else FILE:/etc/krb5.keytab. */
export function resolveKeytabName(given: NameEnvironment & { configured?: string } = {}): string {
  const env = given.env ?? process.env;
  const name = env['KRB5_KTNAME'] || given.configured || DEFAULT_KEYTAB_NAME;
  return expandPathTokens(name, given);
}
