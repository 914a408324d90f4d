/**
 * Account lockout in the AS exchange (docs/lockout.md): a locked account
 * looks like any other until a correct pre-authentication arrives, failures
 * are counted per (principal, source address) and per principal, and the
 * MIT policy semantics of maxfailure / failurecountinterval / lockoutduration
 * hold on a ManualClock.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, PaType } from '../messages/index.js';
import type { KdcPeer } from './transport.js';
import {
  REALM, T0, asReq, encTimestamp, expectError, harness, methodData, passwordKey, type Harness,
} from '../testing/kdc-client.js';
import type { RealmPolicyInput } from './config.js';
import { lockoutSource } from './lockout.js';

const MIN = 60_000;
const A: KdcPeer = { transport: 'udp', address: '192.0.2.10', port: 40000 };
const B: KdcPeer = { transport: 'udp', address: '198.51.100.20', port: 40000 };
const POLICY = { maxFailures: 3, failureWindowMs: 5 * MIN, lockoutDurationMs: 15 * MIN, maxFailuresAllSources: 10 };

let nonce = 1000;

async function setup(lockout: RealmPolicyInput['lockout'] = POLICY): Promise<Harness> {
  return harness({ lockout }, { lockout: true });
}

async function attempt(h: Harness, peer: KdcPeer, password: string | undefined, client = 'alice'): Promise<Uint8Array | undefined> {
  const padata = password === undefined ? undefined : [encTimestamp(await passwordKey(client, password), h.clock.now())];
  const reply = await h.kdc.process(asReq({ client, nonce: nonce++, till: h.clock.now() + 10 * 60 * MIN, ...(padata === undefined ? {} : { padata }) }), peer);
  await h.kdc.settled();
  return reply;
}

async function code(h: Harness, peer: KdcPeer, password: string | undefined, client = 'alice'): Promise<number | 'issued'> {
  const reply = await attempt(h, peer, password, client);
  return reply !== undefined && reply[0] === 0x6b ? 'issued' : expectError(reply).errorCode;
}

async function fail(h: Harness, peer: KdcPeer, times: number, client = 'alice'): Promise<void> {
  for (let i = 0; i < times; i++) assert.equal(await code(h, peer, 'wrong-guess', client), ErrorCode.KDC_ERR_PREAUTH_FAILED);
}

test('a locked account answers an unauthenticated AS-REQ with the same bytes as before it was locked', async () => {
  const h = await setup();
  const before = await attempt(h, A, undefined);
  const wrongBefore = expectError(await attempt(h, A, 'wrong-guess'));
  await fail(h, A, 2);
  assert.ok((await h.store.lockout.sources(`alice@${REALM}`)).some((s) => s.state.lockedUntil !== undefined), 'alice is locked for A');
  const after = await attempt(h, A, undefined);
  assert.deepEqual(after, before, 'PREAUTH_REQUIRED, byte for byte (the clock did not move)');
  assert.equal(expectError(after).errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
  assert.deepEqual(methodData(expectError(after)).map((p) => p.padataType), [PaType.PA_ETYPE_INFO2, PaType.PA_ENC_TIMESTAMP]);
  // A wrong password while locked: PREAUTH_FAILED, as it was before the lock.
  const wrongAfter = expectError(await attempt(h, A, 'wrong-guess'));
  assert.equal(wrongAfter.errorCode, ErrorCode.KDC_ERR_PREAUTH_FAILED);
  assert.equal(wrongAfter.eText, wrongBefore.eText);
  // The right password while locked: CLIENT_REVOKED, with a hint.
  const revoked = expectError(await attempt(h, A, 'alice-pw'));
  assert.equal(revoked.errorCode, ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.match(revoked.eText ?? '', /locked out/);
  assert.doesNotMatch(revoked.eText ?? '', /alice-pw/);
});

test('per source: failures from address A lock alice for A only; B logs on, and a success from B does not lift A\'s lock', async () => {
  const h = await setup();
  await fail(h, A, 3);
  assert.equal(await code(h, A, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.equal(await code(h, B, 'alice-pw'), 'issued');
  assert.equal(await code(h, A, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED, 'A stays locked');
  const ev = h.events.ofType('kdc.lockout');
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.fields['principal'], `alice@${REALM}`);
  assert.equal(ev[0]!.fields['address'], '192.0.2.10');
  assert.equal(ev[0]!.fields['scope'], 'source');
  assert.doesNotMatch(JSON.stringify(ev), /wrong-guess|alice-pw/);
});

test('per principal: failures from many addresses lock the principal everywhere at maxFailuresAllSources', async () => {
  const h = await setup();
  // Four addresses with 2 failures each (none reaches the per-source 3), then 2 more: 10 in all.
  for (let i = 0; i < 5; i++) await fail(h, { transport: 'udp', address: `203.0.113.${i + 1}`, port: 1 }, 2);
  const ev = h.events.ofType('kdc.lockout');
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.fields['scope'], 'principal');
  assert.equal(await code(h, B, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED, 'locked for an address that never failed');
  assert.equal(await code(h, B, undefined), ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
  // While the principal is locked, maxFailures (3) more guesses are checked in all, whatever their addresses.
  await fail(h, { transport: 'udp', address: '203.0.113.99', port: 1 }, 1);
  await fail(h, { transport: 'udp', address: '203.0.113.1', port: 1 }, 2);
  for (const address of ['203.0.113.100', '203.0.113.1', '198.51.100.20']) {
    assert.equal(await code(h, { transport: 'udp', address, port: 1 }, 'wrong-guess'), ErrorCode.KDC_ERR_CLIENT_REVOKED, `${address}: refused unchecked`);
  }
});

test('while the principal is locked, failures from source-locked addresses count for it too (many addresses get no more guesses)', async () => {
  const h = await setup();
  await fail(h, A, 3); // A is locked for alice; the principal has 3
  for (let i = 0; i < 7; i++) await fail(h, { transport: 'udp', address: `203.0.113.${i + 1}`, port: 1 }, 1);
  assert.equal(h.events.ofType('kdc.lockout').at(-1)?.fields['scope'], 'principal');
  await fail(h, A, 3); // A's own budget: counted for the principal now, which exhausts its budget too
  assert.equal(await code(h, B, 'wrong-guess'), ErrorCode.KDC_ERR_CLIENT_REVOKED);
});

test('a locked source\'s failures do not count towards the principal-wide lock (one address cannot lock a user out everywhere)', async () => {
  const h = await setup();
  await fail(h, A, 6);
  assert.equal(await code(h, A, 'wrong-guess'), ErrorCode.KDC_ERR_CLIENT_REVOKED, 'past the verification budget: refused unchecked');
  for (let i = 0; i < 20; i++) await attempt(h, A, 'wrong-guess');
  assert.equal((await h.store.lockout.get(`alice@${REALM}`)).failures, 3);
  assert.equal(await code(h, B, 'alice-pw'), 'issued');
});

test('while locked, at most maxfailure more guesses are checked; after that every pre-authenticated request is CLIENT_REVOKED (no password oracle)', async () => {
  const h = await setup();
  await fail(h, A, 3);
  await fail(h, A, 3); // the budget: a locked source still looks normal to 3 more wrong guesses
  assert.equal(await code(h, A, 'wrong-guess'), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.equal(await code(h, A, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.equal(await code(h, A, undefined), ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
});

test('failurecountinterval: failures further apart than the interval start a fresh count', async () => {
  const h = await setup();
  await fail(h, A, 2);
  await h.clock.advance(5 * MIN);
  await fail(h, A, 2);
  assert.equal(await code(h, A, 'alice-pw'), 'issued', 'the count restarted after 5 idle minutes, so 2+2 never reached 3');
  await fail(h, A, 2);
  await h.clock.advance(5 * MIN - 1000);
  await fail(h, A, 1);
  assert.equal(await code(h, A, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED, 'within the interval the count goes on');
});

test('lockoutduration: the lock lifts by itself after the duration, and a lock is not extended by more failures', async () => {
  const h = await setup();
  await fail(h, A, 3);
  await h.clock.advance(10 * MIN);
  await fail(h, A, 1);
  await h.clock.advance(5 * MIN - 1000);
  assert.equal(await code(h, A, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  await h.clock.advance(1000);
  assert.equal(await code(h, A, 'alice-pw'), 'issued', '15 minutes after the third failure');
  assert.deepEqual(await h.store.lockout.sources(`alice@${REALM}`), [], 'a success removes the source row');
});

test('lockoutduration 0: locked until an administrator unlocks; unlock clears the source locks too', async () => {
  const h = await setup({ ...POLICY, lockoutDurationMs: 0 });
  await fail(h, A, 3);
  await h.clock.advance(365 * 24 * 60 * MIN);
  assert.equal(await code(h, A, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  await h.store.lockout.unlock(`alice@${REALM}`);
  assert.equal(await code(h, A, 'alice-pw'), 'issued');
});

test('maxfailure 0: failures are counted, nobody is locked', async () => {
  const h = await setup({ maxFailures: 0, failureWindowMs: 0, lockoutDurationMs: 0 });
  await fail(h, A, 12);
  assert.equal(await code(h, A, 'alice-pw'), 'issued');
  assert.equal(h.events.ofType('kdc.lockout').length, 0);
});

test('a principal without requires-preauth that is locked is refused on the first packet (its AS-REP is open to anyone anyway)', async () => {
  const h = await setup();
  await fail(h, A, 3, 'bob');
  assert.equal(await code(h, A, undefined, 'bob'), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.equal(await code(h, B, undefined, 'bob'), 'issued');
});

test('sources: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', async () => {
  assert.equal(lockoutSource('192.0.2.7'), '192.0.2.7');
  assert.equal(lockoutSource('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(lockoutSource('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  assert.equal(lockoutSource('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  assert.equal(lockoutSource('2001:DB8::1'), '2001:db8::/64');
  assert.equal(lockoutSource('::1'), '::/64');
  assert.equal(lockoutSource('fe80::1%eth0'), 'fe80::/64');
  const h = await setup();
  await fail(h, { transport: 'tcp', address: '2001:db8:1:2::1', port: 1 }, 2);
  await fail(h, { transport: 'udp', address: '2001:db8:1:2::ffff', port: 2 }, 1);
  assert.equal(await code(h, { transport: 'udp', address: '2001:db8:1:2:3:4:5:6', port: 3 }, 'alice-pw'), ErrorCode.KDC_ERR_CLIENT_REVOKED, 'one /64, one source');
  assert.equal(await code(h, { transport: 'udp', address: '2001:db8:1:3::1', port: 3 }, 'alice-pw'), 'issued', 'another /64');
  assert.equal(T0, h.clock.now());
});
