/**
 * The KDC with its events going to a persistent event log whose store
 * fails or stalls (docs/events.md "The event log"): requests are answered
 * all the same, and the log records AS/TGS audits when it works.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { eventLogSink } from '../events/index.js';
import { MemoryEventLogStore, type EventLogStore } from '../store/index.js';
import { ErrorCode } from '../messages/index.js';
import { T0, UDP_PEER, asReq, encTimestamp, expectAsRep, expectError, harness, passwordKey } from '../testing/kdc-client.js';

function broken(mode: 'throw' | 'stall'): EventLogStore {
  const inner = new MemoryEventLogStore();
  return {
    append: () => { if (mode === 'throw') throw new Error('database or disk is full'); return new Promise<void>(() => {}); },
    query: (q) => inner.query(q), purge: (p) => inner.purge(p), count: (q) => inner.count(q), size: () => inner.size(), close: () => inner.close(),
  };
}

for (const mode of ['throw', 'stall'] as const) {
  test(`a KDC whose event log store ${mode === 'throw' ? 'throws' : 'never answers'} still issues and refuses tickets`, async () => {
    const told: string[] = [];
    const sink = eventLogSink(broken(mode), { clock: new ManualClock(T0), computer: 'kdc1', maxQueued: 20, lastResort: (m) => told.push(m) });
    const h = await harness({}, { alsoEvents: sink });
    const alice = await passwordKey('alice@EXAMPLE.TEST', 'alice-pw');
    for (let i = 0; i < 30; i++) {
      expectAsRep(await h.kdc.process(asReq({ nonce: 1000 + i, padata: [encTimestamp(alice, T0)] }), UDP_PEER));
      const wrong = await passwordKey('alice@EXAMPLE.TEST', 'not-alice-pw');
      assert.equal(expectError(await h.kdc.process(asReq({ nonce: 5000 + i, padata: [encTimestamp(wrong, T0)] }), UDP_PEER)).errorCode,
        ErrorCode.KDC_ERR_PREAUTH_FAILED);
    }
    assert.ok(sink.dropped > 0, 'the lost events are counted');
    assert.equal(told.length, 1, 'and told once');
    assert.equal(h.events.ofType('kdc.request').length >= 60, true, 'the KDC\'s other sink got everything');
  });
}

test('a KDC writing to a working event log: 4768 success for a TGT, 4771 for a wrong password, nothing for PREAUTH_REQUIRED', async () => {
  const store = new MemoryEventLogStore();
  const sink = eventLogSink(store, { clock: new ManualClock(T0), computer: 'kdc1' });
  const h = await harness({}, { alsoEvents: sink });
  const alice = await passwordKey('alice@EXAMPLE.TEST', 'alice-pw');
  expectError(await h.kdc.process(asReq({ nonce: 1 }), UDP_PEER));
  expectAsRep(await h.kdc.process(asReq({ nonce: 2, padata: [encTimestamp(alice, T0)] }), UDP_PEER));
  expectError(await h.kdc.process(asReq({ nonce: 3, padata: [encTimestamp(await passwordKey('alice@EXAMPLE.TEST', 'x'), T0)] }), UDP_PEER));
  await sink.flush();
  const { records } = await store.query();
  assert.deepEqual(records.map((r) => [r.eventId, r.level, r.user]), [
    [4768, 'audit_success', 'alice@EXAMPLE.TEST'],
    [4771, 'audit_failure', 'alice@EXAMPLE.TEST'],
  ]);
});
