/**
 * The event log in a SQLite file of its own (`<realm dir>/events.sqlite`,
 * `<scheduler dir>/events.sqlite`), through node:sqlite or better-sqlite3
 * (sqlite-driver.ts, loaded when the log is opened). WAL with synchronous = NORMAL: an appended
 * batch survives the process being killed, though not necessarily a power
 * failure — the log is not the principal database. Readers in other
 * processes (`kerbside events --follow`) see each commit at once.
 * `seq` is an AUTOINCREMENT key, so a purge never lets a cursor see a seq twice.
 * The records' total size is kept in `events_total`, updated in the same
 * transactions, so a retention check costs one row read, and a purge by
 * size reads only the rows it deletes.
 */

import { resolve } from 'node:path';
import { StoreClosedError } from './errors.js';
import {
  checkEventQuery, checkEventRecords, eventRecordSize, type EventLevel, type EventLogStore, type EventPage, type EventPurge,
  type EventQuery, type EventRecord, type EventRecordData, type NewEventRecord,
} from './event-log.js';
import { openWalDatabase, unavailable } from './sqlite.js';
import type { SqliteDatabase, SqliteDriverName } from './sqlite-driver.js';

type Database = SqliteDatabase;

export interface SqliteEventLogOptions {
  /** The SQLite file (created with its directory if missing, mode 0600). */
  readonly path: string;
  /** How long a write waits for another process's write lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Which SQLite driver (default: node:sqlite when this Node has it, else better-sqlite3). */
  readonly driver?: SqliteDriverName;
}

/** What openSqliteEventLog returns (no driver types in the published typings). */
export interface SqliteEventLog extends EventLogStore {
  readonly path: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  time      INTEGER NOT NULL,   -- ms since the epoch
  level     TEXT    NOT NULL,   -- EventLevel
  source    TEXT    NOT NULL,
  category  TEXT    NOT NULL,
  event_id  INTEGER NOT NULL,
  type      TEXT    NOT NULL,
  user      TEXT,
  computer  TEXT    NOT NULL,
  message   TEXT    NOT NULL,
  data      TEXT    NOT NULL,   -- JSON object
  size      INTEGER NOT NULL    -- eventRecordSize, for retention by size
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE INDEX IF NOT EXISTS events_event_id ON events (event_id, seq);
CREATE INDEX IF NOT EXISTS events_source ON events (source, seq);
CREATE INDEX IF NOT EXISTS events_user ON events (user, seq);
-- The sum of events.size, kept with every append and purge so retention need not scan the table.
CREATE TABLE IF NOT EXISTS events_total (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL);
INSERT OR IGNORE INTO events_total (id, bytes) SELECT 1, COALESCE(SUM(size), 0) FROM events;
`;

interface Row {
  seq: number; time: number; level: string; source: string; category: string; event_id: number; type: string;
  user: string | null; computer: string; message: string; data: string;
}

function fromRow(r: Row): EventRecord {
  return Object.freeze({
    seq: r.seq, time: r.time, level: r.level as EventLevel, source: r.source, category: r.category, eventId: r.event_id,
    type: r.type, user: r.user, computer: r.computer, message: r.message, data: Object.freeze(JSON.parse(r.data) as EventRecordData),
  });
}

/** WHERE clause and parameters for the filters of a query (not the cursor). */
function where(q: EventQuery): { sql: string[]; params: unknown[] } {
  const sql: string[] = [];
  const params: unknown[] = [];
  const anyOf = (column: string, values: readonly unknown[] | undefined): void => {
    if (values === undefined) return;
    if (values.length === 0) { sql.push('0'); return; }
    sql.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  if (q.since !== undefined) { sql.push('time >= ?'); params.push(q.since); }
  if (q.until !== undefined) { sql.push('time < ?'); params.push(q.until); }
  anyOf('event_id', q.eventIds);
  anyOf('source', q.sources);
  anyOf('level', q.levels);
  anyOf('type', q.types);
  if (q.user !== undefined) {
    // eventUserMatches: exact, NAME@REALM, DOMAIN\NAME (substr, not LIKE: names are case-sensitive).
    sql.push('(user = ? OR substr(user, 1, ?) = ? OR substr(user, -?) = ?)');
    params.push(q.user, q.user.length + 1, `${q.user}@`, q.user.length + 1, `\\${q.user}`);
  }
  return { sql, params };
}

export async function openSqliteEventLog(options: SqliteEventLogOptions): Promise<SqliteEventLog> {
  const path = resolve(options.path);
  const db = await openWalDatabase(path, options.busyTimeoutMs ?? 5000, 'NORMAL', options.driver);
  try {
    db.exec(SCHEMA);
    return new SqliteEventLogImpl(db, path);
  } catch (err) {
    db.close();
    throw unavailable(err, path);
  }
}

class SqliteEventLogImpl implements SqliteEventLog {
  readonly path: string;
  readonly #db: Database;
  readonly #insert;
  readonly #sql;
  #closed = false;

  constructor(db: Database, path: string) {
    this.#db = db;
    this.path = path;
    this.#insert = db.prepare(`INSERT INTO events (time, level, source, category, event_id, type, user, computer, message, data, size)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.#sql = {
      addBytes: db.prepare('UPDATE events_total SET bytes = bytes + ? WHERE id = 1'),
      bytes: db.prepare('SELECT bytes FROM events_total WHERE id = 1').pluck<number>(),
    };
  }

  #run<T>(body: () => T): T {
    if (this.#closed) throw new StoreClosedError(`the event log ${this.path}`);
    try {
      return body();
    } catch (err) {
      throw unavailable(err, this.path);
    }
  }

  async append(records: readonly NewEventRecord[]): Promise<void> {
    checkEventRecords(records);
    this.#run(() => this.#db.transaction('immediate', () => {
      let bytes = 0;
      for (const r of records) {
        const size = eventRecordSize(r);
        bytes += size;
        this.#insert.run(r.time, r.level, r.source, r.category, r.eventId, r.type, r.user, r.computer, r.message, JSON.stringify(r.data), size);
      }
      this.#sql.addBytes.run(bytes);
    }));
  }

  async query(q: EventQuery = {}): Promise<EventPage> {
    const limit = checkEventQuery(q);
    const desc = q.order === 'desc';
    const { sql, params } = where(q);
    if (q.after !== undefined) { sql.push('seq > ?'); params.push(q.after); }
    if (q.before !== undefined) { sql.push('seq < ?'); params.push(q.before); }
    const rows = this.#run(() => this.#db.prepare<Row>(
      `SELECT * FROM events${sql.length === 0 ? '' : ` WHERE ${sql.join(' AND ')}`} ORDER BY seq ${desc ? 'DESC' : 'ASC'} LIMIT ?`,
    ).all(...params, limit + 1));
    const more = rows.length > limit;
    const records = rows.slice(0, limit).map(fromRow);
    return { records, cursor: records.at(-1)?.seq ?? q.after ?? q.before ?? 0, more };
  }

  async purge(p: EventPurge): Promise<number> {
    return this.#run(() => this.#db.transaction('immediate', (): number => {
      let cut = 0;
      if (p.olderThan !== undefined) {
        const bytes = this.#db.prepare('SELECT COALESCE(SUM(size), 0) FROM events WHERE time < ?').pluck<number>().get(p.olderThan) ?? 0;
        cut += this.#db.prepare('DELETE FROM events WHERE time < ?').run(p.olderThan).changes;
        this.#sql.addBytes.run(-bytes);
      }
      if (p.maxBytes !== undefined) {
        const excess = (this.#sql.bytes.get() ?? 0) - p.maxBytes;
        if (excess > 0) {
          // Oldest first until enough is freed: reads only the rows that go.
          let freed = 0;
          let last = 0;
          for (const row of this.#db.prepare<{ seq: number; size: number }>('SELECT seq, size FROM events ORDER BY seq').iterate()) {
            freed += row.size;
            last = row.seq;
            if (freed >= excess) break;
          }
          cut += this.#db.prepare('DELETE FROM events WHERE seq <= ?').run(last).changes;
          this.#sql.addBytes.run(-freed);
        }
      }
      return cut;
    }));
  }

  async count(q: EventQuery = {}): Promise<number> {
    const { sql, params } = where(q);
    return this.#run(() => this.#db.prepare(
      `SELECT COUNT(*) FROM events${sql.length === 0 ? '' : ` WHERE ${sql.join(' AND ')}`}`,
    ).pluck<number>().get(...params) ?? 0);
  }

  async size(): Promise<number> {
    return this.#run(() => this.#sql.bytes.get() ?? 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
