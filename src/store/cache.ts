/**
 * The KDC's hot-path view of the principal database (docs/architecture.md "Storage": an
 * in-process cache with explicit invalidation, not a query per request).
 *
 * Lookups are served from memory, including "no such principal". Entries are
 * dropped immediately on writes made through the cache, and for writes made
 * elsewhere (the CLI in another process) by polling the store's change log
 * every `pollIntervalMs` of the injected Clock — so another process's change
 * is seen within one poll interval. If a poll fails the cache keeps serving
 * what it has and reports the error to `onError`.
 *
 * Records served from the cache are frozen and shared between callers; their
 * key bytes must not be modified (copy before wiping).
 */

import type { Clock, TimerHandle } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import type {
  ChangeBatch, KeyMaterial, ListOptions, ListPage, MetaValue, NewPrincipal, PrincipalPatch, PrincipalRecord,
  PrincipalStore, PurgeKeysOptions, SetKeysOptions, StoredKey,
} from './types.js';

export interface PrincipalCacheOptions {
  readonly clock: Clock;
  /** How often to poll the change log, in ms of the clock (default 1000). */
  readonly pollIntervalMs?: number;
  /** Most principals (and misses) kept; least recently used go first (default 10 000). */
  readonly maxEntries?: number;
  /** Called when a poll of the change log fails. */
  readonly onError?: (error: unknown) => void;
}

export interface PrincipalCacheStats {
  hits: number;
  misses: number;
  /** Entries dropped because their principal or meta key changed (or on a reset). */
  invalidations: number;
  polls: number;
}

type Lookup<T> = { readonly value: T };

export class PrincipalCache implements PrincipalStore {
  readonly stats: PrincipalCacheStats = { hits: 0, misses: 0, invalidations: 0, polls: 0 };
  readonly #store: PrincipalStore;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #max: number;
  readonly #onError: (error: unknown) => void;
  readonly #principals = new Map<string, Lookup<PrincipalRecord | undefined>>();
  readonly #meta = new Map<string, Lookup<MetaValue | undefined>>();
  /** Bumped on every invalidation: a lookup that started earlier must not fill the cache. */
  #epoch = 0;
  #seq: number;
  #timer: TimerHandle | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  private constructor(store: PrincipalStore, options: PrincipalCacheOptions, seq: number) {
    this.#store = store;
    this.#clock = options.clock;
    this.#interval = options.pollIntervalMs ?? 1000;
    this.#max = options.maxEntries ?? 10_000;
    this.#onError = options.onError ?? (() => {});
    if (!(this.#interval > 0)) throw new InvalidArgumentError('pollIntervalMs must be positive');
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new InvalidArgumentError('maxEntries must be a positive integer');
    this.#seq = seq;
  }

  /** Wraps `store` and starts polling its change log. */
  static async open(store: PrincipalStore, options: PrincipalCacheOptions): Promise<PrincipalCache> {
    const cache = new PrincipalCache(store, options, await store.changeSeq());
    cache.#schedule();
    return cache;
  }

  /** The wrapped store (uncached). */
  get store(): PrincipalStore {
    return this.#store;
  }

  async get(name: string): Promise<PrincipalRecord | undefined> {
    return this.#lookup(this.#principals, name, async () => freezeRecord(await this.#store.get(name)));
  }

  async getMeta(key: string): Promise<MetaValue | undefined> {
    return this.#lookup(this.#meta, key, () => this.#store.getMeta(key));
  }

  /** Reads the change log now and drops what changed (the timer does this every interval). */
  async poll(): Promise<void> {
    // One poll at a time; a caller arriving during a poll waits for it and then polls again,
    // so it sees every change committed before it called.
    while (this.#polling !== undefined) await this.#polling.catch(() => {});
    this.#polling = this.#pollOnce();
    try {
      await this.#polling;
    } finally {
      this.#polling = undefined;
    }
  }

  /** Drops one principal, or everything when no name is given. */
  invalidate(name?: string): void {
    this.#epoch++;
    if (name === undefined) {
      this.stats.invalidations += this.#principals.size + this.#meta.size;
      this.#principals.clear();
      this.#meta.clear();
    } else if (this.#principals.delete(name)) {
      this.stats.invalidations++;
    }
  }

  /** Stops polling; the cache still answers (from the store) but no longer learns of outside changes. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** Stops polling and closes the wrapped store. */
  async close(): Promise<void> {
    this.stop();
    await this.#store.close();
  }

  // Writes go to the store, then drop the cached entry (before returning, so
  // the writer's next read sees its own write).

  async create(principal: NewPrincipal): Promise<PrincipalRecord> {
    return this.#wrote(principal.name, () => this.#store.create(principal));
  }

  async update(name: string, patch: PrincipalPatch): Promise<PrincipalRecord> {
    return this.#wrote(name, () => this.#store.update(name, patch));
  }

  async setKeys(name: string, keys: readonly KeyMaterial[], options?: SetKeysOptions): Promise<PrincipalRecord> {
    return this.#wrote(name, () => this.#store.setKeys(name, keys, options));
  }

  async replaceKeyBytes(name: string, replace: (key: StoredKey) => Uint8Array | undefined): Promise<PrincipalRecord> {
    return this.#wrote(name, () => this.#store.replaceKeyBytes(name, replace));
  }

  async purgeKeys(name: string, options: PurgeKeysOptions): Promise<PrincipalRecord> {
    return this.#wrote(name, () => this.#store.purgeKeys(name, options));
  }

  async delete(name: string): Promise<void> {
    return this.#wrote(name, () => this.#store.delete(name));
  }

  async setMeta(key: string, value: MetaValue): Promise<void> {
    return this.#wroteMeta(key, () => this.#store.setMeta(key, value));
  }

  async deleteMeta(key: string): Promise<void> {
    return this.#wroteMeta(key, () => this.#store.deleteMeta(key));
  }

  list(options?: ListOptions): Promise<ListPage> {
    return this.#store.list(options);
  }

  changeSeq(): Promise<number> {
    return this.#store.changeSeq();
  }

  changesSince(seq: number): Promise<ChangeBatch> {
    return this.#store.changesSince(seq);
  }

  async #lookup<T>(map: Map<string, Lookup<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    if (hit !== undefined) {
      this.stats.hits++;
      map.delete(key); // re-insert: Map order is our LRU order
      map.set(key, hit);
      return hit.value;
    }
    this.stats.misses++;
    const epoch = this.#epoch;
    const value = await load();
    if (epoch === this.#epoch) {
      map.set(key, { value });
      if (map.size > this.#max) map.delete(map.keys().next().value!);
    }
    return value;
  }

  async #wrote<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.invalidate(name);
    }
  }

  async #wroteMeta<T>(key: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.#epoch++;
      if (this.#meta.delete(key)) this.stats.invalidations++;
    }
  }

  async #pollOnce(): Promise<void> {
    const batch = await this.#store.changesSince(this.#seq);
    this.stats.polls++;
    if (batch.reset) {
      this.invalidate();
    } else {
      for (const name of batch.principals) this.invalidate(name);
      if (batch.meta.length > 0) {
        this.#epoch++;
        for (const key of batch.meta) if (this.#meta.delete(key)) this.stats.invalidations++;
      }
    }
    this.#seq = batch.seq;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(this.#interval, () => {
      this.poll().catch((err: unknown) => this.#onError(err)).finally(() => this.#schedule());
    });
  }
}

/** Freezes a record and its parts (not the key bytes: typed arrays cannot be frozen). */
function freezeRecord(r: PrincipalRecord | undefined): PrincipalRecord | undefined {
  if (r === undefined) return undefined;
  for (const k of r.keys) {
    if (k.salt !== undefined) Object.freeze(k.salt);
    Object.freeze(k);
  }
  Object.freeze(r.keys);
  if (r.ntlmCredential !== undefined) Object.freeze(r.ntlmCredential);
  if (r.allowedEnctypes !== undefined) Object.freeze(r.allowedEnctypes);
  return Object.freeze(r);
}
