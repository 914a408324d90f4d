/**
 * Bad input and failures (issue 9): unknown account, wrong stored password,
 * keytab without the principal, KDC unreachable, a command that does not
 * exist, an invalid cron expression, a non-zero exit, a run that overruns its
 * time limit. Each is a definition-time error where it can be known then,
 * else a failed run with its cause in history and an event; the scheduler
 * keeps going (no internal error, later runs still work).
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { KerberosClient, loadClientConfig } from '../client/index.js';
import { memorySink } from '../events/index.js';
import { clientKrb5Conf } from '../files/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { InvalidTaskError, MemorySchedulerStore, Scheduler, kdcVerifier, secretBox, type RunRecord } from './index.js';

let dir: string;
let realm: TestRealm;
let conf: string;
let deadConf: string;
const clock = systemClock();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-sched-bad-'));
  realm = await startTestRealm({ principals: [{ name: 'svc', password: 'svc-pw' }, { name: 'other', randomKey: true }] });
  conf = join(dir, 'krb5.conf');
  await realm.writeKrb5Conf(conf);
  await realm.exportKeytab('other', join(dir, 'other.keytab'));
  // A realm whose only KDC address has nobody listening (TCP: refused at once).
  deadConf = join(dir, 'dead.krb5.conf');
  await writeFile(deadConf, clientKrb5Conf({ realm: realm.realm, kdc: 'tcp/127.0.0.1:9', libdefaults: { udp_preference_limit: 1 } }));
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function open(verify: boolean) {
  const events = memorySink();
  const s = await Scheduler.open({
    store: new MemorySchedulerStore(), clock, random: seededRandom(1), events, secrets: secretBox(seededRandom(2).bytes(32), seededRandom(3)),
    dir: join(dir, `s-${verify}-${Math.abs(seededRandom(clock.now() % 1e6).int(1e9))}`), krb5Config: conf,
    ...(verify ? { verify: kdcVerifier(async (k) => new KerberosClient({ config: await loadClientConfig(k ?? conf), clock })) } : {}),
  });
  await s.start();
  return { s, events };
}

async function runOnce(s: Scheduler, name: string): Promise<RunRecord> {
  await s.runNow(name);
  await s.idle();
  return (await s.store.history({ task: name, limit: 1 }))[0]!;
}

const cmd = (argv: string[]) => ({ kind: 'command' as const, argv });

test('definition time: unknown account, wrong password, keytab without the principal, invalid cron, no command, KDC down are refused with the cause', async () => {
  const { s } = await open(true);
  await assert.rejects(s.admin.add({ name: 'u', principal: 'nobody', credential: { kind: 'password', password: 'x' }, action: cmd(['true']) }),
    (e: unknown) => e instanceof InvalidTaskError && /nobody/.test(e.message) && /not found|unknown|does not exist/i.test(e.message));
  await assert.rejects(s.admin.add({ name: 'w', principal: 'svc', credential: { kind: 'password', password: 'wrong' }, action: cmd(['true']) }),
    (e: unknown) => e instanceof InvalidTaskError && /stored password does not log svc on/.test(e.message) && !/wrong/.test(e.message.replace('wrong password', '')));
  await assert.rejects(s.admin.add({ name: 'k', principal: 'svc', credential: { kind: 'keytab', keytab: join(dir, 'other.keytab') }, action: cmd(['true']) }),
    (e: unknown) => e instanceof InvalidTaskError && /keytab/.test(e.message) && /svc/.test(e.message));
  await assert.rejects(s.admin.add({ name: 'c', principal: 'svc', credential: { kind: 'password', password: 'svc-pw' }, action: cmd(['true']), triggers: [{ kind: 'cron', expression: '0 25 * * *' }] }),
    (e: unknown) => e instanceof InvalidTaskError && /cron expression "0 25 \* \* \*" is not valid/.test(e.message));
  await assert.rejects(s.admin.add({ name: 'n', principal: 'svc', credential: { kind: 'password', password: 'svc-pw' }, action: cmd([]) }), /has no command/);
  await assert.rejects(s.admin.add({ name: 'd', principal: 'svc', credential: { kind: 'password', password: 'svc-pw' }, action: cmd(['true']), krb5Config: deadConf }),
    (e: unknown) => e instanceof InvalidTaskError && /--no-verify/.test(e.hint ?? ''));
  assert.deepEqual(await s.admin.list(), [], 'nothing was stored');
  await s.stop();
});

test('run time: each failure is a failed run with its cause in history and an event; the scheduler keeps going', async () => {
  const { s, events } = await open(false);
  const pw = (password: string) => ({ kind: 'password' as const, password });
  await s.admin.add({ name: 'unknown', principal: 'nobody', credential: pw('x'), action: cmd(['true']) });
  await s.admin.add({ name: 'wrongpw', principal: 'svc', credential: pw('not-the-password'), action: cmd(['true']) });
  await s.admin.add({ name: 'badkt', principal: 'svc', credential: { kind: 'keytab', keytab: join(dir, 'other.keytab') }, action: cmd(['true']) });
  await s.admin.add({ name: 'nokdc', principal: 'svc', credential: pw('svc-pw'), action: cmd(['true']), krb5Config: deadConf });
  await s.admin.add({ name: 'nocmd', principal: 'svc', credential: pw('svc-pw'), action: cmd(['/nonexistent/kerbside-no-such-command']) });
  await s.admin.add({ name: 'exit3', principal: 'svc', credential: pw('svc-pw'), action: cmd(['sh', '-c', 'exit 3']) });
  await s.admin.add({ name: 'overrun', principal: 'svc', credential: pw('svc-pw'), action: cmd(['sleep', '30']), options: { timeLimitMs: 1000 } });
  // An HTTP action against a server that accepts and never answers.
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer((sock) => { sockets.add(sock); });
  await new Promise<void>((resolve) => { silent.listen(0, '127.0.0.1', resolve); });
  const silentPort = (silent.address() as { port: number }).port;
  await s.admin.add({ name: 'http-hang', principal: 'svc', credential: pw('svc-pw'), action: { kind: 'http', url: `http://127.0.0.1:${silentPort}/` }, options: { timeLimitMs: 1000 } });
  await s.admin.add({ name: 'fine', principal: 'svc', credential: pw('svc-pw'), action: cmd(['true']) });

  const expect: [string, RegExp, number][] = [
    ['unknown', /account nobody@.* does not exist|not found in Kerberos database/i, 101],
    ['wrongpw', /stored password failed/, 101],
    ['badkt', /keytab holds no key for svc@/, 101],
    ['nokdc', /no KDC could be reached|Cannot contact any KDC/i, 101],
    ['nocmd', /"\/nonexistent\/kerbside-no-such-command" was not found/, 103],
    ['exit3', /exited with code 3/, 103],
    ['overrun', /overran its execution time limit of 1 s/, 103],
    ['http-hang', /overran its execution time limit of 1 s/, 103],
  ];
  for (const [name, cause, eventId] of expect) {
    const r = await runOnce(s, name);
    assert.notEqual(r.status, 'succeeded', name);
    assert.match(r.cause ?? '', cause, `${name}: ${r.cause}`);
    assert.ok(r.endedAt !== undefined);
    const failedEvent = events.events.find((e) => e.fields['task'] === name && (e.type === 'scheduler.task_start_failed' || e.type === 'scheduler.action_failed'));
    assert.equal(failedEvent?.fields['eventId'], eventId, name);
  }
  assert.equal((await s.store.history({ task: 'overrun', limit: 1 }))[0]?.status, 'timed-out');
  assert.ok(events.events.some((e) => e.type === 'scheduler.time_limit_reached' && e.fields['eventId'] === 329));
  for (const sock of sockets) sock.destroy();
  silent.close();
  assert.equal((await runOnce(s, 'fine')).status, 'succeeded');
  assert.equal(events.events.filter((e) => e.type === 'scheduler.internal_error').length, 0);
  for (const e of events.events) assert.doesNotMatch(JSON.stringify(e), /not-the-password|svc-pw/);
  await s.stop();
});
