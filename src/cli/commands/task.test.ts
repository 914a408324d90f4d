/**
 * `kerbside task|logon|logoff|scheduler` in-process: the mutual exclusion of
 * the two options exits with status 2 naming both; the smart-card borrow is
 * warned about at definition; passwords come from stdin or a file, never an
 * argument, and are never printed; list/show/history with --json.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCache, clientConfig, KerberosClient } from '../../client/index.js';
import { writeCcache } from '../../files/index.js';
import { startTestRealm, type TestRealm } from '../../kdc/index.js';
import { PaType } from '../../messages/index.js';
import { runCliInProcess } from '../../testing/kerbside-cli.js';

let dir: string;
let realm: TestRealm;
let conf: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-cli-task-'));
  realm = await startTestRealm({ principals: [{ name: 'alice', password: 'alice-pw' }] });
  conf = join(dir, 'krb5.conf');
  await realm.writeKrb5Conf(conf);
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const env = () => ({ KRB5_CONFIG: conf, KERBSIDE_SCHEDULER_DIR: join(dir, 'sched'), PATH: process.env['PATH'] ?? '' });
const cli = (args: string[], secrets: string[] = []) => runCliInProcess(args, { env: env(), cwd: dir, secrets });

test('task add/list/show/history/disable/enable/delete with MIT-style and --json output; the password is read, sealed and never shown', async () => {
  let r = await cli(['task', 'add', 'report', '--principal', 'alice', '--cron', '0 * * * *', '--http', 'http://localhost:1/x', '--spn', 'cifs/fileserver'], ['alice-pw']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Task "report" added: runs as alice; next run \d{4}-\d\d-\d\dT\d\d:00:00Z/);
  r = await cli(['task', 'add', 'report2', '--principal', 'alice', '--password', 'alice-pw', '--http', 'http://localhost:1/x']);
  assert.equal(r.code, 2, 'a password on the command line is refused');
  r = await cli(['task', 'add', 'bad', '--principal', 'alice', '--cron', 'every hour', '--no-verify', '--', 'true'], ['x']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cron expression "every hour" is not valid/);
  r = await cli(['task', 'add', 'wrong', '--principal', 'alice', '--', 'true'], ['not-her-password']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /stored password does not log alice on/);
  assert.doesNotMatch(r.stderr, /not-her-password/);
  r = await cli(['task', 'list']);
  assert.match(r.stdout, /^Task\s+Status\s+Principal\s+Next run/m);
  assert.match(r.stdout, new RegExp(`report\\s+ready\\s+alice@${realm.realm}`));
  r = await cli(['task', 'list', '--json']);
  const list = JSON.parse(r.stdout) as { name: string; credential: { kind: string } }[];
  assert.deepEqual(list.map((t) => [t.name, t.credential.kind]), [['report', 'password']]);
  for (const args of [['task', 'show', 'report'], ['task', 'show', 'report', '--json'], ['task', 'list', '--json']]) {
    assert.doesNotMatch((await cli(args)).stdout, /alice-pw/);
  }
  r = await cli(['task', 'show', 'report']);
  assert.match(r.stdout, /^Run as: alice with its stored password$/m);
  assert.match(r.stdout, /^Time limit: 3d$/m);
  assert.deepEqual(JSON.parse((await cli(['task', 'history', '--json'])).stdout), []);
  assert.match((await cli(['task', 'history', 'report'])).stdout, /No runs of task "report" recorded/);
  r = await cli(['task', 'modify', 'report', '--clear-triggers', '--every', '15m', '--time-limit', '2h', '--instances', 'queue', '--retry', '2', '--retry-delay', '1m']);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(['task', 'show', 'report']);
  assert.match(r.stdout, /^Triggers: every 15m$/m);
  assert.match(r.stdout, /^Time limit: 2h$/m);
  assert.match(r.stdout, /^Multiple instances: queue$/m);
  assert.match(r.stdout, /^Retry: 2 times, from 1m doubling$/m);
  r = await cli(['task', 'modify', 'report', '--instances', 'sometimes']);
  assert.equal(r.code, 2);
  assert.equal((await cli(['task', 'disable', 'report'])).code, 0);
  assert.match((await cli(['task', 'list'])).stdout, /report\s+disabled/);
  assert.equal((await cli(['task', 'enable', 'report'])).code, 0);
  assert.equal((await cli(['task', 'run', 'report'])).code, 0);
  assert.equal((await cli(['task', 'delete', 'report'])).code, 0);
  r = await cli(['task', 'show', 'report']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /there is no task named "report"/);
});

test('the two options: conflicts exit 2 naming both settings; with the switch off a smart-card session is warned about at definition', async () => {
  const sched = ['--dir', join(dir, 'sched2')];
  // alice's smart-card session: a TGT in her cache with pa_type PKINIT (until kerbside has PKINIT).
  const client = new KerberosClient({ config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }) });
  const { credential } = await client.getInitialCredentials({ client: 'alice', password: 'alice-pw' });
  const cache = join(dir, 'krb5cc_alice');
  await writeCcache(`FILE:${cache}`, buildCache({ principal: credential.client, credentials: [credential], paType: PaType.PA_PK_AS_REQ }));
  let r = await cli(['logon', 'alice', '--ccache', `FILE:${cache}`, ...sched]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Logon session \w+ registered: alice@\S+ \(smart card\)/);
  assert.match((await cli(['logon', '--list', ...sched])).stdout, /alice@\S+\s+smartcard/);

  r = await cli(['task', 'add', 'in-session', '--principal', 'alice', '--run-only-if-logged-on', '--http', 'http://localhost:1/', ...sched]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /runOnlyIfLoggedOn cannot be used while disableUseOfTokenFromSession is on/);
  assert.match(r.stderr, /hint: either set disableUseOfTokenFromSession to false/);

  assert.equal((await cli(['scheduler', 'set', 'disableUseOfTokenFromSession', 'false', ...sched])).code, 0);
  assert.match((await cli(['scheduler', 'show', ...sched])).stdout, /disableUseOfTokenFromSession: false \(compatibility/);
  r = await cli(['task', 'add', 'borrower', '--principal', 'alice', '--every', '1h', '--http', 'http://localhost:1/', ...sched], ['alice-pw']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: task "borrower" will borrow the smart-card logon session of alice@/);
  assert.match(r.stderr, /smart-card PIN/);
  r = await cli(['task', 'add', 'in-session', '--principal', 'alice', '--run-only-if-logged-on', '--http', 'http://localhost:1/', ...sched]);
  assert.equal(r.code, 0, r.stderr);
  r = await cli(['scheduler', 'set', 'disableUseOfTokenFromSession', 'true', ...sched]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /disableUseOfTokenFromSession cannot be turned on: task "in-session" uses runOnlyIfLoggedOn/);
  assert.equal((await cli(['task', 'delete', 'in-session', ...sched])).code, 0);
  assert.equal((await cli(['scheduler', 'set', 'disableUseOfTokenFromSession', 'true', ...sched])).code, 0);
  const id = /^(\w+)\s+alice/m.exec((await cli(['logon', '--list', ...sched])).stdout)?.[1];
  assert.ok(id !== undefined);
  assert.equal((await cli(['logoff', id, ...sched])).code, 0);
  assert.match((await cli(['logon', '--list', ...sched])).stdout, /No logon sessions registered/);
});
