/**
 * The authenticator replay cache (RFC 4120 §3.2.3, §3.3.3) shared by the KDC
 * (TGS requests) and GSS acceptors (AP-REQs): an authenticator may be used once. Keyed by the full tuple — client, server,
 * ctime, cusec — plus a digest of the authenticator ciphertext, so two
 * different authenticators in the same microsecond are not confused
 * (LESSONS.md "Acceptor": go-krb5 PR #155). An entry is needed only while its
 * ctime is within the clock skew; older ones fail the skew check anyway.
 */

import { createHash } from 'node:crypto';

export interface ReplayCache {
  /** True if the tuple was seen before (a replay); records it otherwise. */
  seen(tuple: ReplayTuple, now: number): boolean;
}

export interface ReplayTuple {
  readonly client: string;
  readonly server: string;
  readonly ctime: number;
  readonly cusec: number;
  /** The authenticator's ciphertext (hashed, not stored). */
  readonly authenticator: Uint8Array;
}

/** An in-memory replay cache bounded in time (2 × skew) and in entries (oldest dropped first). */
export class MemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #skewMs: number;
  readonly #maxEntries: number;

  constructor(options: { clockSkewSeconds: number; maxEntries: number }) {
    this.#skewMs = options.clockSkewSeconds * 1000;
    this.#maxEntries = options.maxEntries;
  }

  seen(tuple: ReplayTuple, now: number): boolean {
    this.#expire(now);
    const digest = createHash('sha256').update(tuple.authenticator).digest('base64');
    const key = `${tuple.client}\0${tuple.server}\0${tuple.ctime}\0${tuple.cusec}\0${digest}`;
    if (this.#entries.has(key)) return true;
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, now + 2 * this.#skewMs);
    return false;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Entries expire in insertion order (same lifetime for all), so stop at the first live one. */
  #expire(now: number): void {
    for (const [key, expires] of this.#entries) {
      if (expires > now) break;
      this.#entries.delete(key);
    }
  }
}
