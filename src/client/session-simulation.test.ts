/**
 * Logon sessions against kerbside's own KDC with one ManualClock driving both
 * (docs/architecture.md "One idea"; docs/lessons.md "Long-running jobs"): 30 simulated days
 * of a keytab-sourced session asked for a service ticket every minute, with
 * a 20-minute KDC outage, and a session borrowed from an external cache.
 * Requests go to the KDC's sans-IO processor in-process, so the simulation is
 * deterministic (no sockets racing the clock).
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { memorySink, type KerbsideEvent } from '../events/index.js';
import { readCcache, writeCcache, ticketsOf } from '../files/index.js';
import { CannotRefreshUnattendedError } from '../lifecycle/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import {
  KerberosClient, LogonSession, KdcUnreachableError, CacheInUseError, buildCache, clientConfig, cachedPaType,
  cachedRefreshTime, type KdcTransport,
} from './index.js';

/** A per-test limit: a refresh loop on the ManualClock that never ends fails the test instead of hanging CI. */
const SIMULATION = { timeout: 120_000 } as const;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SERVICE = 'HTTP/files.example.test';
/** DEFAULT_REFRESH_POLICY.minUsable: a ticket with less left is not handed out. */
const DEFAULT_MIN_USABLE = 30_000;

const dirs: string[] = [];
const realms: TestRealm[] = [];
after(async () => {
  for (const r of realms) await r.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The KDC's request processor as a transport; `network.down` simulates an outage. */
function inProcess(realm: TestRealm, network: { down: boolean }): KdcTransport {
  return {
    async exchange(_address, protocol, request) {
      if (network.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      const reply = await realm.kdc.process(request, { transport: protocol, address: '127.0.0.1', port: 40000 });
      if (reply === undefined) throw new Error('the KDC did not answer');
      return reply;
    },
  };
}

async function setup(seed: number) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const realm = await startTestRealm({
    clock, random: seededRandom(seed),
    policy: { maxLife: 3600, maxRenewableLife: 8 * 3600 },
    principals: [{ name: 'job', randomKey: true }, { name: 'alice', password: 'alice-pw' }, { name: SERVICE, randomKey: true }],
  });
  realms.push(realm);
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-session-'));
  dirs.push(dir);
  const network = { down: false };
  const client = new KerberosClient({
    config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } }, renewLifetime: 7 * DAY }),
    clock, random: seededRandom(seed + 1), transport: inProcess(realm, network),
  });
  return { clock, realm, dir, network, client };
}

const tgtEvents = (events: readonly KerbsideEvent[], type: string, how?: string) => events.filter((e) =>
  e.type === type && e.fields['credential'] === 'TGT for job@EXAMPLE.TEST' && (how === undefined || e.fields['how'] === how));

/** An unbroken schedule from an acquisition at `from` (minutes): renew every 48 min, 8 times, re-acquire at 432. */
function planned(from: number, to: number): { reacquired: number; renewed: number } {
  const cycles = Math.floor((to - from) / 432);
  return { reacquired: cycles, renewed: 8 * cycles + Math.min(8, Math.floor(((to - from) % 432) / 48)) };
}

test('30 simulated days, 1 h tickets / 8 h renewable: a keytab session never presents an expired ticket, renews and re-acquires as planned, survives a 20-minute KDC outage', SIMULATION, async () => {
  const { clock, realm, dir, network, client } = await setup(11);
  const keytab = join(dir, 'job.keytab');
  await realm.exportKeytab('job', keytab);
  const sink = memorySink();
  const session = await LogonSession.open({ client, principal: 'job', source: { kind: 'keytab', keytab }, sink });
  const t0 = clock.now();
  const END = 30 * 24 * 60;
  // The 5th renewal of the 51st cycle is due at 50·432 + 5·48 = 21840 min; the KDC is down from a minute before, for 20 minutes.
  const OUT_START = 21839;
  const OUT_END = OUT_START + 20;
  let served = 0;
  const expiredPresented: number[] = [];
  const failures: number[] = [];
  const unexpectedErrors: string[] = [];
  for (let m = 0; m < END; m++) {
    network.down = m >= OUT_START && m < OUT_END;
    try {
      const ticket = await session.serviceTicket(SERVICE);
      if (ticket.endtime.getTime() <= clock.now()) expiredPresented.push(m);
      served++;
    } catch (err) {
      if (err instanceof KdcUnreachableError && network.down) failures.push(m);
      else unexpectedErrors.push(`${m}: ${String(err)}`);
    }
    await clock.advance(MIN);
  }
  assert.deepEqual(unexpectedErrors, []);
  assert.deepEqual(expiredPresented, [], 'never presents an expired ticket');
  // The outage began 8 minutes before the tickets' end (renewed at 21792, valid to 21852): requests fail with the
  // typed cause only while no valid ticket exists and the KDC is down, never before the old ticket runs out.
  assert.deepEqual(failures, [21852, 21853, 21854, 21855, 21856, 21857, 21858]);
  assert.equal(served, END - failures.length);

  const events = sink.events;
  const reacquired = tgtEvents(events, 'credential.refreshed', 'reacquired');
  const restart = reacquired.map((e) => (e.time - t0) / MIN).find((m) => m >= OUT_START)!;
  assert.equal(restart, OUT_END, 'the expired TGT is re-acquired at the first request after the outage');
  // Before the outage: 50 complete cycles and 4 renewals; after it: a new cycle from the restart.
  const before = planned(0, OUT_START - 1);
  const afterOutage = planned(restart, END);
  assert.equal(tgtEvents(events, 'credential.refreshed', 'acquired').length, 1);
  assert.equal(reacquired.length, before.reacquired + 1 + afterOutage.reacquired);
  assert.equal(tgtEvents(events, 'credential.refreshed', 'renewed').length, before.renewed + afterOutage.renewed);
  assert.deepEqual([before, afterOutage], [{ reacquired: 50, renewed: 404 }, { reacquired: 49, renewed: 395 }]);
  // Each refresh happened on the minute the plan says.
  const renewedAt = tgtEvents(events, 'credential.refreshed', 'renewed').map((e) => (e.time - t0) / MIN);
  for (const m of renewedAt) {
    const from = m < OUT_START ? 0 : restart;
    const inCycle = (m - from) % 432;
    assert.ok(inCycle % 48 === 0 && inCycle >= 48 && inCycle <= 384, `renewal at minute ${m} is on the plan`);
  }
  // The outage is visible as events, with the cause, before the ticket expired.
  const failed = tgtEvents(events, 'credential.renewal_failed');
  assert.ok(failed.length >= 4);
  assert.ok(failed.every((e) => e.fields['errorCode'] === 'ERR_KDC_UNREACHABLE'));
  const soon = tgtEvents(events, 'credential.expiring_soon');
  assert.equal(soon.length, 1);
  assert.ok((soon[0]!.time - t0) / MIN < 21852);

  await session.close();
});

test('a file-backed session keeps its own cache current: tickets, KDC offset header, refresh_time and pa_type', SIMULATION, async () => {
  const { clock, realm, dir, client } = await setup(41);
  const keytab = join(dir, 'job.keytab');
  await realm.exportKeytab('job', keytab);
  const ccache = `FILE:${join(dir, 'job.ccache')}`;
  const session = await LogonSession.open({ client, principal: 'job', source: { kind: 'keytab', keytab }, ccache });
  await session.serviceTicket(SERVICE);
  await session.close();
  let cache = await readCcache(ccache);
  assert.deepEqual(ticketsOf(cache).map((c) => c.server.components.join('/')), ['krbtgt/EXAMPLE.TEST', SERVICE]);
  assert.equal(cachedPaType(cache), 2, 'pa_type: encrypted timestamp');
  assert.equal(cachedRefreshTime(cache), clock.now() + 48 * MIN, 'refresh_time: 80 % of the hour');

  // A new session on the same cache picks the TGT up instead of asking the KDC, and rewrites the cache on refresh.
  const again = await LogonSession.open({ client, principal: 'job', source: { kind: 'keytab', keytab }, ccache });
  const tgt = await again.tgt();
  assert.deepEqual(tgt.ticket, ticketsOf(cache)[0]!.ticket);
  await clock.advance(48 * MIN);
  await again.close();
  cache = await readCcache(ccache);
  assert.equal(ticketsOf(cache)[0]!.starttime?.getTime(), clock.now(), 'the renewed TGT was written');
});

test('a session borrowed from an external cache emits cannot_refresh_unattended before the TGT expires, then fails with that cause', SIMULATION, async () => {
  const { clock, dir, client } = await setup(21);
  // Someone's interactive kinit: a renewable TGT in their cache.
  const initial = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw', renewLifetime: 2 * HOUR });
  const theirs = `FILE:${join(dir, 'alice-interactive.ccache')}`;
  await writeCcache(theirs, buildCache({ principal: initial.credential.client, credentials: [initial.credential], paType: initial.paType }));
  const theirBytes = await readFile(join(dir, 'alice-interactive.ccache'));

  const sink = memorySink();
  const session = await LogonSession.open({ client, source: { kind: 'ccache', ccache: theirs }, sink });
  const tgtEnd = initial.credential.renewTill!.getTime();
  let failure: unknown;
  for (let m = 0; m < 4 * 60 && failure === undefined; m++) {
    try {
      const t = await session.serviceTicket(SERVICE);
      assert.ok(t.endtime.getTime() > clock.now());
    } catch (err) {
      failure = err;
    }
    await clock.advance(MIN);
  }
  const cannot = sink.ofType('credential.cannot_refresh_unattended').filter((e) => e.fields['credential'] === 'TGT for alice@EXAMPLE.TEST');
  assert.equal(cannot.length, 1);
  assert.ok(cannot[0]!.time < tgtEnd, 'announced before the TGT expires');
  assert.match(cannot[0]!.message, /external cache/);
  assert.equal(cannot[0]!.severity, 'error');
  assert.ok(failure instanceof CannotRefreshUnattendedError, `failed with ${String(failure)}`);
  assert.match(failure.message, /TGT for alice@EXAMPLE\.TEST/);
  assert.ok(clock.now() >= tgtEnd - DEFAULT_MIN_USABLE, 'it failed only when no usable ticket was left');
  // Renewed while it could, and never wrote into the borrowed cache.
  assert.ok(sink.ofType('credential.refreshed').some((e) => e.fields['how'] === 'renewed'));
  assert.deepEqual(await readFile(join(dir, 'alice-interactive.ccache')), theirBytes);
  await session.close();
});

test('a session never overwrites a cache that holds another principal\'s credentials', SIMULATION, async () => {
  const { dir, client } = await setup(31);
  const initial = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  const aliceCache = `FILE:${join(dir, 'alice.ccache')}`;
  await writeCcache(aliceCache, buildCache({ principal: initial.credential.client, credentials: [initial.credential] }));
  await assert.rejects(
    LogonSession.open({ client, principal: 'job', source: { kind: 'password', password: 'x' }, ccache: aliceCache }),
    (err: unknown) => err instanceof CacheInUseError && /alice@EXAMPLE\.TEST/.test(err.message),
  );
  await assert.rejects(
    LogonSession.open({ client, source: { kind: 'ccache', ccache: aliceCache }, ccache: aliceCache }),
    CacheInUseError,
  );
});
