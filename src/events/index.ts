/** kerbside/events: structured security and operational events, one sink. */
export type { EventSeverity, EventFieldValue, EventFields, KerbsideEvent, EventSink, EventTypeInfo, EventAuditRule, EventIdByField } from './types.js';
export { EVENT_CATALOGUE, eventTypeInfo, isValidEventType, isEventSeverity, type KnownEventType } from './catalogue.js';
export { redactEvent, isSecretFieldName, REDACTED_FIELD } from './redact.js';
export {
  nullSink, memorySink, jsonLinesSink, diagnosticsChannelSink, minSeveritySink, stderrSink, fanout, eventChannelName, ALL_EVENTS_CHANNEL,
  type MemorySink,
} from './sinks.js';
export { createEmitter, UnknownEventTypeError, type Emitter, type EventFieldsInput } from './emitter.js';
export { isolateSink, SINK_FAILED_WARNING_CODE, type IsolateOptions, type IsolatedSink } from './isolate.js';
export { rateLimitSink, OTHER_SOURCES, type RateLimitGroup, type RateLimitOptions, type RateLimitedSink } from './rate-limit.js';
export { eventLogShape, type EventLogShape } from './catalogue.js';
export {
  eventLogSink, openEventLog, toEventRecord, DEFAULT_EVENT_LOG_RETENTION, EVENT_LOG_FILE,
  type EventLogRetention, type EventLogSinkOptions, type EventLogSink, type OpenEventLog, type OpenEventLogOptions,
} from './event-log.js';
