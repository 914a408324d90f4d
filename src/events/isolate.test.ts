import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { isolateSink } from './isolate.js';
import { memorySink } from './sinks.js';
import type { EventSink, KerbsideEvent } from './types.js';

const T0 = Date.UTC(2026, 0, 1);

function event(n: number): KerbsideEvent {
  return { type: 'kdc.request', time: T0, severity: 'warning', message: `event ${n}`, fields: {} };
}

test('a throwing sink: the caller never sees the error; first failure told at once, then one report per interval', async () => {
  const clock = new ManualClock(T0);
  const told: string[] = [];
  let broken = true;
  const good = memorySink();
  const sink: EventSink = { emit(e) { if (broken) throw new Error('EPIPE'); good.emit(e); } };
  const safe = isolateSink(sink, { clock, intervalMs: 60_000, lastResort: (m) => told.push(m) });
  for (let i = 0; i < 500; i++) safe.emit(event(i));
  assert.equal(safe.dropped, 500);
  assert.equal(told.length, 1, 'the first failure, told to the last resort because the sink cannot take it');
  assert.match(told[0]!, /^event sink failed: 1 event not delivered in the last 1 s \(last error: EPIPE\); the service carried on$/);
  await clock.advance(60_000);
  assert.equal(told.length, 2);
  assert.match(told[1]!, /^event sink failed: 499 events not delivered in the last 60 s \(last error: EPIPE\)/);
  // The sink recovers: the next report goes to the sink itself as an events.sink_failed event.
  broken = false;
  safe.emit(event(1000));
  assert.deepEqual(good.events.map((e) => e.message), ['event 1000']);
  await clock.advance(60_000);
  assert.equal(told.length, 2, 'no failures in that interval: nothing to report');
  broken = true;
  safe.emit(event(1001));
  broken = false;
  assert.equal(told.length, 3, 'after a quiet interval a new failure is told at once again');
  safe.emit(event(1002));
  broken = true;
  safe.emit(event(1003));
  broken = false;
  await clock.advance(60_000);
  const report = good.ofType('events.sink_failed');
  assert.equal(report.length, 1);
  assert.equal(report[0]!.severity, 'error');
  assert.deepEqual(report[0]!.fields, { dropped: 1, totalDropped: 502, intervalSeconds: 60, lastError: 'EPIPE' });
});

test('an async sink: rejections are counted, never unhandled; a sink that never settles is bounded by maxPending', async () => {
  const clock = new ManualClock(T0);
  const told: string[] = [];
  const rejecting = isolateSink({ emit: () => Promise.reject(new Error('ECONNRESET')) } as unknown as EventSink, { clock, lastResort: (m) => told.push(m) });
  for (let i = 0; i < 10; i++) rejecting.emit(event(i));
  await new Promise((r) => setImmediate(r));
  assert.equal(rejecting.dropped, 10);
  assert.equal(told.length, 1);
  assert.match(told[0]!, /ECONNRESET/);

  let offered = 0;
  const hanging = isolateSink({ emit: () => { offered++; return new Promise(() => {}); } } as unknown as EventSink, { clock, maxPending: 100, lastResort: (m) => told.push(m) });
  for (let i = 0; i < 1000; i++) hanging.emit(event(i));
  assert.equal(offered, 100, 'no more than maxPending events wait on the sink');
  assert.equal(hanging.dropped, 900);
  assert.match(told.at(-1)!, /100 events are still waiting for the sink/);
});

test('flush reports what is pending; wrapping twice gives the same wrapper; the report carries no event content', async () => {
  const clock = new ManualClock(T0);
  const told: string[] = [];
  const safe = isolateSink({ emit() { throw new Error('full'); } }, { clock, lastResort: (m) => told.push(m) });
  assert.equal(isolateSink(safe, { clock }), safe);
  safe.emit({ ...event(1), message: 'alice@EXAMPLE.TEST secret-ish detail' });
  safe.emit(event(2));
  safe.emit(event(3));
  await clock.advance(5_000);
  safe.flush();
  assert.equal(told.length, 2);
  assert.match(told[1]!, /2 events not delivered in the last 5 s/);
  assert.ok(told.every((m) => !m.includes('alice')), 'reports count events; they do not repeat them');
  safe.flush();
  assert.equal(told.length, 2, 'nothing new to report');
});
