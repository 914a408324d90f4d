/**
 * The convenient way to emit: `createEmitter(sink, clock).emit(type, message, fields)`
 * fills in the time from the injected Clock and the severity from the
 * catalogue, and applies the redaction guard before the sink sees the event.
 * The sink is isolated (isolate.ts): a sink that throws, rejects or hangs
 * never reaches the code that emits.
 */

import type { Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { isolateSink, type IsolatedSink } from './isolate.js';
import { eventTypeInfo, isEventSeverity, isValidEventType, type KnownEventType } from './catalogue.js';
import { redactEvent } from './redact.js';
import type { EventFieldValue, EventFields, EventSeverity, EventSink, KerbsideEvent } from './types.js';

/** Fields as callers pass them: `undefined` values are left out. */
export type EventFieldsInput = Readonly<Record<string, EventFieldValue | undefined>>;

/** A type that is not in the catalogue was emitted without a severity. */
export class UnknownEventTypeError extends InvalidArgumentError {
  static override readonly code: string = 'ERR_UNKNOWN_EVENT_TYPE';
}

export interface Emitter {
  /**
   * Emits one event and returns it (as the sink received it). The severity
   * defaults to the catalogue's; a type outside the catalogue needs one.
   * Throws UnknownEventTypeError for a malformed type or an unknown type
   * without severity (a programming error, caught by tests).
   */
  emit(type: KnownEventType | (string & {}), message: string, fields?: EventFieldsInput, severity?: EventSeverity): KerbsideEvent;
  /** An emitter that adds `fields` to every event (the event's own fields win). */
  with(fields: EventFieldsInput): Emitter;
  readonly sink: EventSink;
}

/** One isolation wrapper per sink, so every emitter on a sink shares its failure count and report interval. */
const isolated = new WeakMap<EventSink, IsolatedSink>();

export function createEmitter(sink: EventSink, clock: Clock): Emitter {
  let safe = isolated.get(sink);
  if (safe === undefined) {
    safe = isolateSink(sink, { clock });
    isolated.set(sink, safe);
  }
  return makeEmitter(sink, safe, clock, {});
}

function makeEmitter(sink: EventSink, safe: EventSink, clock: Clock, bound: EventFieldsInput): Emitter {
  return {
    sink,
    emit(type, message, fields = {}, severity) {
      if (!isValidEventType(type)) {
        throw new UnknownEventTypeError(`event type "${type}" is not a dotted lowercase id such as "kdc.request"`);
      }
      if (severity !== undefined && !isEventSeverity(severity)) {
        throw new InvalidArgumentError(`event severity "${String(severity)}" is not one of debug, info, warning, error`);
      }
      const sev = severity ?? eventTypeInfo(type)?.severity;
      if (sev === undefined) {
        throw new UnknownEventTypeError(`event type "${type}" is not in the event catalogue`, {
          hint: 'add a row to src/events/catalogue.ts, or pass a severity explicitly',
        });
      }
      const event = redactEvent({ type, time: clock.now(), severity: sev, message, fields: defined({ ...bound, ...fields }) });
      safe.emit(event);
      return event;
    },
    with(fields) {
      return makeEmitter(sink, safe, clock, { ...bound, ...fields });
    },
  };
}

function defined(fields: EventFieldsInput): EventFields {
  const out: Record<string, EventFieldValue> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
