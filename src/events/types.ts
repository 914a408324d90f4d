/**
 * Structured events (docs/architecture.md "One idea"): every security and operational
 * occurrence is one `KerbsideEvent` sent to one `EventSink`. Types are stable
 * dotted ids listed in the catalogue (catalogue.ts).
 */

export type EventSeverity = 'debug' | 'info' | 'warning' | 'error';

/** Values a field may hold. Byte arrays and objects are not allowed (see redact.ts). */
export type EventFieldValue = string | number | boolean | null | readonly string[];

export type EventFields = Readonly<Record<string, EventFieldValue>>;

export interface KerbsideEvent {
  /** Stable dotted id, e.g. 'credential.refreshed'. */
  readonly type: string;
  /** Milliseconds since the Unix epoch, from the injected Clock. */
  readonly time: number;
  readonly severity: EventSeverity;
  /** One line for people; never a secret. */
  readonly message: string;
  readonly fields: EventFields;
}

export interface EventSink {
  emit(event: KerbsideEvent): void;
}

/** A row of the event catalogue. */
export interface EventTypeInfo {
  readonly type: string;
  /** Default severity of the event. */
  readonly severity: EventSeverity;
  readonly description: string;
  /** The closest Windows event id, for operators used to Windows logs (e.g. 40960). */
  readonly windowsEventId?: number;
}
