/**
 * A replay cache that survives restarts (see replay-cache.ts): tags and
 * expiry times in a `replay_tags` table of a SQLite file — the realm's own
 * principal database for the KDC, or a file of its own for an HTTP acceptor.
 * MIT's file2 replay cache keeps the same facts (a hash of the authenticator
 * ciphertext and a time) for the same reason: an authenticator accepted just
 * before a restart must not be accepted again just after it.
 *
 * Its own connection, with `synchronous = NORMAL` in WAL mode: a recorded tag
 * survives the process being killed (the commit is in the WAL), though not
 * necessarily a power failure — the principal store's writes keep FULL. The
 * insert-if-absent is one IMMEDIATE transaction, so two KDC processes on one
 * file never both accept an authenticator. The entry count is re-read when
 * expired rows are purged (at most once a second, and before refusing).
 */

import { resolve } from 'node:path';
import { StoreClosedError } from './errors.js';
import { replayCacheFull, replayLifetimeMs, replayTag, type ReplayCache, type ReplayCacheOptions, type ReplayTuple } from './replay-cache.js';
import { openWalDatabase, unavailable } from './sqlite.js';
import type { SqliteDatabase, SqliteDriverName } from './sqlite-driver.js';

type Database = SqliteDatabase;

export interface SqliteReplayCacheOptions extends ReplayCacheOptions {
  /** The SQLite file (created with its directory if missing, mode 0600); may be the principal database. */
  readonly path: string;
  /** How long a write waits for another process's write lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Which SQLite driver (default: node:sqlite when this Node has it, else better-sqlite3). */
  readonly driver?: SqliteDriverName;
}

/** What openSqliteReplayCache returns (no driver types in the published typings). */
export interface SqliteReplayCache extends ReplayCache {
  seen(tuple: ReplayTuple, now: number): boolean;
  /** Unexpired entries as last counted. */
  readonly size: number;
  readonly path: string;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS replay_tags (
  tag      BLOB PRIMARY KEY,      -- SHA-256 of the authenticator tuple (replay-cache.ts replayTag)
  expires  INTEGER NOT NULL       -- ms since the epoch
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_tags_expires ON replay_tags (expires);
`;

const PURGE_INTERVAL_MS = 1000;

export async function openSqliteReplayCache(options: SqliteReplayCacheOptions): Promise<SqliteReplayCache> {
  const path = resolve(options.path);
  const db = await openWalDatabase(path, options.busyTimeoutMs ?? 5000, 'NORMAL', options.driver);
  try {
    db.exec(SCHEMA);
    return new SqliteReplayCacheImpl(db, path, options);
  } catch (err) {
    db.close();
    throw unavailable(err, path);
  }
}

class SqliteReplayCacheImpl implements SqliteReplayCache {
  readonly path: string;
  readonly #db: Database;
  readonly #maxEntries: number;
  readonly #skewSeconds: number;
  readonly #lifetimeMs: number;
  readonly #sql;
  #count = 0;
  #nextPurge = -Infinity;
  #closed = false;

  constructor(db: Database, path: string, options: ReplayCacheOptions) {
    this.#db = db;
    this.path = path;
    this.#maxEntries = options.maxEntries;
    this.#skewSeconds = options.clockSkewSeconds;
    this.#lifetimeMs = replayLifetimeMs(options.clockSkewSeconds);
    this.#sql = {
      get: db.prepare('SELECT expires FROM replay_tags WHERE tag = ?').pluck<number>(),
      put: db.prepare('INSERT INTO replay_tags (tag, expires) VALUES (?, ?) ON CONFLICT (tag) DO UPDATE SET expires = excluded.expires'),
      purge: db.prepare('DELETE FROM replay_tags WHERE expires <= ?'),
      count: db.prepare('SELECT COUNT(*) FROM replay_tags').pluck<number>(),
    };
  }

  get size(): number {
    return this.#count;
  }

  seen(tuple: ReplayTuple, now: number): boolean {
    if (this.#closed) throw new StoreClosedError(`the replay cache ${this.path}`);
    const tag = replayTag(tuple);
    try {
      return this.#db.transaction('immediate', (): boolean => {
        if (now >= this.#nextPurge) this.#purge(now);
        const expires = this.#sql.get.get(tag);
        if (expires !== undefined && expires > now) return true;
        if (this.#count >= this.#maxEntries) {
          this.#purge(now); // another process may have purged, or entries just expired
          if (this.#count >= this.#maxEntries) throw replayCacheFull(this.#maxEntries, this.#skewSeconds, ` ${this.path}`);
        }
        this.#sql.put.run(tag, now + this.#lifetimeMs);
        if (expires === undefined) this.#count++;
        return false;
      });
    } catch (err) {
      throw unavailable(err, this.path);
    }
  }

  #purge(now: number): void {
    this.#sql.purge.run(now);
    this.#count = this.#sql.count.get() ?? 0;
    this.#nextPurge = now + PURGE_INTERVAL_MS;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
