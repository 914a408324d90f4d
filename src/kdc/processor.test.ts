import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import { ErrorCode } from '../messages/index.js';
import { MemoryStore, PrincipalCache, StoreUnavailableError } from '../store/index.js';
import { realmAdmin } from './admin.js';
import { REALM, T0, TCP_PEER, UDP_PEER, asReq, encTimestamp, expectAsRep, expectError, harness, passwordKey } from '../testing/kdc-client.js';
import { createKdc } from './processor.js';
import { plainKeysForTests } from './keys.js';

test('a principal database failure is KDC_ERR_SVC_UNAVAILABLE (29) and an error event, not a crash', async () => {
  const events = memorySink();
  let lookups = 0;
  const kdc = createKdc({
    realm: REALM, clock: new ManualClock(T0), events, keys: plainKeysForTests(),
    store: { get: async () => { lookups++; throw new StoreUnavailableError('database is locked'); } },
  });
  const err = expectError(await kdc.process(asReq(), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_SVC_UNAVAILABLE);
  // a transient failure is not kept in the lookaside cache: the retransmit is processed again
  expectError(await kdc.process(asReq(), UDP_PEER));
  assert.equal(lookups, 2);
  const ev = events.ofType('kdc.request').at(-1)!;
  assert.equal(ev.severity, 'error');
  assert.match(String(ev.fields['reason']), /database is locked/);
});

test('reads through a PrincipalCache: a principal added through the cache is served at once', async () => {
  const clock = new ManualClock(T0);
  const store = new MemoryStore({ clock });
  const cache = await PrincipalCache.open(store, { clock, pollIntervalMs: 60_000 });
  try {
    const admin = realmAdmin({ realm: REALM, store: cache, clock, random: seededRandom(1), keys: plainKeysForTests() });
    await admin.createRealm();
    const kdc = createKdc({ realm: REALM, store: cache, clock, random: seededRandom(2), keys: plainKeysForTests() });
    assert.equal(expectError(await kdc.process(asReq({ nonce: 1 }), UDP_PEER)).errorCode, ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN);
    await admin.addPrincipal('alice', { password: 'alice-pw' });
    const key = await passwordKey('alice', 'alice-pw');
    expectAsRep(await kdc.process(asReq({ nonce: 2, padata: [encTimestamp(key, T0)] }), UDP_PEER));
  } finally {
    await cache.close();
  }
});

test('one kdc.request event per request with the facts and no key material; wrong pvno gets no reply (MIT dispatch)', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const rep = expectAsRep(await h.kdc.process(asReq({ padata: [encTimestamp(key, T0)] }), TCP_PEER));
  const events = h.events.ofType('kdc.request');
  assert.equal(events.length, 1);
  const f = events[0]!.fields;
  assert.equal(f['exchange'], 'AS');
  assert.equal(f['service'], `krbtgt/${REALM}@${REALM}`);
  assert.equal(f['transport'], 'tcp');
  assert.equal(f['preauth'], 'encrypted-timestamp');
  assert.equal(f['replyEnctype'], 'aes256-cts-hmac-sha1-96');
  const text = JSON.stringify(h.events.events);
  for (const secret of [rep.encPart.cipher, key.keyvalue]) {
    assert.ok(!text.includes(Buffer.from(secret).toString('hex')) && !text.includes(Buffer.from(secret).toString('base64')));
  }
  // pvno [1] INTEGER 4 instead of 5: not a request this KDC decodes, so silence (no amplification), logged as a warning
  const pv4 = asReq({ nonce: 3 });
  const at = Buffer.from(pv4).indexOf(Buffer.from([0xa1, 0x03, 0x02, 0x01, 0x05])) + 4;
  assert.ok(at > 4);
  pv4[at] = 4;
  assert.equal(await h.kdc.process(pv4, UDP_PEER), undefined);
  const dropped = h.events.ofType('kdc.request').at(-1)!;
  assert.equal(dropped.fields['result'], 'dropped');
  assert.equal(dropped.severity, 'warning');
  assert.match(String(dropped.fields['reason']), /malformed AS-REQ.*pvno/);
});
