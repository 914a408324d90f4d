/**
 * Issue 9, acceptance 2 and 4: the daemon `kerbside scheduler --dir DIR`
 * started as a process, tasks defined with `kerbside task add`, against a
 * KDC started by the test.
 *
 * - A task running MIT `kvno cifs/fileserver` as a service account, once with
 *   its keytab and once with its stored password; MIT `klist` inside the run
 *   shows the account's own ticket in a private cache; afterwards the cache
 *   and its folder are gone.
 * - A task running `curl --negotiate -u :` against a kerbside-protected
 *   HTTP server as the service account.
 * - kill -9 of the daemon while a run is under way: on restart the run is
 *   recorded as interrupted, the schedule goes on, no history row is lost.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { access, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { negotiateListener, negotiateServer } from '../http/index.js';
import { runCli } from '../testing/kerbside-cli.js';
import { baseEnvironment, mitTool, requireTool } from '../testing/mit-tools.js';
import { schedulerHarness, until, type SchedulerHarness } from '../testing/scheduler-daemon.js';

let dir: string;
let sched: string;
let realm: TestRealm;
let conf: string;
let http: Server;
let port = 0;
let h: SchedulerHarness;

before(async () => {
  mitTool('kvno');
  mitTool('klist');
  requireTool('curl', 'curl');
  dir = await mkdtemp(join(tmpdir(), 'kerbside-sched-daemon-'));
  sched = join(dir, 'sched');
  realm = await startTestRealm({
    principals: [
      { name: 'svc-report', password: 'report-secret-pw' },
      { name: 'svc-backup', randomKey: true },
      { name: 'cifs/fileserver', randomKey: true },
      { name: 'HTTP/localhost', randomKey: true },
    ],
  });
  conf = join(dir, 'krb5.conf');
  await realm.writeKrb5Conf(conf);
  await realm.exportKeytab('svc-backup', join(dir, 'svc-backup.keytab'));
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
  await writeFile(join(dir, 'report.pw'), 'report-secret-pw\n', { mode: 0o600 });
  const server = negotiateServer({ keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}` });
  http = createServer(negotiateListener(server, (req, res) => { res.end(`hello ${req.auth.principal}\n`); }));
  await new Promise<void>((resolve) => { http.listen(0, '127.0.0.1', resolve); });
  const a = http.address();
  port = typeof a === 'object' && a !== null ? a.port : 0;
  h = schedulerHarness({ dir: sched, cwd: dir, krb5Config: conf, env: { ...baseEnvironment(), KRB5_CONFIG: conf } });
});

after(async () => {
  await h?.stopAll();
  await new Promise<void>((resolve) => { http?.close(() => resolve()); http?.closeAllConnections(); });
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const SCRIPT = 'klist; kvno cifs/fileserver; echo "cache=$KRB5CCNAME"';

test('real runs: MIT kvno and klist (keytab and stored password) and curl --negotiate, each in a private cache that is gone afterwards', async () => {
  let r = await h.cli('task', 'add', 'kvno-keytab', '--principal', 'svc-backup', '--keytab', join(dir, 'svc-backup.keytab'), '--', 'sh', '-c', SCRIPT);
  assert.equal(r.code, 0, r.stderr);
  r = await h.cli('task', 'add', 'kvno-password', '--principal', 'svc-report', '--password-file', join(dir, 'report.pw'), '--', 'sh', '-c', SCRIPT);
  assert.equal(r.code, 0, r.stderr);
  r = await h.cli('task', 'add', 'curl-report', '--principal', 'svc-report', '--password-file', join(dir, 'report.pw'), '--',
    'curl', '-sS', '--fail', '--negotiate', '-u', ':', '--resolve', `localhost:${port}:127.0.0.1`, `http://localhost:${port}/report`);
  assert.equal(r.code, 0, r.stderr);
  // The password is stored sealed: neither the database nor list/show output holds it.
  const db = await readFile(join(sched, 'scheduler.db'));
  assert.equal(db.includes(Buffer.from('report-secret-pw')), false);
  const shown = await h.cli('task', 'show', 'kvno-password', '--json');
  assert.doesNotMatch(shown.stdout, /report-secret-pw/);
  assert.match(shown.stdout, /"kind": "password"/);

  const daemon = h.startDaemon();
  await daemon.waitFor(/running the tasks of/);
  for (const t of ['kvno-keytab', 'kvno-password', 'curl-report']) assert.equal((await h.cli('task', 'run', t)).code, 0);

  for (const [task, principal] of [['kvno-keytab', 'svc-backup'], ['kvno-password', 'svc-report']] as const) {
    const run = await h.finishedRun(task);
    assert.equal(run.status, 'succeeded', run.cause);
    assert.equal(run.exitCode, 0);
    assert.equal(run.credentialUsed, 'own');
    assert.equal(run.principal, `${principal}@${realm.realm}`);
    assert.ok(run.ticketEndTime !== undefined);
    const log = await readFile(join(sched, 'logs', `${run.id}.log`), 'utf8');
    // MIT klist inside the run: the account's own TGT in the run's private cache.
    const cache = /cache=FILE:(\S+)/.exec(log)?.[1];
    assert.ok(cache !== undefined, log);
    assert.ok(cache.startsWith(join(sched, 'runs', `run-${run.id}-`)), cache);
    assert.match(log, new RegExp(`Ticket cache: FILE:${cache.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(log, new RegExp(`Default principal: ${principal}@${realm.realm}`));
    assert.match(log, new RegExp(`krbtgt/${realm.realm}@${realm.realm}`));
    assert.match(log, new RegExp(`cifs/fileserver@${realm.realm}: kvno = 1`));
    // After the run: the cache and its folder are gone.
    await assert.rejects(access(cache));
    await assert.rejects(access(run.runDir!));
  }
  const curlRun = await h.finishedRun('curl-report');
  assert.equal(curlRun.status, 'succeeded', curlRun.cause);
  assert.match(await readFile(join(sched, 'logs', `${curlRun.id}.log`), 'utf8'), new RegExp(`hello svc-report@${realm.realm}`));
  assert.deepEqual(await readdir(join(sched, 'runs')), []);

  // The daemon's events: started, action started/completed, completed, with Windows-shaped ids.
  const events = (await readFile(join(sched, 'events.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; fields: Record<string, unknown> });
  for (const [type, id] of [['scheduler.task_started', 100], ['scheduler.action_started', 200], ['scheduler.action_completed', 201], ['scheduler.task_completed', 102], ['scheduler.task_run_requested', 110]] as const) {
    const e = events.find((x) => x.type === type);
    assert.ok(e !== undefined, type);
    assert.equal(e.fields['eventId'], id);
  }
  assert.doesNotMatch(await readFile(join(sched, 'events.log'), 'utf8'), /report-secret-pw/);
  // The same events in the folder's event log (docs/events.md), as `kerbside events` shows them.
  const q = await runCli(['events', '--dir', sched, '--source', 'kerbside-scheduler', '--id', '100,102', '--json']);
  assert.equal(q.code, 0, q.stderr);
  const records = q.stdout.trim().split('\n').map((l) => JSON.parse(l) as { eventId: number; category: string; type: string });
  assert.ok(records.some((r) => r.eventId === 100 && r.type === 'scheduler.task_started'), q.stdout);
  assert.ok(records.some((r) => r.eventId === 102 && r.type === 'scheduler.task_completed'), q.stdout);
  assert.ok(records.every((r) => r.category === 'Task Scheduler'));
  assert.doesNotMatch(q.stdout, /report-secret-pw/);
  const stopped = await daemon.stop('SIGTERM');
  assert.equal(stopped.code, 0, daemon.stderr());
});

test('kill -9 mid-run: the run is recorded as interrupted at restart, its child is stopped, the schedule continues, no history row is lost', async () => {
  let r = await h.cli('task', 'add', 'long-job', '--principal', 'svc-backup', '--keytab', join(dir, 'svc-backup.keytab'), '--', 'sh', '-c', 'echo started; exec sleep 60');
  assert.equal(r.code, 0, r.stderr);
  r = await h.cli('task', 'add', 'tick', '--principal', 'svc-backup', '--keytab', join(dir, 'svc-backup.keytab'), '--every', '2s', '--', 'true');
  assert.equal(r.code, 0, r.stderr);
  const first = h.startDaemon();
  await first.waitFor(/running the tasks of/);
  assert.equal((await h.cli('task', 'run', 'long-job')).code, 0);
  const running = await until('long-job running with its child', async () => (await h.history('long-job')).find((x) => x.status === 'running' && x.childPid !== undefined));
  await until('two ticks', async () => ((await h.history('tick')).filter((x) => x.status === 'succeeded').length >= 2 ? true : undefined));
  const before = await h.history();
  const killed = await first.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');

  const second = h.startDaemon();
  await second.waitFor(/running the tasks of/);
  const rec = await until('the interrupted record', async () => (await h.history('long-job')).find((x) => x.id === running.id && x.status !== 'running'));
  assert.equal(rec.status, 'interrupted');
  assert.match(rec.cause ?? '', /stopped while this run was under way/);
  // The orphaned child was stopped and the run's private folder removed.
  await until('the orphaned sleep to go', async () => {
    try {
      process.kill(running.childPid!, 0);
      return undefined;
    } catch {
      return true;
    }
  }, 10_000);
  await assert.rejects(access(running.runDir!));
  // The schedule continues: new ticks after the restart.
  const lastBefore = Math.max(...before.map((x) => x.id));
  await until('a tick after the restart', async () => (await h.history('tick')).find((x) => x.id > lastBefore && x.status === 'succeeded'));
  // No row lost: every run recorded before the kill is still there.
  const afterRows = new Map((await h.history()).map((x) => [x.id, x]));
  for (const row of before) assert.ok(afterRows.has(row.id), `run ${row.id} (${row.task}) lost`);
  const interruptedEvent = (await readFile(join(sched, 'events.log'), 'utf8')).split('\n').find((l) => l.includes('"scheduler.run_interrupted"'));
  assert.ok(interruptedEvent !== undefined && interruptedEvent.includes('"eventId":703'));
  const stopped = await second.stop('SIGTERM');
  assert.equal(stopped.code, 0, second.stderr());
});

test('the daemon sees a task added while it runs, and on SIGTERM forwards the signal to the running child and records the run as stopped', async () => {
  const daemon = h.startDaemon();
  await daemon.waitFor(/running the tasks of/);
  const script = 'trap "echo got-term; exit 7" TERM; echo ready; while true; do sleep 0.1; done';
  const r = await h.cli('task', 'add', 'trapper', '--principal', 'svc-backup', '--keytab', join(dir, 'svc-backup.keytab'), '--', 'sh', '-c', script);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await h.cli('task', 'run', 'trapper')).code, 0);
  const running = await until('trapper running', async () => (await h.history('trapper')).find((x) => x.status === 'running' && x.childPid !== undefined));
  await until('the child ready', async () => ((await readFile(join(sched, 'logs', `${running.id}.log`), 'utf8').catch(() => '')).includes('ready') ? true : undefined));
  // One daemon per folder.
  const second = await runCli(['scheduler', '--dir', sched, '--krb5-config', conf], { env: h.env, cwd: dir });
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`another scheduler daemon \\(pid ${daemon.pid}\\) is running`));
  const stopped = await daemon.stop('SIGTERM');
  assert.equal(stopped.code, 0, daemon.stderr());
  await assert.rejects(access(join(sched, 'scheduler.pid')), 'the lock is released');
  const rec = (await h.history('trapper')).find((x) => x.id === running.id)!;
  assert.equal(rec.status, 'stopped');
  assert.equal(rec.exitCode, 7);
  assert.match(await readFile(join(sched, 'logs', `${running.id}.log`), 'utf8'), /got-term/);
  await assert.rejects(access(running.runDir!));
});
