import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../core/errors.js';
import type { StoredKey } from '../store/index.js';
import { DEFAULT_REALM_POLICY, resolveRealmPolicy } from './config.js';
import {
  KERBEROS_INFINITY, chooseReplyKey, chooseSessionEnctype, chooseTicketKey, currentKeys, isPermittedEnctype,
  kerberosTime, renewedEndtime, serviceEnctypes, ticketEndtime, ticketRenewTill, withinSkew,
} from './policy.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const H = 3600_000;
const policy = resolveRealmPolicy();

test('kerberosTime truncates to whole seconds', () => {
  assert.equal(kerberosTime(T0 + 999), T0);
  assert.equal(kerberosTime(T0), T0);
});

test('RFC 4120 §3.1.3 endtime: earliest of till, starttime + each max life', () => {
  // requested 10 h, client 8 h, server unlimited, realm 24 h → 8 h
  assert.equal(ticketEndtime({ starttime: T0, till: T0 + 10 * H, maxLives: [8 * 3600, undefined, 24 * 3600] }), T0 + 8 * H);
  // requested less than every limit
  assert.equal(ticketEndtime({ starttime: T0, till: T0 + H, maxLives: [0, 24 * 3600] }), T0 + H);
  // till absent or the epoch means "as long as allowed" (MIT)
  assert.equal(ticketEndtime({ starttime: T0, till: undefined, maxLives: [24 * 3600] }), T0 + 24 * H);
  assert.equal(ticketEndtime({ starttime: T0, till: 0, maxLives: [24 * 3600] }), T0 + 24 * H);
  // no limits at all: the end of 32-bit time
  assert.equal(ticketEndtime({ starttime: T0, till: 0, maxLives: [] }), KERBEROS_INFINITY);
});

test('RFC 4120 §3.3.3 endtime never passes the TGT endtime; a till in the past gives no life', () => {
  assert.equal(ticketEndtime({ starttime: T0, till: T0 + 10 * H, notAfter: T0 + 2 * H, maxLives: [24 * 3600] }), T0 + 2 * H);
  assert.equal(ticketEndtime({ starttime: T0, till: T0 - H, maxLives: [24 * 3600] }), T0);
});

test('RENEWABLE: renew-till = min(rtime, starttime + max renewable lives, realm)', () => {
  const base = { starttime: T0, endtime: T0 + 10 * H, renewable: true, renewableOk: false, till: T0 + 10 * H, allowed: true, realmMaxRenewableLife: 7 * 86400 };
  assert.equal(ticketRenewTill({ ...base, rtime: T0 + 48 * H, maxRenewableLives: [undefined] }), T0 + 48 * H);
  assert.equal(ticketRenewTill({ ...base, rtime: T0 + 30 * 24 * H, maxRenewableLives: [undefined] }), T0 + 7 * 24 * H);
  assert.equal(ticketRenewTill({ ...base, rtime: T0 + 30 * 24 * H, maxRenewableLives: [2 * 86400, 0] }), T0 + 48 * H);
  assert.equal(ticketRenewTill({ ...base, rtime: undefined, maxRenewableLives: [] }), T0 + 7 * 24 * H);
  // TGS: never past the TGT's renew-till
  assert.equal(ticketRenewTill({ ...base, rtime: T0 + 48 * H, notAfter: T0 + 20 * H, maxRenewableLives: [] }), T0 + 20 * H);
});

test('RENEWABLE refused when a party forbids it or the realm max renewable life is 0', () => {
  const base = { starttime: T0, endtime: T0 + 10 * H, renewable: true, renewableOk: false, till: T0 + 10 * H, rtime: T0 + 48 * H, maxRenewableLives: [] };
  assert.equal(ticketRenewTill({ ...base, allowed: false, realmMaxRenewableLife: 86400 }), undefined);
  assert.equal(ticketRenewTill({ ...base, allowed: true, realmMaxRenewableLife: 0 }), undefined);
});

test('RENEWABLE-OK: renewable only when the till was cut short and the renewable life reaches past the endtime', () => {
  const base = { starttime: T0, endtime: T0 + 10 * H, renewable: false, renewableOk: true, rtime: undefined, allowed: true, maxRenewableLives: [], realmMaxRenewableLife: 7 * 86400 };
  assert.equal(ticketRenewTill({ ...base, till: T0 + 48 * H }), T0 + 48 * H);
  assert.equal(ticketRenewTill({ ...base, till: T0 + 10 * H }), undefined);
  assert.equal(ticketRenewTill({ ...base, till: T0 + 48 * H, realmMaxRenewableLife: 5 * 3600 }), undefined);
  assert.equal(ticketRenewTill({ ...base, till: T0 + 48 * H, renewableOk: false }), undefined);
});

test('RFC 4120 §3.3.3.1 renewal keeps the life, capped at renew-till', () => {
  const old = { starttime: T0, endtime: T0 + 10 * H, renewTill: T0 + 24 * H };
  assert.equal(renewedEndtime(old, T0 + 5 * H), T0 + 15 * H);
  assert.equal(renewedEndtime(old, T0 + 20 * H), T0 + 24 * H);
});

test('withinSkew compares in seconds of skew', () => {
  assert.equal(withinSkew(T0, T0 + 300_000, 300), true);
  assert.equal(withinSkew(T0, T0 + 300_001, 300), false);
  assert.equal(withinSkew(T0 + 600_000, T0, 300), false);
});

function key(kvno: number, enctype: number): StoredKey {
  return { kvno, enctype, keyvalue: new Uint8Array(16) };
}

test('weak enctypes need allowWeakCrypto even when listed', () => {
  const withRc4 = resolveRealmPolicy({ permittedEnctypes: [18, 23] });
  assert.equal(isPermittedEnctype(23, withRc4), false);
  assert.equal(isPermittedEnctype(23, resolveRealmPolicy({ permittedEnctypes: [18, 23], allowWeakCrypto: true })), true);
  assert.equal(isPermittedEnctype(23, policy), false);
  assert.equal(isPermittedEnctype(20, policy), true);
});

test('reply key: the client\'s first permitted enctype it has a current key for', () => {
  const keys = [key(3, 18), key(3, 20), key(2, 17)];
  assert.deepEqual(currentKeys(keys).map((k) => k.enctype), [18, 20]);
  assert.equal(chooseReplyKey([20, 18], keys, policy)?.enctype, 20);
  assert.equal(chooseReplyKey([23, 18], keys, policy)?.enctype, 18);
  // only an old-kvno key of that type: not used
  assert.equal(chooseReplyKey([17], keys, policy), undefined);
  assert.equal(chooseReplyKey([23], [key(1, 23)], policy), undefined, 'never RC4 unless the realm enables weak crypto');
});

test('session enctype: the client\'s order, restricted to the realm and the service', () => {
  assert.equal(chooseSessionEnctype([20, 18, 17], [18, 17], policy), 18);
  assert.equal(chooseSessionEnctype([20, 18], [20, 18], policy), 20);
  assert.equal(chooseSessionEnctype([23], [23, 18], policy), undefined);
  assert.deepEqual(serviceEnctypes({ keys: [key(2, 18), key(2, 17), key(1, 20)] }), [18, 17]);
  assert.deepEqual(serviceEnctypes({ keys: [key(2, 18)], allowedEnctypes: [17] }), [17]);
});

test('ticket key: the service\'s current kvno in the realm\'s preference order', () => {
  const keys = [key(5, 17), key(5, 18), key(4, 20)];
  assert.deepEqual(chooseTicketKey(keys, policy), key(5, 18));
  assert.equal(chooseTicketKey([key(1, 23)], policy), undefined);
  assert.equal(chooseTicketKey([], policy), undefined);
});

test('realm policy defaults and validation', () => {
  assert.equal(DEFAULT_REALM_POLICY.clockSkew, 300);
  assert.equal(DEFAULT_REALM_POLICY.maxUdpReply, 1465);
  const p = resolveRealmPolicy({ maxLife: 3600, lockout: { maxFailures: 3 } });
  assert.equal(p.maxLife, 3600);
  assert.equal(p.lockout.maxFailures, 3);
  assert.equal(p.lockout.failureWindowMs, 0);
  assert.ok(Object.isFrozen(p));
  assert.throws(() => resolveRealmPolicy({ maxLife: -1 }), InvalidArgumentError);
  assert.throws(() => resolveRealmPolicy({ permittedEnctypes: [] }), InvalidArgumentError);
  assert.throws(() => resolveRealmPolicy({ lockout: { maxFailures: 1.5 } }), InvalidArgumentError);
});
