/**
 * Sink isolation (docs/events.md "Sink isolation"): whatever a sink does —
 * throw, return a promise that rejects, or never settle — the code emitting
 * the event carries on unchanged. A KDC must answer, and an HTTP server must
 * respond, even when the disk behind their log is full.
 *
 * Failed and dropped events are counted. The first failure is reported at
 * once, later ones once per interval, as an `events.sink_failed` event sent
 * to the same sink; when the sink cannot take that either, the report goes to
 * a last resort (by default `process.emitWarning`, code
 * KERBSIDE_EVENT_SINK_FAILED), so a broken sink is never silent.
 */

import type { Clock, TimerHandle } from '../core/clock.js';
import type { EventSink, KerbsideEvent } from './types.js';

export interface IsolateOptions {
  readonly clock: Clock;
  /** How often failures are reported after the first (ms; default 60 s). */
  readonly intervalMs?: number;
  /**
   * Events handed to an asynchronous sink whose promise has not settled yet
   * (default 1,000). Beyond that, events are dropped and counted, so a sink
   * that never answers cannot grow memory without bound.
   */
  readonly maxPending?: number;
  /** Where a report goes when the sink cannot take it (default: process.emitWarning). */
  readonly lastResort?: (message: string) => void;
}

export interface IsolatedSink extends EventSink {
  /** Events not delivered since the sink was wrapped. */
  readonly dropped: number;
  /** Reports failures not yet reported, now (at shutdown). */
  flush(): void;
}

const ISOLATED = Symbol('kerbside.isolatedSink');

export const SINK_FAILED_WARNING_CODE = 'KERBSIDE_EVENT_SINK_FAILED';

/** Where a sink failure is told when no sink can take it: a process warning with a stable code. */
export function defaultLastResort(message: string): void {
  process.emitWarning(message, { code: SINK_FAILED_WARNING_CODE });
}

/** An error's message for a failure report, cut at 200 characters. */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Wraps `sink` so that it can neither throw into nor hold up its caller. Wrapping twice returns the same wrapper. */
export function isolateSink(sink: EventSink, options: IsolateOptions): IsolatedSink {
  if ((sink as Partial<Record<typeof ISOLATED, true>>)[ISOLATED] === true) return sink as IsolatedSink;
  const { clock } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const maxPending = options.maxPending ?? 1000;
  const lastResort = options.lastResort ?? defaultLastResort;
  let pending = 0;
  let dropped = 0;
  /** Failures since the last report, and the newest cause. */
  let unreported = 0;
  let lastError = '';
  let since = 0;
  let timer: TimerHandle | undefined;

  function report(): void {
    if (unreported === 0) return;
    const seconds = Math.max(1, Math.round((clock.now() - since) / 1000));
    const count = unreported;
    const message = `event sink failed: ${count.toLocaleString('en-US')} event${count === 1 ? '' : 's'} not delivered in the last ${seconds} s (last error: ${lastError}); the service carried on`;
    unreported = 0;
    since = clock.now();
    const event: KerbsideEvent = {
      type: 'events.sink_failed', time: clock.now(), severity: 'error', message,
      fields: { dropped: count, totalDropped: dropped, intervalSeconds: seconds, lastError },
    };
    // Synchronous delivery only: a sink that is backlogged or failed asynchronously is not trusted with its own report.
    if (pending >= maxPending) {
      lastResort(message);
      return;
    }
    try {
      const r: unknown = sink.emit(event);
      if (isThenable(r)) {
        Promise.resolve(r).catch(() => {});
        lastResort(message);
      }
    } catch {
      lastResort(message);
    }
  }

  function arm(): void {
    timer = clock.setTimer(intervalMs, () => {
      timer = undefined;
      if (unreported === 0) return;
      try { report(); } catch { /* a last resort that throws: nothing left to tell */ }
      arm();
    });
  }

  function failed(err: unknown): void {
    dropped++;
    if (unreported === 0 && timer === undefined) since = clock.now();
    unreported++;
    lastError = errorText(err);
    if (timer === undefined) {
      // The first failure is told at once; later ones are gathered for one report per interval.
      try { report(); } catch { /* ignore */ }
      arm();
    }
  }

  return {
    [ISOLATED]: true,
    get dropped() { return dropped; },
    emit(event) {
      if (pending >= maxPending) {
        failed(new Error(`${pending} events are still waiting for the sink`));
        return;
      }
      let r: unknown;
      try {
        r = sink.emit(event);
      } catch (err) {
        failed(err);
        return;
      }
      if (isThenable(r)) {
        pending++;
        Promise.resolve(r).then(() => { pending--; }, (err: unknown) => { pending--; failed(err); });
      }
    },
    flush() {
      timer?.cancel();
      timer = undefined;
      try { report(); } catch { /* ignore */ }
    },
  } as IsolatedSink;
}
