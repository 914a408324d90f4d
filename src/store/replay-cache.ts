/**
 * The authenticator replay cache (RFC 4120 §3.2.3, §3.3.3) shared by the KDC
 * (TGS requests) and GSS acceptors (AP-REQs): an authenticator may be used
 * once. Keyed by the full tuple — client, server, ctime, cusec — plus a
 * digest of the authenticator ciphertext, so two different authenticators in
 * the same microsecond are not confused (docs/lessons.md "Acceptor": go-krb5
 * PR #155). The tuple is reduced to one SHA-256 tag, the idea of MIT's file2
 * replay cache: only tags and expiry times are kept, never authenticators.
 *
 * An entry is needed only while its authenticator could pass the skew check:
 * it is kept for 2 × skew from when it was recorded (an authenticator up to
 * one skew ahead of our clock stays acceptable for two skews), then purged.
 * An unexpired entry is never evicted: when the cache is full, seen() throws
 * ReplayCacheFullError and the request is refused — failing closed. A burst
 * beyond maxEntries within 2 × skew is a flood the operator should see.
 *
 * The interface may answer asynchronously, so a cache shared by several nodes
 * (PostgreSQL, later) fits: it needs one atomic insert-if-absent of (tag,
 * expires) and a purge of expired rows.
 */

import { createHash } from 'node:crypto';
import { ReplayCacheFullError } from './errors.js';

export interface ReplayCache {
  /**
   * True if the tuple was seen before (a replay); records it and returns
   * false otherwise. Throws ReplayCacheFullError when it cannot record it.
   */
  seen(tuple: ReplayTuple, now: number): boolean | Promise<boolean>;
}

export interface ReplayTuple {
  readonly client: string;
  readonly server: string;
  readonly ctime: number;
  readonly cusec: number;
  /** The authenticator's ciphertext (hashed, not stored). */
  readonly authenticator: Uint8Array;
}

export interface ReplayCacheOptions {
  readonly clockSkewSeconds: number;
  /** Unexpired entries held at most; beyond it new authenticators are refused. */
  readonly maxEntries: number;
}

/** SHA-256 over the length-prefixed tuple: client, server, ctime, cusec, ciphertext. */
export function replayTag(tuple: ReplayTuple): Buffer {
  const h = createHash('sha256');
  for (const field of [tuple.client, tuple.server, String(tuple.ctime), String(tuple.cusec)]) {
    const bytes = Buffer.from(field, 'utf8');
    h.update(lengthPrefix(bytes.length)).update(bytes);
  }
  return h.update(lengthPrefix(tuple.authenticator.length)).update(tuple.authenticator).digest();
}

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** How long an entry is kept (ms). */
export function replayLifetimeMs(clockSkewSeconds: number): number {
  return 2 * clockSkewSeconds * 1000;
}

export function replayCacheFull(maxEntries: number, clockSkewSeconds: number, where: string): ReplayCacheFullError {
  return new ReplayCacheFullError(`the replay cache${where} holds ${maxEntries} unexpired authenticators and cannot record another; request refused`, {
    hint: `more than ${maxEntries} authenticators arrived within ${2 * clockSkewSeconds} s (2 × clock skew): a flood, or a busy server that needs a larger replayCacheEntries`,
    detail: { maxEntries, lifetimeSeconds: 2 * clockSkewSeconds },
  });
}

/** An in-memory replay cache: lost on restart (use the SQLite one where there is a data directory). */
export class MemoryReplayCache implements ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #lifetimeMs: number;
  readonly #skewSeconds: number;
  readonly #maxEntries: number;

  constructor(options: ReplayCacheOptions) {
    this.#skewSeconds = options.clockSkewSeconds;
    this.#lifetimeMs = replayLifetimeMs(options.clockSkewSeconds);
    this.#maxEntries = options.maxEntries;
  }

  seen(tuple: ReplayTuple, now: number): boolean {
    this.#expire(now);
    const key = replayTag(tuple).toString('base64');
    if (this.#entries.has(key)) return true;
    if (this.#entries.size >= this.#maxEntries) throw replayCacheFull(this.#maxEntries, this.#skewSeconds, '');
    this.#entries.set(key, now + this.#lifetimeMs);
    return false;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Entries expire in insertion order when `now` never goes backwards, so
   * stop at the first live one. (If a clock steps back, later entries expire
   * later than they could: never earlier.)
   */
  #expire(now: number): void {
    for (const [key, expires] of this.#entries) {
      if (expires > now) break;
      this.#entries.delete(key);
    }
  }
}
