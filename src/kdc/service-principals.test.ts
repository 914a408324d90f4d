/**
 * Kerberoasting (issue 8 item 10): a TGT holder must not get a ticket
 * encrypted under another user's password key. As in Active Directory, a
 * principal is a service only if it was made one: random keys, a keytab
 * export, or an explicit allowService. Password principals get MIT's
 * DISALLOW_SVR, and TGS refuses them as MIT's tgs_policy.c
 * check_tgs_svc_deny_all does: KDC_ERR_MUST_USE_USER2USER.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../messages/index.js';
import {
  REALM, T0, UDP_PEER, expectError, expectTgsRep, getTgt, harness, openTicket, passwordKey, tgsReq,
} from '../testing/kdc-client.js';

test('password principals are not services by default; random-key principals are', async () => {
  const h = await harness();
  assert.equal((await h.admin.addPrincipal('carol', { password: 'carol-pw' })).allowService, false);
  assert.equal((await h.admin.addPrincipal('svc/random')).allowService, true);
  assert.equal((await h.admin.addPrincipal('svc/shared', { password: 'svc-pw', allowService: true })).allowService, true);
  assert.equal((await h.store.get(`krbtgt/${REALM}@${REALM}`))?.allowService, true);
});

test('TGS for a user principal is refused with KDC_ERR_MUST_USE_USER2USER (MIT DISALLOW_SVR); an --allow-svr user is served', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const err = expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, service: 'bob' }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_MUST_USE_USER2USER);
  const event = h.events.ofType('kdc.request').at(-1);
  assert.equal(event?.fields['result'], 'KDC_ERR_MUST_USE_USER2USER');
  assert.match(String(event?.fields['reason']), /bob@EXAMPLE\.TEST may not be the server/);
  assert.equal(expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, service: 'alice' }), UDP_PEER)).errorCode,
    ErrorCode.KDC_ERR_MUST_USE_USER2USER, 'not even for oneself');

  await h.admin.addPrincipal('svc/shared', { password: 'svc-pw', allowService: true });
  const rep = expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, service: 'svc/shared' }), UDP_PEER));
  assert.equal(openTicket(rep.ticket, await passwordKey('svc/shared', 'svc-pw')).cname.nameString[0], 'alice');
  await h.store.update(`bob@${REALM}`, { allowService: true });
  expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, service: 'bob', nonce: 5 }), UDP_PEER));
});

test('exporting a keytab makes a principal a service (the administrator declared it one)', async () => {
  const h = await harness();
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-svc-'));
  try {
    await h.admin.addPrincipal('HTTP/app', { password: 'app-pw' });
    assert.equal((await h.store.get(`HTTP/app@${REALM}`))?.allowService, false);
    await h.admin.exportKeytab('HTTP/app', join(dir, 'app.keytab'));
    assert.equal((await h.store.get(`HTTP/app@${REALM}`))?.allowService, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
