/**
 * Trigger arithmetic, pure: when a trigger fires next after a given time.
 * Cron expressions are parsed and evaluated by croner (a well-kept parser);
 * a `Cron` built without a callback never starts a timer, and it is asked
 * only for `nextRun(from)`, so the planner stays a function of the clock.
 */

import { Cron } from 'croner';
import { InvalidTaskError } from './errors.js';
import type { Trigger } from './types.js';

/** Throws InvalidTaskError when the trigger cannot fire as written. */
export function validateTrigger(t: Trigger): void {
  switch (t.kind) {
    case 'cron':
      cronOf(t.expression, t.timezone);
      return;
    case 'interval':
      if (!Number.isFinite(t.everyMs) || t.everyMs < 1000) {
        throw new InvalidTaskError(`the interval ${t.everyMs} ms is not a period of at least one second`, { hint: 'give --every a duration such as 1h or 15m' });
      }
      return;
    case 'once':
      if (!Number.isFinite(t.at)) throw new InvalidTaskError('the once-at trigger has no valid time', { hint: 'give --at an ISO 8601 time such as 2027-01-31T12:00:00Z' });
      return;
    case 'logon':
      return;
  }
}

const cronCache = new Map<string, Cron>();

function cronOf(expression: string, timezone: string | undefined): Cron {
  const key = `${timezone ?? 'UTC'}\u0000${expression}`;
  let c = cronCache.get(key);
  if (c === undefined) {
    try {
      c = new Cron(expression, { timezone: timezone ?? 'UTC', paused: true });
    } catch (err) {
      throw new InvalidTaskError(`the cron expression "${expression}" is not valid: ${(err as Error).message}`, {
        hint: 'use five fields "minute hour day-of-month month day-of-week", for example "0 * * * *" for every hour',
        detail: { expression },
      });
    }
    if (cronCache.size > 1000) cronCache.clear();
    cronCache.set(key, c);
  }
  return c;
}

/**
 * The first time strictly after `after` at which the trigger fires, or
 * undefined (a once-trigger in the past, a logon trigger, a cron expression
 * that never matches again). `origin` is when the task was defined: the
 * start of an interval without its own start.
 */
export function nextFire(t: Trigger, after: number, origin: number): number | undefined {
  switch (t.kind) {
    case 'cron': {
      const next = cronOf(t.expression, t.timezone).nextRun(new Date(after));
      return next === null ? undefined : next.getTime();
    }
    case 'interval': {
      const start = t.startAt ?? origin;
      if (after < start) return start;
      return start + (Math.floor((after - start) / t.everyMs) + 1) * t.everyMs;
    }
    case 'once':
      return t.at > after ? t.at : undefined;
    case 'logon':
      return undefined;
  }
}

/** The earliest fire time after `after` over several triggers. */
export function nextFireOf(triggers: readonly Trigger[], after: number, origin: number): number | undefined {
  let best: number | undefined;
  for (const t of triggers) {
    const n = nextFire(t, after, origin);
    if (n !== undefined && (best === undefined || n < best)) best = n;
  }
  return best;
}

/** For people: "cron 0 * * * * (UTC)", "every 1h", "once at …", "at logon of alice". */
export function describeTrigger(t: Trigger): string {
  switch (t.kind) {
    case 'cron': return `cron "${t.expression}" (${t.timezone ?? 'UTC'})`;
    case 'interval': return `every ${formatMs(t.everyMs)}${t.startAt !== undefined ? ` from ${new Date(t.startAt).toISOString()}` : ''}`;
    case 'once': return `once at ${new Date(t.at).toISOString()}`;
    case 'logon': return `at logon of ${t.principal ?? 'the run-as principal'}`;
  }
}

export function formatMs(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's']];
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const [size, unit] of units) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (parts.length === 0) return `${rest}ms`;
  return parts.join(' ');
}
