/**
 * Reading and writing FILE credential caches by name ('FILE:/path' or a path).
 * Writes replace the file atomically with mode 0600, so a concurrent reader
 * (MIT klist, another kerbside process) sees the old or the new cache.
 */

import { unlink } from 'node:fs/promises';
import { decodeCcache, encodeCcache, type CredentialCache } from './ccache.js';
import { CcacheFormatError, FileAccessError, withFile } from './errors.js';
import { readWholeFile, writeFileAtomic } from './fs.js';
import { parseCcacheName } from './names.js';

/** Reads and decodes the cache `name`. Errors name the file. */
export async function readCcache(name: string): Promise<CredentialCache> {
  const { path } = parseCcacheName(name);
  const bytes = await readWholeFile(path, 'credential cache');
  try {
    return decodeCcache(bytes);
  } catch (err) {
    throw err instanceof CcacheFormatError ? withFile(err, path) : err;
  }
}

/** Encodes and atomically writes the cache `name` (mode 0600). */
export async function writeCcache(name: string, cache: CredentialCache): Promise<void> {
  const { path } = parseCcacheName(name);
  await writeFileAtomic(path, encodeCcache(cache), 'credential cache');
}

/** Deletes the cache `name` (kdestroy). A cache that does not exist is not an error. */
export async function destroyCcache(name: string): Promise<void> {
  const { path } = parseCcacheName(name);
  try {
    await unlink(path);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return;
    throw new FileAccessError(`credential cache ${path} could not be removed`, { path, cause: err });
  }
}
