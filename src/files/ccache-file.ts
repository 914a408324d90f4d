/**
 * Reading and writing credential caches by name: FILE ('FILE:/path' or a
 * path), DIR collections and MEMORY caches. FILE and DIR writes replace the
 * file atomically with mode 0600, so a concurrent reader (MIT klist, another
 * kerbside process) sees the old or the new cache.
 *
 * DIR (MIT cc_dir.c, as MIT 1.20 writes it): a directory of FILE-format caches
 * named tkt*, and a `primary` file holding the file name of the primary cache
 * and a newline; without it the primary is `tkt`. `DIR:dir` names the
 * primary cache, `DIR::dir/tktX` one cache. MEMORY caches live in this process.
 */

import { basename, join } from 'node:path';
import type { RandomSource } from '../core/random.js';
import { decodeCcache, encodeCcache, type CredentialCache } from './ccache.js';
import { CcacheFormatError, FileAccessError, withFile } from './errors.js';
import { createExclusive, ensureDirectory, listDirectory, readFileIfExists, readWholeFile, removeFile, writeFileAtomic } from './fs.js';
import { parseCcacheName } from './names.js';
import { principalEquals, type Principal } from './principal.js';

const WHAT = 'credential cache';
const PRIMARY = 'primary';
const DEFAULT_SUBSIDIARY = 'tkt';

/** MEMORY caches of this process, by residual. */
const memoryCaches = new Map<string, CredentialCache>();

type Location =
  | { readonly kind: 'file'; readonly path: string; readonly fullName: string; readonly directory?: string }
  | { readonly kind: 'memory'; readonly key: string; readonly fullName: string };

/** The primary cache's file name in a DIR collection (`primary`'s first line, else tkt). */
async function primaryOf(directory: string): Promise<string> {
  const bytes = await readFileIfExists(join(directory, PRIMARY), 'DIR collection primary file');
  const name = bytes === undefined ? '' : new TextDecoder().decode(bytes).split('\n')[0]!;
  // MIT ignores a primary file that does not name a tkt* file in the directory.
  return name.startsWith('tkt') && !name.includes('/') ? name : DEFAULT_SUBSIDIARY;
}

async function locate(name: string): Promise<Location> {
  const n = parseCcacheName(name);
  switch (n.type) {
    case 'FILE':
      return { kind: 'file', path: n.path, fullName: `FILE:${n.path}` };
    case 'DIR': {
      const path = n.path ?? join(n.directory, await primaryOf(n.directory));
      return { kind: 'file', path, fullName: `DIR::${path}`, directory: n.directory };
    }
    case 'MEMORY':
      return { kind: 'memory', key: n.residual, fullName: `MEMORY:${n.residual}` };
  }
}

function memoryMissing(fullName: string): FileAccessError {
  return new FileAccessError(`${WHAT} ${fullName} does not exist`, { path: fullName, errno: 'ENOENT', hint: 'MEMORY caches live in one process only' });
}

/** The name of the one cache `name` resolves to, as MIT's krb5_cc_get_full_name prints it (FILE:/p, DIR::/d/tkt, MEMORY:x). */
export async function ccacheFullName(name: string): Promise<string> {
  return (await locate(name)).fullName;
}

/** Reads and decodes the cache `name`. Errors name the file. */
export async function readCcache(name: string): Promise<CredentialCache> {
  const at = await locate(name);
  if (at.kind === 'memory') {
    const cache = memoryCaches.get(at.key);
    if (cache === undefined) throw memoryMissing(at.fullName);
    return cache;
  }
  const bytes = await readWholeFile(at.path, WHAT);
  try {
    return decodeCcache(bytes);
  } catch (err) {
    throw err instanceof CcacheFormatError ? withFile(err, at.path) : err;
  }
}

/** Encodes and atomically writes the cache `name` (mode 0600; a DIR collection's directory is created, mode 0700). */
export async function writeCcache(name: string, cache: CredentialCache): Promise<void> {
  const at = await locate(name);
  if (at.kind === 'memory') {
    // Encoded and decoded so a MEMORY cache holds exactly what a FILE one would.
    memoryCaches.set(at.key, decodeCcache(encodeCcache(cache)));
    return;
  }
  if (at.directory !== undefined) await ensureDirectory(at.directory, 'DIR credential cache collection');
  await writeFileAtomic(at.path, encodeCcache(cache), WHAT);
  // As MIT 1.20: the first cache written through DIR:dir is recorded as the primary (a `primary` file naming tkt).
  if (at.directory !== undefined && parseCcacheName(name).type === 'DIR' && !name.startsWith('DIR::')
    && (await readFileIfExists(join(at.directory, PRIMARY), 'DIR collection primary file')) === undefined) {
    await switchCcache(at.fullName);
  }
}

/** Deletes the cache `name` (kdestroy). A cache that does not exist is not an error. */
export async function destroyCcache(name: string): Promise<void> {
  const at = await locate(name);
  if (at.kind === 'memory') memoryCaches.delete(at.key);
  else await removeFile(at.path, WHAT);
}

/**
 * The caches of the collection `name` belongs to, by full name, as MIT's
 * collection cursor gives them: for DIR:dir the primary first (when the
 * primary file exists), then the other tkt* files in directory order; for one
 * DIR:: cache, a FILE cache or a MEMORY cache, that cache when it exists
 * (MEMORY: every MEMORY cache of this process).
 */
export async function listCcacheCollection(name: string): Promise<string[]> {
  const n = parseCcacheName(name);
  if (n.type === 'MEMORY') return [...memoryCaches.keys()].map((k) => `MEMORY:${k}`);
  if (n.type === 'FILE' || n.path !== undefined) {
    const at = await locate(name);
    return (await readFileIfExists((at as { path: string }).path, WHAT)) === undefined ? [] : [at.fullName];
  }
  const entries = await listDirectory(n.directory, 'DIR credential cache collection');
  if (entries === undefined) return [];
  const files = entries.filter((e) => e.startsWith('tkt'));
  const hasPrimary = entries.includes(PRIMARY);
  const primary = hasPrimary ? await primaryOf(n.directory) : undefined;
  const ordered = primary !== undefined && files.includes(primary) ? [primary, ...files.filter((f) => f !== primary)] : files;
  return ordered.map((f) => `DIR::${join(n.directory, f)}`);
}

/** True when the caches `name` belongs to form a collection with a primary that can be switched (DIR). */
export function ccacheSupportsSwitch(name: string): boolean {
  return parseCcacheName(name).type === 'DIR';
}

/**
 * Makes `name` the primary cache of its collection (kswitch): for DIR::dir/tktX,
 * writes `tktX\n` to dir/primary atomically. FILE and MEMORY have no primary
 * to switch, and it succeeds doing nothing, as in MIT.
 */
export async function switchCcache(name: string): Promise<void> {
  const at = await locate(name);
  if (at.kind !== 'file' || at.directory === undefined) return;
  await ensureDirectory(at.directory, 'DIR credential cache collection');
  await writeFileAtomic(join(at.directory, PRIMARY), new TextEncoder().encode(`${basename(at.path)}\n`), 'DIR collection primary file');
}

const UNIQUE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A new, empty, reserved cache in the DIR collection `name` (MIT
 * krb5_cc_new_unique: dir/tkt followed by six random letters or digits).
 * Returns its DIR:: name; the file exists, empty, until it is written.
 */
export async function newUniqueCcache(name: string, random: RandomSource): Promise<string> {
  const n = parseCcacheName(name);
  if (n.type !== 'DIR') return name;
  await ensureDirectory(n.directory, 'DIR credential cache collection');
  for (let attempt = 0; ; attempt++) {
    let suffix = '';
    for (let i = 0; i < 6; i++) suffix += UNIQUE_ALPHABET[random.int(UNIQUE_ALPHABET.length)]!;
    const path = join(n.directory, `tkt${suffix}`);
    if (await createExclusive(path, WHAT)) return `DIR::${path}`;
    if (attempt > 100) throw new FileAccessError(`no unused cache name could be made in ${n.directory}`, { path: n.directory, errno: 'EEXIST' });
  }
}

/** The cache of the collection of `name` whose default principal is `principal` (krb5_cc_cache_match), or undefined. */
export async function findCcacheFor(name: string, principal: Principal): Promise<string | undefined> {
  for (const member of await listCcacheCollection(name)) {
    const cache = await readCcache(member).catch(() => undefined);
    if (cache !== undefined && principalEquals(cache.defaultPrincipal, principal)) return member;
  }
  return undefined;
}
