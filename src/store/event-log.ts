/**
 * The persistent event log (docs/events.md "The event log"): typed records
 * shaped like a Windows event log entry — time, level, source, category,
 * event id, user, computer, message and structured data — in a store that
 * can be appended to in batches, queried with filters and a cursor (for
 * paging and `kerbside events --follow`), purged by age and size, and
 * counted. Two backends here (memory, SQLite), one conformance suite
 * (event-log-conformance.ts) that a PostgreSQL backend will pass too.
 */

import { InvalidArgumentError } from '../core/errors.js';
import { StoreClosedError } from './errors.js';

/** Windows' levels, audit outcomes included (Security log keywords "Audit Success" / "Audit Failure"). */
export type EventLevel = 'error' | 'warning' | 'information' | 'audit_success' | 'audit_failure';

export const EVENT_LEVELS: readonly EventLevel[] = Object.freeze(['error', 'warning', 'information', 'audit_success', 'audit_failure']);

/** Structured data of a record (the event's fields: already redacted, never a secret). */
export type EventRecordData = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

/** A record as it is appended. */
export interface NewEventRecord {
  /** ms since the epoch. */
  readonly time: number;
  readonly level: EventLevel;
  /** The component that wrote it: 'kerbside-kdc', 'kerbside-http', 'kerbside-client', 'kerbside-scheduler', … */
  readonly source: string;
  /** Windows' task category, e.g. 'Kerberos Authentication Service'. */
  readonly category: string;
  /** Windows-shaped event id (4768, 4771, 40960, 100…); 0 when the type has none. */
  readonly eventId: number;
  /** kerbside's own dotted type ('kdc.request'), the finer key. */
  readonly type: string;
  /** The account the event is about (a principal, or DOMAIN\user), when there is one. */
  readonly user: string | null;
  /** The host that wrote it. */
  readonly computer: string;
  readonly message: string;
  readonly data: EventRecordData;
}

/** A stored record: `seq` is assigned by the store, increases with every append and is never reused. */
export interface EventRecord extends NewEventRecord {
  readonly seq: number;
}

export interface EventQuery {
  /** time >= since (ms). */
  readonly since?: number;
  /** time < until (ms). */
  readonly until?: number;
  /** Any of these event ids. */
  readonly eventIds?: readonly number[];
  readonly sources?: readonly string[];
  readonly levels?: readonly EventLevel[];
  readonly types?: readonly string[];
  /** Matches the user exactly, or its name before '@' (alice matches alice@EXAMPLE.TEST), or after '\' (DOMAIN\alice). */
  readonly user?: string;
  /** Cursor: only records with seq > after (ascending order) … */
  readonly after?: number;
  /** … or seq < before (descending order). */
  readonly before?: number;
  /** 'asc' (oldest first, the default) or 'desc' (newest first). */
  readonly order?: 'asc' | 'desc';
  /** At most this many records (default 1000, at most 10 000). */
  readonly limit?: number;
}

export interface EventPage {
  readonly records: readonly EventRecord[];
  /** The seq of the last record returned (or the cursor given, or 0): pass it as `after`/`before` for the next page. */
  readonly cursor: number;
  /** True when the limit cut the page short. */
  readonly more: boolean;
}

export interface EventPurge {
  /** Delete records with time < olderThan (ms). */
  readonly olderThan?: number;
  /** Then delete the oldest records until the records' size (eventRecordSize) sums to at most this many bytes. */
  readonly maxBytes?: number;
}

export interface EventLogStore {
  /** Appends records in one transaction, in order; resolves once they are stored. */
  append(records: readonly NewEventRecord[]): Promise<void>;
  query(query?: EventQuery): Promise<EventPage>;
  /** Returns how many records were deleted. */
  purge(purge: EventPurge): Promise<number>;
  /** Records matching the filters (cursor and limit ignored). */
  count(query?: EventQuery): Promise<number>;
  /** Bytes of records held (sum of eventRecordSize). */
  size(): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_EVENT_QUERY_LIMIT = 1000;
export const MAX_EVENT_QUERY_LIMIT = 10_000;

/**
 * The size a record counts for in `maxBytes`: its UTF-8 JSON length. The same
 * in every backend, so retention means the same thing; a SQLite file is
 * larger by its indexes (about 1.5×–2×).
 */
export function eventRecordSize(r: NewEventRecord): number {
  return Buffer.byteLength(JSON.stringify([r.time, r.level, r.source, r.category, r.eventId, r.type, r.user, r.computer, r.message, r.data]), 'utf8');
}

/** Checks a query; returns the effective limit. */
export function checkEventQuery(q: EventQuery): number {
  if (q.after !== undefined && q.before !== undefined) throw new InvalidArgumentError('an event query takes either after or before, not both');
  if (q.levels !== undefined) {
    for (const l of q.levels) if (!EVENT_LEVELS.includes(l)) throw new InvalidArgumentError(`event level "${String(l)}" is not one of ${EVENT_LEVELS.join(', ')}`);
  }
  const limit = q.limit ?? DEFAULT_EVENT_QUERY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENT_QUERY_LIMIT) {
    throw new InvalidArgumentError(`event query limit ${String(limit)} is not a whole number from 1 to ${MAX_EVENT_QUERY_LIMIT}`);
  }
  return limit;
}

/** The user filter's rule (see EventQuery.user), shared by the backends. */
export function eventUserMatches(user: string | null, wanted: string): boolean {
  if (user === null) return false;
  return user === wanted || user.startsWith(`${wanted}@`) || user.endsWith(`\\${wanted}`);
}

function checkRecord(r: NewEventRecord): void {
  if (!Number.isSafeInteger(r.time)) throw new InvalidArgumentError(`event record time ${String(r.time)} is not a whole number of ms`);
  if (!EVENT_LEVELS.includes(r.level)) throw new InvalidArgumentError(`event record level "${String(r.level)}" is not one of ${EVENT_LEVELS.join(', ')}`);
  if (!Number.isSafeInteger(r.eventId) || r.eventId < 0) throw new InvalidArgumentError(`event record id ${String(r.eventId)} is not a whole number`);
}

/** Validates records before a backend stores them. */
export function checkEventRecords(records: readonly NewEventRecord[]): void {
  for (const r of records) checkRecord(r);
}

function matches(r: EventRecord, q: EventQuery): boolean {
  return (q.since === undefined || r.time >= q.since)
    && (q.until === undefined || r.time < q.until)
    && (q.eventIds === undefined || q.eventIds.includes(r.eventId))
    && (q.sources === undefined || q.sources.includes(r.source))
    && (q.levels === undefined || q.levels.includes(r.level))
    && (q.types === undefined || q.types.includes(r.type))
    && (q.user === undefined || eventUserMatches(r.user, q.user));
}

/** An in-memory event log, for tests and for apps that want a bounded log without SQLite. */
export class MemoryEventLogStore implements EventLogStore {
  readonly #records: { record: EventRecord; size: number }[] = [];
  #seq = 0;
  #bytes = 0;
  #closed = false;

  #open(): void {
    if (this.#closed) throw new StoreClosedError('the in-memory event log');
  }

  async append(records: readonly NewEventRecord[]): Promise<void> {
    this.#open();
    checkEventRecords(records);
    for (const r of records) {
      const record = Object.freeze({ ...r, data: Object.freeze({ ...r.data }), seq: ++this.#seq });
      const size = eventRecordSize(r);
      this.#records.push({ record, size });
      this.#bytes += size;
    }
  }

  async query(q: EventQuery = {}): Promise<EventPage> {
    this.#open();
    const limit = checkEventQuery(q);
    const desc = q.order === 'desc';
    const out: EventRecord[] = [];
    let more = false;
    const n = this.#records.length;
    for (let i = 0; i < n; i++) {
      const { record } = this.#records[desc ? n - 1 - i : i]!;
      if (q.after !== undefined && record.seq <= q.after) continue;
      if (q.before !== undefined && record.seq >= q.before) continue;
      if (!matches(record, q)) continue;
      if (out.length === limit) { more = true; break; }
      out.push(record);
    }
    return { records: out, cursor: out.at(-1)?.seq ?? q.after ?? q.before ?? 0, more };
  }

  async purge(p: EventPurge): Promise<number> {
    this.#open();
    let cut = 0;
    if (p.olderThan !== undefined) {
      const olderThan = p.olderThan;
      const keep = this.#records.filter((e) => e.record.time >= olderThan);
      cut = this.#records.length - keep.length;
      this.#records.splice(0, this.#records.length, ...keep);
    }
    if (p.maxBytes !== undefined) {
      let bytes = this.#records.reduce((s, e) => s + e.size, 0);
      let i = 0;
      while (bytes > p.maxBytes && i < this.#records.length) bytes -= this.#records[i++]!.size;
      this.#records.splice(0, i);
      cut += i;
    }
    this.#bytes = this.#records.reduce((s, e) => s + e.size, 0);
    return cut;
  }

  async count(q: EventQuery = {}): Promise<number> {
    this.#open();
    return this.#records.filter((e) => matches(e.record, q)).length;
  }

  async size(): Promise<number> {
    this.#open();
    return this.#bytes;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
