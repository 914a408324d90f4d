/**
 * The catalogue of known event types: one frozen row per type with its
 * default severity and a short description. Modules add their rows to
 * `ROWS` below (keep them grouped by area, types as `area.snake_case_name`).
 * Windows event ids are given only where a Windows log has a close equivalent
 * (Security audit 4740/4771, LsaSrv 40960).
 */

import { InvalidArgumentError } from '../core/errors.js';
import type { EventSeverity, EventTypeInfo } from './types.js';

const ROWS = [
  // lifecycle/ and client/: held credentials
  { type: 'credential.refreshed', severity: 'info', description: 'A held credential was renewed or re-acquired before it expired.' },
  { type: 'credential.renewal_failed', severity: 'warning', description: 'Renewing a held credential failed; it will be retried or re-acquired from its source.' },
  { type: 'credential.cannot_refresh_unattended', severity: 'error', description: 'A held credential cannot be refreshed without a person (its source needs a password or a smart-card PIN); it will expire.' },
  { type: 'credential.expiring_soon', severity: 'warning', description: 'A held credential will expire soon and no refresh has succeeded.' },
  { type: 'credential.evicted', severity: 'debug', description: 'A held credential unused for longer than its eviction period was dropped from memory; it is re-acquired on next use.' },
  { type: 'credential.update_failed', severity: 'warning', description: 'A refreshed credential could not be persisted (for example its credential cache could not be written); the in-memory copy is still used.' },

  // kdc/
  { type: 'kdc.request', severity: 'info', description: 'The KDC answered an AS or TGS request (issued a ticket or returned an error).' },
  { type: 'kdc.store_poll_failed', severity: 'warning', description: 'The KDC could not poll the principal database for changes; it keeps serving the principals it has cached until the database answers again.' },
  { type: 'kdc.preauth_failed', severity: 'warning', description: 'A client failed pre-authentication (wrong password or key).', windowsEventId: 4771 },
  { type: 'kdc.lockout', severity: 'warning', description: 'A principal was locked out after too many pre-authentication failures.', windowsEventId: 4740 },

  // gss/: SPNEGO and the acceptor
  { type: 'spnego.downgrade_refused', severity: 'warning', description: 'SPNEGO negotiation would have fallen back to a weaker mechanism (NTLM) and policy refused it.', windowsEventId: 40960 },
  { type: 'acceptor.kvno_miss', severity: 'warning', description: 'A ticket was encrypted with a key version the acceptor\'s keytab does not hold; either the ticket or the keytab is out of date.' },
  { type: 'acceptor.replay', severity: 'warning', description: 'An authenticator was presented a second time and rejected by the replay cache.' },
  { type: 'acceptor.keytab_reloaded', severity: 'info', description: 'An acceptor\'s keytab changed on disk and was re-read; the new key versions are in use.' },
  { type: 'acceptor.keytab_reload_failed', severity: 'warning', description: 'An acceptor\'s keytab could not be read or parsed (for example caught half-written during a rotation); the previous copy stays in use.' },
  { type: 'http.auth_refused', severity: 'warning', description: 'An HTTP request was refused authentication (no header, bad token, replay, skew, kvno miss, wrong service principal, NTLM not enabled); the cause field says which.' },
  { type: 'http.auth_succeeded', severity: 'info', description: 'An HTTP request was authenticated with Negotiate or a session cookie.' },
  { type: 'http.session_cookie_rejected', severity: 'warning', description: 'A kerbside session cookie was tampered with, malformed or expired and was ignored.' },
  { type: 'acceptor.skew', severity: 'warning', description: 'An authenticator\'s time differs from the acceptor\'s clock by more than the allowed skew.' },
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

function buildCatalogue(rows: readonly EventTypeInfo[]): Readonly<Record<string, EventTypeInfo>> {
  const table = Object.create(null) as Record<string, EventTypeInfo>;
  for (const row of rows) {
    if (!isValidEventType(row.type)) throw new InvalidArgumentError(`event type "${row.type}" is not a dotted lowercase id`);
    if (row.type in table) throw new InvalidArgumentError(`event type "${row.type}" is listed twice in the catalogue`);
    table[row.type] = Object.freeze({ ...row });
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
