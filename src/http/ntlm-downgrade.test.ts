/**
 * The downgrade rule of issue 11 end to end, with the in-process kerbside KDC
 * and one ManualClock shared by KDC, clients and server (docs/ntlm.md "HTTP").
 *
 * - Client side: a client whose TGT expired and cannot refresh, against a
 *   server that offers Negotiate and NTLM, sends no NTLM (asserted on the
 *   Authorization headers the server saw) and logs `spnego.downgrade_refused`
 *   with the Kerberos failure code; a client for a host with no KDC, or whose
 *   service principal the KDC does not know, uses NTLM and gets 200.
 * - Server side: a connection whose Kerberos attempt failed and then switches
 *   to NTLM is refused (cause 'downgrade'), unless allowNtlmAfterKerberosFailure.
 * - Seed 002, second half (docs/architecture.md founding failure 2): while
 *   the server's keytab lacks the tickets' kvno, Kerberos logins are refused
 *   naming the stale side (kvno-miss, the ticket's kvno and the keytab's)
 *   and NTLM logins keep working.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { clientConfig, KerberosClient, LogonSession } from '../client/index.js';
import { memorySink, openEventLog, type MemorySink } from '../events/index.js';
import { runCliInProcess } from '../testing/kerbside-cli.js';
import { writeKeytab, type Credential } from '../files/index.js';
import { isNtlmToken, localNtlmValidator, MechOid, NtlmChallengeRegistry, NtlmInitiator, SpnegoInitiator } from '../gss/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { ErrorCode } from '../messages/index.js';
import { inProcessTransport } from '../testing/in-process-kdc.js';
import {
  negotiateFetch, negotiateListener, negotiateServer, NegotiateDowngradeRefusedError, NegotiateRefusedError, type NegotiateServer, type NegotiateServerOptions,
} from './index.js';

const MINUTE = 60_000;
const SERVICE = 'HTTP/localhost';
const clock = new ManualClock(Date.UTC(2026, 5, 1));
let dir: string;
let realm: TestRealm;
let kerberos: KerberosClient;
const servers: Server[] = [];

const validator = () => localNtlmValidator({ alice: { principal: 'alice@NTLM.TEST', secret: { password: 'alice-ntlm-pw' } } });
const aliceNtlm = { user: 'alice', domain: 'EXAMPLE', password: 'alice-ntlm-pw' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-downgrade-'));
  realm = await startTestRealm({
    clock, random: seededRandom(7),
    principals: [{ name: 'alice', password: 'alice-password' }, { name: SERVICE, randomKey: true }],
  });
  await realm.exportKeytab(SERVICE, join(dir, 'http.keytab'));
  kerberos = new KerberosClient({
    config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }),
    clock, random: seededRandom(8), transport: inProcessTransport(realm),
  });
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function core(events: MemorySink, extra: Partial<NegotiateServerOptions> = {}): NegotiateServer {
  return negotiateServer({
    keytab: join(dir, 'http.keytab'), principal: `${SERVICE}@${realm.realm}`, clock, random: seededRandom(9), events,
    ntlm: { validator: validator(), issuedChallenges: new NtlmChallengeRegistry() }, ...extra,
  });
}

/** An HTTP server over `server` that records every Authorization header it receives. */
async function recordingServer(server: NegotiateServer): Promise<{ port: number; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  const listener = negotiateListener(server, (req, res) => { res.end(`hello ${req.auth.principal} (${req.auth.package})\n`); });
  const http = createServer((req: IncomingMessage, res) => { seen.push(req.headers.authorization); listener(req, res); });
  servers.push(http);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { port: (http.address() as AddressInfo).port, seen };
}

/** A logon session holding a delegated TGT: it cannot be refreshed once it expires. */
async function sessionWithShortTgt(lifetimeMs: number): Promise<LogonSession> {
  const tgt = (await kerberos.getInitialCredentials({ client: 'alice', password: 'alice-password', lifetime: lifetimeMs, renewLifetime: 0 })).credential;
  return LogonSession.open({ client: kerberos, source: { kind: 'delegated', credential: tgt } });
}

describe('negotiateFetch: the downgrade rule', () => {
  test('TGT expired and cannot refresh: no NTLM is sent, spnego.downgrade_refused carries the Kerberos failure code, NegotiateDowngradeRefusedError', async () => {
    const serverEvents = memorySink();
    const { port, seen } = await recordingServer(core(serverEvents));
    const session = await sessionWithShortTgt(10 * MINUTE);
    await clock.advance(20 * MINUTE);
    const events = memorySink();
    const err = await negotiateFetch(`http://localhost:${port}/`, { negotiate: { session, clock, events, ntlm: aliceNtlm } }).then(
      () => assert.fail('negotiateFetch succeeded'), (e: unknown) => e as NegotiateDowngradeRefusedError);
    assert.ok(err instanceof NegotiateDowngradeRefusedError, String(err));
    // The server saw one request, without Authorization: nothing NTLM (nor Kerberos) went out.
    assert.deepEqual(seen, [undefined]);
    const refused = events.ofType('spnego.downgrade_refused');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.fields['side'], 'initiator');
    assert.equal(refused[0]!.fields['failureCode'], ErrorCode.KRB_AP_ERR_TKT_EXPIRED, JSON.stringify(refused[0]!.fields));
    assert.equal(err.krbCode, ErrorCode.KRB_AP_ERR_TKT_EXPIRED);
    assert.match(refused[0]!.message, /failure code: \S+ \(\d+\)/);
    await session.close();
  });

  test('allowNtlmAfterKerberosFailure: the same client logs on with NTLM, and spnego.downgrade_allowed is logged', async () => {
    const { port, seen } = await recordingServer(core(memorySink()));
    const session = await sessionWithShortTgt(10 * MINUTE);
    await clock.advance(20 * MINUTE);
    const events = memorySink();
    const res = await negotiateFetch(`http://localhost:${port}/`, { negotiate: { session, clock, events, ntlm: aliceNtlm, allowNtlmAfterKerberosFailure: true } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello alice@NTLM.TEST (ntlm)\n');
    assert.equal(events.ofType('spnego.downgrade_allowed').length, 1);
    assert.equal(seen.length, 3);
    await session.close();
  });

  test('a host whose realm has no KDC: NTLM (inside SPNEGO) is used and succeeds, without any downgrade event', async () => {
    const { port, seen } = await recordingServer(core(memorySink()));
    const session = await LogonSession.open({ client: kerberos, principal: 'alice', source: { kind: 'password', password: 'alice-password' } });
    const events = memorySink();
    const res = await negotiateFetch(`http://localhost:${port}/`, {
      negotiate: { session, clock, events, ntlm: aliceNtlm, domainRealm: { localhost: 'NO-KDC.TEST' } },
    });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello alice@NTLM.TEST (ntlm)\n');
    assert.equal(events.events.filter((e) => e.type.startsWith('spnego.downgrade')).length, 0);
    // Leg 1 bare, then the SPNEGO NegTokenInit and NegTokenResp with NTLM.
    assert.equal(seen.length, 3);
    assert.ok(seen.slice(1).every((h) => h?.startsWith('Negotiate ')));
    await session.close();
  });

  test('a realm with no kdc line whose KDCs DNS finds (dns_lookup_kdc): Kerberos applies, so an expired TGT still refuses NTLM', async () => {
    const { port, seen } = await recordingServer(core(memorySink()));
    const [host, kdcPort] = realm.kdcAddress.split(':') as [string, string];
    const dns = { resolveSrv: async (name: string) => (name.endsWith(`.${realm.realm}.`) ? [{ name: host, port: Number(kdcPort), priority: 0, weight: 0 }] : []) };
    const viaDns = new KerberosClient({
      config: clientConfig({ defaultRealm: realm.realm, dnsLookupKdc: true }), clock, random: seededRandom(11), transport: inProcessTransport(realm), dns,
    });
    const tgt = (await viaDns.getInitialCredentials({ client: 'alice', password: 'alice-password', lifetime: 10 * MINUTE, renewLifetime: 0 })).credential;
    const session = await LogonSession.open({ client: viaDns, source: { kind: 'delegated', credential: tgt } });
    await clock.advance(20 * MINUTE);
    const events = memorySink();
    await assert.rejects(negotiateFetch(`http://localhost:${port}/`, { negotiate: { session, clock, events, ntlm: aliceNtlm } }), NegotiateDowngradeRefusedError);
    assert.deepEqual(seen, [undefined]);
    assert.equal(events.ofType('spnego.downgrade_refused').length, 1);
    await session.close();
  });

  test('a service principal the KDC does not know (KDC_ERR_S_PRINCIPAL_UNKNOWN): NTLM is used and succeeds', async () => {
    // The server answers NTLM for HTTP/127.0.0.1, a name the KDC has no principal for.
    const { port } = await recordingServer(core(memorySink(), { ntlm: { validator: validator(), service: `HTTP/127.0.0.1@${realm.realm}`, issuedChallenges: new NtlmChallengeRegistry() } }));
    const session = await LogonSession.open({ client: kerberos, principal: 'alice', source: { kind: 'password', password: 'alice-password' } });
    const events = memorySink();
    const res = await negotiateFetch(`http://127.0.0.1:${port}/`, { negotiate: { session, clock, events, ntlm: aliceNtlm } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(events.ofType('spnego.downgrade_refused').length, 0);
    await session.close();
  });
});

/** `Negotiate <b64>` of a SPNEGO NegTokenInit with a Kerberos AP-REQ for `ticket`. */
function kerberosHeader(ticket: Credential): string {
  const initiator = new SpnegoInitiator({ krb5: { credential: ticket, clock, random: seededRandom(clock.now() % 1e9) } });
  return `Negotiate ${Buffer.from(initiator.initSecContext().output!).toString('base64')}`;
}

/** Runs a raw NTLM handshake (`Authorization: NTLM`) on `connection`; the last outcome. */
async function ntlmLogin(server: NegotiateServer, connection: object, password = 'alice-ntlm-pw') {
  const initiator = new NtlmInitiator({ credential: { user: 'alice', domain: 'EXAMPLE', secret: { password } }, targetName: SERVICE, clock, random: seededRandom(clock.now() % 1e9 + 1) });
  const req = (authorization: string) => ({ method: 'GET', url: '/', headers: { authorization }, connection });
  const first = await server.authenticate(req(`NTLM ${Buffer.from(initiator.initSecContext().output!).toString('base64')}`));
  if (first.authenticated || first.cause !== 'handshake-incomplete') return first;
  const challenge = first.headers.find(([n, v]) => n === 'WWW-Authenticate' && v.startsWith('NTLM '))![1].slice(5);
  return server.authenticate(req(`NTLM ${Buffer.from(initiator.initSecContext(new Uint8Array(Buffer.from(challenge, 'base64'))).output!).toString('base64')}`));
}

/** Replaces the server's keytab with the service's keys of the given kvnos (the KDC keeps them all). */
async function installKeytab(kvnos: readonly number[]): Promise<void> {
  const all = await realm.admin.keytabEntries(SERVICE, { allKvnos: true });
  await writeKeytab(`FILE:${join(dir, 'http.keytab')}`, all.filter((e) => kvnos.includes(e.kvno)));
}

/** A connection on which a Kerberos login succeeded and then the same authenticator failed (replay). */
async function kerberosFailedConnection(server: NegotiateServer): Promise<object> {
  const connection = {};
  const tgt = (await kerberos.getInitialCredentials({ client: 'alice', password: 'alice-password' })).credential;
  const header = kerberosHeader(await kerberos.getServiceTicket(tgt, SERVICE));
  assert.ok((await server.authenticate({ method: 'GET', headers: { authorization: header }, connection })).authenticated);
  const replay = await server.authenticate({ method: 'GET', headers: { authorization: header }, connection });
  assert.ok(!replay.authenticated && replay.cause === 'replay');
  return connection;
}

describe('negotiateServer: the downgrade rule and seed 002', () => {
  test('Kerberos fails on a connection, then NTLM on it: refused as a downgrade (spnego.downgrade_refused, side acceptor); on another connection NTLM works', async () => {
    const events = memorySink();
    const server = core(events);
    const connection = await kerberosFailedConnection(server);
    const downgraded = await ntlmLogin(server, connection);
    assert.ok(!downgraded.authenticated);
    assert.equal(downgraded.cause, 'downgrade');
    const refused = events.ofType('spnego.downgrade_refused');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.fields['side'], 'acceptor');
    assert.equal(refused[0]!.fields['failureCode'], ErrorCode.KRB_AP_ERR_REPEAT);
    // NTLM inside SPNEGO after the failure is refused the same way.
    const spnego = new SpnegoInitiator({ ntlm: { credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'alice-ntlm-pw' } }, clock }, mechTypes: [MechOid.NTLMSSP] });
    const viaSpnego = await server.authenticate({ method: 'GET', headers: { authorization: `Negotiate ${Buffer.from(spnego.initSecContext().output!).toString('base64')}` }, connection });
    assert.ok(!viaSpnego.authenticated && viaSpnego.cause === 'downgrade');
    // …and so is a NegTokenInit listing NTLM before Kerberos (the acceptor would select NTLM).
    const ntlmFirst = new SpnegoInitiator({
      ntlm: { credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'alice-ntlm-pw' } }, clock }, mechTypes: [MechOid.NTLMSSP, MechOid.KRB5],
      krb5: { credential: await kerberos.getServiceTicket((await kerberos.getInitialCredentials({ client: 'alice', password: 'alice-password' })).credential, SERVICE), clock },
    });
    const viaNtlmFirst = await server.authenticate({ method: 'GET', headers: { authorization: `Negotiate ${Buffer.from(ntlmFirst.initSecContext().output!).toString('base64')}` }, connection });
    assert.ok(!viaNtlmFirst.authenticated && viaNtlmFirst.cause === 'downgrade', viaNtlmFirst.authenticated ? '' : viaNtlmFirst.cause);
    assert.equal(events.ofType('spnego.downgrade_refused').length, 3);
    // A fresh connection has no Kerberos failure: NTLM is accepted.
    assert.ok((await ntlmLogin(server, {})).authenticated);
  });

  test('the mark is the connection\'s last Kerberos attempt: a Kerberos success after the failure clears it, and so does closing the connection', async () => {
    const server = core(memorySink());
    const connection = await kerberosFailedConnection(server);
    const tgt = (await kerberos.getInitialCredentials({ client: 'alice', password: 'alice-password' })).credential;
    assert.ok((await server.authenticate({ method: 'GET', headers: { authorization: kerberosHeader(await kerberos.getServiceTicket(tgt, SERVICE)) }, connection })).authenticated);
    assert.ok((await ntlmLogin(server, connection)).authenticated, 'NTLM after a later Kerberos success');
    const closed = await kerberosFailedConnection(server);
    server.connectionClosed(closed);
    assert.ok((await ntlmLogin(server, closed)).authenticated, 'NTLM once the connection state was dropped');
  });

  test('allowNtlmAfterKerberosFailure: accepted, and spnego.downgrade_allowed is logged each time', async () => {
    const events = memorySink();
    const server = core(events, { allowNtlmAfterKerberosFailure: true });
    const connection = await kerberosFailedConnection(server);
    const out = await ntlmLogin(server, connection);
    assert.ok(out.authenticated, JSON.stringify(events.ofType('http.auth_refused').map((e) => e.fields)));
    assert.equal(events.ofType('spnego.downgrade_allowed').length, 1);
    // Another NTLM logon on the connection (still marked by its Kerberos failure): logged again.
    assert.ok((await ntlmLogin(server, connection)).authenticated);
    assert.equal(events.ofType('spnego.downgrade_allowed').length, 2);
    assert.equal(events.ofType('spnego.downgrade_refused').length, 0);
  });

  test('seed 002, second half: the keytab lacks the tickets\' kvno; Kerberos refusals name it (kvno-miss) while NTLM logins keep working', async () => {
    const events = memorySink();
    const server = core(events, { keytabCheckIntervalMs: 1000 });
    const tgt = (await kerberos.getInitialCredentials({ client: 'alice', password: 'alice-password' })).credential;
    // The KDC rotates the service key (kvno 2); the server's keytab keeps only the old kvno.
    const before = (await realm.admin.keytabEntries(SERVICE, { allKvnos: true }))[0]!.kvno;
    await realm.randkey(SERVICE, { keepOld: true });
    await installKeytab([before]);
    await clock.advance(2000);
    for (let i = 0; i < 3; i++) {
      const ticket = await kerberos.getServiceTicket(tgt, SERVICE);
      const k = await server.authenticate({ method: 'GET', headers: { authorization: kerberosHeader(ticket) }, connection: {} });
      assert.ok(!k.authenticated && k.cause === 'kvno-miss', `attempt ${i}: ${k.authenticated ? 'authenticated' : k.cause}`);
      const n = await ntlmLogin(server, {});
      assert.ok(n.authenticated, `NTLM login ${i}: ${n.authenticated ? '' : n.cause}`);
      assert.equal(n.auth.package, 'ntlm');
      await clock.advance(10 * MINUTE);
    }
    const refused = events.ofType('http.auth_refused').filter((e) => e.fields['cause'] === 'kvno-miss');
    assert.equal(refused.length, 3);
    assert.equal(refused[0]!.fields['ticketKvno'], before + 1);
    assert.deepEqual(refused[0]!.fields['keytabKvnos'], [String(before)]);
    assert.equal(events.ofType('ntlm.validation').filter((e) => e.fields['status'] === 'success').length, 3);
    assert.equal(events.ofType('http.auth_succeeded').filter((e) => e.fields['package'] === 'ntlm').length, 3);
  });

  test('seed 002 from the client: negotiateFetch with an NTLM credential whose ticket the stale server refuses sends no NTLM and logs the refused downgrade', async () => {
    // Runs after the test above: the keytab still lacks the current kvno.
    const { port, seen } = await recordingServer(core(memorySink(), { keytabCheckIntervalMs: 1000 }));
    const session = await LogonSession.open({ client: kerberos, principal: 'alice', source: { kind: 'password', password: 'alice-password' } });
    const events = memorySink();
    await assert.rejects(negotiateFetch(`http://localhost:${port}/`, { negotiate: { session, clock, events, ntlm: aliceNtlm } }), NegotiateRefusedError);
    assert.equal(seen.length, 2);
    assert.equal(seen[0], undefined);
    assert.ok(seen[1]?.startsWith('Negotiate '));
    assert.ok(seen.every((h) => h === undefined || !isNtlmToken(new Uint8Array(Buffer.from(h.split(' ')[1]!, 'base64')))));
    assert.equal(events.ofType('spnego.downgrade_refused').length, 1);
    await session.close();
  });
});

test('kerbside events finds these in an app\'s event log: the NTLM logons (4776) by user, the client\'s 40960 (kerbside-client) and the server\'s (kerbside-gss)', async () => {
  const logDir = join(dir, 'app-log');
  // Every key version the KDC has (seed 002 above leaves the keytab stale on purpose).
  await writeKeytab(`FILE:${join(dir, 'http.keytab')}`, await realm.admin.keytabEntries(SERVICE, { allKvnos: true }));
  const log = await openEventLog(logDir, { computer: 'web1', clock });
  try {
    const server = negotiateServer({
      keytab: join(dir, 'http.keytab'), principal: `${SERVICE}@${realm.realm}`, clock, random: seededRandom(10), events: log.sink,
      ntlm: { validator: validator(), issuedChallenges: new NtlmChallengeRegistry() },
    });
    const { port } = await recordingServer(server);
    // NTLM where Kerberos does not apply: a 4776 success; a wrong NTLM password: a 4776 failure.
    const session = await LogonSession.open({ client: kerberos, principal: 'alice', source: { kind: 'password', password: 'alice-password' } });
    const noKdc = { session, clock, events: log.sink, domainRealm: { localhost: 'NO-KDC.TEST' } };
    assert.equal((await negotiateFetch(`http://localhost:${port}/`, { negotiate: { ...noKdc, ntlm: aliceNtlm } })).status, 200);
    await negotiateFetch(`http://localhost:${port}/`, { negotiate: { ...noKdc, ntlm: { ...aliceNtlm, password: 'wrong' } } }).catch(() => undefined);
    await session.close();
    // A client whose TGT expired: the client's 40960.
    const expired = await sessionWithShortTgt(10 * MINUTE);
    await clock.advance(20 * MINUTE);
    await negotiateFetch(`http://localhost:${port}/`, { negotiate: { session: expired, clock, events: log.sink, ntlm: aliceNtlm } }).catch(() => undefined);
    await expired.close();
    // A connection whose Kerberos attempt failed, then NTLM on it: the server's 40960.
    const downgraded = await ntlmLogin(server, await kerberosFailedConnection(server));
    assert.ok(!downgraded.authenticated && downgraded.cause === 'downgrade');
  } finally {
    await log.close();
  }
  const query = async (...args: string[]): Promise<Record<string, unknown>[]> => {
    const r = await runCliInProcess(['events', '--dir', logDir, '--json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const ntlmLogons = await query('--id', '4776', '--user', 'alice');
  assert.deepEqual(ntlmLogons.map((r) => [r['level'], r['user'], r['source']]), [
    ['audit_success', 'EXAMPLE\\alice', 'kerbside-gss'], ['audit_failure', 'EXAMPLE\\alice', 'kerbside-gss'],
  ]);
  const clientDowngrade = await query('--id', '40960', '--source', 'kerbside-client');
  assert.equal(clientDowngrade.length, 1, JSON.stringify(clientDowngrade));
  assert.equal(clientDowngrade[0]!['category'], 'SPNEGO (Negotiator)');
  assert.match(String(clientDowngrade[0]!['message']), /failure code: KRB_AP_ERR_TKT_EXPIRED \(32\)/);
  assert.equal(clientDowngrade[0]!['computer'], 'web1');
  const serverDowngrade = await query('--id', '40960', '--source', 'kerbside-gss');
  assert.equal(serverDowngrade.length, 1, JSON.stringify(serverDowngrade));
  assert.match(String(serverDowngrade[0]!['message']), /failure code: KRB_AP_ERR_REPEAT \(34\)/);
  // No secret in the log.
  const all = await query();
  assert.doesNotMatch(JSON.stringify(all), /alice-ntlm-pw|alice-password|wrong/);
});
