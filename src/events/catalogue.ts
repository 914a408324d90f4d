/**
 * The catalogue of known event types: one frozen row per type with its
 * default severity and a short description. Modules add their rows to
 * `ROWS` below (keep them grouped by area, types as `area.snake_case_name`).
 * Windows event ids are given only where a Windows log has a close equivalent
 * (Security audit 4768/4769/4771/4740/4776, LsaSrv 40960, Task Scheduler 100…).
 * The same rows say how an event looks in the persistent event log
 * (eventLogShape): its source, category, Windows id and level.
 */

import { InvalidArgumentError } from '../core/errors.js';
import type { EventSeverity, EventTypeInfo, KerbsideEvent } from './types.js';

const ROWS = [
  // lifecycle/ and client/: held credentials
  { type: 'credential.refreshed', severity: 'info', description: 'A held credential was renewed or re-acquired before it expired.' },
  { type: 'credential.renewal_failed', severity: 'warning', description: 'Renewing a held credential failed; it will be retried or re-acquired from its source.' },
  { type: 'credential.cannot_refresh_unattended', severity: 'error', description: 'A held credential cannot be refreshed without a person (its source needs a password or a smart-card PIN); it will expire.' },
  { type: 'credential.expiring_soon', severity: 'warning', description: 'A held credential will expire soon and no refresh has succeeded.' },
  { type: 'credential.evicted', severity: 'debug', description: 'A held credential unused for longer than its eviction period was dropped from memory; it is re-acquired on next use.' },
  { type: 'credential.update_failed', severity: 'warning', description: 'A refreshed credential could not be persisted (for example its credential cache could not be written); the in-memory copy is still used.' },

  // client/: KDC exchanges of KerberosClient (published on diagnostics_channel by default)
  { type: 'client.ticket_obtained', severity: 'info', description: 'The Kerberos client got a ticket from a KDC (AS: a TGT or initial ticket, TGS: a service ticket, renewal).' },
  { type: 'client.request_failed', severity: 'warning', description: 'A KDC exchange of the Kerberos client failed (KDC error, KDC unreachable, bad reply); the code and krbError fields say why.' },

  // events/: the event pipeline itself (docs/events.md)
  { type: 'events.sink_failed', severity: 'error', description: 'An event sink threw, rejected or fell behind; the events it could not take were dropped and counted (the service carried on). Reported at the first failure and then once per interval.' },
  { type: 'events.suppressed', severity: 'warning', description: 'Events of one cause from one source exceeded the log\'s rate limit; this summary says how many were left out in the interval.' },

  // kdc/
  // 4768/4769 by exchange; the routine PREAUTH_REQUIRED round is not audited, a wrong password is 4771 (as on Windows).
  {
    type: 'kdc.request', severity: 'info', description: 'The KDC answered an AS or TGS request (issued a ticket or returned an error).',
    byField: { field: 'exchange', cases: { AS: { windowsEventId: 4768, category: 'Kerberos Authentication Service' }, TGS: { windowsEventId: 4769, category: 'Kerberos Service Ticket Operations' } } },
    audit: { field: 'result', success: ['issued'], omit: ['KDC_ERR_PREAUTH_REQUIRED', 'KDC_ERR_PREAUTH_FAILED'] },
  },
  { type: 'kdc.config', severity: 'warning', description: 'What the KDC found in its configuration at start: a weak setting (lockout off) as a warning, a feature switched on (PKINIT) as information.' },
  { type: 'kdc.store_poll_failed', severity: 'warning', description: 'The KDC could not poll the principal database for changes; it keeps serving the principals it has cached until the database answers again.' },
  { type: 'kdc.preauth_failed', severity: 'warning', description: 'A client failed pre-authentication (wrong password or key).', windowsEventId: 4771, category: 'Kerberos Authentication Service', audit: 'failure' },
  { type: 'kdc.lockout', severity: 'warning', description: 'A principal was locked out after too many pre-authentication failures.', windowsEventId: 4740, category: 'User Account Management', audit: 'success' },

  // gss/: SPNEGO and the acceptor
  { type: 'ntlm.validation', severity: 'info', description: 'An NTLM logon was validated (success or failure; the cause field says why it failed).', windowsEventId: 4776, category: 'Credential Validation', audit: { field: 'status', success: ['success'] } },
  { type: 'spnego.downgrade_refused', severity: 'warning', description: 'SPNEGO negotiation would have fallen back to a weaker mechanism (NTLM) and policy refused it.', windowsEventId: 40960,
    byField: { field: 'side', cases: {
      initiator: { windowsEventId: 40960, category: 'SPNEGO (Negotiator)', source: 'kerbside-client' },
      acceptor: { windowsEventId: 40960, category: 'SPNEGO (Negotiator)', source: 'kerbside-gss' },
    } } },
  { type: 'spnego.downgrade_allowed', severity: 'warning', description: 'NTLM was used after a failed Kerberos attempt because allowNtlmAfterKerberosFailure is set (a downgrade, allowed by policy); logged every time.' },
  { type: 'acceptor.kvno_miss', severity: 'warning', description: 'A ticket was encrypted with a key version the acceptor\'s keytab does not hold; either the ticket or the keytab is out of date.' },
  { type: 'acceptor.replay', severity: 'warning', description: 'An authenticator was presented a second time and rejected by the replay cache.' },
  { type: 'acceptor.keytab_reloaded', severity: 'info', description: 'An acceptor\'s keytab changed on disk and was re-read; the new key versions are in use.' },
  { type: 'acceptor.keytab_reload_failed', severity: 'warning', description: 'An acceptor\'s keytab could not be read or parsed (for example caught half-written during a rotation); the previous copy stays in use.' },
  { type: 'http.auth_refused', severity: 'warning', description: 'An HTTP request was refused authentication (no header, bad token, replay, replay cache full — answered 503, skew, kvno miss, wrong service principal, NTLM not enabled); the cause field says which.' },
  { type: 'http.keytab_unavailable', severity: 'warning', description: 'At start-up the Negotiate server could not read its keytab; until it can, Negotiate requests are answered 503.' },
  { type: 'http.fetch_authenticated', severity: 'info', description: 'negotiateFetch authenticated a request (Kerberos or NTLM) and the server answered; status and mechanism are fields.' },
  { type: 'http.auth_succeeded', severity: 'info', description: 'An HTTP request was authenticated with Negotiate or a session cookie.' },
  { type: 'http.session_cookie_rejected', severity: 'warning', description: 'A kerbside session cookie was tampered with, malformed or expired and was ignored.' },
  { type: 'acceptor.skew', severity: 'warning', description: 'An authenticator\'s time differs from the acceptor\'s clock by more than the allowed skew.' },
  // scheduler/: task scheduler (ids modelled on Windows Task Scheduler's Operational log, 7xx kerbside's own; docs/scheduler.md "Events")
  { type: 'scheduler.task_started', severity: 'info', description: 'A task run started: its logon succeeded and its action is about to be launched.', windowsEventId: 100 },
  { type: 'scheduler.task_start_failed', severity: 'error', description: 'A task run could not start: its logon failed (unknown account, wrong stored password, keytab without the principal, KDC unreachable, a borrowed session that cannot be refreshed).', windowsEventId: 101 },
  { type: 'scheduler.task_completed', severity: 'info', description: 'A task run finished successfully.', windowsEventId: 102 },
  { type: 'scheduler.action_failed', severity: 'error', description: 'A task\'s action failed: it could not be launched, exited non-zero, returned an unexpected HTTP status or overran its time limit.', windowsEventId: 103 },
  { type: 'scheduler.task_registered', severity: 'info', description: 'A task was defined.', windowsEventId: 106 },
  { type: 'scheduler.task_triggered', severity: 'debug', description: 'A task\'s time trigger fired.', windowsEventId: 107 },
  { type: 'scheduler.task_run_requested', severity: 'info', description: 'A run of a task was requested by a user (kerbside task run).', windowsEventId: 110 },
  { type: 'scheduler.task_terminated', severity: 'warning', description: 'A running task was stopped (time limit, stop-existing instance policy, scheduler shutdown).', windowsEventId: 111 },
  { type: 'scheduler.task_triggered_on_logon', severity: 'info', description: 'A task was triggered by the logon of a user.', windowsEventId: 119 },
  { type: 'scheduler.task_updated', severity: 'info', description: 'A task definition was changed (modified, enabled or disabled).', windowsEventId: 140 },
  { type: 'scheduler.task_deleted', severity: 'info', description: 'A task was deleted.', windowsEventId: 141 },
  { type: 'scheduler.action_started', severity: 'info', description: 'A task\'s action (command or HTTP request) was launched.', windowsEventId: 200 },
  { type: 'scheduler.action_completed', severity: 'info', description: 'A task\'s action ended (with its exit code or HTTP status).', windowsEventId: 201 },
  { type: 'scheduler.instance_ignored', severity: 'warning', description: 'A start was ignored because a run of the task was under way (instance policy ignore-new).', windowsEventId: 322 },
  { type: 'scheduler.instance_queued', severity: 'info', description: 'A start was queued behind a run of the task under way (instance policy queue).', windowsEventId: 324 },
  { type: 'scheduler.time_limit_reached', severity: 'warning', description: 'A run overran its execution time limit and is being stopped.', windowsEventId: 329 },
  { type: 'scheduler.not_logged_on', severity: 'warning', description: 'A run-only-if-logged-on task did not start because its account is not logged on.', windowsEventId: 332 },
  { type: 'scheduler.session_borrowed', severity: 'warning', description: 'A task run used the interactive logon session of its account instead of its own credential (disableUseOfTokenFromSession off, or runOnlyIfLoggedOn).', windowsEventId: 701 },
  { type: 'scheduler.cannot_refresh_unattended', severity: 'error', description: 'A session a task borrows cannot be refreshed unattended (a smart-card TGT needs the PIN); raised before the ticket expires; the task will fail from then on.', windowsEventId: 702 },
  { type: 'scheduler.run_interrupted', severity: 'warning', description: 'A run was under way when the scheduler stopped abruptly (killed, host restart); it is recorded as interrupted at the next start.', windowsEventId: 703 },
  { type: 'scheduler.missed_start', severity: 'warning', description: 'Scheduled starts were missed while the scheduler was not running; run once now or skipped as the task says.', windowsEventId: 704 },
  { type: 'scheduler.retry_scheduled', severity: 'info', description: 'A failed run will be retried after a backoff delay.', windowsEventId: 705 },
  { type: 'scheduler.setting_changed', severity: 'warning', description: 'A scheduler-wide setting (disableUseOfTokenFromSession) was changed.', windowsEventId: 706 },
  { type: 'scheduler.internal_error', severity: 'error', description: 'The scheduler hit an unexpected error while planning or recording; it keeps running.', windowsEventId: 799 },
] as const satisfies readonly EventTypeInfo[];

/** The type ids in the catalogue. */
export type KnownEventType = (typeof ROWS)[number]['type'];

/** Dotted lowercase ids: at least two segments of [a-z0-9_]. */
const TYPE_RE = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$/;

const SEVERITIES: ReadonlySet<string> = new Set<EventSeverity>(['debug', 'info', 'warning', 'error']);

/** True when `type` is a well-formed event type id (known or not). */
export function isValidEventType(type: string): boolean {
  return TYPE_RE.test(type);
}

export function isEventSeverity(value: string): value is EventSeverity {
  return SEVERITIES.has(value);
}

/** Rows hold nested rules (audit, byField): frozen all the way down, like the table. */
function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v as object);
  return Object.freeze(value);
}

function buildCatalogue(rows: readonly EventTypeInfo[]): Readonly<Record<string, EventTypeInfo>> {
  const table = Object.create(null) as Record<string, EventTypeInfo>;
  for (const row of rows) {
    if (!isValidEventType(row.type)) throw new InvalidArgumentError(`event type "${row.type}" is not a dotted lowercase id`);
    if (row.type in table) throw new InvalidArgumentError(`event type "${row.type}" is listed twice in the catalogue`);
    table[row.type] = deepFreeze({ ...row });
  }
  return Object.freeze(table);
}

/** Frozen, null-prototype table of known event types by id. */
export const EVENT_CATALOGUE: Readonly<Record<KnownEventType, EventTypeInfo>> & Readonly<Record<string, EventTypeInfo | undefined>> =
  buildCatalogue(ROWS) as Readonly<Record<KnownEventType, EventTypeInfo>>;

/** The catalogue row for `type`, or undefined when it is not a known type. */
export function eventTypeInfo(type: string): EventTypeInfo | undefined {
  return EVENT_CATALOGUE[type];
}

/** The event log's source and category of a type whose row names none, by the type's area (its first segment). */
const AREA_DEFAULTS: Readonly<Record<string, { readonly source: string; readonly category: string }>> = Object.freeze({
  kdc: { source: 'kerbside-kdc', category: 'KDC' },
  http: { source: 'kerbside-http', category: 'HTTP authentication' },
  acceptor: { source: 'kerbside-gss', category: 'GSS acceptor' },
  spnego: { source: 'kerbside-gss', category: 'SPNEGO (Negotiator)' },
  ntlm: { source: 'kerbside-gss', category: 'Credential Validation' },
  credential: { source: 'kerbside-client', category: 'Credentials' },
  client: { source: 'kerbside-client', category: 'Kerberos client' },
  scheduler: { source: 'kerbside-scheduler', category: 'Task Scheduler' },
  events: { source: 'kerbside-events', category: 'Event log' },
});

/** How an event is recorded in the event log (level in Windows' terms: audits by outcome). */
export interface EventLogShape {
  readonly eventId: number;
  readonly level: 'error' | 'warning' | 'information' | 'audit_success' | 'audit_failure';
  readonly source: string;
  readonly category: string;
}

function text(event: KerbsideEvent, name: string): string | undefined {
  const v = event.fields[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * The event log's view of an event, from its catalogue row; undefined when
 * the row says it is not recorded (the routine first round of
 * pre-authentication). Unknown types keep their severity, id 0 (or a numeric
 * `eventId` field, as the scheduler's 7xx), and their area's source.
 */
export function eventLogShape(event: KerbsideEvent): EventLogShape | undefined {
  const row = eventTypeInfo(event.type);
  const area = AREA_DEFAULTS[event.type.slice(0, event.type.indexOf('.'))];
  const byCase = row?.byField === undefined ? undefined : row.byField.cases[text(event, row.byField.field) ?? ''];
  const ownId = event.fields['eventId'];
  const eventId = byCase?.windowsEventId ?? row?.windowsEventId ?? (typeof ownId === 'number' && Number.isSafeInteger(ownId) && ownId >= 0 ? ownId : 0);
  let level: EventLogShape['level'] = event.severity === 'error' ? 'error' : event.severity === 'warning' ? 'warning' : 'information';
  const audit = row?.audit;
  // A row chosen by field audits only its cases (a dropped datagram is not a 4768).
  if (audit !== undefined && (row?.byField === undefined || byCase !== undefined)) {
    if (audit === 'success' || audit === 'failure') {
      level = audit === 'success' ? 'audit_success' : 'audit_failure';
    } else {
      const value = text(event, audit.field) ?? '';
      if (audit.omit?.includes(value) === true) return undefined;
      level = audit.success.includes(value) ? 'audit_success' : 'audit_failure';
    }
  }
  return {
    eventId,
    level,
    source: byCase?.source ?? row?.source ?? area?.source ?? 'kerbside',
    category: byCase?.category ?? row?.category ?? area?.category ?? 'General',
  };
}
