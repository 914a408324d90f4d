/**
 * Lifecycle events as `KerbsideEvent`s (type `credential.<what>`, catalogue in
 * src/events/catalogue.ts), so every held credential reports through the one
 * event sink of the process.
 */

import type { Clock } from '../core/clock.js';
import { createEmitter, type EventFieldsInput, type EventSink } from '../events/index.js';
import type { LifecycleEvent } from './held-credential.js';

export function lifecycleEventForwarder(sink: EventSink, clock: Clock): (event: LifecycleEvent) => void {
  const emitter = createEmitter(sink, clock);
  return (e) => {
    const fields: Record<string, EventFieldsInput[string]> = {
      credential: e.credential,
      source: e.source,
      endTime: e.endTime === undefined ? undefined : iso(e.endTime),
      renewTill: e.renewTill === undefined ? undefined : iso(e.renewTill),
    };
    let message: string;
    switch (e.type) {
      case 'refreshed':
        fields['how'] = e.how;
        message = `${e.credential} ${e.how} from ${e.source}; valid until ${fields['endTime']}`;
        break;
      case 'renewal_failed':
        Object.assign(fields, {
          action: e.action, failures: e.failures, errorCode: e.error.code, krbCode: e.error.krbCode,
          nextAttemptAt: e.nextAttemptAt === undefined ? undefined : iso(e.nextAttemptAt),
        });
        message = `${e.action === 'renew' ? 'renewing' : 're-acquiring'} ${e.credential} failed (${e.failures} in a row): ${e.error.message}`;
        break;
      case 'cannot_refresh_unattended':
        fields['reason'] = e.reason;
        message = `${e.credential} cannot be refreshed unattended: ${e.reason}; it expires at ${fields['endTime'] ?? 'once used up'}`;
        break;
      case 'expiring_soon':
        Object.assign(fields, { errorCode: e.lastError?.code });
        message = `${e.credential} expires at ${fields['endTime']} and has not been refreshed${e.lastError ? `: ${e.lastError.message}` : ''}`;
        break;
      case 'evicted':
        fields['unusedForSeconds'] = Math.round(e.unusedFor / 1000);
        message = `${e.credential} was not used for ${Math.round(e.unusedFor / 60_000)} min and was dropped`;
        break;
      case 'update_failed':
        Object.assign(fields, { errorCode: e.error.code });
        message = `${e.credential} was refreshed but could not be saved: ${e.error.message}`;
        break;
    }
    emitter.emit(`credential.${e.type}`, message, fields);
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
