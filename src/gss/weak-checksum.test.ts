/**
 * The acceptor's plain keyed authenticator checksum (the kind Samba and Java
 * send instead of 0x8003): the peer picks its type, so a weak one (hmac-md5,
 * RFC 4757) is refused unless the acceptor allows weak enctypes.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { encrypt, KeyUsage, makeChecksum } from '../crypto/index.js';
import type { Credential } from '../files/index.js';
import { ApOptions, ApReq, Authenticator, ErrorCode, Ticket } from '../messages/index.js';
import { encodeKrb5Token, GssFailureError, Krb5Acceptor, Krb5TokenId, staticKeys } from './index.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

function apReqWithChecksum(credential: Credential, cksumtype: number, now: number): Uint8Array {
  const checksum = makeChecksum(cksumtype, credential.key, KeyUsage.AP_REQ_AUTH_CKSUM, new Uint8Array(0));
  const auth = Authenticator.encode({
    authenticatorVno: 5, crealm: credential.client.realm,
    cname: { nameType: 1, nameString: [...credential.client.components] },
    cksum: { cksumtype, checksum },
    cusec: cksumtype & 0xffff, ctime: new Date(now), seqNumber: 5,
  });
  return encodeKrb5Token(Krb5TokenId.AP_REQ, ApReq.encode({
    pvno: 5, msgType: 14, apOptions: ApOptions.mutualRequired, ticket: Ticket.decode(credential.ticket),
    authenticator: { etype: credential.key.enctype, cipher: encrypt(credential.key, KeyUsage.AP_REQ_AUTH, auth) },
  }));
}

function setup(allowWeakEnctypes?: boolean) {
  const clock = new ManualClock(T0);
  const random = seededRandom(21);
  const key = serviceKey(random, { kvno: 4 });
  const acceptor = new Krb5Acceptor({ keys: staticKeys([key]), clock, random, ...(allowWeakEnctypes === undefined ? {} : { allowWeakEnctypes }) });
  const credential = mintTicket({ service: key, now: clock.now(), random });
  return { clock, acceptor, credential };
}

test('acceptor: a plain hmac-md5 (-138) authenticator checksum keyed with the AES session key is refused (KRB_AP_ERR_INAPP_CKSUM)', async () => {
  const s = setup();
  const err = await s.acceptor.newContext().acceptSecContext(apReqWithChecksum(s.credential, -138, s.clock.now())).catch((e: unknown) => e);
  assert.ok(err instanceof GssFailureError, String(err));
  assert.equal(err.krbCode, ErrorCode.KRB_AP_ERR_INAPP_CKSUM);
  // The session key's own checksum (hmac-sha1-96-aes256, 16) is accepted.
  const ok = await s.acceptor.newContext().acceptSecContext(apReqWithChecksum(s.credential, 16, s.clock.now()));
  assert.ok(ok.complete);
});

test('acceptor: with allowWeakEnctypes, the hmac-md5 plain checksum is accepted (legacy peers)', async () => {
  const s = setup(true);
  const ok = await s.acceptor.newContext().acceptSecContext(apReqWithChecksum(s.credential, -138, s.clock.now()));
  assert.ok(ok.complete);
});
