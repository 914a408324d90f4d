/**
 * The TGS authenticator checksum (RFC 4120 §7.5.2 usage 6) must be a keyed,
 * collision-proof checksum (MIT kdc_util.c comp_cksum), and a weak one —
 * hmac-md5 (-138, RFC 4757) — only when the realm allows weak crypto.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../messages/index.js';
import { T0, UDP_PEER, expectError, expectTgsRep, getTgt, harness, tgsReq } from '../testing/kdc-client.js';

test('TGS: an hmac-md5 (-138) authenticator checksum keyed with the AES session key is refused while weak crypto is off', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const err = expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, checksumType: -138 }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KRB_AP_ERR_INAPP_CKSUM);
  const ev = h.events.ofType('kdc.request').at(-1);
  assert.match(String(ev?.fields['reason']), /hmac-md5/);
  // The session key's own checksum type is accepted.
  expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, nonce: 2 }), UDP_PEER));
});

test('TGS: with allowWeakCrypto on, an hmac-md5 authenticator checksum is accepted (legacy peers)', async () => {
  const h = await harness({ allowWeakCrypto: true });
  const tgt = await getTgt(h);
  expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, checksumType: -138 }), UDP_PEER));
});
