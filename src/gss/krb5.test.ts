import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { utf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import { principalToString, type Credential } from '../files/index.js';
import { ApOptions, ApReq, EncKrbCredPart, KrbCred, Ticket, TicketFlags } from '../messages/index.js';
import { encrypt, KeyUsage } from '../crypto/index.js';
import {
  AcceptorKeyError, AuthenticatorReplayError, BadBindingsError, ClockSkewError, ContextExpiredError, CredentialsExpiredError,
  decodeGssChecksum, decodeKrb5Token, DuplicateTokenError, GssFlags, KerberosRejectedError, Krb5Acceptor, Krb5Initiator,
  Krb5TokenId, MechOid, staticKeys, TicketIntegrityError, tlsServerEndPoint, type ChannelBindings, type Krb5AcceptorOptions,
  type Krb5InitiatorOptions, encodeKrb5Token, encodeGssChecksum, GSS_CHECKSUM_TYPE, channelBindingsHash,
} from './index.js';
import { mintTicket, serviceKey, SERVICE } from '../testing/gss-fixtures.js';
import { Authenticator } from '../messages/index.js';
import { decrypt } from '../crypto/index.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0, 250);

function setup(o: { acceptor?: Partial<Krb5AcceptorOptions>; seed?: number } = {}) {
  const clock = new ManualClock(T0);
  const random = seededRandom(o.seed ?? 1);
  const key = serviceKey(random, { kvno: 3 });
  const events = memorySink();
  const acceptor = new Krb5Acceptor({ keys: staticKeys([key]), clock, random, events, ...o.acceptor });
  const ticket = (extra: Partial<Parameters<typeof mintTicket>[0]> = {}) => mintTicket({ service: key, now: clock.now(), random, ...extra });
  const initiator = (extra: Partial<Krb5InitiatorOptions> = {}) => new Krb5Initiator({ credential: ticket(), clock, random, ...extra });
  return { clock, random, key, events, acceptor, ticket, initiator };
}

async function handshake(init: Krb5Initiator, acceptor: Krb5Acceptor, bindings?: ChannelBindings) {
  const first = init.initSecContext();
  const acc = acceptor.newContext(bindings === undefined ? {} : { channelBindings: bindings });
  const reply = await acc.acceptSecContext(first.output!);
  if (reply.output !== undefined) init.initSecContext(reply.output);
  return { acc, first, reply };
}

test('krb5: mutual authentication, subkeys and MIC/Wrap in both directions', async () => {
  const s = setup();
  const init = s.initiator();
  const { acc, first, reply } = await handshake(init, s.acceptor);
  assert.equal(first.complete, false);
  assert.equal(decodeKrb5Token(reply.output!).tokenId, Krb5TokenId.AP_REP);
  assert.ok(init.complete && acc.complete);
  const a = acc.context;
  const i = init.context;
  assert.equal(a.initiator, 'alice@EXAMPLE.TEST');
  assert.equal(a.acceptor, SERVICE);
  assert.equal(a.flags & 0x3f, GssFlags.MUTUAL | GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG);
  assert.equal(a.expiresAt.getTime(), i.expiresAt.getTime());
  // Acceptor subkey in use: the AcceptorSubkey flag is set on both sides' tokens.
  const fromInit = i.wrap(utf8('ping'));
  assert.equal(fromInit[2]! & 0x04, 0x04);
  assert.equal(new TextDecoder().decode(a.unwrap(fromInit).message), 'ping');
  const fromAcc = a.wrap(utf8('pong'), { conf: false });
  assert.equal(fromAcc[2], 0x05);
  assert.deepEqual(i.unwrap(fromAcc), { message: utf8('pong'), conf: false, status: 'ok' });
  const mic = i.getMic(utf8('signed'));
  assert.deepEqual(a.verifyMic(utf8('signed'), mic), { status: 'ok' });
  assert.throws(() => a.verifyMic(utf8('signed'), mic), DuplicateTokenError);
  assert.deepEqual(i.verifyMic(utf8('x'), a.getMic(utf8('x'))), { status: 'ok' });
});

test('krb5: without mutual authentication the context completes on one token and numbers tokens from the initiator', async () => {
  const s = setup();
  const init = s.initiator({ requestFlags: GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG });
  const { acc, first, reply } = await handshake(init, s.acceptor);
  assert.equal(first.complete, true);
  assert.equal(reply.output, undefined);
  assert.equal(acc.context.flags & GssFlags.MUTUAL, 0);
  const t = acc.context.wrap(utf8('hello'));
  assert.equal(t[2]! & 0x04, 0, 'no acceptor subkey without an AP-REP');
  assert.equal(new TextDecoder().decode(init.context.unwrap(t).message), 'hello');
  assert.equal(new TextDecoder().decode(acc.context.unwrap(init.context.wrap(utf8('hi'))).message), 'hi');
});

test('krb5: the authenticator carries a 0x8003 checksum with flags, Bnd and a sequence number', async () => {
  const s = setup();
  const bindings = { applicationData: utf8('tls-server-end-point:xyz') };
  const credential = s.ticket();
  const init = new Krb5Initiator({ credential, clock: s.clock, random: s.random, channelBindings: bindings });
  const apReq = ApReq.decode(decodeKrb5Token(init.initSecContext().output!).message);
  const auth = Authenticator.decode(decrypt(credential.key, KeyUsage.AP_REQ_AUTH, apReq.authenticator.cipher));
  assert.equal(auth.cksum?.cksumtype, 0x8003);
  const ck = decodeGssChecksum(auth.cksum!.checksum);
  assert.deepEqual(ck.bnd, channelBindingsHash(bindings));
  assert.equal(ck.flags, 0x3e);
  assert.ok(auth.seqNumber !== undefined && auth.seqNumber < 2 ** 30);
  assert.equal(auth.subkey?.keytype, credential.key.enctype);
  assert.ok((apReq.apOptions & 0x20000000) !== 0, 'mutual-required AP option');
});

test('krb5: a replayed AP-REQ is KRB_AP_ERR_REPEAT and a skewed one KRB_AP_ERR_SKEW — distinct errors and events', async () => {
  const s = setup();
  const token = s.initiator().initSecContext().output!;
  await s.acceptor.newContext().acceptSecContext(token);
  const replay = await s.acceptor.newContext().acceptSecContext(token).catch((e: unknown) => e);
  assert.ok(replay instanceof AuthenticatorReplayError);
  assert.equal(replay.krbCode, 34);
  assert.equal(replay.major, 'GSS_S_DUPLICATE_TOKEN');
  assert.ok(!(replay instanceof ClockSkewError));
  // The initiator asked for mutual authentication, so a KRB-ERROR token goes back.
  assert.equal(decodeKrb5Token(replay.output!).tokenId, Krb5TokenId.KRB_ERROR);

  const skewed = s.initiator().initSecContext().output!;
  s.clock.set(T0 + 7 * 60_000 + 12_000);
  const skew = await s.acceptor.newContext().acceptSecContext(skewed).catch((e: unknown) => e);
  assert.ok(skew instanceof ClockSkewError);
  assert.equal(skew.krbCode, 37);
  assert.match(skew.message, /clock skew 7m12s .* exceeds 5m/);
  assert.ok(!(skew instanceof AuthenticatorReplayError));
  const types = s.events.events.map((e) => e.type);
  assert.deepEqual(types, ['acceptor.replay', 'acceptor.skew']);

  // The initiator sees the KRB-ERROR as a typed rejection.
  const init = s.initiator();
  init.initSecContext();
  assert.throws(() => init.initSecContext(skew.output!), (e: unknown) => e instanceof KerberosRejectedError && e.krbCode === 37);
});

test('krb5: the replay cache is keyed by the whole tuple — two authenticators in the same microsecond are both accepted', async () => {
  const s = setup();
  const a = s.initiator().initSecContext().output!;
  const b = s.initiator().initSecContext().output!;
  await s.acceptor.newContext().acceptSecContext(a);
  await s.acceptor.newContext().acceptSecContext(b);
});

test('krb5: expired tickets and contexts', async () => {
  const s = setup();
  const init = new Krb5Initiator({ credential: s.ticket({ lifetimeMs: 60_000 }), clock: s.clock, random: s.random });
  const { acc } = await handshake(init, s.acceptor);
  assert.equal(acc.context.lifetimeMs(), 60_000 - 250);
  await s.clock.advance(61_000);
  assert.throws(() => acc.context.wrap(utf8('late')), ContextExpiredError);
  assert.throws(() => init.context.getMic(utf8('late')), ContextExpiredError);
  // A token made before expiry but presented after: the ticket has expired.
  const old = s.initiator({ credential: s.ticket({ lifetimeMs: 1000 }) }).initSecContext().output!;
  await s.clock.advance(2000);
  await assert.rejects(s.acceptor.newContext().acceptSecContext(old), CredentialsExpiredError);
  assert.throws(() => new Krb5Initiator({ credential: s.ticket({ lifetimeMs: -1 }), clock: s.clock }).initSecContext(), CredentialsExpiredError);
});

test('krb5: channel binding policies none / allow / require (EPA)', async () => {
  const cert = utf8('not really a certificate');
  const good = tlsServerEndPoint(cert, 'sha256');
  const other = tlsServerEndPoint(utf8('another certificate'), 'sha256');
  const run = async (policy: 'none' | 'allow' | 'require', sent: ChannelBindings | undefined, have: ChannelBindings | undefined) => {
    const s = setup({ acceptor: { channelBindingPolicy: policy } });
    const init = s.initiator(sent === undefined ? {} : { channelBindings: sent });
    return handshake(init, s.acceptor, have).then(() => 'ok', (e: unknown) => (e instanceof BadBindingsError ? 'bad-bindings' : e));
  };
  assert.equal(await run('allow', good, good), 'ok');
  assert.equal(await run('allow', undefined, good), 'ok');
  assert.equal(await run('allow', other, good), 'bad-bindings');
  assert.equal(await run('allow', good, undefined), 'ok');
  assert.equal(await run('none', other, good), 'ok');
  assert.equal(await run('require', good, good), 'ok');
  assert.equal(await run('require', undefined, good), 'bad-bindings');
  assert.equal(await run('require', other, good), 'bad-bindings');
  assert.equal(await run('require', good, undefined), 'bad-bindings');
});

test('krb5: delegation — KRB-CRED in the session key, and the unencrypted (etype 0) variant', async () => {
  const s = setup();
  const tgtKey = serviceKey(s.random, { principal: 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST' });
  const tgt = mintTicket({ service: tgtKey, now: s.clock.now(), random: s.random, flags: (TicketFlags.forwardable | TicketFlags.forwarded) >>> 0 });
  const init = s.initiator({ delegate: tgt });
  const { acc } = await handshake(init, s.acceptor);
  const d = acc.context.delegatedCredential!;
  assert.ok((acc.context.flags & GssFlags.DELEG) !== 0);
  assert.equal(principalToString(d.client), 'alice@EXAMPLE.TEST');
  assert.equal(principalToString(d.server), 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
  assert.deepEqual(d.key, tgt.key);
  assert.deepEqual(d.ticket, tgt.ticket);
  assert.equal(d.endtime.getTime(), tgt.endtime.getTime());

  // Older MIT initiators send the KRB-CRED with a NULL (etype 0) enc-part; build such an AP-REQ by hand.
  const credential = s.ticket();
  const plainCred = KrbCred.encode({
    pvno: 5, msgType: 22, tickets: [Ticket.decode(tgt.ticket)],
    encPart: { etype: 0, cipher: EncKrbCredPart.encode({ ticketInfo: [{ key: { keytype: tgt.key.enctype, keyvalue: tgt.key.keyvalue } }] }) },
  });
  const checksum = encodeGssChecksum({ bnd: new Uint8Array(16), flags: GssFlags.MUTUAL | GssFlags.INTEG | GssFlags.CONF, delegation: plainCred });
  const acc2 = s.acceptor.newContext();
  const r = await acc2.acceptSecContext(handMadeApReq(credential, checksum, s.clock.now()));
  assert.equal(decodeKrb5Token(r.output!).tokenId, Krb5TokenId.AP_REP);
  const d2 = acc2.context.delegatedCredential!;
  assert.equal(principalToString(d2.client), 'alice@EXAMPLE.TEST', 'pname defaults to the authenticated client');
  assert.equal(principalToString(d2.server), 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', 'sname defaults to the ticket\'s');
  assert.deepEqual(d2.key, tgt.key);
});

/** An AP-REQ built by hand around a given authenticator checksum (no subkey, mutual required). */
function handMadeApReq(credential: Credential, checksum: Uint8Array, now: number): Uint8Array {
  const auth = Authenticator.encode({
    authenticatorVno: 5, crealm: credential.client.realm,
    cname: { nameType: 1, nameString: [...credential.client.components] },
    cksum: { cksumtype: GSS_CHECKSUM_TYPE, checksum },
    cusec: (now % 1000) * 1000, ctime: new Date(now - (now % 1000)), seqNumber: 77,
  });
  return encodeKrb5Token(Krb5TokenId.AP_REQ, ApReq.encode({
    pvno: 5, msgType: 14, apOptions: ApOptions.mutualRequired, ticket: Ticket.decode(credential.ticket),
    authenticator: { etype: credential.key.enctype, cipher: encrypt(credential.key, KeyUsage.AP_REQ_AUTH, auth) },
  }));
}

test('krb5: wrong service principal, kvno and integrity diagnoses in the manner of MIT rd_req_dec.c', async () => {
  const s = setup();
  const other = serviceKey(s.random, { principal: 'HTTP/other.example.test@EXAMPLE.TEST', kvno: 3 });
  const wrong = new Krb5Initiator({ credential: mintTicket({ service: other, now: s.clock.now(), random: s.random }), clock: s.clock, random: s.random });
  const e1 = await s.acceptor.newContext().acceptSecContext(wrong.initSecContext().output!).catch((e: unknown) => e);
  assert.ok(e1 instanceof AcceptorKeyError);
  assert.equal(e1.problem, 'wrong-principal');
  assert.equal(e1.krbCode, 35);
  assert.match(e1.message, /the ticket is for HTTP\/other\.example\.test@EXAMPLE\.TEST \(kvno 3\), but the static key list holds keys for HTTP\/web\.example\.test@EXAMPLE\.TEST/);

  const newer = serviceKey(s.random, { kvno: 9 });
  const tooNew = new Krb5Initiator({ credential: mintTicket({ service: newer, now: s.clock.now(), random: s.random }), clock: s.clock, random: s.random });
  const e2 = await s.acceptor.newContext().acceptSecContext(tooNew.initSecContext().output!).catch((e: unknown) => e);
  assert.ok(e2 instanceof AcceptorKeyError);
  assert.equal(e2.problem, 'keytab-out-of-date');
  assert.equal(e2.krbCode, 44);
  assert.match(e2.message, /ticket kvno 9 not in keytab \(which holds 3\).*the keytab is likely out of date/);

  const sameKvno = { ...serviceKey(s.random, { kvno: 3 }) };
  const badKey = new Krb5Initiator({ credential: mintTicket({ service: sameKvno, now: s.clock.now(), random: s.random }), clock: s.clock, random: s.random });
  const e3 = await s.acceptor.newContext().acceptSecContext(badKey.initSecContext().output!).catch((e: unknown) => e);
  assert.ok(e3 instanceof TicketIntegrityError);
  assert.equal(e3.krbCode, 31);
  assert.match(e3.message, /keytab key for HTTP\/web\.example\.test@EXAMPLE\.TEST kvno 3 does not decrypt the ticket: the keytab is out of date or the password was changed without a new keytab/);
  // The diagnosis stays local: the KRB-ERROR sent back carries only the code.
  assert.ok(!new TextDecoder('latin1').decode(e3.output!).includes('keytab'));
  assert.deepEqual(s.events.events.map((e) => e.type), ['acceptor.kvno_miss']);
});

test('krb5: a restricted acceptor refuses tickets for other principals in its keytab; aliases are found by scanning keys', async () => {
  const clock = new ManualClock(T0);
  const random = seededRandom(5);
  const web = serviceKey(random, { kvno: 2 });
  const host = serviceKey(random, { principal: 'host/web.example.test@EXAMPLE.TEST', kvno: 2 });
  const restricted = new Krb5Acceptor({ keys: staticKeys([web, host]), principal: 'HTTP/web.example.test@EXAMPLE.TEST', clock, random });
  const hostTicket = new Krb5Initiator({ credential: mintTicket({ service: host, now: clock.now(), random }), clock, random });
  const e = await restricted.newContext().acceptSecContext(hostTicket.initSecContext().output!).catch((x: unknown) => x);
  assert.ok(e instanceof AcceptorKeyError && e.problem === 'wrong-principal');
  assert.match(e.message, /this acceptor serves HTTP\/web\.example\.test@EXAMPLE\.TEST/);
  // An alias (ticket names HTTP/alias but is encrypted in HTTP/web's key) is accepted by an unrestricted acceptor.
  const open = new Krb5Acceptor({ keys: staticKeys([web, host]), clock, random });
  const alias = new Krb5Initiator({ credential: mintTicket({ service: web, server: 'HTTP/alias.example.test@EXAMPLE.TEST', now: clock.now(), random }), clock, random });
  const acc = open.newContext();
  await acc.acceptSecContext(alias.initSecContext().output!);
  assert.equal(acc.context.acceptor, 'HTTP/alias.example.test@EXAMPLE.TEST');
});

test('krb5: rc4 tickets are refused unless allowed; a ticket without kvno uses the newest key', async () => {
  const clock = new ManualClock(T0);
  const random = seededRandom(6);
  const rc4 = serviceKey(random, { enctype: 23, kvno: 1 });
  const acceptor = new Krb5Acceptor({ keys: staticKeys([rc4]), clock, random });
  const init = new Krb5Initiator({ credential: mintTicket({ service: rc4, now: clock.now(), random, sessionEnctype: 23 }), clock, random });
  const e = await acceptor.newContext().acceptSecContext(init.initSecContext().output!).catch((x: unknown) => x);
  assert.ok(e instanceof AcceptorKeyError && e.problem === 'weak-enctype');

  const k1 = serviceKey(random, { kvno: 1 });
  const k2 = { ...serviceKey(random, { kvno: 2 }) };
  const both = new Krb5Acceptor({ keys: staticKeys([k1, k2]), clock, random });
  const noKvno = new Krb5Initiator({ credential: mintTicket({ service: k2, now: clock.now(), random, noKvno: true }), clock, random });
  await both.newContext().acceptSecContext(noKvno.initSecContext().output!);
});

test('krb5: defective tokens and the wrong token type are typed errors', async () => {
  const s = setup();
  await assert.rejects(s.acceptor.newContext().acceptSecContext(utf8('garbage')), { major: 'GSS_S_DEFECTIVE_TOKEN' });
  await assert.rejects(s.acceptor.newContext().acceptSecContext(encodeKrb5Token(Krb5TokenId.AP_REP, new Uint8Array([0x6f, 0]))), { major: 'GSS_S_DEFECTIVE_TOKEN' });
  await assert.rejects(s.acceptor.newContext().acceptSecContext(encodeKrb5Token(Krb5TokenId.AP_REQ, new Uint8Array([0x6e, 0]))), { major: 'GSS_S_DEFECTIVE_TOKEN' });
  const init = s.initiator();
  init.initSecContext();
  assert.throws(() => init.initSecContext(utf8('nonsense')), { major: 'GSS_S_DEFECTIVE_TOKEN' });
  assert.equal(MechOid.KRB5, '1.2.840.113554.1.2.2');
});
