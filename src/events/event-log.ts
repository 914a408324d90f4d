/**
 * The sink that writes events to the persistent event log (docs/events.md
 * "The event log"). Each event becomes one record through the catalogue
 * (eventLogShape: Windows id, level, source, category). Writes are batched:
 * events emitted while a write is in flight go in the next batch, so a busy
 * KDC makes one transaction per batch, not per event.
 *
 * The sink never throws into and never waits for the code that emits: emit()
 * only queues. A store that fails loses that batch, a store that stalls lets
 * the queue fill to `maxQueued` and later events are dropped; both are
 * counted (`dropped`) and told to the last resort (process.emitWarning, code
 * KERBSIDE_EVENT_SINK_FAILED) at the first loss and then at most once per
 * interval, and — once the store takes writes again — recorded in the log
 * itself as an `events.sink_failed` record, so the gap is visible there.
 *
 * Retention (age and size) runs on the write path, at most once per
 * `retention.checkIntervalMs` by the injected Clock: no timer of its own.
 */

import { hostname } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { openSqliteEventLog, type EventLogStore, type NewEventRecord, type SqliteEventLog } from '../store/index.js';
import { eventLogShape } from './catalogue.js';
import { defaultLastResort, errorText } from './isolate.js';
import { redactEvent } from './redact.js';
import type { EventSeverity, EventSink, KerbsideEvent } from './types.js';

export interface EventLogRetention {
  /** Records older than this are purged (ms; default 90 days; 0 = no age limit). */
  readonly maxAgeMs?: number;
  /** The oldest records are purged while the log holds more (bytes, eventRecordSize; default 100 MB; 0 = no size limit). */
  readonly maxBytes?: number;
  /** How often retention is applied, on a write (ms; default 60 s). */
  readonly checkIntervalMs?: number;
}

export const DEFAULT_EVENT_LOG_RETENTION = Object.freeze({ maxAgeMs: 90 * 86_400_000, maxBytes: 100 * 1024 * 1024, checkIntervalMs: 60_000 });

export interface EventLogSinkOptions {
  readonly clock: Clock;
  /** The computer field of every record (default: this host's name). */
  readonly computer?: string;
  readonly retention?: EventLogRetention;
  /** Events waiting to be written beyond which new ones are dropped (default 10 000). */
  readonly maxQueued?: number;
  /** Records per append (default 500). */
  readonly batchSize?: number;
  /** Lowest severity recorded (default 'info': debug events are not recorded). */
  readonly minSeverity?: EventSeverity;
  /** How often losses are told to the last resort after the first (ms; default 60 s). */
  readonly reportIntervalMs?: number;
  /** Where losses are told (default process.emitWarning with code KERBSIDE_EVENT_SINK_FAILED). */
  readonly lastResort?: (message: string) => void;
}

export interface EventLogSink extends EventSink {
  /** Events lost since the sink was made (store failures, full queue). */
  readonly dropped: number;
  /** Events waiting to be written. */
  readonly queued: number;
  /** Resolves once every event emitted so far was written or dropped (at shutdown, in tests). */
  flush(): Promise<void>;
}

const SEVERITY_RANK: Readonly<Record<EventSeverity, number>> = Object.freeze({ debug: 0, info: 1, warning: 2, error: 3 });

/** Fields that name the account an event is about, most specific first. */
const USER_FIELDS = ['user', 'client', 'principal', 'account', 'initiator'] as const;

/** The record for `event`, or undefined when the catalogue says it is not recorded. */
export function toEventRecord(event: KerbsideEvent, computer: string): NewEventRecord | undefined {
  const e = redactEvent(event);
  const shape = eventLogShape(e);
  if (shape === undefined) return undefined;
  let user: string | null = null;
  for (const name of USER_FIELDS) {
    const v = e.fields[name];
    if (typeof v === 'string' && v !== '') { user = v; break; }
  }
  // NTLM names the account as user + domain: DOMAIN\user, as Windows shows it.
  const domain = e.fields['domain'];
  if (user !== null && e.type.startsWith('ntlm.') && typeof domain === 'string' && domain !== '' && !user.includes('\\')) user = `${domain}\\${user}`;
  return {
    time: e.time, level: shape.level, source: shape.source, category: shape.category, eventId: shape.eventId, type: e.type,
    user, computer, message: e.message, data: e.fields,
  };
}

export function eventLogSink(store: EventLogStore, options: EventLogSinkOptions): EventLogSink {
  const { clock } = options;
  const computer = options.computer ?? hostname();
  const maxQueued = options.maxQueued ?? 10_000;
  const batchSize = options.batchSize ?? 500;
  const minRank = SEVERITY_RANK[options.minSeverity ?? 'info'];
  const reportIntervalMs = options.reportIntervalMs ?? 60_000;
  const lastResort = options.lastResort ?? defaultLastResort;
  const maxAgeMs = options.retention?.maxAgeMs ?? DEFAULT_EVENT_LOG_RETENTION.maxAgeMs;
  const maxBytes = options.retention?.maxBytes ?? DEFAULT_EVENT_LOG_RETENTION.maxBytes;
  const checkIntervalMs = options.retention?.checkIntervalMs ?? DEFAULT_EVENT_LOG_RETENTION.checkIntervalMs;

  const queue: NewEventRecord[] = [];
  let writing: Promise<void> | undefined;
  let dropped = 0;
  /** Losses not yet recorded in the log itself, since `lostSince`. */
  let unrecorded = 0;
  let lostSince = 0;
  let lastError = '';
  let nextReport = -Infinity;
  let nextRetention = -Infinity;

  function lose(count: number, err: unknown): void {
    if (count === 0) return;
    const now = clock.now();
    if (unrecorded === 0) lostSince = now;
    dropped += count;
    unrecorded += count;
    lastError = errorText(err);
    if (now >= nextReport) {
      nextReport = now + reportIntervalMs;
      try {
        lastResort(`event log: ${unrecorded.toLocaleString('en-US')} event${unrecorded === 1 ? '' : 's'} not recorded (last error: ${lastError}); the service carried on`);
      } catch { /* nothing left to tell */ }
    }
  }

  /** The record telling how many events a gap lost; written first once the store answers again. */
  function gapRecord(): NewEventRecord | undefined {
    if (unrecorded === 0) return undefined;
    const now = clock.now();
    const seconds = Math.max(1, Math.round((now - lostSince) / 1000));
    const r = toEventRecord({
      type: 'events.sink_failed', time: now, severity: 'error',
      message: `event log: ${unrecorded.toLocaleString('en-US')} event${unrecorded === 1 ? '' : 's'} not recorded in the last ${seconds} s (last error: ${lastError}); the service carried on`,
      fields: { dropped: unrecorded, totalDropped: dropped, intervalSeconds: seconds, lastError },
    }, computer);
    return r;
  }

  async function retention(now: number): Promise<void> {
    if (now < nextRetention || (maxAgeMs <= 0 && maxBytes <= 0)) return;
    nextRetention = now + checkIntervalMs;
    try {
      await store.purge({ ...(maxAgeMs > 0 ? { olderThan: now - maxAgeMs } : {}), ...(maxBytes > 0 ? { maxBytes } : {}) });
    } catch (err) {
      try { lastResort(`event log: retention could not purge old records (${errorText(err)}); retried in ${Math.round(checkIntervalMs / 1000)} s`); } catch { /* ignore */ }
    }
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, batchSize);
      const gap = gapRecord();
      const lostBefore = unrecorded;
      try {
        // A store may throw synchronously instead of rejecting: both are losses.
        await store.append(gap === undefined ? batch : [gap, ...batch]);
        if (gap !== undefined) unrecorded -= lostBefore;
      } catch (err) {
        lose(batch.length, err);
        continue;
      }
      await retention(clock.now());
    }
  }

  function start(): void {
    if (writing !== undefined) return;
    // A microtask, not a timer: events emitted in the same turn share the first batch.
    writing = Promise.resolve().then(drain).catch((err: unknown) => {
      try { lastResort(`event log: the writer failed (${errorText(err)}); the service carried on`); } catch { /* ignore */ }
    }).finally(() => {
      writing = undefined;
      if (queue.length > 0) start();
    });
  }

  return {
    get dropped() { return dropped; },
    get queued() { return queue.length; },
    emit(event) {
      try {
        if (SEVERITY_RANK[event.severity] < minRank) return;
        const record = toEventRecord(event, computer);
        if (record === undefined) return;
        if (queue.length >= maxQueued) {
          lose(1, new Error(`${queue.length} events are waiting for the event log store`));
          return;
        }
        queue.push(record);
        start();
      } catch (err) {
        lose(1, err);
      }
    },
    async flush() {
      while (writing !== undefined) await writing;
    },
  };
}

export interface OpenEventLogOptions extends Omit<EventLogSinkOptions, 'clock'> {
  readonly clock?: Clock;
  /** The file name inside `dir` (default events.sqlite). */
  readonly file?: string;
}

export interface OpenEventLog {
  readonly sink: EventLogSink;
  readonly store: SqliteEventLog;
  /** Writes what is queued, then closes the store. */
  close(): Promise<void>;
}

/** The event log file of a data folder (a realm or scheduler directory). */
export const EVENT_LOG_FILE = 'events.sqlite';

/**
 * Opens `<dir>/events.sqlite` and a sink writing to it, for an app to hand to
 * `negotiateServer({ events })`, `negotiateFetch({ events })` or `createKdc`:
 * `const log = await openEventLog('/var/lib/myapp'); … await log.close();`.
 */
export async function openEventLog(dir: string, options: OpenEventLogOptions = {}): Promise<OpenEventLog> {
  const store = await openSqliteEventLog({ path: join(dir, options.file ?? EVENT_LOG_FILE) });
  const sink = eventLogSink(store, { ...options, clock: options.clock ?? systemClock() });
  return {
    sink,
    store,
    async close() {
      await sink.flush();
      await store.close();
    },
  };
}
