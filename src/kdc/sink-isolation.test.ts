/**
 * Issue 8 item 3: an event sink that throws, rejects or never settles does
 * not change a reply or hold a request (docs/events.md "Sink isolation").
 * Before the fix a throwing sink made process() resolve undefined, so UDP
 * sent nothing.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import type { EventSink, KerbsideEvent } from '../events/index.js';
import { ErrorCode } from '../messages/index.js';
import { MemoryStore } from '../store/index.js';
import { REALM, T0, UDP_PEER, asReq, encTimestamp, expectAsRep, expectError, passwordKey } from '../testing/kdc-client.js';
import { UdpClient } from '../testing/kdc-sockets.js';
import { realmAdmin } from './admin.js';
import { plainKeysForTests } from './keys.js';
import { createKdc, type Kdc } from './processor.js';
import { startTestRealm } from './test-realm.js';

async function kdcWith(events: EventSink, clock = new ManualClock(T0)): Promise<Kdc> {
  const store = new MemoryStore({ clock });
  const admin = realmAdmin({ realm: REALM, store, clock, random: seededRandom(3), keys: plainKeysForTests() });
  await admin.createRealm();
  await admin.addPrincipal('alice', { password: 'alice-pw' });
  return createKdc({ realm: REALM, store, clock, random: seededRandom(4), events, keys: plainKeysForTests() });
}

/** AS-REP, PREAUTH_REQUIRED, C_PRINCIPAL_UNKNOWN and silence for garbage: each answered as with a working sink. */
async function assertAnswers(kdc: Kdc): Promise<void> {
  const key = await passwordKey('alice', 'alice-pw');
  expectAsRep(await kdc.process(asReq({ nonce: 11, padata: [encTimestamp(key, T0)] }), UDP_PEER));
  assert.equal(expectError(await kdc.process(asReq({ nonce: 12 }), UDP_PEER)).errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
  assert.equal(expectError(await kdc.process(asReq({ nonce: 13, client: 'nobody' }), UDP_PEER)).errorCode, ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN);
  assert.equal(await kdc.process(new Uint8Array([0x6a, 0x03, 0x02, 0x01, 0x05]), UDP_PEER), undefined);
}

function warningsDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => { if (w.code === 'KERBSIDE_EVENT_SINK_FAILED') seen.push(w.message); };
  process.on('warning', onWarning);
  return fn().then(async () => {
    await new Promise((r) => setImmediate(r)); // warnings are delivered on the next tick
    process.off('warning', onWarning);
    return seen;
  });
}

test('a sink that throws changes no reply; the failure is reported once, by a process warning', async () => {
  let calls = 0;
  const kdc = await kdcWith({ emit() { calls++; throw new Error('disk full'); } });
  const warnings = await warningsDuring(() => assertAnswers(kdc));
  assert.ok(calls >= 4, 'every event was offered to the sink');
  assert.equal(warnings.length, 1, `one report per interval, not one per event: ${JSON.stringify(warnings)}`);
  assert.match(warnings[0]!, /event sink failed.*disk full/);
});

test('a sink whose emit rejects (an async sink) changes no reply and leaves no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown): void => { unhandled.push(r); };
  process.on('unhandledRejection', onUnhandled);
  try {
    const sink = { emit: (_e: KerbsideEvent) => Promise.reject(new Error('socket closed')) } as unknown as EventSink;
    const warnings = await warningsDuring(async () => assertAnswers(await kdcWith(sink)));
    assert.deepEqual(unhandled, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /socket closed/);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a sink that never settles does not hold a request', async () => {
  let offered = 0;
  const sink = { emit: () => { offered++; return new Promise(() => {}); } } as unknown as EventSink;
  await assertAnswers(await kdcWith(sink));
  assert.ok(offered >= 4);
});

test('over real UDP: a KDC whose sink throws still answers an AS-REQ', { timeout: 20_000 }, async () => {
  const realm = await startTestRealm({
    realm: REALM, principals: [{ name: 'alice', password: 'alice-pw' }],
    events: { emit() { throw new Error('sink broken'); } },
  });
  const udp = new UdpClient(realm.host, realm.port);
  try {
    const key = await passwordKey('alice', 'alice-pw');
    const now = realm.clock.now();
    const warnings = await warningsDuring(async () => {
      expectAsRep(await udp.exchange(asReq({ nonce: 21, till: now + 3_600_000, padata: [encTimestamp(key, now)] })));
      // garbage first, then a request: the first reply must be the request's
      await udp.send(new Uint8Array([0x00]));
      assert.equal(expectError(await udp.exchange(asReq({ nonce: 22, till: now + 3_600_000 }))).errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
    });
    assert.equal(warnings.length, 1);
  } finally {
    udp.close();
    await realm.stop();
  }
});
