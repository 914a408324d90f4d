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

interface MemoryEventLogData {
  records: { record: EventRecord; size: number }[];
  seq: number;
  bytes: number;
}

/** An in-memory event log, for tests and for apps that want a bounded log without SQLite. */
export class MemoryEventLogStore implements EventLogStore {
  readonly #d: MemoryEventLogData;
  #closed = false;

  constructor(shared?: MemoryEventLogData) {
    this.#d = shared ?? { records: [], seq: 0, bytes: 0 };
  }

  /** Another handle on the same records (as a second SQLite connection is); closed independently. */
  connect(): MemoryEventLogStore {
    return new MemoryEventLogStore(this.#d);
  }

  #open(): MemoryEventLogData {
    if (this.#closed) throw new StoreClosedError('the in-memory event log');
    return this.#d;
  }

  async append(records: readonly NewEventRecord[]): Promise<void> {
    const d = this.#open();
    checkEventRecords(records);
    for (const r of records) {
      const record = Object.freeze({ ...r, data: Object.freeze({ ...r.data }), seq: ++d.seq });
      const size = eventRecordSize(r);
      d.records.push({ record, size });
      d.bytes += size;
    }
  }

  async query(q: EventQuery = {}): Promise<EventPage> {
    const d = this.#open();
    const limit = checkEventQuery(q);
    const desc = q.order === 'desc';
    const out: EventRecord[] = [];
    let more = false;
    const n = d.records.length;
    for (let i = 0; i < n; i++) {
      const { record } = d.records[desc ? n - 1 - i : i]!;
      if (q.after !== undefined && record.seq <= q.after) continue;
      if (q.before !== undefined && record.seq >= q.before) continue;
      if (!matches(record, q)) continue;
      if (out.length === limit) { more = true; break; }
      out.push(record);
    }
    return { records: out, cursor: out.at(-1)?.seq ?? q.after ?? q.before ?? 0, more };
  }

  async purge(p: EventPurge): Promise<number> {
    const d = this.#open();
    const before = d.records.length;
    if (p.olderThan !== undefined) {
      const olderThan = p.olderThan;
      d.records = d.records.filter((e) => e.record.time >= olderThan);
      d.bytes = d.records.reduce((sum, e) => sum + e.size, 0);
    }
    if (p.maxBytes !== undefined) {
      let i = 0;
      while (d.bytes > p.maxBytes && i < d.records.length) d.bytes -= d.records[i++]!.size;
      d.records.splice(0, i);
    }
    return before - d.records.length;
  }

  async count(q: EventQuery = {}): Promise<number> {
    return this.#open().records.filter((e) => matches(e.record, q)).length;
  }

  async size(): Promise<number> {
    return this.#open().bytes;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
