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
  /** The event log's source; default by area (catalogue.ts AREA_DEFAULTS), e.g. 'kerbside-kdc'. */
  readonly source?: string;
  /** The event log's category (Windows' task category); default by area. */
  readonly category?: string;
  /**
   * An audit event: its level in the event log is audit_success / audit_failure,
   * fixed, or by a field's value (`success` values succeed, `omit` values are not
   * written to the event log, anything else fails).
   */
  readonly audit?: 'success' | 'failure' | EventAuditRule;
  /** A Windows id and category chosen by a field's value (kdc.request: AS → 4768, TGS → 4769). */
  readonly byField?: EventIdByField;
}

export interface EventAuditRule {
  readonly field: string;
  readonly success: readonly string[];
  readonly omit?: readonly string[];
}

export interface EventIdByField {
  readonly field: string;
  /** Per value: the Windows id and category, and the source when it differs from the row's (client or server side). */
  readonly cases: Readonly<Record<string, { readonly windowsEventId: number; readonly category: string; readonly source?: string }>>;
}
