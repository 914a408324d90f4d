import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressType, AuthorizationDataType, ErrorCode, KdcOptions, NameType, PaType, TgsReq, TicketFlags } from '../messages/index.js';
import {
  REALM, T0, UDP_PEER, expectError, expectTgsRep, getTgt, harness, name, newSubkey, openTgsRep, openTicket, storedKey,
  tgsReq,
} from '../testing/kdc-client.js';

const H = 3600_000;

test('RFC 4120 §3.3.3 happy path: a service ticket in the service key, within the TGT, reply in the session key (usage 8)', async () => {
  const h = await harness();
  const tgt = await getTgt(h, { rtime: T0 + 48 * H });
  await h.clock.advance(H);
  const now = h.clock.now();
  const rep = expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now, till: now + 20 * H }), UDP_PEER));
  assert.equal(rep.crealm, REALM);
  assert.deepEqual(rep.cname, name('alice'));
  const part = openTgsRep(rep, tgt.sessionKey);
  assert.equal(part.nonce, 777);
  assert.deepEqual(part.sname, name('HTTP/localhost'));
  assert.equal(part.authtime.getTime(), T0, 'authtime of the TGT');
  assert.equal(part.starttime?.getTime(), now);
  assert.equal(part.endtime.getTime(), T0 + 10 * H, 'never beyond the TGT endtime');
  assert.equal(part.flags & TicketFlags.initial, 0);
  assert.notEqual(part.flags & TicketFlags.preAuthent, 0);
  assert.notEqual(part.flags & TicketFlags.forwardable, 0);
  const service = await storedKey(h, 'HTTP/localhost');
  assert.equal(rep.ticket.encPart.kvno, 1);
  const tkt = openTicket(rep.ticket, service);
  assert.deepEqual(tkt.key, part.key);
  assert.deepEqual(tkt.cname, name('alice'));
  assert.equal(h.events.ofType('kdc.request').at(-1)?.fields['exchange'], 'TGS');
});

test('a subkey in the authenticator seals the reply with it (usage 9); enc-authorization-data is carried into the ticket without KDC-issued elements', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const subkey = newSubkey();
  const harmless = [{ adType: AuthorizationDataType.AD_IF_RELEVANT, adData: new Uint8Array([0x30, 0x00]) }];
  // A client-made PAC is dropped (MIT kdc_authdata.c); authdata.test.ts has the other KDC-issued types.
  const ad = [...harmless, { adType: AuthorizationDataType.AD_WIN2K_PAC, adData: new Uint8Array([1, 0, 0, 0]) }];
  const rep = expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, subkey, authorizationData: ad }), UDP_PEER));
  assert.throws(() => openTgsRep(rep, tgt.sessionKey));
  const part = openTgsRep(rep, subkey, true);
  const tkt = openTicket(rep.ticket, await storedKey(h, 'HTTP/localhost'));
  assert.deepEqual(tkt.key, part.key);
  assert.deepEqual(tkt.authorizationData, harmless);
  // without a subkey the authorization data is sealed in the session key (usage 4)
  const rep2 = expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, authorizationData: ad }), UDP_PEER));
  assert.deepEqual(openTicket(rep2.ticket, await storedKey(h, 'HTTP/localhost')).authorizationData, harmless);
});

test('service ticket: current kvno of the service and the strongest enctype it has; session enctype from the client list', async () => {
  const h = await harness();
  await h.admin.randkey('HTTP/localhost');
  const tgt = await getTgt(h);
  const rep = expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, etypes: [20, 18] }), UDP_PEER));
  assert.equal(rep.ticket.encPart.kvno, 2);
  assert.equal(rep.ticket.encPart.etype, 18);
  assert.equal(openTgsRep(rep, tgt.sessionKey).key.keytype, 20);
  const err = expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, etypes: [23] }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_ETYPE_NOSUPP);
});

test('host-based names: a host in the wrong case is found; CANONICALIZE returns the stored name', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const sname = { nameType: NameType.NT_SRV_HST, nameString: ['HTTP', 'LocalHost'] };
  const plain = expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, sname }), UDP_PEER));
  assert.deepEqual(plain.ticket.sname, sname);
  const canon = expectTgsRep(await h.kdc.process(tgsReq({
    tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, sname, options: KdcOptions.canonicalize | KdcOptions.forwardable,
  }), UDP_PEER));
  assert.deepEqual(canon.ticket.sname.nameString, ['HTTP', 'localhost']);
  assert.deepEqual(openTgsRep(canon, tgt.sessionKey).sname.nameString, ['HTTP', 'localhost']);
  const unknown = expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, service: 'HTTP/nowhere' }), UDP_PEER));
  assert.equal(unknown.errorCode, ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN);
});

test('RENEW within renew-till keeps authtime and life; refused when not renewable, expired, or past renew-till', async () => {
  const h = await harness();
  const tgt = await getTgt(h, { rtime: T0 + 24 * H });
  const krbtgt = { tgt: tgt.ticket, sessionKey: tgt.sessionKey, service: `krbtgt/${REALM}`, options: KdcOptions.renew };
  await h.clock.advance(8 * H);
  let now = h.clock.now();
  const rep = expectTgsRep(await h.kdc.process(tgsReq({ ...krbtgt, now }), UDP_PEER));
  const part = openTgsRep(rep, tgt.sessionKey);
  assert.equal(part.authtime.getTime(), T0);
  assert.equal(part.starttime?.getTime(), now);
  assert.equal(part.endtime.getTime(), now + 10 * H);
  assert.equal(part.renewTill?.getTime(), T0 + 24 * H);
  assert.notEqual(part.flags & TicketFlags.renewable, 0);
  const renewed = { tgt: rep.ticket, sessionKey: { enctype: part.key.keytype, keyvalue: part.key.keyvalue } };
  // the renewed TGT works for a service ticket
  expectTgsRep(await h.kdc.process(tgsReq({ ...renewed, now }), UDP_PEER));
  // the second renewal is capped at renew-till
  await h.clock.advance(9 * H);
  now = h.clock.now();
  const second = openTgsRep(expectTgsRep(await h.kdc.process(tgsReq({ ...renewed, service: `krbtgt/${REALM}`, options: KdcOptions.renew, now }), UDP_PEER)), renewed.sessionKey);
  assert.equal(second.endtime.getTime(), T0 + 24 * H);
  // the original TGT expired at T0+10h: no renewal of an expired ticket
  assert.equal(expectError(await h.kdc.process(tgsReq({ ...krbtgt, now }), UDP_PEER)).errorCode, ErrorCode.KRB_AP_ERR_TKT_EXPIRED);

  const plain = await getTgt(h, { options: KdcOptions.forwardable, nonce: 5, till: now + 10 * H });
  const notRenewable = expectError(await h.kdc.process(tgsReq({ tgt: plain.ticket, sessionKey: plain.sessionKey, service: `krbtgt/${REALM}`, options: KdcOptions.renew, now }), UDP_PEER));
  assert.equal(notRenewable.errorCode, ErrorCode.KDC_ERR_BADOPTION);
  const mismatch = expectError(await h.kdc.process(tgsReq({ tgt: plain.ticket, sessionKey: plain.sessionKey, options: KdcOptions.renew, now }), UDP_PEER));
  assert.equal(mismatch.errorCode, ErrorCode.KDC_ERR_SERVER_NOMATCH);
});

test('FORWARDED needs a forwardable TGT; the forwarded ticket carries the new addresses', async () => {
  const h = await harness();
  const fwd = await getTgt(h);
  const addresses = [{ addrType: AddressType.IPv4, address: new Uint8Array([10, 0, 0, 1]) }];
  const rep = expectTgsRep(await h.kdc.process(tgsReq({
    tgt: fwd.ticket, sessionKey: fwd.sessionKey, now: T0, service: `krbtgt/${REALM}`, options: KdcOptions.forwardable | KdcOptions.forwarded, addresses,
  }), UDP_PEER));
  const part = openTgsRep(rep, fwd.sessionKey);
  assert.notEqual(part.flags & TicketFlags.forwarded, 0);
  assert.deepEqual(part.caddr, addresses);
  const nonFwd = await getTgt(h, { options: 0, nonce: 9 });
  const err = expectError(await h.kdc.process(tgsReq({ tgt: nonFwd.ticket, sessionKey: nonFwd.sessionKey, now: T0, options: KdcOptions.forwarded }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_BADOPTION);
  const plain = openTgsRep(expectTgsRep(await h.kdc.process(tgsReq({ tgt: nonFwd.ticket, sessionKey: nonFwd.sessionKey, now: T0, options: KdcOptions.forwardable }), UDP_PEER)), nonFwd.sessionKey);
  assert.equal(plain.flags & TicketFlags.forwardable, 0, 'forwardable only from a forwardable TGT');
});

test('TGS refusals: expired TGT (32), skew (37), modified body (41), bad integrity (31), replay (34), missing checksum (50), no PA-TGS-REQ (16)', async () => {
  const h = await harness({ lookaside: { lifetimeMs: 0 } });
  const tgt = await getTgt(h);
  const base = { tgt: tgt.ticket, sessionKey: tgt.sessionKey };
  const code = async (bytes: Uint8Array): Promise<number> => expectError(await h.kdc.process(bytes, UDP_PEER)).errorCode;

  assert.equal(await code(tgsReq({ ...base, now: T0, ctime: T0 - 10 * 60_000 })), ErrorCode.KRB_AP_ERR_SKEW);
  assert.equal(await code(tgsReq({ ...base, now: T0, tamper: (b) => ({ ...b, till: new Date(T0 + 99 * H) }) })), ErrorCode.KRB_AP_ERR_MODIFIED);
  assert.equal(await code(tgsReq({ ...base, now: T0, authenticatorKey: newSubkey(77) })), ErrorCode.KRB_AP_ERR_BAD_INTEGRITY);
  const broken = { ...tgt.ticket, encPart: { ...tgt.ticket.encPart, cipher: tgt.ticket.encPart.cipher.map((b, i) => (i === 20 ? b ^ 1 : b)) } };
  assert.equal(await code(tgsReq({ ...base, tgt: broken, now: T0 })), ErrorCode.KRB_AP_ERR_BAD_INTEGRITY);
  assert.equal(await code(tgsReq({ ...base, now: T0, noChecksum: true })), ErrorCode.KRB_AP_ERR_INAPP_CKSUM);

  const once = tgsReq({ ...base, now: T0 });
  expectTgsRep(await h.kdc.process(once, UDP_PEER));
  assert.equal(await code(once), ErrorCode.KRB_AP_ERR_REPEAT);

  const noPa = TgsReq.decode(once);
  assert.equal(await code(TgsReq.encode({ pvno: 5, msgType: 12, padata: [{ padataType: PaType.PA_ENC_TIMESTAMP, padataValue: new Uint8Array(0) }], reqBody: noPa.reqBody })), ErrorCode.KDC_ERR_PADATA_TYPE_NOSUPP);

  await h.clock.advance(11 * H);
  assert.equal(await code(tgsReq({ ...base, now: h.clock.now() })), ErrorCode.KRB_AP_ERR_TKT_EXPIRED);
  const reasons = h.events.ofType('kdc.request').map((e) => String(e.fields['reason']));
  assert.ok(reasons.some((r) => r.includes('altered in transit')));
  assert.ok(reasons.some((r) => r.includes('already used')));
});

test('a retransmitted TGS request is answered from the lookaside cache, not refused as a replay', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const req = tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0 });
  const a = await h.kdc.process(req, UDP_PEER);
  const b = await h.kdc.process(req, UDP_PEER);
  expectTgsRep(b);
  assert.deepEqual(a, b);
  // after the lookaside entry expires (2 min) the replay cache still remembers it (skew window)
  await h.clock.advance(2 * 60_000 + 1000);
  assert.equal(expectError(await h.kdc.process(req, UDP_PEER)).errorCode, ErrorCode.KRB_AP_ERR_REPEAT);
});

test('krbtgt key rotation: TGTs under the old kvno keep working; once purged, KRB_AP_ERR_BADKEYVER names the kvno', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  await h.admin.randkey(`krbtgt/${REALM}`);
  expectTgsRep(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0 }), UDP_PEER));
  const fresh = await getTgt(h, { nonce: 2 });
  assert.equal(fresh.ticket.encPart.kvno, 2);
  await h.store.purgeKeys(`krbtgt/${REALM}@${REALM}`, { keepNewest: 1 });
  const err = expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0 }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KRB_AP_ERR_BADKEYVER);
  assert.match(String(h.events.ofType('kdc.request').at(-1)?.fields['reason']), /kvno 1 .*holds kvno 2.*out of date/);
});

test('a disabled client cannot use its TGT; a disabled service gets no tickets', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  await h.admin.addPrincipal('svc/dead', { disabled: true });
  assert.equal(expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, service: 'svc/dead' }), UDP_PEER)).errorCode, ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN);
  await h.store.update(`alice@${REALM}`, { disabled: true });
  assert.equal(expectError(await h.kdc.process(tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0 }), UDP_PEER)).errorCode, ErrorCode.KDC_ERR_CLIENT_REVOKED);
});

test('TGS truncated at every offset never crashes the KDC', async () => {
  const h = await harness();
  const tgt = await getTgt(h);
  const valid = tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0 });
  for (let cut = 0; cut < valid.length; cut += 1) {
    const reply = await h.kdc.process(valid.subarray(0, cut), UDP_PEER);
    if (reply !== undefined) expectError(reply);
  }
  expectTgsRep(await h.kdc.process(valid, UDP_PEER));
  assert.equal(h.events.ofType('kdc.request').filter((e) => e.severity === 'error').length, 0);
});

test('a full replay cache refuses new TGS authenticators with KDC_ERR_SVC_UNAVAILABLE and never evicts a live entry', async () => {
  const h = await harness({ replayCacheEntries: 2 });
  const tgt = await getTgt(h);
  const reqs = [0, 1, 2].map((i) => tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: T0, nonce: 100 + i }));
  expectTgsRep(await h.kdc.process(reqs[0]!, UDP_PEER));
  expectTgsRep(await h.kdc.process(reqs[1]!, UDP_PEER));
  const refused = expectError(await h.kdc.process(reqs[2]!, UDP_PEER));
  assert.equal(refused.errorCode, ErrorCode.KDC_ERR_SVC_UNAVAILABLE);
  const ev = h.events.ofType('kdc.request').at(-1);
  assert.match(String(ev?.fields['reason']), /replay cache full/);
  // The first authenticator is still remembered once the lookaside entry is gone.
  await h.clock.advance(2 * 60_000 + 1000);
  assert.equal(expectError(await h.kdc.process(reqs[0]!, UDP_PEER)).errorCode, ErrorCode.KRB_AP_ERR_REPEAT);
  // After 2 × skew the entries expire and a new request is served again.
  await h.clock.advance(10 * 60_000);
  const later = tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: h.clock.now(), nonce: 200 });
  expectTgsRep(await h.kdc.process(later, UDP_PEER));
});
