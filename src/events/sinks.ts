/**
 * Event sinks. Each built-in sink applies the redaction guard itself, so an
 * event handed to it directly (not through an emitter) is still safe. Sinks
 * never touch the file system: `jsonLinesSink` hands lines to the caller.
 */

import { channel, type Channel } from 'node:diagnostics_channel';
import { redactEvent } from './redact.js';
import type { EventSeverity, EventSink, KerbsideEvent } from './types.js';

/** A sink that discards everything (the default when none is configured). */
export function nullSink(): EventSink {
  return { emit() {} };
}

export interface MemorySink extends EventSink {
  /** Every event received, oldest first. */
  readonly events: readonly KerbsideEvent[];
  /** Events of one type, oldest first. */
  ofType(type: string): KerbsideEvent[];
  clear(): void;
}

/** Keeps events in memory, for tests. */
export function memorySink(): MemorySink {
  const events: KerbsideEvent[] = [];
  return {
    events,
    emit(event) { events.push(redactEvent(event)); },
    ofType(type) { return events.filter((e) => e.type === type); },
    clear() { events.length = 0; },
  };
}

/**
 * Writes each event as one JSON object per line:
 * `{"time":…,"type":…,"severity":…,"message":…,"fields":{…}}` followed by
 * "\n" (JSON escapes newlines inside strings, so a line is always one event).
 * The caller decides where lines go, e.g. `jsonLinesSink((l) => process.stderr.write(l))`.
 */
export function jsonLinesSink(write: (line: string) => void): EventSink {
  return {
    emit(event) {
      const e = redactEvent(event);
      write(`${JSON.stringify({ time: e.time, type: e.type, severity: e.severity, message: e.message, fields: e.fields })}\n`);
    },
  };
}

const SEVERITY_RANK: Readonly<Record<string, number>> = Object.freeze({ debug: 0, info: 1, warning: 2, error: 3 });

/** Passes on the events of `min` severity or above (debug < info < warning < error). */
export function minSeveritySink(min: EventSeverity, sink: EventSink): EventSink {
  const floor = SEVERITY_RANK[min]!;
  return {
    emit(event) {
      if ((SEVERITY_RANK[event.severity] ?? 3) >= floor) sink.emit(event);
    },
  };
}

/**
 * Warnings and errors (or `min` and above) on stderr, one JSON line each
 * (jsonLinesSink): the default of servers given no `events` option, so a
 * misconfiguration is seen without wiring a logger.
 */
export function stderrSink(min: EventSeverity = 'warning'): EventSink {
  return minSeveritySink(min, jsonLinesSink((line) => { process.stderr.write(line); }));
}

/** Channel every event is published on, whatever its type. */
export const ALL_EVENTS_CHANNEL = 'kerbside:events';

/** The node:diagnostics_channel name for one event type. */
export function eventChannelName(type: string): string {
  return `kerbside:${type}`;
}

/**
 * Publishes each event on node:diagnostics_channel: on 'kerbside:<type>' and
 * on 'kerbside:events'. When nobody subscribes nothing is built or copied.
 */
export function diagnosticsChannelSink(): EventSink {
  const all = channel(ALL_EVENTS_CHANNEL);
  const byType = new Map<string, Channel>();
  return {
    emit(event) {
      let ch = byType.get(event.type);
      if (ch === undefined) {
        ch = channel(eventChannelName(event.type));
        byType.set(event.type, ch);
      }
      if (!ch.hasSubscribers && !all.hasSubscribers) return;
      const e = redactEvent(event);
      if (ch.hasSubscribers) ch.publish(e);
      if (all.hasSubscribers) all.publish(e);
    },
  };
}

/**
 * Sends each event to every sink. A sink that throws does not stop the
 * others; the first error is rethrown once all have been called.
 */
export function fanout(...sinks: readonly EventSink[]): EventSink {
  return {
    emit(event) {
      let failed = false;
      let first: unknown;
      for (const sink of sinks) {
        try {
          sink.emit(event);
        } catch (err) {
          if (!failed) { failed = true; first = err; }
        }
      }
      if (failed) throw first;
    },
  };
}
