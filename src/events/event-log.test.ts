import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../core/clock.js';
import { MemoryEventLogStore, type EventLogStore, type NewEventRecord } from '../store/index.js';
import { EVENT_CATALOGUE } from './catalogue.js';
import { createEmitter } from './emitter.js';
import { eventLogSink, toEventRecord } from './event-log.js';
import type { KerbsideEvent } from './types.js';

const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const ev = (type: string, severity: KerbsideEvent['severity'], fields: KerbsideEvent['fields'], message = `${type} happened`): KerbsideEvent =>
  ({ type, time: T0, severity, message, fields });

test('catalogue → record: Windows ids, levels, sources, categories and users (docs/events.md table)', () => {
  const r = (e: KerbsideEvent): NewEventRecord | undefined => toEventRecord(e, 'kdc1');
  const pick = (x: NewEventRecord | undefined) => x === undefined ? undefined
    : { eventId: x.eventId, level: x.level, source: x.source, category: x.category, user: x.user };
  assert.deepEqual(pick(r(ev('kdc.request', 'info', { exchange: 'AS', client: 'alice@EXAMPLE.TEST', result: 'issued' }))),
    { eventId: 4768, level: 'audit_success', source: 'kerbside-kdc', category: 'Kerberos Authentication Service', user: 'alice@EXAMPLE.TEST' });
  assert.deepEqual(pick(r(ev('kdc.request', 'warning', { exchange: 'AS', client: 'nobody@EXAMPLE.TEST', result: 'KDC_ERR_C_PRINCIPAL_UNKNOWN' }))),
    { eventId: 4768, level: 'audit_failure', source: 'kerbside-kdc', category: 'Kerberos Authentication Service', user: 'nobody@EXAMPLE.TEST' });
  assert.deepEqual(pick(r(ev('kdc.request', 'info', { exchange: 'TGS', client: 'alice@EXAMPLE.TEST', result: 'issued' }))),
    { eventId: 4769, level: 'audit_success', source: 'kerbside-kdc', category: 'Kerberos Service Ticket Operations', user: 'alice@EXAMPLE.TEST' });
  // As on Windows: no record for the routine PREAUTH_REQUIRED round; a wrong password is one 4771, not a 4768 too.
  assert.equal(r(ev('kdc.request', 'info', { exchange: 'AS', client: 'alice@EXAMPLE.TEST', result: 'KDC_ERR_PREAUTH_REQUIRED' })), undefined);
  assert.equal(r(ev('kdc.request', 'warning', { exchange: 'AS', client: 'alice@EXAMPLE.TEST', result: 'KDC_ERR_PREAUTH_FAILED' })), undefined);
  assert.deepEqual(pick(r(ev('kdc.preauth_failed', 'warning', { client: 'alice@EXAMPLE.TEST', address: '127.0.0.1' }))),
    { eventId: 4771, level: 'audit_failure', source: 'kerbside-kdc', category: 'Kerberos Authentication Service', user: 'alice@EXAMPLE.TEST' });
  assert.deepEqual(pick(r(ev('kdc.lockout', 'warning', { principal: 'alice@EXAMPLE.TEST', failures: 10 }))),
    { eventId: 4740, level: 'audit_success', source: 'kerbside-kdc', category: 'User Account Management', user: 'alice@EXAMPLE.TEST' });
  // Not an exchange (a dropped datagram): no Windows id, level from severity.
  assert.deepEqual(pick(r(ev('kdc.request', 'warning', { result: 'dropped', reason: 'malformed AS-REQ' }))),
    { eventId: 0, level: 'warning', source: 'kerbside-kdc', category: 'KDC', user: null });
  assert.deepEqual(pick(r(ev('spnego.downgrade_refused', 'warning', { failureCode: 'KDC_ERR_S_PRINCIPAL_UNKNOWN' }))),
    { eventId: 40960, level: 'warning', source: 'kerbside-gss', category: 'SPNEGO (Negotiator)', user: null });
  // negotiateFetch's refusal is the client's (Windows logs 40960 on the client machine); an acceptor's is the server's.
  assert.equal(r(ev('spnego.downgrade_refused', 'warning', { side: 'initiator', failureCode: 32 }))?.source, 'kerbside-client');
  assert.equal(r(ev('spnego.downgrade_refused', 'warning', { side: 'acceptor', failureCode: 32 }))?.source, 'kerbside-gss');
  assert.deepEqual(pick(r(ev('ntlm.validation', 'info', { user: 'alice', domain: 'EXAMPLE', status: 'failure', cause: 'wrong_password' }))),
    { eventId: 4776, level: 'audit_failure', source: 'kerbside-gss', category: 'Credential Validation', user: 'EXAMPLE\\alice' });
  assert.equal(r(ev('ntlm.validation', 'info', { user: 'alice', domain: 'EXAMPLE', status: 'success' }))?.level, 'audit_success');
  assert.deepEqual(pick(r(ev('scheduler.task_started', 'info', { eventId: 100, task: 'backup', principal: 'svc@EXAMPLE.TEST' }))),
    { eventId: 100, level: 'information', source: 'kerbside-scheduler', category: 'Task Scheduler', user: 'svc@EXAMPLE.TEST' });
  // The scheduler's own 7xx ids are carried in its eventId field.
  assert.equal(r(ev('scheduler.session_borrowed', 'warning', { eventId: 701 }))?.eventId, 701);
  assert.deepEqual(pick(r(ev('http.auth_succeeded', 'info', { client: 'alice@EXAMPLE.TEST' }))),
    { eventId: 0, level: 'information', source: 'kerbside-http', category: 'HTTP authentication', user: 'alice@EXAMPLE.TEST' });
  assert.equal(r(ev('credential.renewal_failed', 'warning', {}))?.source, 'kerbside-client');
  const full = r(ev('kdc.request', 'info', { exchange: 'AS', client: 'alice@EXAMPLE.TEST', result: 'issued', password: 'x' }, 'AS alice: issued'))!;
  assert.equal(full.computer, 'kdc1');
  assert.equal(full.type, 'kdc.request');
  assert.equal(full.message, 'AS alice: issued');
  assert.equal(full.time, T0);
  assert.equal(full.data['password'], undefined, 'redacted before it is stored');
  assert.deepEqual(full.data['redacted'], ['password']);
});

/** A store that records each append's size and can be made to throw, reject or stall. */
function controllable(): { store: EventLogStore; appends: number[]; mode: 'ok' | 'throw' | 'reject' | 'stall'; inner: MemoryEventLogStore } {
  const inner = new MemoryEventLogStore();
  const c = {
    inner, appends: [] as number[], mode: 'ok' as 'ok' | 'throw' | 'reject' | 'stall',
    store: {
      append: (records: readonly NewEventRecord[]) => {
        c.appends.push(records.length);
        if (c.mode === 'throw') throw new Error('disk full');
        if (c.mode === 'reject') return Promise.reject(new Error('SQLITE_FULL'));
        if (c.mode === 'stall') return new Promise<void>(() => {});
        return inner.append(records);
      },
      query: (q?: Parameters<EventLogStore['query']>[0]) => inner.query(q),
      purge: (p: Parameters<EventLogStore['purge']>[0]) => inner.purge(p),
      count: (q?: Parameters<EventLogStore['count']>[0]) => inner.count(q),
      size: () => inner.size(),
      close: () => inner.close(),
    } as EventLogStore,
  };
  return c;
}

test('events emitted in one turn are written as one batch; debug events are not recorded', async () => {
  const clock = new ManualClock(T0);
  const c = controllable();
  const sink = eventLogSink(c.store, { clock, computer: 'h' });
  const emit = createEmitter(sink, clock);
  for (let i = 0; i < 5; i++) emit.emit('kdc.preauth_failed', `failure ${i}`, { client: 'alice@EXAMPLE.TEST' });
  emit.emit('kdc.request', 'dropped', { result: 'dropped' }, 'debug');
  await sink.flush();
  assert.deepEqual(c.appends, [5]);
  assert.equal(await c.inner.count({ eventIds: [4771] }), 5);
  assert.equal(await c.inner.count(), 5);
});

for (const mode of ['throw', 'reject'] as const) {
  test(`a store that ${mode === 'throw' ? 'throws' : 'rejects'}: emit never fails, losses are counted, told once per interval, and recorded once it recovers`, async () => {
    const clock = new ManualClock(T0);
    const c = controllable();
    const told: string[] = [];
    const sink = eventLogSink(c.store, { clock, computer: 'h', lastResort: (m) => told.push(m), reportIntervalMs: 60_000 });
    const emit = createEmitter(sink, clock);
    c.mode = mode;
    for (let i = 0; i < 3; i++) {
      assert.doesNotThrow(() => emit.emit('kdc.lockout', `locked ${i}`, { principal: 'alice@EXAMPLE.TEST' }));
      await sink.flush();
    }
    assert.equal(sink.dropped, 3);
    assert.equal(told.length, 1, 'the first loss is told at once, later ones wait for the interval');
    assert.match(told[0]!, /event log: 1 event not recorded \(last error: (disk full|SQLITE_FULL)\); the service carried on/);
    await clock.advance(61_000);
    emit.emit('kdc.lockout', 'locked again', { principal: 'alice@EXAMPLE.TEST' });
    await sink.flush();
    assert.equal(told.length, 2);
    assert.match(told[1]!, /4 events not recorded/);
    c.mode = 'ok';
    emit.emit('kdc.lockout', 'locked after recovery', { principal: 'alice@EXAMPLE.TEST' });
    await sink.flush();
    const { records } = await c.inner.query();
    assert.deepEqual(records.map((r) => r.type), ['events.sink_failed', 'kdc.lockout']);
    assert.equal(records[0]!.level, 'error');
    assert.equal(records[0]!.data['dropped'], 4);
    assert.match(records[0]!.message, /4 events not recorded in the last 61 s/);
    // Recorded once: the next write carries no second gap record.
    emit.emit('kdc.lockout', 'and again', { principal: 'alice@EXAMPLE.TEST' });
    await sink.flush();
    assert.equal(await c.inner.count({ types: ['events.sink_failed'] }), 1);
    assert.equal(sink.dropped, 4);
  });
}

test('a store that stalls: emit returns at once, the queue stops at maxQueued and the rest are dropped and counted', async () => {
  const clock = new ManualClock(T0);
  const c = controllable();
  c.mode = 'stall';
  const told: string[] = [];
  const sink = eventLogSink(c.store, { clock, computer: 'h', maxQueued: 10, batchSize: 4, lastResort: (m) => told.push(m) });
  const emit = createEmitter(sink, clock);
  for (let i = 0; i < 50; i++) emit.emit('kdc.preauth_failed', `failure ${i}`, { client: 'alice@EXAMPLE.TEST' });
  assert.equal(sink.queued, 10);
  assert.equal(sink.dropped, 40);
  await new Promise<void>((resolve) => { setImmediate(resolve); });
  assert.deepEqual(c.appends, [5], 'one batch (4 events after the record of the 40 lost) is stuck in the store');
  assert.equal(sink.queued, 6);
  for (let i = 0; i < 10; i++) emit.emit('kdc.preauth_failed', `more ${i}`, { client: 'alice@EXAMPLE.TEST' });
  assert.equal(sink.queued, 10);
  assert.equal(sink.dropped, 46);
  assert.equal(told.length, 1);
  assert.match(told[0]!, /1 event not recorded \(last error: 10 events are waiting for the event log store\)/);
});

test('retention: age and size are applied on writes, at most once per check interval by the injected clock', async () => {
  const clock = new ManualClock(T0);
  const c = controllable();
  const sink = eventLogSink(c.store, { clock, computer: 'h', retention: { maxAgeMs: 3_600_000, maxBytes: 0, checkIntervalMs: 60_000 } });
  const emit = createEmitter(sink, clock);
  emit.emit('kdc.lockout', 'old', { principal: 'a@R' });
  await sink.flush();
  await clock.advance(2 * 3_600_000);
  emit.emit('kdc.lockout', 'new', { principal: 'b@R' });
  await sink.flush();
  assert.deepEqual((await c.inner.query()).records.map((r) => r.message), ['new'], 'the 2 h old record was purged by the write');
  // Size: keep about the newest few.
  const sized = eventLogSink(c.store, { clock, computer: 'h', retention: { maxAgeMs: 0, maxBytes: 1000, checkIntervalMs: 60_000 } });
  const e2 = createEmitter(sized, clock);
  for (let i = 0; i < 40; i++) e2.emit('kdc.lockout', `n${i}`, { principal: 'c@R' });
  await sized.flush();
  assert.ok(await c.inner.size() <= 1000, `size ${await c.inner.size()}`);
  const kept = (await c.inner.query()).records.map((r) => r.message);
  assert.equal(kept.at(-1), 'n39');
  // Within the check interval no purge runs, so the log may grow past the budget until the next check.
  for (let i = 0; i < 40; i++) e2.emit('kdc.lockout', `m${i}`, { principal: 'c@R' });
  await sized.flush();
  assert.ok(await c.inner.size() > 1000);
  await clock.advance(60_000);
  e2.emit('kdc.lockout', 'last', { principal: 'c@R' });
  await sized.flush();
  assert.ok(await c.inner.size() <= 1000);
});

test('the catalogue is the one table of ids: every scheduler row has one, and no id names two types', () => {
  const rows = Object.values(EVENT_CATALOGUE).filter((r) => r !== undefined);
  for (const r of rows.filter((x) => x.type.startsWith('scheduler.'))) {
    assert.ok(r.windowsEventId !== undefined, `${r.type} has no id`);
  }
  const request = EVENT_CATALOGUE['kdc.request'];
  assert.ok(Object.isFrozen(request.byField) && Object.isFrozen(request.byField?.cases['AS']) && Object.isFrozen(request.audit), 'rules are frozen too');
  const seen = new Map<number, string>();
  for (const r of rows) {
    const ids = [r.windowsEventId, ...Object.values(r.byField?.cases ?? {}).map((c) => c.windowsEventId)].filter((x) => x !== undefined);
    // One type may give the same id in several cases (40960 on the client and on the server side).
    const own = new Set(ids);
    for (const id of own) {
      assert.equal(seen.get(id), undefined, `id ${id} is used by ${seen.get(id)} and ${r.type}`);
      seen.set(id, r.type);
    }
  }
});

test('docs/events.md lists every catalogue type in its table of ids, with its id', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/events.md', import.meta.url)), 'utf8');
  for (const r of Object.values(EVENT_CATALOGUE).filter((x) => x !== undefined)) {
    const ids = r.byField === undefined ? [r.windowsEventId ?? 0] : Object.values(r.byField.cases).map((c) => c.windowsEventId);
    for (const id of ids) assert.ok(doc.includes(`| ${id} | \`${r.type}\``), `docs/events.md has no row "| ${id} | \`${r.type}\`"`);
  }
});

test('a purge that fails loses no event: it is told and retried at the next check', async () => {
  const clock = new ManualClock(T0);
  const inner = new MemoryEventLogStore();
  let purges = 0;
  const store: EventLogStore = {
    append: (r) => inner.append(r), query: (q) => inner.query(q), count: (q) => inner.count(q), size: () => inner.size(), close: () => inner.close(),
    purge: () => { purges++; return Promise.reject(new Error('SQLITE_BUSY')); },
  };
  const told: string[] = [];
  const sink = eventLogSink(store, { clock, computer: 'h', lastResort: (m) => told.push(m), retention: { checkIntervalMs: 60_000 } });
  const emit = createEmitter(sink, clock);
  emit.emit('kdc.lockout', 'one', { principal: 'a@R' });
  await sink.flush();
  emit.emit('kdc.lockout', 'two', { principal: 'a@R' });
  await sink.flush();
  assert.equal(purges, 1, 'once per check interval');
  await clock.advance(60_000);
  emit.emit('kdc.lockout', 'three', { principal: 'a@R' });
  await sink.flush();
  assert.equal(purges, 2);
  assert.equal(await inner.count(), 3);
  assert.equal(sink.dropped, 0);
  assert.match(told[0]!, /retention could not purge old records \(SQLITE_BUSY\); retried in 60 s/);
});
