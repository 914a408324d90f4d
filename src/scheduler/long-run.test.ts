/**
 * Runs on a ManualClock shared by the KDC and the scheduler (real child
 * processes, simulated hours):
 * - a run that lasts longer than its TGT's refresh point gets its private
 *   cache refreshed while it runs (as k5start does): MIT klist in the child
 *   sees the renewed TGT; the cache is gone afterwards;
 * - the execution time limit on the injected clock stops an overrunning child;
 * - a failed run is retried with doubling backoff;
 * - at-logon triggers start a task when its account logs on (event 119);
 * - the queue instance policy runs a start after the run under way.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { clientConfig, type KdcTransport } from '../client/index.js';
import { memorySink, type MemorySink } from '../events/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { baseEnvironment, mitTool } from '../testing/mit-tools.js';
import { MemorySchedulerStore, Scheduler, secretBox } from './index.js';

/** A per-test limit: a refresh loop on the ManualClock that never ends fails the test instead of hanging CI. */
const SIMULATION = { timeout: 60_000 } as const;

const HOUR = 3_600_000;
const clock = new ManualClock(Date.UTC(2026, 2, 2, 6, 0));
const real = systemClock();
let dir: string;
let realm: TestRealm;
let conf: string;

before(async () => {
  mitTool('klist');
  dir = await mkdtemp(join(tmpdir(), 'kerbside-sched-long-'));
  realm = await startTestRealm({ clock, random: seededRandom(4), policy: { maxLife: 10 * HOUR, maxRenewableLife: 7 * 24 * HOUR }, principals: [{ name: 'svc', password: 'svc-pw' }] });
  conf = join(dir, 'krb5.conf');
  await realm.writeKrb5Conf(conf);
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const transport: KdcTransport = {
  exchange: async (_a, _p, request) => {
    const reply = await realm.kdc.process(request, { transport: 'tcp', address: '127.0.0.1', port: 1 });
    if (reply === undefined) throw new Error('dropped');
    return reply;
  },
};

async function open(name: string): Promise<{ s: Scheduler; events: MemorySink }> {
  const events = memorySink();
  const s = await Scheduler.open({
    store: new MemorySchedulerStore(), clock, random: seededRandom(5), events, secrets: secretBox(seededRandom(6).bytes(32), seededRandom(7)),
    dir: join(dir, name), krb5Config: conf, transport, baseEnv: baseEnvironment(),
    clientConfig: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } }, ticketLifetime: 10 * HOUR, renewLifetime: 7 * 24 * HOUR }),
  });
  await s.start();
  return { s, events };
}

/** Waits (real time) for a condition that a child process brings about. */
async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = real.now() + ms;
  while (!(await fn())) {
    if (real.now() > end) throw new Error(`timed out waiting for ${what}`);
    await real.sleep(25);
  }
}

const exists = (p: string) => access(p).then(() => true, () => false);

test('a long run: its private cache is refreshed while it runs (klist in the child sees the renewed TGT), and removed after', SIMULATION, async () => {
  const { s } = await open('long');
  const flag = join(dir, 'go');
  const script = `klist; echo "cache=$KRB5CCNAME"; touch ${dir}/started; while [ ! -e ${flag} ]; do sleep 0.05; done; echo ---; klist`;
  await s.admin.add({ name: 'nightly', principal: 'svc', credential: { kind: 'password', password: 'svc-pw' }, action: { kind: 'command', argv: ['sh', '-c', script] }, options: { expectedRunMs: 9 * HOUR } });
  const start = clock.now();
  await s.runNow('nightly');
  await until('the child to start', () => exists(join(dir, 'started')));
  const run = (await s.store.history({ task: 'nightly' }))[0]!;
  const cache = join(run.runDir!, 'ccache');
  const before = (await stat(cache)).mtimeMs;
  // 80 % of the 10 h ticket: the run's session renews its TGT and rewrites the cache atomically.
  await clock.advance(8.5 * HOUR);
  await until('the refreshed cache', async () => (await stat(cache)).mtimeMs !== before);
  await writeFile(flag, '');
  await until('the run to end', async () => (await s.store.history({ task: 'nightly' }))[0]!.status !== 'running');
  await s.idle();
  const done = (await s.store.history({ task: 'nightly' }))[0]!;
  assert.equal(done.status, 'succeeded', done.cause);
  const log = await readFile(join(dir, 'long', 'logs', `${done.id}.log`), 'utf8');
  const [first, second] = log.split('---');
  const validFrom = (text: string) => /(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d)\s+\S+\s+\S+\s+krbtgt\//.exec(text)?.[1];
  assert.equal(validFrom(first!), '03/02/26 06:00:00', first);
  assert.equal(validFrom(second!), '03/02/26 14:00:00', second); // renewed at 8 h of 10 h
  assert.equal(await exists(cache), false);
  assert.equal(clock.now() - start, 8.5 * HOUR);
  await s.stop();
});

test('time limit on the injected clock; retries with doubling backoff; at-logon trigger; queued instance', SIMULATION, async () => {
  const { s, events } = await open('misc');
  const pw = { kind: 'password' as const, password: 'svc-pw' };
  await s.admin.add({ name: 'overrun', principal: 'svc', credential: pw, action: { kind: 'command', argv: ['sleep', '30'] }, options: { timeLimitMs: 2 * HOUR } });
  await s.runNow('overrun');
  await until('the child to run', async () => (await s.store.history({ task: 'overrun' }))[0]?.childPid !== undefined);
  await clock.advance(2 * HOUR);
  await s.idle();
  const r = (await s.store.history({ task: 'overrun' }))[0]!;
  assert.equal(r.status, 'timed-out');
  assert.match(r.cause!, /time limit of 2 h/);

  await s.admin.add({ name: 'flaky', principal: 'svc', credential: pw, action: { kind: 'command', argv: ['false'] }, options: { retry: { count: 2, delayMs: 60_000 } } });
  await s.runNow('flaky');
  await s.idle();
  await clock.advance(60_000);
  await s.idle();
  await clock.advance(120_000);
  await s.idle();
  await clock.advance(10 * 60_000);
  await s.idle();
  const tries = (await s.store.history({ task: 'flaky' })).reverse();
  assert.deepEqual(tries.map((t) => [t.attempt, t.reason, t.status]), [[1, 'run-now', 'failed'], [2, 'retry', 'failed'], [3, 'retry', 'failed']]);
  assert.equal(tries[2]!.startedAt - tries[1]!.startedAt, 120_000);
  assert.equal(events.events.filter((e) => e.type === 'scheduler.retry_scheduled').length, 2);

  await s.admin.add({ name: 'on-logon', principal: 'svc', credential: pw, action: { kind: 'command', argv: ['true'] }, triggers: [{ kind: 'logon' }] });
  await s.admin.logon({ principal: 'svc', kind: 'password', ccache: `FILE:${join(dir, 'svc-cache')}` });
  await s.idle();
  assert.equal((await s.store.history({ task: 'on-logon' }))[0]?.reason, 'logon');
  assert.ok(events.events.some((e) => e.type === 'scheduler.task_triggered_on_logon' && e.fields['eventId'] === 119));

  await s.admin.add({ name: 'queued', principal: 'svc', credential: pw, action: { kind: 'command', argv: ['sh', '-c', `while [ ! -e ${dir}/q ]; do sleep 0.05; done`] }, options: { instances: 'queue' } });
  await s.runNow('queued');
  await until('the first instance', async () => (await s.store.history({ task: 'queued' }))[0]?.childPid !== undefined);
  await s.runNow('queued');
  assert.ok(events.events.some((e) => e.type === 'scheduler.instance_queued'));
  await writeFile(join(dir, 'q'), '');
  await until('both instances', async () => (await s.store.history({ task: 'queued' })).filter((x) => x.status === 'succeeded').length === 2);
  assert.equal((await s.store.history({ task: 'queued' }))[0]?.reason, 'queued');
  await s.stop();
});

test('a task enabled again starts from then on: the starts it had while disabled are not reported missed nor run', SIMULATION, async () => {
  const { s, events } = await open('reenable');
  await s.admin.add({ name: 'hourly', principal: 'svc', credential: { kind: 'password', password: 'svc-pw' }, action: { kind: 'command', argv: ['true'] }, triggers: [{ kind: 'cron', expression: '0 * * * *' }], options: { runMissed: true }, enabled: false });
  await clock.advance(3 * HOUR);
  await s.idle();
  await s.admin.setEnabled('hourly', true);
  await s.idle();
  assert.equal(events.events.filter((e) => e.type === 'scheduler.missed_start').length, 0);
  assert.deepEqual(await s.store.history({ task: 'hourly' }), []);
  await clock.advance(HOUR);
  await s.idle();
  assert.deepEqual((await s.store.history({ task: 'hourly' })).map((r) => [r.reason, r.status]), [['schedule', 'succeeded']]);
  await s.stop();
});

test('compatibility mode with a command: the child gets a private copy of the borrowed TGT; the user\'s own cache is never written', SIMULATION, async () => {
  const { s, events } = await open('borrow-cmd');
  const { KerberosClient, buildCache } = await import('../client/index.js');
  const { writeCcache } = await import('../files/index.js');
  const kinit = new KerberosClient({ config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }), clock, transport });
  const { credential } = await kinit.getInitialCredentials({ client: 'svc', password: 'svc-pw' });
  const userCache = join(dir, 'krb5cc_svc_user');
  await writeCcache(`FILE:${userCache}`, buildCache({ principal: credential.client, credentials: [credential], paType: 16 }));
  const userBytes = await readFile(userCache);
  await s.admin.logon({ principal: 'svc', kind: 'smartcard', ccache: `FILE:${userCache}` });
  await s.admin.setSettings({ disableUseOfTokenFromSession: false });
  const { warnings } = await s.admin.add({ name: 'borrower', principal: 'svc', credential: { kind: 'password', password: 'svc-pw' }, action: { kind: 'command', argv: ['sh', '-c', 'klist; echo "cache=$KRB5CCNAME"'] } });
  assert.match(warnings[0] ?? '', /smart-card/);
  await s.runNow('borrower');
  await s.idle();
  const run = (await s.store.history({ task: 'borrower' }))[0]!;
  assert.equal(run.status, 'succeeded', run.cause);
  assert.equal(run.credentialUsed, 'borrowed-session');
  const log = await readFile(join(dir, 'borrow-cmd', 'logs', `${run.id}.log`), 'utf8');
  assert.match(log, /Default principal: svc@/);
  assert.doesNotMatch(log, new RegExp(userCache));
  assert.deepEqual(await readFile(userCache), userBytes);
  assert.equal(events.events.filter((e) => e.type === 'scheduler.session_borrowed').length, 1);
  await s.stop();
});

test('run only if logged on: not started while the account is logged off (event 332), runs inside the session once it logs on; stop-existing replaces a run', SIMULATION, async () => {
  const { s, events } = await open('only-logged-on');
  await s.admin.setSettings({ disableUseOfTokenFromSession: false });
  await s.admin.add({ name: 'in-session', principal: 'svc', action: { kind: 'command', argv: ['klist'] }, options: { runOnlyIfLoggedOn: true } });
  await s.runNow('in-session');
  await s.idle();
  let r = (await s.store.history({ task: 'in-session' }))[0]!;
  assert.equal(r.status, 'failed');
  assert.match(r.cause!, /is not logged on/);
  assert.ok(events.events.some((e) => e.type === 'scheduler.not_logged_on' && e.fields['eventId'] === 332));
  const { KerberosClient, buildCache } = await import('../client/index.js');
  const { writeCcache } = await import('../files/index.js');
  const kinit = new KerberosClient({ config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }), clock, transport });
  const { credential } = await kinit.getInitialCredentials({ client: 'svc', password: 'svc-pw' });
  const userCache = `FILE:${join(dir, 'krb5cc_svc_only')}`;
  await writeCcache(userCache, buildCache({ principal: credential.client, credentials: [credential] }));
  await s.admin.logon({ principal: 'svc', kind: 'password', ccache: userCache });
  await s.runNow('in-session');
  await s.idle();
  r = (await s.store.history({ task: 'in-session' }))[0]!;
  assert.equal(r.status, 'succeeded', r.cause);
  assert.equal(r.credentialUsed, 'borrowed-session');

  await s.admin.add({ name: 'replace', principal: 'svc', credential: { kind: 'password', password: 'svc-pw' }, action: { kind: 'command', argv: ['sleep', '30'] }, options: { instances: 'stop-existing' } });
  await s.runNow('replace');
  await until('the first instance', async () => (await s.store.history({ task: 'replace' }))[0]?.childPid !== undefined);
  await s.runNow('replace');
  await until('the first instance stopped', async () => (await s.store.history({ task: 'replace' })).some((x) => x.status === 'stopped'));
  assert.ok(events.events.some((e) => e.type === 'scheduler.task_terminated' && e.fields['eventId'] === 111));
  await s.stop();
  const all = await s.store.history({ task: 'replace' });
  assert.deepEqual(all.map((x) => x.status).sort(), ['stopped', 'stopped']);
});
