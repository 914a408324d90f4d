/**
 * Bounded storage for incomplete handshakes (docs/lessons.md "Connections": bind
 * multi-leg state to the connection). The owner — typically the HTTP layer,
 * keyed by socket — puts a context here between legs; entries expire after
 * `ttlMs` of the injected clock and the table never holds more than
 * `maxEntries` (the oldest are dropped first). Expiry is amortised O(1):
 * every entry has the same lifetime, so they expire in insertion order.
 * Established contexts do not belong here; they live with their session.
 */

import { systemClock, type Clock } from '../core/clock.js';

export interface PendingContextsOptions {
  readonly clock?: Clock;
  /** Default 10 000. */
  readonly maxEntries?: number;
  /** Default 60 s: a handshake leg that takes longer is abandoned. */
  readonly ttlMs?: number;
}

export class PendingContexts<K, V> {
  readonly #entries = new Map<K, { readonly value: V; readonly expires: number }>();
  readonly #clock: Clock;
  readonly #max: number;
  readonly #ttl: number;

  constructor(options: PendingContextsOptions = {}) {
    this.#clock = options.clock ?? systemClock();
    this.#max = options.maxEntries ?? 10_000;
    this.#ttl = options.ttlMs ?? 60_000;
  }

  /** Stores (or replaces) the pending context of `key`, restarting its lifetime. */
  set(key: K, value: V): void {
    this.#expire();
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expires: this.#clock.now() + this.#ttl });
  }

  /** The pending context, or undefined when there is none or it expired. */
  get(key: K): V | undefined {
    this.#expire();
    return this.#entries.get(key)?.value;
  }

  /** Removes and returns the pending context (take it for the next leg, put it back if still incomplete). */
  take(key: K): V | undefined {
    const v = this.get(key);
    this.#entries.delete(key);
    return v;
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  get size(): number {
    this.#expire();
    return this.#entries.size;
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const [key, e] of this.#entries) {
      if (e.expires > now) break;
      this.#entries.delete(key);
    }
  }
}
