import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { OTHER_SOURCES, rateLimitSink, type RateLimitGroup } from './rate-limit.js';
import { memorySink } from './sinks.js';
import type { EventSeverity, KerbsideEvent } from './types.js';

const T0 = Date.UTC(2026, 0, 1);

function ev(cause: string, address: string, severity: EventSeverity = 'warning'): KerbsideEvent {
  return { type: 'kdc.request', time: T0, severity, message: `${cause} from ${address}`, fields: { cause, address } };
}

const classify = (e: KerbsideEvent): RateLimitGroup | undefined => e.severity === 'info'
  ? undefined
  : { cause: String(e.fields['cause']), source: String(e.fields['address']), what: `${String(e.fields['cause'])} requests` };

test('per (cause, source): the burst passes, the rest become one summary at the end of the interval', async () => {
  const clock = new ManualClock(T0);
  const out = memorySink();
  const sink = rateLimitSink(out, { clock, burst: 10, intervalMs: 60_000, classify });
  for (let i = 0; i < 1214; i++) sink.emit(ev('malformed', '127.0.0.1'));
  for (let i = 0; i < 12; i++) sink.emit(ev('malformed', '192.0.2.7'));
  for (let i = 0; i < 3; i++) sink.emit(ev('oversized', '127.0.0.1'));
  for (let i = 0; i < 50; i++) sink.emit(ev('issued', '127.0.0.1', 'info'));
  assert.equal(out.events.length, 10 + 10 + 3 + 50, 'bursts per group; unclassified events always pass');
  await clock.advance(59_999);
  assert.equal(out.ofType('events.suppressed').length, 0);
  await clock.advance(1);
  const summaries = out.ofType('events.suppressed');
  assert.deepEqual(summaries.map((e) => e.message), [
    '1,204 more malformed requests from 127.0.0.1 in the last 60 s',
    '2 more malformed requests from 192.0.2.7 in the last 60 s',
  ]);
  assert.deepEqual(summaries[0]!.fields, { suppressedType: 'kdc.request', cause: 'malformed', source: '127.0.0.1', count: 1204, intervalSeconds: 60 });
  assert.equal(summaries[0]!.severity, 'warning');
  assert.equal(summaries[0]!.time, T0 + 60_000);
  // A new interval: the burst passes again.
  out.clear();
  for (let i = 0; i < 11; i++) sink.emit(ev('malformed', '127.0.0.1'));
  assert.equal(out.events.length, 10);
  sink.flush();
  assert.deepEqual(out.ofType('events.suppressed').map((e) => e.message), ['1 more malformed requests from 127.0.0.1 in the last 1 s']);
});

test('a summary has the highest severity it stands for; groups past maxKeys share "other sources"', async () => {
  const clock = new ManualClock(T0);
  const out = memorySink();
  const sink = rateLimitSink(out, { clock, burst: 1, maxKeys: 3, classify });
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) { sink.emit(ev('x', a)); sink.emit(ev('x', a)); }
  // 1,000 spoofed sources: pooled, so at most one more group
  for (let i = 0; i < 1000; i++) sink.emit(ev('x', `10.1.${i >> 8}.${i & 255}`, i === 500 ? 'error' : 'warning'));
  assert.equal(out.events.length, 3 + 1, 'one burst per tracked source plus one for the pool');
  await clock.advance(60_000);
  const messages = out.ofType('events.suppressed').map((e) => e.message);
  assert.deepEqual(messages, [
    '1 more x requests from 10.0.0.1 in the last 60 s',
    '1 more x requests from 10.0.0.2 in the last 60 s',
    '1 more x requests from 10.0.0.3 in the last 60 s',
    `999 more x requests from ${OTHER_SOURCES} in the last 60 s`,
  ]);
  assert.equal(out.ofType('events.suppressed').at(-1)!.severity, 'error');
});

test('an inner sink that throws in a timer-driven summary does not escape', async () => {
  const clock = new ManualClock(T0);
  let n = 0;
  const sink = rateLimitSink({ emit() { n++; if (n > 1) throw new Error('broken'); } }, { clock, burst: 1, classify });
  sink.emit(ev('x', 'a'));
  sink.emit(ev('x', 'a'));
  await clock.advance(60_000); // would be an uncaught exception from a timer
  assert.equal(n, 2);
});
