/**
 * The lookaside cache (MIT src/kdc/replay.c): a client that retransmits an
 * identical request (UDP loss, an impatient retry) gets the reply it was
 * already sent instead of a second ticket — or a replay error for the TGS
 * authenticator it just used. Keyed by a SHA-256 of the request bytes; O(1)
 * lookups; bounded by an entry count and a byte cap; entries expire by the
 * injected Clock. A request still being processed is shared, not re-run
 * (up to `maxPending` of them; beyond, requests are processed unshared).
 */

import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { LookasidePolicy } from './config.js';

interface Entry {
  /** Clock time the reply was stored. */
  readonly stored: number;
  readonly reply: Uint8Array;
  readonly size: number;
}

export interface LookasideStats {
  readonly entries: number;
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  /** Requests in progress that a retransmit can share. */
  readonly pending: number;
  /** Requests processed without sharing because `maxPending` were in progress. */
  readonly unshared: number;
}

function keyOf(request: Uint8Array): string {
  return createHash('sha256').update(request).digest('base64');
}

/** Per-entry bookkeeping counted against the byte cap besides the reply itself. */
const ENTRY_OVERHEAD = 96;

export class LookasideCache {
  readonly #clock: Clock;
  readonly #policy: LookasidePolicy;
  /** Insertion order = age order, so expiry and eviction pop from the front. */
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<Uint8Array | undefined>>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #unshared = 0;

  constructor(clock: Clock, policy: LookasidePolicy) {
    this.#clock = clock;
    this.#policy = policy;
  }

  /**
   * The cached reply for `request`, or the result of `compute()` (stored when
   * it is a reply; silence is not cached). `hit` tells whether the reply came
   * from the cache (or from an identical request still in flight).
   */
  async lookup(
    request: Uint8Array,
    compute: () => Promise<Uint8Array | undefined>,
  ): Promise<{ reply: Uint8Array | undefined; hit: boolean }> {
    const key = keyOf(request);
    const cached = this.#get(key);
    if (cached !== undefined) {
      this.#hits++;
      return { reply: cached, hit: true };
    }
    const inFlight = this.#pending.get(key);
    if (inFlight !== undefined) {
      this.#hits++;
      return { reply: await inFlight, hit: true };
    }
    this.#misses++;
    const promise = compute();
    if (this.#pending.size >= this.#policy.maxPending) {
      this.#unshared++;
      const reply = await promise;
      if (reply !== undefined) this.#put(key, reply);
      return { reply, hit: false };
    }
    this.#pending.set(key, promise);
    try {
      const reply = await promise;
      if (reply !== undefined) this.#put(key, reply);
      return { reply, hit: false };
    } finally {
      this.#pending.delete(key);
    }
  }

  /** Drops the reply stored for `request` (e.g. a transient failure a retry should not see again). */
  forget(request: Uint8Array): void {
    const key = keyOf(request);
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#remove(key, entry);
  }

  stats(): LookasideStats {
    this.#expire();
    return {
      entries: this.#entries.size, bytes: this.#bytes, hits: this.#hits, misses: this.#misses, evictions: this.#evictions,
      pending: this.#pending.size, unshared: this.#unshared,
    };
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #get(key: string): Uint8Array | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#isExpired(entry)) {
      this.#expire();
      return undefined;
    }
    return entry.reply;
  }

  #put(key: string, reply: Uint8Array): void {
    if (this.#policy.lifetimeMs === 0) return;
    const size = reply.length + ENTRY_OVERHEAD;
    if (size > this.#policy.maxBytes) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(key, old);
    this.#expire();
    while (this.#entries.size >= this.#policy.maxEntries || this.#bytes + size > this.#policy.maxBytes) {
      const oldest = this.#entries.entries().next();
      if (oldest.done === true) break;
      this.#remove(oldest.value[0], oldest.value[1]);
      this.#evictions++;
    }
    this.#entries.set(key, { stored: this.#clock.now(), reply, size });
    this.#bytes += size;
  }

  #isExpired(entry: Entry): boolean {
    const age = this.#clock.now() - entry.stored;
    // A clock stepped backwards also ends an entry's life: it cannot be trusted.
    return age >= this.#policy.lifetimeMs || age < 0;
  }

  /** Drops expired entries from the front; stops at the first live one (entries age in order). */
  #expire(): void {
    for (const [key, entry] of this.#entries) {
      if (!this.#isExpired(entry)) break;
      this.#remove(key, entry);
    }
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.size;
  }
}
