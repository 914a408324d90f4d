/**
 * The acceptor's check of a plain keyed authenticator checksum: Samba and
 * some Java initiators put an ordinary RFC 3961 checksum (keyed with the
 * ticket session key, key usage 10, RFC 4120 §5.5.1) in the authenticator
 * instead of the 0x8003 GSS-API checksum of RFC 4121 §4.1.1. A valid one is
 * accepted; one whose value differs by a single octet is refused with
 * KRB_AP_ERR_MODIFIED, for each AES checksum type.
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

/** An AP-REQ token whose authenticator carries a plain `cksumtype` checksum over the empty string; `flip` changes one octet of it. */
function apReq(credential: Credential, cksumtype: number, now: number, flip?: number): Uint8Array {
  const checksum = makeChecksum(cksumtype, credential.key, KeyUsage.AP_REQ_AUTH_CKSUM, new Uint8Array(0));
  if (flip !== undefined) checksum[flip % checksum.length]! ^= 0x01;
  const auth = Authenticator.encode({
    authenticatorVno: 5, crealm: credential.client.realm,
    cname: { nameType: 1, nameString: [...credential.client.components] },
    cksum: { cksumtype, checksum },
    cusec: flip === undefined ? 1 : flip + 2, ctime: new Date(now), seqNumber: 9,
  });
  return encodeKrb5Token(Krb5TokenId.AP_REQ, ApReq.encode({
    pvno: 5, msgType: 14, apOptions: ApOptions.mutualRequired, ticket: Ticket.decode(credential.ticket),
    authenticator: { etype: credential.key.enctype, cipher: encrypt(credential.key, KeyUsage.AP_REQ_AUTH, auth) },
  }));
}

// Session enctype → its RFC 3961 keyed checksum (RFC 3962 §7, RFC 8009 §5).
const CASES = [
  { enctype: 18, cksumtype: 16, name: 'hmac-sha1-96-aes256' },
  { enctype: 17, cksumtype: 15, name: 'hmac-sha1-96-aes128' },
  { enctype: 20, cksumtype: 20, name: 'hmac-sha384-192-aes256' },
  { enctype: 19, cksumtype: 19, name: 'hmac-sha256-128-aes128' },
] as const;

for (const c of CASES) {
  test(`acceptor: a plain ${c.name} authenticator checksum is accepted; one flipped octet is KRB_AP_ERR_MODIFIED`, { timeout: 20_000 }, async () => {
    const clock = new ManualClock(T0);
    const random = seededRandom(c.enctype);
    const key = serviceKey(random, { kvno: 2 });
    const acceptor = new Krb5Acceptor({ keys: staticKeys([key]), clock, random });
    const credential = mintTicket({ service: key, now: clock.now(), random, sessionEnctype: c.enctype });

    const accepted = acceptor.newContext();
    const ok = await accepted.acceptSecContext(apReq(credential, c.cksumtype, clock.now()));
    assert.ok(ok.complete);
    assert.equal(accepted.context.initiator, 'alice@EXAMPLE.TEST');

    // First, a middle and the last octet of the checksum value.
    const length = makeChecksum(c.cksumtype, credential.key, KeyUsage.AP_REQ_AUTH_CKSUM, new Uint8Array(0)).length;
    for (const at of [0, length >> 1, length - 1]) {
      const err = await acceptor.newContext().acceptSecContext(apReq(credential, c.cksumtype, clock.now(), at)).catch((e: unknown) => e);
      assert.ok(err instanceof GssFailureError, `octet ${at}: ${String(err)}`);
      assert.equal(err.krbCode, ErrorCode.KRB_AP_ERR_MODIFIED, `octet ${at}`);
      assert.match(err.message, /authenticator checksum from alice@EXAMPLE\.TEST does not verify/);
    }
  });
}
