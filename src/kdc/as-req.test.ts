import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utf8 } from '../core/bytes.js';
import { stringToKey } from '../crypto/index.js';
import {
  ErrorCode, EtypeInfo2, KdcOptions, KerbPaPacRequest, NameType, PaType, TicketFlags,
} from '../messages/index.js';
import {
  REALM, T0, TCP_PEER, UDP_PEER, asReq, encTimestamp, expectAsRep, expectError, harness, methodData, name, openAsRep,
  openTicket, passwordKey, storedKey,
} from '../testing/kdc-client.js';

const H = 3600_000;

test('RFC 4120 §3.1.3: PREAUTH_REQUIRED carries METHOD-DATA with PA-ETYPE-INFO2 (stored salt) and PA-ENC-TIMESTAMP', async () => {
  const h = await harness();
  const err = expectError(await h.kdc.process(asReq(), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
  assert.equal(err.stime.getTime(), T0);
  assert.deepEqual(err.cname, name('alice'));
  const pa = methodData(err);
  assert.deepEqual(pa.map((p) => p.padataType), [PaType.PA_ETYPE_INFO2, PaType.PA_ENC_TIMESTAMP]);
  const info = EtypeInfo2.decode(pa[0]!.padataValue);
  assert.deepEqual(info, [{ etype: 18, salt: `${REALM}alice` }]);
  assert.equal(pa[1]!.padataValue.length, 0);
  // Nothing advertised that is not implemented (MIT clients armor TGS requests if PA-FX-FAST is offered).
  assert.ok(!pa.some((p) => p.padataType === PaType.PA_FX_FAST));
});

test('a salt that is not the default is sent exactly as stored', async () => {
  const h = await harness();
  const key = await stringToKey(18, 'carol-pw', 'RANDOMsaltXYZ');
  await h.store.create({ name: `carol@${REALM}`, keys: [{ enctype: 18, keyvalue: key.keyvalue, salt: { type: 4, value: utf8('RANDOMsaltXYZ') }, s2kparams: new Uint8Array([0, 0, 0x20, 0]) }] });
  const err = expectError(await h.kdc.process(asReq({ client: 'carol', etypes: [18] }), UDP_PEER));
  assert.deepEqual(EtypeInfo2.decode(methodData(err)[0]!.padataValue), [{ etype: 18, salt: 'RANDOMsaltXYZ', s2kparams: new Uint8Array([0, 0, 0x20, 0]) }]);
  const rep = expectAsRep(await h.kdc.process(asReq({ client: 'carol', etypes: [18], padata: [encTimestamp(key, T0)] }), UDP_PEER));
  assert.equal(openAsRep(rep, key).nonce, 12345);
});

test('AS happy path: flags, times, nonce, ETYPE-INFO2 in the reply padata, ticket sealed in the krbtgt key', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const rep = expectAsRep(await h.kdc.process(asReq({
    padata: [encTimestamp(key, T0 + 30_000)], rtime: T0 + 48 * H,
    options: KdcOptions.forwardable | KdcOptions.renewable | KdcOptions.proxiable,
  }), UDP_PEER));
  assert.equal(rep.crealm, REALM);
  assert.deepEqual(rep.cname, name('alice'));
  assert.deepEqual(rep.padata?.map((p) => p.padataType), [PaType.PA_ETYPE_INFO2]);
  assert.equal(rep.encPart.kvno, 1);
  const part = openAsRep(rep, key);
  assert.equal(part.nonce, 12345);
  // PROXIABLE was asked for, but principals are not proxiable by default (store default allowProxiable false).
  const expected = TicketFlags.initial | TicketFlags.preAuthent | TicketFlags.forwardable | TicketFlags.renewable;
  assert.equal(part.flags, expected >>> 0);
  assert.equal(part.authtime.getTime(), T0);
  assert.equal(part.starttime?.getTime(), T0);
  assert.equal(part.endtime.getTime(), T0 + 10 * H);
  assert.equal(part.renewTill?.getTime(), T0 + 48 * H);
  assert.equal(part.srealm, REALM);
  assert.deepEqual(part.sname, name(`krbtgt/${REALM}`));
  assert.equal(part.key.keytype, 18);
  const tkt = openTicket(rep.ticket, await storedKey(h, `krbtgt/${REALM}`));
  assert.deepEqual(tkt.key, part.key);
  assert.deepEqual(tkt.cname, name('alice'));
  assert.equal(tkt.flags, part.flags);
  assert.equal(tkt.transited.trType, 1);
  assert.equal(rep.ticket.encPart.kvno, 1);
  const event = h.events.ofType('kdc.request').at(-1)!;
  assert.equal(event.fields['result'], 'issued');
  assert.equal(event.fields['client'], `alice@${REALM}`);
  assert.equal(event.fields['sessionEnctype'], 'aes256-cts-hmac-sha1-96');
  assert.equal(event.fields['address'], '127.0.0.1');
});

test('lifetimes: min(request, principal max, realm max); renew-till likewise', async () => {
  const h = await harness({ maxLife: 8 * 3600, maxRenewableLife: 3 * 86400 });
  await h.admin.addPrincipal('dave', { password: 'dave-pw', maxLife: 2 * 3600, maxRenewableLife: 86400 });
  const alice = await passwordKey('alice', 'alice-pw');
  const a = openAsRep(expectAsRep(await h.kdc.process(asReq({ padata: [encTimestamp(alice, T0)], till: T0 + 24 * H, rtime: T0 + 30 * 24 * H }), UDP_PEER)), alice);
  assert.equal(a.endtime.getTime(), T0 + 8 * H, 'realm max life');
  assert.equal(a.renewTill?.getTime(), T0 + 72 * H, 'realm max renewable life');
  const dave = await passwordKey('dave', 'dave-pw');
  const d = openAsRep(expectAsRep(await h.kdc.process(asReq({ client: 'dave', padata: [encTimestamp(dave, T0)], till: T0 + 24 * H, rtime: T0 + 30 * 24 * H }), UDP_PEER)), dave);
  assert.equal(d.endtime.getTime(), T0 + 2 * H, 'principal max life');
  assert.equal(d.renewTill?.getTime(), T0 + 24 * H, 'principal max renewable life');
  // till 0 (19700101000000Z) = as long as allowed
  const z = openAsRep(expectAsRep(await h.kdc.process(asReq({ padata: [encTimestamp(alice, T0)], till: 0, options: 0, nonce: 1 }), UDP_PEER)), alice);
  assert.equal(z.endtime.getTime(), T0 + 8 * H);
  assert.equal(z.renewTill, undefined);
  assert.equal(z.flags & TicketFlags.renewable, 0);
});

test('enctype choice: the client\'s order; never RC4 unless the realm enables weak crypto', async () => {
  const h = await harness();
  const k20 = await passwordKey('alice', 'alice-pw', 20);
  const rep = expectAsRep(await h.kdc.process(asReq({ etypes: [20, 18], padata: [encTimestamp(k20, T0)] }), UDP_PEER));
  assert.equal(rep.encPart.etype, 20);
  assert.equal(openAsRep(rep, k20).key.keytype, 20);
  const err = expectError(await h.kdc.process(asReq({ etypes: [23], nonce: 2 }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_ETYPE_NOSUPP);
  const err2 = expectError(await h.kdc.process(asReq({ etypes: [23, 17], nonce: 3 }), UDP_PEER));
  assert.deepEqual(EtypeInfo2.decode(methodData(err2)[0]!.padataValue).map((e) => e.etype), [17]);

  const weak = await harness({ permittedEnctypes: [18, 23], allowWeakCrypto: true });
  await weak.admin.addPrincipal('legacy', { password: 'legacy-pw' });
  const rc4 = await passwordKey('legacy', 'legacy-pw', 23).catch(async () => stringToKey(23, 'legacy-pw', '', undefined, { allowWeak: true }));
  const r = expectAsRep(await weak.kdc.process(asReq({ client: 'legacy', etypes: [23], padata: [encTimestamp(rc4, T0)] }), UDP_PEER));
  assert.equal(r.encPart.etype, 23);
});

test('KRB_AP_ERR_SKEW (37) for a timestamp 10 minutes off, with the KDC time in stime', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const err = expectError(await h.kdc.process(asReq({ padata: [encTimestamp(key, T0 - 10 * 60_000)] }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KRB_AP_ERR_SKEW);
  assert.equal(err.stime.getTime(), T0);
  const event = h.events.ofType('kdc.request').at(-1)!;
  assert.match(String(event.fields['reason']), /10m0s.*5m0s/);
  // within the skew is fine
  expectAsRep(await h.kdc.process(asReq({ padata: [encTimestamp(key, T0 - 4 * 60_000)] }), UDP_PEER));
});

test('wrong password: KDC_ERR_PREAUTH_FAILED (24) with hints, a kdc.preauth_failed event, no secret in any event', async () => {
  const h = await harness();
  const wrong = await passwordKey('alice', 'not-it');
  const err = expectError(await h.kdc.process(asReq({ padata: [encTimestamp(wrong, T0)] }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_PREAUTH_FAILED);
  assert.equal(methodData(err)[0]!.padataType, PaType.PA_ETYPE_INFO2);
  assert.equal(h.events.ofType('kdc.preauth_failed').length, 1);
  const all = JSON.stringify(h.events.events);
  assert.ok(!all.includes('alice-pw') && !all.includes('not-it'));
});

test('unknown principals and refused clients get the right codes', async () => {
  const h = await harness();
  const cases: Array<[string, number]> = [];
  const code = async (bytes: Uint8Array): Promise<number> => expectError(await h.kdc.process(bytes, UDP_PEER)).errorCode;
  cases.push(['unknown client', await code(asReq({ client: 'nobody' }))]);
  assert.equal(cases[0]![1], ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN);
  assert.equal(await code(asReq({ service: 'nothing/here', nonce: 5 })), ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN);
  assert.equal(await code(asReq({ realm: 'OTHER.TEST', nonce: 6 })), ErrorCode.KDC_ERR_WRONG_REALM);

  await h.admin.addPrincipal('off', { password: 'x', disabled: true });
  assert.equal(await code(asReq({ client: 'off' })), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  await h.admin.addPrincipal('gone', { password: 'x', principalExpiry: T0 - 1000 });
  assert.equal(await code(asReq({ client: 'gone' })), ErrorCode.KDC_ERR_NAME_EXP);
  await h.admin.addPrincipal('stale', { password: 'x', passwordExpiry: T0 - 1000 });
  assert.equal(await code(asReq({ client: 'stale' })), ErrorCode.KDC_ERR_KEY_EXPIRED);
  await h.admin.addPrincipal('notix', { password: 'x', allowTickets: false });
  assert.equal(await code(asReq({ client: 'notix' })), ErrorCode.KDC_ERR_CLIENT_REVOKED);
  await h.admin.addPrincipal('svc/off', { disabled: true });
  assert.equal(await code(asReq({ service: 'svc/off', nonce: 8 })), ErrorCode.KDC_ERR_S_PRINCIPAL_UNKNOWN);

  assert.equal(await code(asReq({ options: KdcOptions.renew, nonce: 9 })), ErrorCode.KDC_ERR_BADOPTION);
  assert.equal(await code(asReq({ options: KdcOptions.postdated, nonce: 10 })), ErrorCode.KDC_ERR_CANNOT_POSTDATE);
  assert.equal(await code(asReq({ from: T0 + H, nonce: 11 })), ErrorCode.KDC_ERR_CANNOT_POSTDATE);
  const key = await passwordKey('alice', 'alice-pw');
  assert.equal(await code(asReq({ till: T0 - H, padata: [encTimestamp(key, T0)] })), ErrorCode.KDC_ERR_NEVER_VALID);
  const texts = h.events.ofType('kdc.request').map((e) => String(e.fields['reason']));
  assert.ok(texts.some((t) => t.includes('off@EXAMPLE.TEST is disabled')));
});

test('a principal that does not require pre-authentication gets a ticket without PRE-AUTHENT', async () => {
  const h = await harness();
  const key = await passwordKey('bob', 'bob-pw');
  const rep = expectAsRep(await h.kdc.process(asReq({ client: 'bob' }), UDP_PEER));
  const part = openAsRep(rep, key);
  assert.equal(part.flags & TicketFlags.preAuthent, 0);
  assert.notEqual(part.flags & TicketFlags.initial, 0);
  assert.equal(rep.padata?.[0]?.padataType, PaType.PA_ETYPE_INFO2);
});

test('KERB-PA-PAC-REQUEST is accepted (no PAC is generated) and unknown padata is ignored', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const pac = { padataType: PaType.PA_PAC_REQUEST, padataValue: KerbPaPacRequest.encode({ includePac: true }) };
  const odd = { padataType: 4242, padataValue: new Uint8Array([1, 2, 3]) };
  const rep = expectAsRep(await h.kdc.process(asReq({ padata: [pac, odd, encTimestamp(key, T0)] }), UDP_PEER));
  assert.equal(openTicket(rep.ticket, await storedKey(h, `krbtgt/${REALM}`)).authorizationData, undefined);
});

test('RFC 6806: an NT-ENTERPRISE name is canonicalized in the reply', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const rep = expectAsRep(await h.kdc.process(asReq({
    cname: { nameType: NameType.NT_ENTERPRISE, nameString: [`alice@${REALM}`] }, padata: [encTimestamp(key, T0)],
    options: KdcOptions.canonicalize,
  }), UDP_PEER));
  assert.deepEqual(rep.cname, name('alice'));
  const other = expectError(await h.kdc.process(asReq({ cname: { nameType: NameType.NT_ENTERPRISE, nameString: ['alice@ELSEWHERE'] } }), UDP_PEER));
  assert.equal(other.errorCode, ErrorCode.KDC_ERR_C_PRINCIPAL_UNKNOWN);
});

test('lockout: N failures within the window lock the principal (CLIENT_REVOKED even with the right password) until the duration passes', async () => {
  const h = await harness({ lockout: { maxFailures: 3, failureWindowMs: 10 * 60_000, lockoutDurationMs: 30 * 60_000 } }, { lockout: true });
  const wrong = await passwordKey('alice', 'nope');
  const right = await passwordKey('alice', 'alice-pw');
  for (let i = 0; i < 3; i++) {
    const e = expectError(await h.kdc.process(asReq({ nonce: 100 + i, padata: [encTimestamp(wrong, h.clock.now())] }), UDP_PEER));
    assert.equal(e.errorCode, ErrorCode.KDC_ERR_PREAUTH_FAILED);
  }
  const locked = expectError(await h.kdc.process(asReq({ nonce: 200, padata: [encTimestamp(right, h.clock.now())] }), UDP_PEER));
  assert.equal(locked.errorCode, ErrorCode.KDC_ERR_CLIENT_REVOKED);
  assert.equal(h.events.ofType('kdc.lockout').length, 1);
  await h.clock.advance(31 * 60_000);
  expectAsRep(await h.kdc.process(asReq({ nonce: 201, padata: [encTimestamp(right, h.clock.now())] }), UDP_PEER));
  await h.kdc.settled();
  assert.equal((await h.store.lockout.get(`alice@${REALM}`)).failures, 0, 'a success clears the count');
});

test('lookaside: a retransmitted request gets the identical reply; after expiry it is processed again', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const req = asReq({ padata: [encTimestamp(key, T0)] });
  const first = await h.kdc.process(req, UDP_PEER);
  const second = await h.kdc.process(req, UDP_PEER);
  assert.deepEqual(second, first);
  assert.equal(h.events.ofType('kdc.request').filter((e) => e.fields['result'] === 'issued').length, 1);
  assert.equal(h.kdc.lookasideStats().hits, 1);
  await h.clock.advance(2 * 60_000);
  const third = await h.kdc.process(req, UDP_PEER);
  assert.notDeepEqual(third, first, 'a fresh session key after the entry expired');
});

test('UDP replies above the limit become KRB_ERR_RESPONSE_TOO_BIG (52); TCP gets the full reply', async () => {
  const h = await harness({ maxUdpReply: 200 });
  const key = await passwordKey('alice', 'alice-pw');
  const req = asReq({ padata: [encTimestamp(key, T0)] });
  const err = expectError(await h.kdc.process(req, UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KRB_ERR_RESPONSE_TOO_BIG);
  expectAsRep(await h.kdc.process(req, TCP_PEER));
});

test('malformed input: truncations at every offset and byte mutations never crash the KDC; the next valid request succeeds', async () => {
  const h = await harness();
  const key = await passwordKey('alice', 'alice-pw');
  const valid = asReq({ padata: [encTimestamp(key, T0)] });
  for (let cut = 0; cut < valid.length; cut++) {
    const reply = await h.kdc.process(valid.subarray(0, cut), UDP_PEER);
    if (reply !== undefined) assert.equal(expectError(reply).errorCode, ErrorCode.KRB_ERR_GENERIC, `cut at ${cut}`);
  }
  let seed = 12345;
  const next = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  for (let i = 0; i < 400; i++) {
    const m = valid.slice();
    const at = next() % m.length;
    m[at] = m[at]! ^ (1 + (next() % 255));
    const reply = await h.kdc.process(m, UDP_PEER);
    if (reply !== undefined) assert.ok(reply.length > 0);
  }
  assert.equal(await h.kdc.process(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]), UDP_PEER), undefined, 'not a KDC request: silence');
  assert.equal(await h.kdc.process(new Uint8Array(0), UDP_PEER), undefined);
  await h.clock.advance(3 * 60_000);
  const fresh = asReq({ nonce: 999, padata: [encTimestamp(key, h.clock.now())] });
  assert.equal(openAsRep(expectAsRep(await h.kdc.process(fresh, TCP_PEER)), key).nonce, 999);
  assert.equal(h.events.ofType('kdc.request').filter((e) => e.severity === 'error').length, 0, 'no internal errors');
});

test('a coming password expiry is announced in last-req (type 6) and key-expiration', async () => {
  const h = await harness();
  await h.admin.addPrincipal('erin', { password: 'erin-pw', passwordExpiry: T0 + 3 * 24 * H });
  const key = await passwordKey('erin', 'erin-pw');
  const part = openAsRep(expectAsRep(await h.kdc.process(asReq({ client: 'erin', padata: [encTimestamp(key, T0)] }), UDP_PEER)), key);
  assert.deepEqual(part.lastReq, [{ lrType: 6, lrValue: new Date(T0 + 3 * 24 * H) }]);
  assert.equal(part.keyExpiration?.getTime(), T0 + 3 * 24 * H);
});
