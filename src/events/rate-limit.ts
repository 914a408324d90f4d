/**
 * Rate limiting for logs (docs/events.md "Rate limiting"): a flood of one
 * kind of event from one source — garbage datagrams, refused connections —
 * becomes a few lines and a summary, such as
 * "1,204 more malformed requests from 127.0.0.1 in the last 60 s",
 * instead of a line per packet.
 *
 * Events are grouped by (type, cause, source) as a classifier says; the
 * first `burst` of a group in each interval pass, the rest are counted and
 * summarised as one `events.suppressed` event when the interval ends (or on
 * flush). Events the classifier leaves out always pass. The number of groups
 * is bounded: past `maxKeys`, new sources share one "other sources" group per
 * cause, so a spoofed-address flood cannot grow memory either.
 */

import type { Clock, TimerHandle } from '../core/clock.js';
import type { EventSeverity, EventSink, KerbsideEvent } from './types.js';

/** How an event is grouped. `cause` must come from a small fixed set (not free text). */
export interface RateLimitGroup {
  readonly cause: string;
  /** An address, or another name for where events come from. */
  readonly source: string;
  /** Plural noun phrase for the summary line: 'malformed requests'. */
  readonly what: string;
}

export interface RateLimitOptions {
  readonly clock: Clock;
  /** Events of a group passed per interval (default 10). */
  readonly burst?: number;
  /** Default 60 s. */
  readonly intervalMs?: number;
  /** Groups tracked per interval before new sources are pooled (default 200). */
  readonly maxKeys?: number;
  /** The group of an event, or undefined for an event that is never limited. Default: type and address. */
  readonly classify?: (event: KerbsideEvent) => RateLimitGroup | undefined;
}

export interface RateLimitedSink extends EventSink {
  /** Emits the summaries of the current interval now (at shutdown). */
  flush(): void;
}

export const OTHER_SOURCES = 'other sources';

interface Group extends RateLimitGroup {
  readonly type: string;
  readonly start: number;
  passed: number;
  suppressed: number;
  severity: EventSeverity;
}

const RANK: Readonly<Record<EventSeverity, number>> = Object.freeze({ debug: 0, info: 1, warning: 2, error: 3 });

function byTypeAndAddress(event: KerbsideEvent): RateLimitGroup {
  const address = event.fields['address'];
  return { cause: event.type, source: typeof address === 'string' ? address : 'an unnamed source', what: `"${event.type}" events` };
}

export function rateLimitSink(inner: EventSink, options: RateLimitOptions): RateLimitedSink {
  const { clock } = options;
  const burst = options.burst ?? 10;
  const intervalMs = options.intervalMs ?? 60_000;
  const maxKeys = options.maxKeys ?? 200;
  const classify = options.classify ?? byTypeAndAddress;
  const groups = new Map<string, Group>();
  let timer: TimerHandle | undefined;

  function summarise(g: Group, now: number): void {
    if (g.suppressed === 0) return;
    const seconds = Math.max(1, Math.round((now - g.start) / 1000));
    const event: KerbsideEvent = {
      type: 'events.suppressed', time: now, severity: g.severity,
      message: `${g.suppressed.toLocaleString('en-US')} more ${g.what} from ${g.source} in the last ${seconds} s`,
      fields: { suppressedType: g.type, cause: g.cause, source: g.source, count: g.suppressed, intervalSeconds: seconds },
    };
    // Summaries also run from a timer, where nobody could catch: a failing inner sink is its own isolation's business.
    try { inner.emit(event); } catch { /* see above */ }
  }

  /** Ends every interval that is over; arms the timer for the next one to end. */
  function sweep(): void {
    timer = undefined;
    const now = clock.now();
    let next = Infinity;
    for (const [key, g] of groups) {
      if (now - g.start >= intervalMs) {
        summarise(g, Math.min(now, g.start + intervalMs));
        groups.delete(key);
      } else {
        next = Math.min(next, g.start + intervalMs);
      }
    }
    if (next !== Infinity) timer = clock.setTimer(next - now, sweep);
  }

  function groupFor(event: KerbsideEvent, c: RateLimitGroup, now: number): Group {
    let key = `${event.type}\u0000${c.cause}\u0000${c.source}`;
    let g = groups.get(key);
    if (g !== undefined && now - g.start >= intervalMs) {
      summarise(g, g.start + intervalMs);
      groups.delete(key);
      g = undefined;
    }
    if (g !== undefined) return g;
    let source = c.source;
    if (groups.size >= maxKeys) {
      // Pooled per cause; past twice the bound, one group for everything.
      source = OTHER_SOURCES;
      key = groups.size >= 2 * maxKeys ? '\u0000*' : `${event.type}\u0000${c.cause}\u0000\u0000${OTHER_SOURCES}`;
      const pooled = groups.get(key);
      if (pooled !== undefined) return pooled;
    }
    g = { type: event.type, cause: c.cause, what: key === '\u0000*' ? 'events' : c.what, source, start: now, passed: 0, suppressed: 0, severity: event.severity };
    groups.set(key, g);
    timer ??= clock.setTimer(intervalMs, sweep);
    return g;
  }

  return {
    emit(event) {
      const c = classify(event);
      if (c === undefined) {
        inner.emit(event);
        return;
      }
      const g = groupFor(event, c, clock.now());
      if (g.passed < burst) {
        g.passed++;
        inner.emit(event);
        return;
      }
      g.suppressed++;
      if (RANK[event.severity] > RANK[g.severity]) g.severity = event.severity;
    },
    flush() {
      timer?.cancel();
      timer = undefined;
      const now = clock.now();
      for (const g of groups.values()) summarise(g, now);
      groups.clear();
    },
  };
}
