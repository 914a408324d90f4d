/**
 * Issue 9, acceptance 3: the real share. A scheduled task runs as an Active
 * Directory user with its stored password against a Samba 4.17 AD DC in a
 * network namespace (src/testing/samba-ad.ts, docs/active-directory.md).
 * The daemon (`kerbside scheduler`, a process) logs the account on through
 * kerbside's client into the run's private cache; inside the run, MIT `kvno`
 * gets cifs/dc1.ad.test from that cache and `smbclient
 * --use-kerberos=required` lists //dc1.ad.test/netlogon. A stored password
 * that the domain no longer accepts gives a failed run with the KDC's reason.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseEnvironment, mitTool } from '../testing/mit-tools.js';
import { adUserTask, isSmbListing, startSambaAd, type SambaAd } from '../testing/samba-ad.js';
import { schedulerHarness, type SchedulerHarness } from '../testing/scheduler-daemon.js';

/** POSIX shell quoting for one word. */
function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

describe('scheduler against Samba AD: a task as an AD user with its stored password', { timeout: 300_000 }, () => {
  let ad: SambaAd;
  let dir: string;
  let h: SchedulerHarness;

  before(async () => {
    mitTool('kvno');
    mitTool('klist');
    ad = await startSambaAd({ users: [{ name: 'alice', password: 'Alice-Pass.2026!', aes: true }, { name: 'carol', password: 'Carol-Pass.2026!', aes: true }] });
    dir = await mkdtemp(join(tmpdir(), 'kerbside-sched-ad-'));
    // The daemon's own krb5.conf is the AD one too; each task also names it (--krb5-config), as a task for another realm would.
    h = schedulerHarness({ dir: join(dir, 'sched'), cwd: dir, krb5Config: ad.krb5ConfPath, env: { ...baseEnvironment(), KRB5_CONFIG: ad.krb5ConfPath } });
    await h.startDaemon().waitFor(/running the tasks of/);
  });

  after(async () => {
    await h?.stopAll();
    await ad?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function addShareTask(name: string, user: string): Promise<void> {
    const t = adUserTask(ad, user);
    const pwFile = join(dir, `${user}.pw`);
    await writeFile(pwFile, `${t.password}\n`, { mode: 0o600 });
    const script = ['klist', t.kvnoCifs.map(shQuote).join(' '), t.smbclientLs.map(shQuote).join(' '), 'echo "cache=$KRB5CCNAME"'].join(' && ');
    const r = await h.cli('task', 'add', name, '--principal', t.principal, '--password-file', pwFile, '--krb5-config', t.krb5ConfPath, '--', 'sh', '-c', script);
    assert.equal(r.code, 0, `task add: ${r.stderr}`);
    await rm(pwFile);
  }

  test('the run gets cifs/dc1.ad.test with MIT kvno from its private cache and lists the share with smbclient; the cache is gone afterwards', async () => {
    await addShareTask('alice-share', 'alice');
    assert.equal((await h.cli('task', 'run', 'alice-share')).code, 0);
    const run = await h.finishedRun('alice-share', 0, 120_000);
    const log = await readFile(join(dir, 'sched', 'logs', `${run.id}.log`), 'utf8');
    assert.equal(run.status, 'succeeded', `${run.cause}\n${log}\n--- samba log tail:\n${(await ad.log()).slice(-2000)}`);
    assert.equal(run.exitCode, 0);
    assert.equal(run.credentialUsed, 'own');
    assert.equal(run.principal, 'alice@AD.TEST');
    assert.ok(run.ticketEndTime !== undefined);
    assert.match(log, /Default principal: alice@AD\.TEST/);
    assert.match(log, /^cifs\/dc1\.ad\.test@AD\.TEST: kvno = \d+$/m);
    assert.ok(isSmbListing(log), log);
    assert.doesNotMatch(log, /NT_STATUS_/);
    const cache = /cache=FILE:(\S+)/.exec(log)?.[1];
    assert.ok(cache !== undefined && cache.startsWith(join(dir, 'sched', 'runs')), log);
    await assert.rejects(access(cache));
    await assert.rejects(access(run.runDir!));
    // The stored password is sealed: not in the database, the log or the events.
    for (const f of ['scheduler.db', 'events.log', join('logs', `${run.id}.log`)]) {
      assert.equal((await readFile(join(dir, 'sched', f))).includes(Buffer.from('Alice-Pass.2026!')), false, f);
    }
  });

  test('a stored password the domain no longer accepts: the run fails with the KDC\'s reason in history and event 101', async (t) => {
    await addShareTask('carol-share', 'carol'); // verified against the DC at definition
    // An administrator resets carol's password in AD; the task still holds the old one.
    await ad.sambaTool(['user', 'setpassword', 'carol', '--newpassword=Carol-New.2026!']);
    assert.equal((await h.cli('task', 'run', 'carol-share')).code, 0);
    const run = await h.finishedRun('carol-share', 0, 120_000);
    t.diagnostic(`history cause: ${run.cause}`);
    assert.equal(run.status, 'failed');
    assert.equal(run.principal, 'carol@AD.TEST');
    assert.equal(run.exitCode, undefined, 'the command never started');
    assert.match(run.cause ?? '', /carol@AD\.TEST/);
    assert.match(run.cause ?? '', /stored password/);
    assert.match(run.cause ?? '', /Password incorrect|pre-authentication failed|KDC_ERR_PREAUTH_FAILED/i);
    assert.doesNotMatch(JSON.stringify(run), /Carol-(New|Pass)/);
    const events = (await readFile(join(dir, 'sched', 'events.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; message: string; fields: Record<string, unknown> });
    const failed = events.find((e) => e.fields['eventId'] === 101 && e.fields['task'] === 'carol-share');
    assert.ok(failed !== undefined, 'event 101 (task failed to start) for carol-share');

    // Defining the task again with the stale password is refused up front, naming the KDC's reason.
    const pw = join(dir, 'stale.pw');
    await writeFile(pw, 'Carol-Pass.2026!\n', { mode: 0o600 });
    const r = await h.cli('task', 'add', 'carol-again', '--principal', 'carol@AD.TEST', '--password-file', pw, '--krb5-config', ad.krb5ConfPath, '--', 'true');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /carol@AD\.TEST/);
    assert.match(r.stderr, /Password incorrect|pre-authentication failed/i);
    assert.doesNotMatch(r.stderr, /Carol-Pass/);
  });
});
