/**
 * Building the MIT FILE credential caches the client writes (MIT
 * doc/formats/ccache_file_format.rst): version 4 with the KDC time offset in
 * the header, the tickets, and the X-CACHECONF entries MIT's library reads:
 * `refresh_time` (no principal; seconds since the epoch on the KDC's clock)
 * and `pa_type` (keyed by the TGS principal; the pre-authentication type that
 * worked, so the next kinit can go straight to it).
 */

import {
  CcacheConfigKey, FileAccessError, getConfigString, newCcache, readCcache, setConfig, storeCredential,
  type Credential, type CredentialCache, type KdcTimeOffset, type Principal,
} from '../files/index.js';
import { tgsPrincipal } from './names.js';

export interface CacheContents {
  readonly principal: Principal;
  /** KDC time − local time, ms (0: no header field). */
  readonly offset?: number;
  readonly credentials: readonly Credential[];
  readonly paType?: number;
  /** When the TGT should be refreshed, ms on the local clock. */
  readonly refreshTime?: number;
}

export function buildCache(c: CacheContents): CredentialCache {
  const offset = c.offset ?? 0;
  let cache = newCcache(c.principal, offset === 0 ? {} : { kdcTimeOffset: offsetToHeader(offset) });
  for (const cred of c.credentials) cache = storeCredential(cache, cred);
  if (c.refreshTime !== undefined) {
    cache = setConfig(cache, CcacheConfigKey.REFRESH_TIME, String(Math.floor((c.refreshTime + offset) / 1000)));
  }
  if (c.paType !== undefined && c.paType !== 0) {
    cache = setConfig(cache, CcacheConfigKey.PA_TYPE, String(c.paType), tgsPrincipal(c.principal.realm));
  }
  return cache;
}

export function offsetToHeader(ms: number): KdcTimeOffset {
  return { seconds: Math.trunc(ms / 1000), microseconds: Math.trunc((ms % 1000) * 1000) };
}

export function offsetFromHeader(cache: CredentialCache): number {
  const o = cache.kdcTimeOffset;
  return o === undefined ? 0 : o.seconds * 1000 + Math.trunc(o.microseconds / 1000);
}

/** The `pa_type` a cache recorded for its principal's realm, if any. */
export function cachedPaType(cache: CredentialCache): number | undefined {
  const v = getConfigString(cache, CcacheConfigKey.PA_TYPE, tgsPrincipal(cache.defaultPrincipal.realm));
  return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
}

/** The `refresh_time` a cache recorded, ms since the epoch on the KDC's clock. */
export function cachedRefreshTime(cache: CredentialCache): number | undefined {
  const v = getConfigString(cache, CcacheConfigKey.REFRESH_TIME);
  return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v) * 1000;
}

/** The cache `name`, or undefined when the file does not exist. */
export async function readCcacheIfExists(name: string): Promise<CredentialCache | undefined> {
  try {
    return await readCcache(name);
  } catch (err) {
    if (err instanceof FileAccessError && err.errno === 'ENOENT') return undefined;
    throw err;
  }
}
