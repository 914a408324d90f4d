/**
 * One client validation for AS and TGS (validate-client.ts): a TGT keeps
 * working only while its client may still get tickets. Each case gets a TGT
 * first, then changes the client's record, then asks for a service ticket.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../core/random.js';
import { encrypt, KeyUsage } from '../crypto/index.js';
import { EncTicketPart, ErrorCode, KdcOptions, NameType } from '../messages/index.js';
import {
  REALM, T0, UDP_PEER, asReq, encTimestamp, expectAsRep, expectError, expectTgsRep, getTgt, harness, openTicket, passwordKey,
  storedKey, tgsReq, type Harness,
} from '../testing/kdc-client.js';

const H = 3600_000;
const ALICE = `alice@${REALM}`;

async function tgsCode(h: Harness, tgt: Awaited<ReturnType<typeof getTgt>>, extra: { service?: string; options?: number } = {}): Promise<number | 'issued'> {
  const reply = await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: h.clock.now(), ...extra }), UDP_PEER);
  try {
    expectTgsRep(reply);
    return 'issued';
  } catch {
    return expectError(reply).errorCode;
  }
}

function lastReason(h: Harness): string {
  return String(h.events.ofType('kdc.request').at(-1)?.fields['reason']);
}

test('TGS: a deleted client gets KDC_ERR_C_PRINCIPAL_UNKNOWN with its old TGT (service ticket and renewal)', async () => {
  const h = await harness();
  const tgt = await getTgt(h, { rtime: T0 + 48 * H });
  assert.equal(await tgsCode(h, tgt), 'issued');
  await h.store.delete(ALICE);
  assert.equal(await tgsCode(h, tgt), ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN);
  assert.match(lastReason(h), /alice@EXAMPLE\.TEST .*no longer in the database/);
  assert.equal(await tgsCode(h, tgt, { service: `krbtgt/${REALM}`, options: KdcOptions.renew }), ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN);
});

test('TGS: a disabled client, or one not allowed tickets, gets KDC_ERR_CLIENT_REVOKED', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  await h.store.update(ALICE, { allowTickets: false });
  assert.equal(await tgsCode(h, tgt), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  await h.store.update(ALICE, { allowTickets: true, disabled: true });
  assert.equal(await tgsCode(h, tgt), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.match(lastReason(h), /disabled/);
  await h.store.update(ALICE, { disabled: false });
  assert.equal(await tgsCode(h, tgt), 'issued');
});

test('TGS: an expired client principal gets KDC_ERR_NAME_EXP', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  await h.store.update(ALICE, { principalExpiry: T0 + H });
  assert.equal(await tgsCode(h, tgt), 'issued', 'not yet expired');
  await h.clock.advance(H);
  assert.equal(await tgsCode(h, tgt), ErrorCode.KDC_ERR_NAME_EXP);
  assert.match(lastReason(h), /expired at/);
});

test('TGS: an expired password, or one that must be changed, gets KDC_ERR_KEY_EXPIRED (as Heimdal); the password-changing service is still served', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  await h.store.update(ALICE, { passwordExpiry: T0 + 60_000 });
  assert.equal(await tgsCode(h, tgt), 'issued', 'not yet expired');
  await h.clock.advance(2 * 60_000);
  assert.equal(await tgsCode(h, tgt), ErrorCode.KDC_ERR_KEY_EXPIRED, 'the TGT stops working when the password expires');
  assert.match(lastReason(h), /password of alice@EXAMPLE\.TEST expired at/);
  await h.store.update(ALICE, { passwordExpiry: null, requiresPasswordChange: true });
  assert.equal(await tgsCode(h, tgt), ErrorCode.KDC_ERR_KEY_EXPIRED);
  assert.match(lastReason(h), /must change its password/);
  await h.store.update('HTTP/localhost@EXAMPLE.TEST', { passwordChangeService: true });
  assert.equal(await tgsCode(h, tgt), 'issued', 'a ticket for the password-changing service is still issued');
  const key = await passwordKey('alice', 'alice-pw');
  const err = expectError(await h.kdc.process(asReq({ padata: [encTimestamp(key, h.clock.now())], nonce: 4 }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_KEY_EXPIRED, 'AS refuses as before');
});

test('TGS: a locked-out client gets KDC_ERR_CLIENT_REVOKED (LockoutGate.check)', async () => {
  const policy = { maxFailures: 3, failureWindowMs: 10 * 60_000, lockoutDurationMs: 30 * 60_000 };
  const h = await harness({ lockout: policy }, { lockout: true });
  const tgt = await getTgt(h);
  for (let i = 0; i < 3; i++) await h.store.lockout.recordFailure(ALICE, policy);
  assert.equal(await tgsCode(h, tgt), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.match(lastReason(h), /locked out/);
  await h.clock.advance(31 * 60_000);
  assert.equal(await tgsCode(h, tgt), 'issued', 'the lock has passed');
});

test('TGS: a client of another realm in a ticket of ours is not looked up (no lookup failure for foreign clients)', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  // A TGT naming a client of another realm, sealed in our krbtgt key (what a cross-realm TGS exchange issues).
  const krbtgt = await storedKey(h, `krbtgt/${REALM}`);
  const part = openTicket(tgt.ticket, krbtgt);
  const foreign = { ...part, crealm: 'OTHER.TEST', cname: { nameType: NameType.NT_PRINCIPAL, nameString: ['visitor'] } };
  const cipher = encrypt(krbtgt, KeyUsage.KDC_REP_TICKET, EncTicketPart.encode(foreign), seededRandom(3));
  const ticket = { ...tgt.ticket, encPart: { ...tgt.ticket.encPart, cipher } };
  const rep = expectTgsRep(await h.kdc.process(tgsReq({
    tgt: ticket, sessionKey: tgt.sessionKey, now: h.clock.now(), client: 'visitor', clientRealm: 'OTHER.TEST',
  }), UDP_PEER));
  assert.equal(rep.crealm, 'OTHER.TEST');
});

test('AS keeps refusing the same clients with the same codes', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const as = async (nonce: number): Promise<number> =>
    expectError(await h.kdc.process(asReq({ padata: [encTimestamp(key, h.clock.now())], nonce }), UDP_PEER)).errorCode;
  expectAsRep(await h.kdc.process(asReq({ padata: [encTimestamp(key, h.clock.now())], nonce: 1 }), UDP_PEER));
  await h.store.update(ALICE, { disabled: true });
  assert.equal(await as(2), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  await h.store.update(ALICE, { disabled: false, principalExpiry: T0 });
  assert.equal(await as(3), ErrorCode.KDC_ERR_NAME_EXP);
  await h.store.update(ALICE, { principalExpiry: null });
  await h.store.delete(ALICE);
  assert.equal(await as(5), ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN);
});
