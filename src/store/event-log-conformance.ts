/**
 * The test suite every EventLogStore backend must pass (docs/events.md "The
 * event log"). A backend's test file calls
 * `runEventLogConformance('sqlite', open)`; `reopen` is a second handle on
 * the same data (another connection, as `kerbside events --follow` in
 * another process has).
 */

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../core/errors.js';
import { StoreClosedError } from './errors.js';
import { eventRecordSize, type EventLogStore, type NewEventRecord } from './event-log.js';

export interface EventLogUnderTest {
  readonly store: EventLogStore;
  /** Another handle on the same data (SQLite: a new connection). The suite closes it. */
  readonly reopen: () => Promise<EventLogStore>;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 11, 1);

function rec(i: number, extra: Partial<NewEventRecord> = {}): NewEventRecord {
  return {
    time: T0 + i * 1000, level: 'information', source: 'kerbside-kdc', category: 'Kerberos Authentication Service',
    eventId: 4768, type: 'kdc.request', user: `user${i % 3}@EXAMPLE.TEST`, computer: 'kdc1', message: `event ${i}`,
    data: { n: i, ok: true, list: ['a', 'b'], none: null }, ...extra,
  };
}

export function runEventLogConformance(name: string, open: () => Promise<EventLogUnderTest>): void {
  const withLog = (title: string, body: (s: EventLogUnderTest) => Promise<void>) =>
    test(title, async () => {
      const s = await open();
      try {
        await body(s);
      } finally {
        await s.close();
      }
    });

  describe(`EventLogStore conformance: ${name}`, () => {
    withLog('append then query returns every field, in order, with increasing seq', async ({ store }) => {
      await store.append([rec(1), rec(2, { user: null, level: 'audit_failure', eventId: 4771 })]);
      await store.append([rec(3)]);
      const page = await store.query();
      assert.equal(page.records.length, 3);
      assert.equal(page.more, false);
      const [a, b, c] = page.records;
      assert.deepEqual({ ...a!, seq: 0 }, { ...rec(1), seq: 0 });
      assert.equal(b!.user, null);
      assert.equal(b!.level, 'audit_failure');
      assert.deepEqual(b!.data, { n: 2, ok: true, list: ['a', 'b'], none: null });
      assert.ok(a!.seq < b!.seq && b!.seq < c!.seq);
      assert.equal(page.cursor, c!.seq);
      assert.equal(await store.count(), 3);
    });

    withLog('filters: time range (since inclusive, until exclusive), ids, sources, levels, types, user', async ({ store }) => {
      await store.append([
        rec(0), rec(1, { eventId: 4771, level: 'audit_failure' }), rec(2, { source: 'kerbside-http', eventId: 0, type: 'http.auth_succeeded' }),
        rec(3, { user: 'EXAMPLE\\alice' }), rec(4, { user: 'alice@EXAMPLE.TEST' }), rec(5, { user: 'alicex@EXAMPLE.TEST' }),
        rec(6, { user: 'Alice@EXAMPLE.TEST' }),
      ]);
      const ns = async (q: Parameters<EventLogStore['query']>[0]): Promise<number[]> =>
        (await store.query(q)).records.map((r) => r.data['n'] as number);
      assert.deepEqual(await ns({ since: T0 + 1000, until: T0 + 3000 }), [1, 2]);
      assert.deepEqual(await ns({ eventIds: [4771, 0] }), [1, 2]);
      assert.deepEqual(await ns({ eventIds: [] }), []);
      assert.deepEqual(await ns({ sources: ['kerbside-http'] }), [2]);
      assert.deepEqual(await ns({ levels: ['audit_failure'] }), [1]);
      assert.deepEqual(await ns({ types: ['http.auth_succeeded'] }), [2]);
      assert.deepEqual(await ns({ user: 'alice' }), [3, 4], 'NAME matches NAME@REALM and DOMAIN\\NAME, case-sensitively, not a prefix');
      assert.deepEqual(await ns({ user: 'alice@EXAMPLE.TEST' }), [4]);
      assert.deepEqual(await ns({ user: 'user1@EXAMPLE.TEST', eventIds: [4768] }), [], 'filters combine (AND): user1\'s only event is a 4771');
      assert.equal(await store.count({ user: 'alice' }), 2);
      assert.equal(await store.count({ levels: ['information'], sources: ['kerbside-kdc'] }), 5);
    });

    withLog('paging with limit and cursor, both directions; a cursor past the end gives an empty page', async ({ store }) => {
      await store.append(Array.from({ length: 10 }, (_, i) => rec(i)));
      const p1 = await store.query({ limit: 4 });
      assert.deepEqual(p1.records.map((r) => r.data['n']), [0, 1, 2, 3]);
      assert.equal(p1.more, true);
      const p2 = await store.query({ limit: 4, after: p1.cursor });
      assert.deepEqual(p2.records.map((r) => r.data['n']), [4, 5, 6, 7]);
      const p3 = await store.query({ limit: 4, after: p2.cursor });
      assert.deepEqual(p3.records.map((r) => r.data['n']), [8, 9]);
      assert.equal(p3.more, false);
      const p4 = await store.query({ after: p3.cursor });
      assert.deepEqual(p4.records, []);
      assert.equal(p4.cursor, p3.cursor, 'an empty page keeps the cursor (for --follow)');
      const d1 = await store.query({ order: 'desc', limit: 3 });
      assert.deepEqual(d1.records.map((r) => r.data['n']), [9, 8, 7]);
      const d2 = await store.query({ order: 'desc', limit: 3, before: d1.cursor });
      assert.deepEqual(d2.records.map((r) => r.data['n']), [6, 5, 4]);
      const filtered = await store.query({ user: 'user0@EXAMPLE.TEST', limit: 2 });
      assert.deepEqual(filtered.records.map((r) => r.data['n']), [0, 3]);
      assert.deepEqual((await store.query({ user: 'user0@EXAMPLE.TEST', after: filtered.cursor })).records.map((r) => r.data['n']), [6, 9]);
    });

    withLog('bad queries and records are refused with InvalidArgumentError', async ({ store }) => {
      for (const q of [{ limit: 0 }, { limit: 10_001 }, { limit: 1.5 }, { after: 1, before: 5 }, { levels: ['verbose' as never] }]) {
        await assert.rejects(store.query(q), InvalidArgumentError, JSON.stringify(q));
      }
      await assert.rejects(store.append([rec(1, { level: 'info' as never })]), InvalidArgumentError);
      await assert.rejects(store.append([rec(1, { eventId: -1 })]), InvalidArgumentError);
      await assert.rejects(store.append([rec(1, { time: Number.NaN })]), InvalidArgumentError);
      assert.equal(await store.count(), 0, 'a refused batch stores nothing');
    });

    withLog('purge by age deletes records older than the cut and returns the count', async ({ store }) => {
      await store.append(Array.from({ length: 5 }, (_, i) => rec(i)));
      assert.equal(await store.purge({ olderThan: T0 + 2000 }), 2);
      assert.deepEqual((await store.query()).records.map((r) => r.data['n']), [2, 3, 4]);
      assert.equal(await store.purge({ olderThan: T0 }), 0);
    });

    withLog('purge by size keeps the newest records that fit; size() sums eventRecordSize', async ({ store }) => {
      const batch = Array.from({ length: 6 }, (_, i) => rec(i));
      await store.append(batch);
      const sizes = batch.map(eventRecordSize);
      assert.equal(await store.size(), sizes.reduce((a, b) => a + b, 0));
      const budget = sizes[5]! + sizes[4]! + sizes[3]! + 1;
      assert.equal(await store.purge({ maxBytes: budget }), 3);
      assert.deepEqual((await store.query()).records.map((r) => r.data['n']), [3, 4, 5]);
      assert.ok(await store.size() <= budget);
      assert.equal(await store.purge({ maxBytes: budget }), 0);
      assert.equal(await store.purge({ maxBytes: 0 }), 3);
      assert.equal(await store.count(), 0);
    });

    withLog('seq is never reused after a purge, so a follower\'s cursor stays valid', async ({ store }) => {
      await store.append([rec(1), rec(2)]);
      const before = (await store.query()).cursor;
      await store.purge({ maxBytes: 0 });
      await store.append([rec(3)]);
      const page = await store.query({ after: before });
      assert.deepEqual(page.records.map((r) => r.data['n']), [3]);
      assert.ok(page.cursor > before);
    });

    withLog('a second handle sees appends at once (a follower in another process)', async (s) => {
      const other = await s.reopen();
      try {
        await s.store.append([rec(1)]);
        assert.equal((await other.query()).records.length, 1);
        await other.append([rec(2)]);
        assert.deepEqual((await s.store.query({ after: 0 })).records.map((r) => r.data['n']), [1, 2]);
        assert.equal(await other.size(), eventRecordSize(rec(1)) + eventRecordSize(rec(2)), 'the size counts both handles\' appends');
        assert.equal(await other.purge({ maxBytes: eventRecordSize(rec(2)) }), 1);
        assert.equal(await s.store.size(), eventRecordSize(rec(2)));
      } finally {
        await other.close();
      }
    });

    withLog('a closed store refuses every call with StoreClosedError', async ({ store }) => {
      await store.close();
      await assert.rejects(store.append([rec(1)]), StoreClosedError);
      await assert.rejects(store.query(), StoreClosedError);
      await assert.rejects(store.count(), StoreClosedError);
      await assert.rejects(store.purge({ olderThan: 0 }), StoreClosedError);
    });
  });
}
