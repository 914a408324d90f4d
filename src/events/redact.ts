/**
 * The redaction guard. No password, key, PIN, token or session key may reach a
 * log (docs/architecture.md "Rules of the house"), so every built-in sink and the emitter
 * pass events through `redactEvent` first.
 *
 * Decision: a field whose NAME looks secret, or whose value is not a plain
 * string / number / boolean / null / string[] (a Uint8Array, a Buffer, an
 * object), is DROPPED — never thrown about, because logging must not break a
 * KDC request — and its name is listed in the `redacted` field (string[]) so
 * the omission is visible. The message text cannot be checked: never put a
 * secret there.
 */

import type { EventFieldValue, EventFields, KerbsideEvent } from './types.js';

/** Field listing the names of dropped fields. */
export const REDACTED_FIELD = 'redacted';

// Matched against the name lowercased with everything but [a-z0-9] removed.
// Anywhere in the name: words that are secret whatever surrounds them.
const SECRET_ANYWHERE = /password|passwd|passphrase|secret/;
// At the end of the name: "sessionKey", "subkey", "userPin", "accessToken", "keyvalue"…
// (but "keyVersion", "keytab", "pinRequired", "tokenCount" are fine).
const SECRET_SUFFIX = /(?:key|keys|keyvalue|keyblock|pin|pins|token|tokens|pwd|cookie|cookies|authorization)$/;

/** True when a field with this name might hold a secret. */
export function isSecretFieldName(name: string): boolean {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_ANYWHERE.test(n) || SECRET_SUFFIX.test(n);
}

function isAllowedValue(value: unknown): value is EventFieldValue {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true;
    case 'object':
      return value === null || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    default:
      return false;
  }
}

/**
 * Returns the event with unsafe fields dropped and listed in `redacted`; the
 * same object when nothing had to be dropped. Arrays are copied and frozen so
 * later mutation by the caller cannot change a recorded event.
 */
export function redactEvent(event: KerbsideEvent): KerbsideEvent {
  const fields: Readonly<Record<string, unknown>> = event.fields ?? {};
  const dropped = new Set<string>();
  for (const [name, value] of Object.entries(fields)) {
    if (isSecretFieldName(name) || !isAllowedValue(value)) dropped.add(name);
  }
  if (dropped.size === 0 && event.fields !== undefined) return event;
  const clean: Record<string, EventFieldValue> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (dropped.has(name)) continue;
    clean[name] = Array.isArray(value) ? Object.freeze([...value as string[]]) : value as EventFieldValue;
  }
  if (dropped.size > 0) {
    // Keep what an earlier pass listed, add what this one dropped.
    const earlier = clean[REDACTED_FIELD];
    const names = new Set([...(Array.isArray(earlier) ? earlier : []), ...dropped]);
    names.delete(REDACTED_FIELD);
    clean[REDACTED_FIELD] = Object.freeze([...names].sort());
  }
  return Object.freeze({ ...event, fields: Object.freeze(clean) as EventFields });
}
