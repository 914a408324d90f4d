/**
 * NTLM pass-through (docs/ntlm.md "Validation"): a realm with NTLM
 * credentials (kdc/admin.ts), the server over that realm, and
 * passThroughNtlmValidator with the web node's keytab entries, exchanging
 * bytes directly (and once over TCP). Each refusal has its own cause.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concatBytes } from '../../core/bytes.js';
import { ManualClock } from '../../core/clock.js';
import { seededRandom } from '../../core/random.js';
import { generateKey } from '../../crypto/index.js';
import { memorySink, type KerbsideEvent } from '../../events/index.js';
import { createKdc, masterKeyProtector, realmAdmin, resolveRealmPolicy, type KeyProtector, type RealmAdmin } from '../../kdc/index.js';
import { ErrorCode } from '../../messages/index.js';
import { asReq, encTimestamp, expectError, passwordKey, UDP_PEER } from '../../testing/kdc-client.js';
import { MemoryStore } from '../../store/index.js';
import { staticKeys } from '../acceptor-keys.js';
import {
  NegotiateFlags, avTimestamp, NtlmAcceptor, NtlmChallengeRegistry, NtlmInitiator, NtlmAccountRestrictionError, NtlmLogonFailureError, NtlmPassThroughError, NtlmPassThroughFormatError, PASSTHROUGH_VERSION,
  buildAuthenticate, decodePassThroughReply, decodePassThroughRequest, encodeChallenge, encodeNegotiate, filetimeFromUnixMs,
  ntlmPassThroughServer, passThroughNtlmValidator, serveNtlmPassThrough, type NtlmPassThroughServer, type PassThroughExchange,
} from './index.js';

const REALM = 'EXAMPLE.TEST';
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const SERVICE = `HTTP/web.example.test@${REALM}`;
const FLAGS = (NegotiateFlags.UNICODE | NegotiateFlags.NTLM | NegotiateFlags.EXTENDED_SESSIONSECURITY | NegotiateFlags.TARGET_INFO
  | NegotiateFlags.NEGOTIATE_128 | NegotiateFlags.KEY_EXCH | NegotiateFlags.SIGN | NegotiateFlags.SEAL | NegotiateFlags.ALWAYS_SIGN) >>> 0;

interface Setup {
  readonly clock: ManualClock;
  readonly admin: RealmAdmin;
  readonly store: MemoryStore;
  readonly server: NtlmPassThroughServer;
  readonly events: KerbsideEvent[];
  readonly keytab: Awaited<ReturnType<RealmAdmin['keytabEntries']>>;
  /** Requests the server saw, in order (to replay or alter them). */
  readonly seen: Uint8Array[];
  readonly exchange: PassThroughExchange;
  readonly keys: KeyProtector;
}

async function setup(lockout = 0): Promise<Setup> {
  const clock = new ManualClock(T0);
  const random = seededRandom(11);
  const store = new MemoryStore({ clock });
  const keys = masterKeyProtector(generateKey(18, random), random);
  const admin = realmAdmin({ realm: REALM, store, clock, random, keys, ntlm: true });
  await admin.createRealm();
  await admin.addPrincipal('alice', { password: 'alice-pw', allowNtlm: true });
  await admin.addPrincipal('bob', { password: 'bob-pw' });
  await admin.addPrincipal('HTTP/web.example.test');
  const sink = memorySink();
  const policy = resolveRealmPolicy({ lockout: { maxFailures: lockout, maxFailuresAllSources: lockout } }).lockout;
  const server = ntlmPassThroughServer({
    realm: REALM, principals: store, keys, clock, random: seededRandom(12), events: sink,
    ...(lockout === 0 ? {} : { lockout: { store: store.lockout, policy } }),
  });
  const seen: Uint8Array[] = [];
  const exchange: PassThroughExchange = (request) => { seen.push(request); return server.handle(request); };
  return { clock, admin, store, server, events: sink.events as KerbsideEvent[], keytab: await admin.keytabEntries(SERVICE), seen, exchange, keys };
}

/** A CHALLENGE from the web node and the client's AUTHENTICATE for it. */
function logon(
  user: string, password: string, domain = 'EXAMPLE', seed = 1, o: { targetName?: string; time?: number } = {},
): { challenge: Uint8Array; authenticate: Uint8Array } {
  const random = seededRandom(seed);
  const negotiate = encodeNegotiate({ flags: FLAGS });
  const challenge = encodeChallenge({
    flags: FLAGS, serverChallenge: random.bytes(8), targetName: 'EXAMPLE',
    targetInfo: { pairs: [{ id: 2, value: new Uint8Array(Buffer.from('EXAMPLE', 'utf16le')) }, avTimestamp(filetimeFromUnixMs(o.time ?? T0))] },
  });
  const { authenticate } = buildAuthenticate({
    negotiate, challenge, user, domain, workstation: 'WS1', secret: { password }, timestamp: filetimeFromUnixMs(T0), random,
    targetName: o.targetName ?? 'HTTP/web.example.test',
  });
  return { challenge, authenticate };
}

let validatorSeed = 100;

function validator(s: Setup, options: { exchange?: PassThroughExchange; keytab?: Setup['keytab']; clock?: ManualClock } = {}) {
  return passThroughNtlmValidator({
    exchange: options.exchange ?? s.exchange, keys: staticKeys(options.keytab ?? s.keytab), service: SERVICE,
    clock: options.clock ?? s.clock, random: seededRandom(++validatorSeed),
  });
}

const ntlmEvents = (s: Setup): KerbsideEvent[] => s.events.filter((e) => e.type === 'ntlm.validation');

const refusedWith = (cause: string) => (err: unknown): boolean => {
  assert.ok(err instanceof NtlmPassThroughError, `expected NtlmPassThroughError, got ${String(err)}`);
  assert.equal(err.detail['cause'], cause);
  return true;
};

test('a good password: the web node gets the principal and the SessionBaseKey; the event names user, domain, workstation and service', async () => {
  const s = await setup();
  const result = await validator(s).validate({ ...logon('alice', 'alice-pw'), service: SERVICE });
  assert.equal(result.principal, `alice@${REALM}`);
  assert.equal(result.user, 'alice');
  assert.equal(result.domain, 'EXAMPLE');
  assert.equal(result.sessionBaseKey.length, 16);
  const [e] = ntlmEvents(s);
  assert.equal(e?.fields['status'], 'success');
  assert.equal(e?.fields['workstation'], 'WS1');
  assert.equal(e?.fields['service'], SERVICE);
  assert.equal(e?.severity, 'info');
  assert.equal(JSON.stringify(s.events).includes(Buffer.from(result.sessionBaseKey).toString('hex')), false, 'no key in any event');
  // The wire request carries the header in the clear and the NTLM messages sealed.
  const req = decodePassThroughRequest(s.seen[0]!);
  assert.equal(req.service, SERVICE);
  assert.equal(req.kvno, 1);
  assert.equal(req.enctype, 18, 'the strongest key of the keytab');
  assert.equal(req.timestamp, T0);
});

test('logon failures and restrictions come back authenticated, with their cause; bad passwords count toward lockout', async () => {
  const s = await setup(2);
  const v = validator(s);
  const fails = async (user: string, password: string, Err: typeof NtlmLogonFailureError, cause: string, domain?: string): Promise<void> => {
    await assert.rejects(v.validate({ ...logon(user, password, domain), service: SERVICE }), (err: unknown) => {
      assert.ok(err instanceof Err, `${user}: ${String(err)}`);
      assert.equal((err as NtlmLogonFailureError).detail['cause'], cause);
      assert.ok(!(err as Error).message.includes(password));
      return true;
    });
  };
  await fails('nobody', 'x', NtlmLogonFailureError, 'unknown_user');
  await fails('alice', 'alice-pw', NtlmLogonFailureError, 'unknown_domain', 'OTHER');
  await fails('bob', 'bob-pw', NtlmAccountRestrictionError, 'ntlm_not_enabled');
  await fails('alice', 'wrong', NtlmLogonFailureError, 'bad_password');
  await s.server.settled();
  assert.equal((await s.store.lockout.get(`alice@${REALM}`)).failures, 1);
  await fails('alice', 'wrong again', NtlmLogonFailureError, 'bad_password');
  await s.server.settled();
  // Locked now: even the right password is refused without being checked (Windows: STATUS_ACCOUNT_LOCKED_OUT).
  await fails('alice', 'alice-pw', NtlmAccountRestrictionError, 'account_locked');
  assert.ok(s.events.some((e) => e.type === 'kdc.lockout'));
  await s.store.lockout.unlock(`alice@${REALM}`);
  await s.store.update(`alice@${REALM}`, { disabled: true });
  await fails('alice', 'alice-pw', NtlmAccountRestrictionError, 'account_disabled');
  await s.store.update(`alice@${REALM}`, { disabled: false, requiresPkinit: true });
  await fails('alice', 'alice-pw', NtlmAccountRestrictionError, 'smart_card_required');
  await s.store.update(`alice@${REALM}`, { requiresPkinit: false, principalExpiry: T0 - 1 });
  await fails('alice', 'alice-pw', NtlmAccountRestrictionError, 'account_expired');
  // Bound under alice's key to another service, or to a time long past: a web node cannot relay or replay it.
  await assert.rejects(v.validate({ ...logon('alice', 'alice-pw', 'EXAMPLE', 1, { targetName: 'HTTP/other.example.test' }), service: SERVICE }),
    (err: unknown) => err instanceof NtlmLogonFailureError && err.detail['cause'] === 'target_name_mismatch');
  await assert.rejects(v.validate({ ...logon('alice', 'alice-pw', 'EXAMPLE', 1, { time: T0 - 3600_000 }), service: SERVICE }),
    (err: unknown) => err instanceof NtlmLogonFailureError && err.detail['cause'] === 'stale_response');
  await s.store.update(`alice@${REALM}`, { principalExpiry: null, allowNtlm: false });
  await fails('alice', 'alice-pw', NtlmAccountRestrictionError, 'ntlm_not_enabled');
  const causes = ntlmEvents(s).map((e) => [e.fields['status'], e.fields['cause']]);
  assert.deepEqual(causes, [
    ['failure', 'unknown_user'], ['failure', 'unknown_domain'], ['failure', 'ntlm_not_enabled'], ['failure', 'bad_password'],
    ['failure', 'bad_password'], ['failure', 'account_locked'], ['failure', 'account_disabled'], ['failure', 'smart_card_required'],
    ['failure', 'account_expired'], ['failure', 'target_name_mismatch'], ['failure', 'stale_response'], ['failure', 'ntlm_not_enabled'],
  ]);
});

test('refusals: wrong service key, unknown key version, unknown service, tampered, replayed, stale, malformed, other version', async () => {
  const s = await setup();
  const request = { ...logon('alice', 'alice-pw'), service: SERVICE };
  // A keytab whose key is not the one in the database (same kvno).
  const forged = s.keytab.map((e) => ({ ...e, key: new Uint8Array(e.key.length).fill(7) }));
  await assert.rejects(validator(s, { keytab: forged }).validate(request), refusedWith('wrong_service_key'));
  await assert.rejects(validator(s, { keytab: s.keytab.map((e) => ({ ...e, kvno: 9 })) }).validate(request), refusedWith('unknown_key'));
  const other = s.keytab.map((e) => ({ ...e, principal: { ...e.principal, components: ['HTTP', 'other.example.test'] } }));
  await assert.rejects(passThroughNtlmValidator({ exchange: s.exchange, keys: staticKeys(other), service: `HTTP/other.example.test@${REALM}`, clock: s.clock })
    .validate(request), refusedWith('unknown_service'));
  await assert.rejects(passThroughNtlmValidator({ exchange: s.exchange, keys: staticKeys(s.keytab), service: `HTTP/none@${REALM}`, clock: s.clock })
    .validate(request), refusedWith('no_service_key'));
  // Flip one octet of the sealed part: MAC good, the sealed part does not verify.
  const tamper: PassThroughExchange = (req) => { const c = req.slice(); c[c.length - 3]! ^= 1; return s.server.handle(c); };
  await assert.rejects(validator(s, { exchange: tamper }).validate(request), refusedWith('tampered'));
  // Replay the first request verbatim.
  await validator(s).validate(request);
  const replayed = decodePassThroughReply(await s.server.handle(s.seen[s.seen.length - 1]!));
  assert.equal(replayed.type === 'refusal' && replayed.cause, 'replay');
  // A web node whose clock is 10 minutes off.
  await assert.rejects(validator(s, { clock: new ManualClock(T0 - 600_000) }).validate(request), refusedWith('skew'));
  for (const [bytes, cause] of [
    [new Uint8Array([1, 2, 3]), 'malformed'],
    [concatBytes(Buffer.from('KSNT'), Uint8Array.of(PASSTHROUGH_VERSION + 1, 1)), 'unsupported_version'],
    [concatBytes(s.seen[0]!, Uint8Array.of(0)), 'malformed'],
  ] as const) {
    const r = decodePassThroughReply(await s.server.handle(bytes));
    assert.equal(r.type === 'refusal' && r.cause, cause);
  }
  const refused = s.events.filter((e) => e.type === 'ntlm.validation' && e.fields['status'] === 'failure').map((e) => e.fields['cause']);
  assert.deepEqual(refused, ['wrong_service_key', 'unknown_key', 'unknown_service', 'tampered', 'replay', 'skew', 'malformed', 'unsupported_version', 'malformed']);
});

test('a reply altered or answered for another request is not believed', async () => {
  const s = await setup();
  const request = { ...logon('alice', 'alice-pw'), service: SERVICE };
  const flip: PassThroughExchange = async (req) => { const r = (await s.server.handle(req)).slice(); r[r.length - 1]! ^= 1; return r; };
  await assert.rejects(validator(s, { exchange: flip }).validate(request), refusedWith('tampered_reply'));
  // The reply to an earlier request (a replayed reply) names another nonce.
  let first: Uint8Array | undefined;
  const stale: PassThroughExchange = async (req) => { const r = await s.server.handle(req); first ??= r; return first; };
  await validator(s, { exchange: stale }).validate(request);
  await assert.rejects(validator(s, { exchange: stale }).validate({ ...logon('alice', 'alice-pw', 'EXAMPLE', 2), service: SERVICE }), refusedWith('tampered_reply'));
  assert.throws(() => decodePassThroughReply(new Uint8Array(0)), NtlmPassThroughFormatError);
});

test('over TCP (4-byte length framing), and an unreachable KDC host is GSS_S_UNAVAILABLE', async () => {
  const s = await setup();
  const listener = await serveNtlmPassThrough(s.server, { listen: [{ host: '127.0.0.1', port: 0 }] });
  try {
    const { port } = listener.addresses[0]!;
    const v = passThroughNtlmValidator({ address: `127.0.0.1:${port}`, keys: staticKeys(s.keytab), service: SERVICE, clock: s.clock });
    assert.equal((await v.validate({ ...logon('alice', 'alice-pw'), service: SERVICE })).principal, `alice@${REALM}`);
  } finally {
    await listener.close();
  }
  const port = listener.addresses[0]!.port;
  const down = passThroughNtlmValidator({ address: { host: '127.0.0.1', port }, keys: staticKeys(s.keytab), service: SERVICE, clock: s.clock });
  await assert.rejects(down.validate({ ...logon('alice', 'alice-pw'), service: SERVICE }), (err: unknown) => {
    assert.ok(err instanceof NtlmPassThroughError);
    assert.equal(err.major, 'GSS_S_UNAVAILABLE');
    assert.equal(err.detail['cause'], 'unreachable');
    return true;
  });
});

test('NtlmInitiator → NtlmAcceptor with the pass-through validator: the context is established with the realm principal and both sides sign alike', async () => {
  const s = await setup();
  const acceptor = new NtlmAcceptor({ validator: validator(s), service: SERVICE, clock: s.clock, random: seededRandom(31), issuedChallenges: new NtlmChallengeRegistry() });
  const initiator = new NtlmInitiator({
    credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'alice-pw' } }, targetName: 'HTTP/web.example.test', clock: s.clock, random: seededRandom(32),
  });
  const ctx = acceptor.newContext();
  const challenge = await ctx.acceptSecContext(initiator.initSecContext().output!);
  const last = initiator.initSecContext(challenge.output!);
  assert.equal((await ctx.acceptSecContext(last.output!)).complete, true);
  assert.equal(ctx.context.initiator, `alice@${REALM}`);
  const mic = initiator.context.getMic(Uint8Array.of(1, 2, 3));
  ctx.context.verifyMic(Uint8Array.of(1, 2, 3), mic);
  assert.throws(() => ctx.context.verifyMic(Uint8Array.of(1, 2, 4), initiator.context.getMic(Uint8Array.of(1, 2, 3))));
  // A wrong password fails in the KDC host's check, not in the acceptor's.
  const bad = new NtlmInitiator({ credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'nope' } }, clock: s.clock, random: seededRandom(33) });
  const ctx2 = acceptor.newContext();
  const c2 = await ctx2.acceptSecContext(bad.initSecContext().output!);
  await assert.rejects(ctx2.acceptSecContext(bad.initSecContext(c2.output!).output!), (err: unknown) => err instanceof NtlmLogonFailureError && err.detail['cause'] === 'bad_password');
});

test('NTLM failures and Kerberos share one lockout: after bad NTLM passwords the AS exchange refuses alice too', async () => {
  const s = await setup(2);
  for (const pw of ['bad-1', 'bad-2']) {
    await assert.rejects(validator(s).validate({ ...logon('alice', pw), service: SERVICE }), NtlmLogonFailureError);
  }
  await s.server.settled();
  const kdc = createKdc({
    realm: REALM, store: s.store, lockout: s.store.lockout, clock: s.clock, random: seededRandom(41), keys: s.keys,
    policy: { lockout: { maxFailures: 2, maxFailuresAllSources: 2 } },
  });
  const key = await passwordKey('alice', 'alice-pw');
  const err = expectError(await kdc.process(asReq({ padata: [encTimestamp(key, T0)] }), UDP_PEER));
  assert.equal(err.errorCode, ErrorCode.KDC_ERR_CLIENT_REVOKED);
});

test('a principal database that fails is a refusal (unavailable), not a crash', async () => {
  const s = await setup();
  const broken = ntlmPassThroughServer({
    realm: REALM, principals: { get: () => Promise.reject(new Error('disk on fire')) }, keys: s.keys, clock: s.clock,
  });
  await assert.rejects(validator(s, { exchange: (r) => broken.handle(r) }).validate({ ...logon('alice', 'alice-pw'), service: SERVICE }), refusedWith('unavailable'));
});
