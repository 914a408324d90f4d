/**
 * docs/architecture.md founding failure 1, "the borrowed session" (issue 9, acceptance
 * 1), simulated: one ManualClock for the KDC, the sessions and two
 * schedulers; a realm with 10 h tickets, 7 d renewable; an HTTP service with
 * SPN cifs/fileserver protected by negotiateServer on loopback standing in
 * for the share. alice is logged on with a smart-card session: PKINIT with a
 * real SoftHSM2 token and its PIN, a cache whose pa_type is 16, so it can be
 * renewed but not re-acquired without the PIN. A task runs as alice with her
 * stored password every hour for 30 days (720 runs):
 *
 * - default (disableUseOfTokenFromSession on): all 720 runs reach the share
 *   with alice's own logon; none borrows the session;
 * - switch off (compatibility): the runs borrow the session and succeed
 *   until its TGT can no longer be renewed, then fail with "needs a
 *   smart-card PIN" in history; the cannot-refresh event comes before the
 *   first failure; no run logs on with anything else;
 * - run-only-if-logged-on with the switch on: refused at definition.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { systemKeyPairs } from '../core/index.js';
import { seededRandom, systemRandom } from '../core/random.js';
import { cachedPaType, clientConfig, KerberosClient, LogonSession, type KdcTransport } from '../client/index.js';
import { memorySink, type MemorySink } from '../events/index.js';
import { readCcache } from '../files/index.js';
import { DEFAULT_PREAUTH, pkinitMechanism, preauthRegistry, startTestRealm, type TestRealm } from '../kdc/index.js';
import { createRealmCa, issueKdcCertificate, softwareSigner, type RealmCa } from '../pki/index.js';
import { enrolledSoftHsmCard } from '../testing/softhsm.js';
import { PaType } from '../messages/index.js';
import { negotiateListener, negotiateServer } from '../http/index.js';
import { MemorySchedulerStore, OptionConflictError, Scheduler, secretBox, type RunRecord } from './index.js';

/** A per-test limit: a refresh loop on the ManualClock that never ends fails the test instead of hanging CI. */
const SIMULATION = { timeout: 180_000 } as const;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const clock = new ManualClock(Date.UTC(2026, 0, 5, 8, 30));
let dir: string;
let realm: TestRealm;
let ca: RealmCa;
let cardIdentity: string;
const PIN = '135792';
let http: Server;
let url: string;
/** AS-REQs ([APPLICATION 10] = 0x6a) sent through each transport, by name. */
const asRequests = new Map<string, number>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-sched-sim-'));
  // The realm offers PKINIT; alice's smart card is a SoftHSM2 token with a key made on it and a certificate from the realm CA.
  ca = await createRealmCa({ realm: 'EXAMPLE.TEST', clock, random: systemRandom(), keys: systemKeyPairs() });
  const kdcCert = await issueKdcCertificate(ca);
  realm = await startTestRealm({
    clock, random: seededRandom(1),
    policy: { maxLife: 10 * HOUR, maxRenewableLife: 7 * DAY },
    principals: [{ name: 'alice', password: 'alice-password' }, { name: 'cifs/fileserver', randomKey: true }],
    preauth: preauthRegistry([...DEFAULT_PREAUTH.mechanisms, pkinitMechanism({
      signer: softwareSigner(kdcCert.certificate, kdcCert.privateKey!), anchors: [ca.certificate], random: systemRandom(),
    })]),
  });
  ({ identity: cardIdentity } = await enrolledSoftHsmCard({ dir: join(dir, 'hsm'), ca, principal: 'alice@EXAMPLE.TEST', pin: PIN }));
  const keytab = join(dir, 'fileserver.keytab');
  await realm.exportKeytab('cifs/fileserver', keytab);
  const share = negotiateServer({ keytab, principal: `cifs/fileserver@${realm.realm}`, clock, random: seededRandom(2), maxReplayEntries: 10_000 });
  http = createServer(negotiateListener(share, (req, res) => { res.end(`hello ${req.auth.principal}`); }));
  await new Promise<void>((resolve) => { http.listen(0, '127.0.0.1', resolve); });
  const addr = http.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/share/report.txt`;
});

/** The KDC called in-process (its processor, its clock), counting AS-REQs. */
function transport(name: string): KdcTransport {
  return {
    exchange: async (_address, _protocol, request) => {
      if (request[0] === 0x6a) asRequests.set(name, (asRequests.get(name) ?? 0) + 1);
      const reply = await realm.kdc.process(request, { transport: 'tcp', address: '127.0.0.1', port: 1 });
      if (reply === undefined) throw new Error('the KDC dropped a request');
      return reply;
    },
  };
}

after(async () => {
  await new Promise<void>((resolve) => { http?.close(() => resolve()); http?.closeAllConnections(); });
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function config() {
  return clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } }, ticketLifetime: 10 * HOUR, renewLifetime: 7 * DAY });
}

async function newScheduler(name: string, events: MemorySink, seed: number): Promise<Scheduler> {
  return Scheduler.open({
    store: new MemorySchedulerStore(), clock, random: seededRandom(seed), events, secrets: secretBox(seededRandom(seed + 1).bytes(32), seededRandom(seed + 2)),
    dir: join(dir, name), clientConfig: config(), transport: transport(name),
  });
}

test('the seed scenario: 720 hourly runs as alice while she is logged on with a smart card', SIMULATION, async () => {
  // alice's interactive smart-card logon at 08:30: PKINIT with her card and PIN (a real SoftHSM2 token), a renewable
  // TGT in her cache with pa_type 16. Then she leaves the session alone: nobody is there to type the PIN again.
  const kinit = new KerberosClient({ config: config(), clock, random: seededRandom(3), transport: transport('kinit') });
  const aliceCache = `FILE:${join(dir, 'krb5cc_alice')}`;
  const interactive = await LogonSession.open({
    client: kinit, principal: 'alice', ccache: aliceCache,
    source: { kind: 'smartcard', identity: cardIdentity, anchors: [ca.certificate], readPin: async () => PIN },
  });
  await interactive.close();
  assert.equal(cachedPaType(await readCcache(aliceCache)), PaType.PA_PK_AS_REQ);
  const logonAt = clock.now();

  // Both schedulers run the task every hour, at :00 and :30: a replay cache rightly refuses two
  // authenticators of alice for the same service with the same timestamp, and this clock does not move by itself.
  const task = (minute: number) => ({
    principal: 'alice', credential: { kind: 'password' as const, password: 'alice-password' },
    action: { kind: 'http' as const, url, spn: 'cifs/fileserver' },
    triggers: [{ kind: 'cron' as const, expression: `${minute} * * * *` }],
  });

  const defaultEvents = memorySink();
  const fixed = await newScheduler('default', defaultEvents, 10);
  await fixed.admin.logon({ principal: 'alice', kind: 'smartcard', ccache: aliceCache });
  const d1 = await fixed.admin.add({ name: 'share-report', ...task(0) });
  assert.deepEqual(d1.warnings, []);

  const compatEvents = memorySink();
  const compat = await newScheduler('compat', compatEvents, 20);
  await compat.admin.logon({ principal: 'alice', kind: 'smartcard', ccache: aliceCache });
  await compat.admin.setSettings({ disableUseOfTokenFromSession: false });
  const d2 = await compat.admin.add({ name: 'share-report', ...task(30) });
  assert.equal(d2.warnings.length, 1);
  assert.match(d2.warnings[0]!, /smart-card logon session/);
  assert.match(d2.warnings[0]!, /PIN/);

  // Run-only-if-logged-on while the switch is on: refused, naming both settings.
  await assert.rejects(
    fixed.admin.add({ name: 'in-session', principal: 'alice', action: task(0).action, triggers: task(0).triggers, options: { runOnlyIfLoggedOn: true } }),
    (err: unknown) => err instanceof OptionConflictError && /runOnlyIfLoggedOn/.test(err.message) && /disableUseOfTokenFromSession/.test(err.message),
  );
  // …and the switch cannot be turned back on while such a task exists.
  await compat.admin.add({ name: 'in-session', principal: 'alice', action: task(0).action, triggers: [], options: { runOnlyIfLoggedOn: true } });
  await assert.rejects(compat.admin.setSettings({ disableUseOfTokenFromSession: true }), OptionConflictError);
  await compat.admin.remove('in-session');

  await fixed.start();
  await compat.start();
  // Half an hour at a time, each run finished before the clock moves on.
  for (let step = 0; step < 2 * 720; step++) {
    await clock.advance(HOUR / 2);
    await fixed.idle();
    await compat.idle();
  }
  await fixed.stop();
  await compat.stop();

  // Default: 720 runs, every one reached the share with alice's own logon.
  const runs = (await fixed.store.history({ task: 'share-report' })).reverse();
  assert.equal(runs.length, 720);
  const notOk = runs.filter((r) => r.status !== 'succeeded');
  assert.deepEqual(notOk.map((r) => `${new Date(r.startedAt).toISOString()} ${r.cause}`), []);
  assert.ok(runs.every((r) => r.credentialUsed === 'own' && r.httpStatus === 200 && r.principal === `alice@${realm.realm}`));
  assert.equal(defaultEvents.events.filter((e) => e.type === 'scheduler.session_borrowed').length, 0);
  assert.equal(defaultEvents.events.filter((e) => e.type === 'scheduler.task_completed').length, 720);
  // Each default run logged on by itself: two AS-REQs per logon (the first one is answered PREAUTH_REQUIRED).
  assert.equal(asRequests.get('default'), 2 * 720);

  // Compatibility: borrowed, succeeded until the session's renew-till, then failed naming the PIN.
  const borrowed = (await compat.store.history({ task: 'share-report' })).reverse();
  assert.equal(borrowed.length, 720);
  assert.ok(borrowed.every((r) => r.credentialUsed === 'borrowed-session'), 'no run fell back to its own credential');
  assert.equal(asRequests.get('compat') ?? 0, 0, 'the compatibility runs never logged on with a password (nothing fell back silently)');
  const firstFailure = borrowed.findIndex((r) => r.status !== 'succeeded');
  assert.ok(firstFailure > 0, 'some runs succeeded first');
  const ok = borrowed.slice(0, firstFailure);
  const failed = borrowed.slice(firstFailure);
  assert.ok(ok.every((r) => r.status === 'succeeded'));
  assert.ok(failed.every((r: RunRecord) => r.status === 'failed' && /needs a smart-card PIN/.test(r.cause ?? '')), failed[0]?.cause);
  // The session renewed itself until its renew-till (7 days after logon): the last success is just before it.
  const lastOk = ok[ok.length - 1]!;
  assert.ok(lastOk.startedAt < logonAt + 7 * DAY && lastOk.startedAt >= logonAt + 7 * DAY - HOUR, new Date(lastOk.startedAt).toISOString());
  assert.equal(failed.length, 720 - ok.length);
  const cannot = compatEvents.events.filter((e) => e.type === 'scheduler.cannot_refresh_unattended');
  assert.equal(cannot.length, 1);
  assert.ok(cannot[0]!.time < failed[0]!.startedAt, 'the cannot-refresh event came before the first failure');
  assert.match(cannot[0]!.message, /smart-card PIN/);
  assert.equal(cannot[0]!.fields['eventId'], 702);
  assert.deepEqual(cannot[0]!.fields['tasks'], ['share-report']);
  assert.equal(compatEvents.events.filter((e) => e.type === 'scheduler.session_borrowed').length, 720);
  const startFailed = compatEvents.events.filter((e) => e.type === 'scheduler.task_start_failed');
  assert.equal(startFailed.length, failed.length);
  assert.ok(startFailed.every((e) => e.fields['eventId'] === 101));
  // No secret in any event.
  for (const e of [...defaultEvents.events, ...compatEvents.events]) assert.doesNotMatch(JSON.stringify(e), /alice-password/);
});
