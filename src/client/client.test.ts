/**
 * The client against kerbside's test realm: over real UDP/TCP sockets on
 * loopback (transport choice, RESPONSE_TOO_BIG retry, unreachable KDCs), and
 * in-process with ManualClocks for clock skew and expiry. The typed errors
 * name the code, the principal, the service and a hint.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../core/clock.js';
import { seededRandom, systemRandom } from '../core/random.js';
import { ErrorCode, KrbError, Ticket } from '../messages/index.js';
import { decodeCcache, encodeCcache } from '../files/index.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ALL_EVENTS_CHANNEL, memorySink } from '../events/index.js';
import { startTestRealm, type TestRealm, type TestRealmOptions } from '../kdc/index.js';
import { inProcessTransport } from '../testing/in-process-kdc.js';
import { freeLoopbackPort } from '../testing/mit-realm.js';
import {
  KerberosClient, clientConfig, socketTransport, buildCache, offsetFromHeader, errorFromKrbError, loadClientConfig,
  ClockSkewError, KdcUnreachableError, NoCommonEnctypeError, NoKdcConfiguredError, PasswordIncorrectError, PrincipalUnknownError, clientFromEnvironment,
  RenewLimitReachedError, TicketExpiredError, type ClientConfigOptions, type KdcTransport, type KdcProtocol,
} from './index.js';

const MIN = 60_000;
const realms: TestRealm[] = [];
const dirs: string[] = [];
after(async () => {
  for (const r of realms) await r.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function realmWith(options: Partial<TestRealmOptions> = {}): Promise<TestRealm> {
  const realm = await startTestRealm({
    principals: [{ name: 'alice', password: 'alice-pw' }, { name: 'HTTP/localhost', randomKey: true }],
    ...options,
  });
  realms.push(realm);
  return realm;
}

/** Records which protocol each try used. */
function recording(inner: KdcTransport): { transport: KdcTransport; tries: KdcProtocol[] } {
  const tries: KdcProtocol[] = [];
  return {
    tries,
    transport: { exchange: (a, p, r, s) => { tries.push(p); return inner.exchange(a, p, r, s); } },
  };
}

function clientFor(realm: TestRealm, extra: ClientConfigOptions = {}, transport: KdcTransport = socketTransport()): KerberosClient {
  return new KerberosClient({
    config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } }, ...extra }),
    clock: realm.clock, random: systemRandom(), transport,
  });
}

test('over UDP: AS with a password, TGS for a service, renewal; the tickets carry what was asked for', async () => {
  const realm = await realmWith();
  const net = recording(socketTransport());
  const client = clientFor(realm, { renewLifetime: 3_600_000 * 24 }, net.transport);
  const { credential: tgt, paType } = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw', forwardable: true });
  assert.equal(paType, 2);
  assert.deepEqual(tgt.server.components, ['krbtgt', 'EXAMPLE.TEST']);
  assert.ok(tgt.renewTill !== undefined);
  const st = await client.getServiceTicket(tgt, 'HTTP/localhost');
  assert.deepEqual(st.server.components, ['HTTP', 'localhost']);
  assert.ok(Ticket.decode(st.ticket).encPart.kvno !== undefined);
  const renewed = await client.renew(tgt);
  assert.equal(renewed.renewTill?.getTime(), tgt.renewTill.getTime());
  assert.ok(net.tries.every((p) => p === 'udp'), `all UDP: ${net.tries.join(',')}`);
});

test('udp_preference_limit = 1 sends everything over TCP; KRB_ERR_RESPONSE_TOO_BIG over UDP is retried over TCP', async () => {
  const realm = await realmWith({ policy: { maxUdpReply: 300 } });
  const tcpOnly = recording(socketTransport());
  await clientFor(realm, { udpPreferenceLimit: 1 }, tcpOnly.transport).getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  assert.ok(tcpOnly.tries.length > 0 && tcpOnly.tries.every((p) => p === 'tcp'));
  const mixed = recording(socketTransport());
  await clientFor(realm, {}, mixed.transport).getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  // The preauth-required error fits in UDP; the AS-REP does not and comes over TCP.
  assert.deepEqual(mixed.tries, ['udp', 'udp', 'tcp']);
});

test('unreachable KDCs: failover in order, then KdcUnreachableError naming every address', async () => {
  const dead1 = await freeLoopbackPort();
  const dead2 = await freeLoopbackPort();
  const realm = await realmWith();
  const config = clientConfig({
    defaultRealm: 'EXAMPLE.TEST', kdcTimeout: 500,
    realms: { 'EXAMPLE.TEST': { kdc: [`127.0.0.1:${dead1}`, realm.kdcAddress] } },
  });
  const ok = await new KerberosClient({ config, clock: systemClock() }).getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  assert.ok(ok.credential.endtime.getTime() > systemClock().now(), 'the second KDC answered');
  const none = new KerberosClient({
    config: clientConfig({ defaultRealm: 'EXAMPLE.TEST', kdcTimeout: 500, realms: { 'EXAMPLE.TEST': { kdc: [`127.0.0.1:${dead1}`, `tcp/127.0.0.1:${dead2}`] } } }),
    clock: systemClock(),
  });
  await assert.rejects(none.getInitialCredentials({ client: 'alice', password: 'x' }), (err: unknown) => {
    assert.ok(err instanceof KdcUnreachableError);
    assert.equal(err.tried.length, 3);
    assert.match(err.tried[0]!, new RegExp(`^udp/127\\.0\\.0\\.1:${dead1} \\(`));
    assert.match(err.tried[2]!, new RegExp(`^tcp/127\\.0\\.0\\.1:${dead2} \\(ECONNREFUSED\\)`));
    return true;
  });
});

test('typed errors: wrong password (24), unknown client (6) and service (7), no common enctype (14)', async () => {
  const realm = await realmWith({ policy: { permittedEnctypes: [18] } });
  const client = clientFor(realm);
  await assert.rejects(client.getInitialCredentials({ client: 'alice', password: 'wrong' }), (err: unknown) => {
    assert.ok(err instanceof PasswordIncorrectError);
    assert.equal(err.krbCode, ErrorCode.KDC_ERR_PREAUTH_FAILED);
    assert.equal(err.detail['client'], 'alice@EXAMPLE.TEST');
    assert.match(err.hint ?? '', /password/);
    return true;
  });
  await assert.rejects(client.getInitialCredentials({ client: 'nobody', password: 'x' }),
    (err: unknown) => err instanceof PrincipalUnknownError && err.krbCode === 6 && /Client 'nobody@EXAMPLE\.TEST'/.test(err.message));
  const { credential: tgt } = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  await assert.rejects(client.getServiceTicket(tgt, 'HTTP/nohost'),
    (err: unknown) => err instanceof PrincipalUnknownError && err.krbCode === 7 && err.detail['service'] === 'HTTP/nohost@EXAMPLE.TEST');
  const aes128Only = clientFor(realm, { permittedEnctypes: [17] });
  await assert.rejects(aes128Only.getInitialCredentials({ client: 'alice', password: 'alice-pw' }),
    (err: unknown) => err instanceof NoCommonEnctypeError && err.krbCode === 14 && err.hint !== undefined);
});

test('expired and non-renewable tickets: TicketExpiredError and RenewLimitReachedError before anything is sent', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const realm = await realmWith({ clock, random: seededRandom(5), policy: { maxLife: 3600, maxRenewableLife: 7200 } });
  const net = recording(inProcessTransport(realm));
  const client = clientFor(realm, { renewLifetime: 7_200_000 }, net.transport);
  const { credential: tgt } = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  // Within the realm's maximum life, RENEWABLE-OK does not turn the ticket renewable.
  const plain = (await client.getInitialCredentials({ client: 'alice', password: 'alice-pw', renewLifetime: 0, lifetime: 3_600_000 })).credential;
  await assert.rejects(client.renew(plain), (err: unknown) => err instanceof RenewLimitReachedError && /not renewable/.test(err.message));
  await clock.advance(61 * MIN);
  const sent = net.tries.length;
  await assert.rejects(client.getServiceTicket(tgt, 'HTTP/localhost'),
    (err: unknown) => err instanceof TicketExpiredError && err.krbCode === 32 && /kinit/.test(err.hint ?? ''));
  await clock.advance(60 * MIN);
  await assert.rejects(client.renew(tgt), (err: unknown) => err instanceof RenewLimitReachedError && /renew-till/.test(err.message));
  assert.equal(net.tries.length, sent, 'nothing was sent for requests that cannot succeed');
});

test('clock skew: the KDC offset is learned from KRB_AP_ERR_SKEW, used for later requests and kept in the ccache header', async () => {
  const kdcClock = new ManualClock(Date.UTC(2026, 0, 1));
  const realm = await realmWith({ clock: kdcClock, random: seededRandom(6) });
  const hostClock = new ManualClock(Date.UTC(2026, 0, 1) + 12 * MIN); // this host runs 12 minutes fast
  const client = new KerberosClient({
    config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }),
    clock: hostClock, random: seededRandom(7), transport: inProcessTransport(realm),
  });
  const r = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  assert.equal(r.offset, -12 * MIN);
  assert.equal(client.timeOffset, -12 * MIN);
  const st = await client.getServiceTicket(r.credential, 'HTTP/localhost');
  assert.deepEqual(st.server.components, ['HTTP', 'localhost']);
  const cache = decodeCcache(encodeCcache(buildCache({ principal: r.credential.client, offset: client.timeOffset, credentials: [r.credential, st] })));
  assert.deepEqual(cache.kdcTimeOffset, { seconds: -720, microseconds: 0 });
  assert.equal(offsetFromHeader(cache), -12 * MIN);
  // A client started from that cache's offset needs no second skew round.
  const later = new KerberosClient({ config: client.config, clock: hostClock, random: seededRandom(8), transport: inProcessTransport(realm), timeOffset: offsetFromHeader(cache) });
  await later.getServiceTicket(r.credential, 'HTTP/localhost');
});

test('ClockSkewError carries the measured offset and says "check NTP"', () => {
  const local = Date.UTC(2026, 0, 1, 12, 0, 0);
  const e = KrbError.decode(KrbError.encode({
    pvno: 5, msgType: 30, stime: new Date(local - 7 * MIN - 12_000), susec: 0, errorCode: ErrorCode.KRB_AP_ERR_SKEW,
    realm: 'EXAMPLE.TEST', sname: { nameType: 2, nameString: ['krbtgt', 'EXAMPLE.TEST'] },
  }));
  const err = errorFromKrbError(e, { client: 'alice@EXAMPLE.TEST', service: 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', credential: 'password', localTime: local });
  assert.ok(err instanceof ClockSkewError);
  assert.equal(err.krbCode, 37);
  assert.equal(err.detail['offsetSeconds'], -432);
  assert.match(err.message, /KDC is -7m12s from here/);
  assert.match(err.hint ?? '', /check NTP/);
});

test('configuration from a krb5.conf file: realms, KDC list, enctypes, lifetimes; dns_canonicalize_hostname off by default', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-conf-'));
  dirs.push(dir);
  const path = join(dir, 'krb5.conf');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, [
    '[libdefaults]', ' default_realm = EXAMPLE.TEST', ' udp_preference_limit = 1', ' permitted_enctypes = aes256-cts aes128-cts',
    ' ticket_lifetime = 10h', ' renew_lifetime = 7d', ' forwardable = true',
    '[realms]', ' EXAMPLE.TEST = {', '  kdc = kdc1.example.test', '  kdc = tcp/kdc2.example.test:750', ' }', '',
  ].join('\n'));
  for (const config of [await loadClientConfig(path), await loadClientConfig(undefined, { env: { KRB5_CONFIG: path } })]) {
    assert.equal(config.defaultRealm, 'EXAMPLE.TEST');
    assert.deepEqual(config.realms['EXAMPLE.TEST']?.kdcs, [{ host: 'kdc1.example.test', port: 88 }, { host: 'kdc2.example.test', port: 750, protocol: 'tcp' }]);
    assert.equal(config.udpPreferenceLimit, 1);
    assert.deepEqual(config.tktEnctypes, [18, 17]);
    assert.equal(config.ticketLifetime, 10 * 3_600_000);
    assert.equal(config.renewLifetime, 7 * 24 * 3_600_000);
    assert.equal(config.forwardable, true);
    assert.equal(config.dnsCanonicalizeHostname, false);
  }
  const object = await loadClientConfig({ defaultRealm: 'R', realms: { R: { kdc: ['127.0.0.1:88'] } } });
  assert.deepEqual(object.tktEnctypes, [18, 17, 20, 19]);
});

test('KRB5_CONFIG naming a missing krb5.conf: the resulting errors name that file (issue 13)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-krb5conf-'));
  try {
    const missing = join(dir, 'no-such-krb5.conf');
    const program = await clientFromEnvironment({ env: { KRB5_CONFIG: missing }, clock: systemClock(), random: systemRandom() });
    assert.deepEqual(program.config.missingConfigFiles, [missing]);
    await assert.rejects(program.client.getInitialCredentials({ client: 'alice', password: 'x' }), (err: Error) => {
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });
    await assert.rejects(program.client.getInitialCredentials({ client: 'alice@EXAMPLE.TEST', password: 'x' }), (err: Error) => {
      assert.ok(err instanceof NoKdcConfiguredError);
      assert.ok(err.message.includes(missing), err.message);
      return true;
    });
    // An existing file: nothing is reported missing.
    const conf = join(dir, 'krb5.conf');
    await writeFile(conf, '[libdefaults]\n  default_realm = EXAMPLE.TEST\n');
    assert.equal((await clientFromEnvironment({ env: { KRB5_CONFIG: conf }, clock: systemClock(), random: systemRandom() })).config.missingConfigFiles, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('client events: published on diagnostics_channel by default (ticket_obtained, request_failed), an events sink replaces that (issue 13)', async () => {
  const realm = await realmWith();
  const seen: { type: string; fields: Record<string, unknown> }[] = [];
  const onEvent = (message: unknown): void => { seen.push(message as { type: string; fields: Record<string, unknown> }); };
  subscribe(ALL_EVENTS_CHANNEL, onEvent);
  try {
    const client = clientFor(realm);
    const tgt = (await client.getInitialCredentials({ client: 'alice', password: 'alice-pw' })).credential;
    await client.getServiceTicket(tgt, 'HTTP/localhost');
    await assert.rejects(client.getInitialCredentials({ client: 'alice', password: 'wrong-pw' }), PasswordIncorrectError);
    const obtained = seen.filter((e) => e.type === 'client.ticket_obtained');
    assert.deepEqual(obtained.map((e) => [e.fields['exchange'], e.fields['service']]), [
      ['AS', `krbtgt/${realm.realm}@${realm.realm}`], ['TGS', `HTTP/localhost@${realm.realm}`],
    ]);
    assert.match(String(obtained[0]!.fields['kdc']), /127\.0\.0\.1:\d+/);
    const failed = seen.filter((e) => e.type === 'client.request_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.fields['code'], 'ERR_PASSWORD_INCORRECT');
    assert.equal(failed[0]!.fields['krbError'], 'KDC_ERR_PREAUTH_FAILED');
    assert.ok(!JSON.stringify(seen).includes('wrong-pw') && !JSON.stringify(seen).includes('alice-pw'), 'no password in any event');

    seen.length = 0;
    const events = memorySink();
    const own = new KerberosClient({
      config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }), clock: realm.clock, events,
    });
    await own.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
    assert.equal(events.ofType('client.ticket_obtained').length, 1);
    assert.equal(seen.length, 0, 'an explicit sink replaces the diagnostics_channel default');
  } finally {
    unsubscribe(ALL_EVENTS_CHANNEL, onEvent);
  }
});
