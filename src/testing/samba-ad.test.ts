/**
 * Against a real Active Directory stand-in (Samba 4.17 AD DC in a network
 * namespace, src/testing/samba-ad.ts; docs/active-directory.md): kerbside's
 * client logs an AD user on into a private cache, and the account's own
 * ticket then works for MIT kvno and for an SMB share with Kerberos only.
 * Groundwork for issue 9's acceptance 3 (a scheduled task as an AD user).
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PasswordIncorrectError } from '../client/index.js';
import { mitTool, parseKlistCache, parseKlistKeytab, runProgram } from './mit-tools.js';
import { adUserTask, isSmbListing, logonAsAdUser, logonFolderEntries, startSambaAd, type SambaAd } from './samba-ad.js';

describe('Samba AD DC: an AD user\'s own logon from kerbside', { timeout: 240_000 }, () => {
  let ad: SambaAd;

  before(async () => {
    ad = await startSambaAd();
  });

  after(async () => {
    await ad?.stop();
  });

  test('the logon writes a private FILE cache in a 0700 folder; MIT kvno gets cifs/dc1.ad.test from it', async (t) => {
    const { provisionMs, startMs, usersMs } = ad.timings;
    t.diagnostic(`Samba AD DC in ${ad.netns}: provision ${provisionMs} ms, start ${startMs} ms, accounts ${usersMs} ms`);
    const task = adUserTask(ad, 'alice');
    const logon = await logonAsAdUser(ad, 'alice');
    try {
      assert.equal((await stat(logon.dir)).mode & 0o777, 0o700);
      assert.deepEqual(await logonFolderEntries(logon), ['ccache']);
      assert.deepEqual(logon.env, task.environment(logon.ccache, logon.dir));
      assert.equal(logon.env['KRB5CCNAME'], logon.ccache);
      assert.equal(logon.env['KRB5_CONFIG'], ad.krb5ConfPath);

      const [kvnoCmd, ...kvnoArgs] = task.kvnoCifs;
      const kvno = await runProgram(kvnoCmd!, kvnoArgs, { env: logon.env });
      assert.equal(kvno.code, 0, `kvno failed:\n${kvno.stderr}${kvno.stdout}`);
      assert.match(kvno.stdout, /^cifs\/dc1\.ad\.test@AD\.TEST: kvno = \d+$/m);

      const klist = await runProgram(mitTool('klist'), ['-e', '-f'], { env: logon.env });
      assert.equal(klist.code, 0, klist.stderr);
      const cache = parseKlistCache(klist.stdout);
      assert.equal(cache.defaultPrincipal, 'alice@AD.TEST');
      assert.equal(cache.cacheName, logon.ccache);
      const tgt = cache.credentials.find((c) => c.service === 'krbtgt/AD.TEST@AD.TEST');
      const cifs = cache.credentials.find((c) => c.service === 'cifs/dc1.ad.test@AD.TEST');
      assert.equal(tgt?.sessionEnctype, 'aes256-cts-hmac-sha1-96', klist.stdout);
      assert.ok(cifs !== undefined, klist.stdout);
    } finally {
      await logon.close();
    }
    await assert.rejects(stat(logon.dir), { code: 'ENOENT' });
  });

  test('smbclient --use-kerberos=required lists //dc1.ad.test/netlogon with the kerbside-written cache', async () => {
    const logon = await logonAsAdUser(ad, 'alice');
    try {
      const [cmd, ...args] = adUserTask(ad, 'alice').smbclientLs;
      const r = await runProgram(cmd!, args, { env: logon.env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, `smbclient failed:\n${r.stderr}${r.stdout}\n--- samba log tail:\n${(await ad.log()).slice(-3000)}`);
      assert.ok(isSmbListing(r.stdout), r.stdout);
      assert.doesNotMatch(r.stdout + r.stderr, /NT_STATUS_/);
    } finally {
      await logon.close();
    }
  });

  test('with a wrong password the logon fails with the KDC\'s reason and leaves no cache behind', async () => {
    await assert.rejects(logonAsAdUser(ad, 'alice', 'not-alices-password'), (err: unknown) => {
      assert.ok(err instanceof PasswordIncorrectError, String(err));
      assert.equal(err.krbCode, 24); // KDC_ERR_PREAUTH_FAILED, RFC 4120 §7.5.9
      assert.match(err.message, /alice@AD\.TEST/);
      assert.doesNotMatch(`${err.message} ${err.hint ?? ''} ${JSON.stringify(err.detail)}`, /not-alices-password/);
      return true;
    });
  });

  test('harness: AES service keytab, added users, and smbd maps AD users to Unix ids (NTLM session setup too)', async () => {
    const keytab = await ad.exportKeytab('HTTP/web.ad.test');
    const kt = await runProgram(mitTool('klist'), ['-k', '-t', '-e', '-K', keytab], { env: ad.env });
    const entries = parseKlistKeytab(kt.stdout);
    assert.ok(entries.length > 0, kt.stdout + kt.stderr);
    assert.ok(entries.every((e) => e.principal === 'HTTP/web.ad.test@AD.TEST'), kt.stdout);
    assert.ok(entries.some((e) => e.enctype === 'aes256-cts-hmac-sha1-96'), kt.stdout);

    await ad.addUser('bob', 'Bob-Pass.2026!', { aes: true });
    assert.equal(ad.users.get('bob'), 'Bob-Pass.2026!');
    const bob = await logonAsAdUser(ad, 'bob');
    await bob.close();

    // A session setup only succeeds when smbd reaches winbindd to map the user's SIDs; this
    // is what failed with NT_STATUS_INTERNAL_ERROR for Kerberos and NTLM alike.
    const [cmd, ...args] = ad.netnsCommand(ad.smbclientArgs('netlogon', ['--use-kerberos=disabled', '-U', `${ad.domain}\\bob%Bob-Pass.2026!`, '-c', 'ls']));
    const r = await runProgram(cmd!, args, { env: { ...ad.env, KRB5CCNAME: `FILE:${join(ad.dir, 'no-such-cache')}` }, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
    assert.ok(isSmbListing(r.stdout), r.stdout);
  });
});

test('isSmbListing recognises smbclient ls output and nothing else', () => {
  const listing = [
    '  .                                   D        0  Wed Dec  2 07:14:12 2026',
    '  ..                                  D        0  Wed Dec  2 07:14:12 2026',
    '',
    '\t\t264212084 blocks of size 1024. 82838500 blocks available',
  ].join('\n');
  assert.equal(isSmbListing(listing), true);
  assert.equal(isSmbListing('session setup failed: NT_STATUS_INTERNAL_ERROR\n'), false);
  assert.equal(isSmbListing('NT_STATUS_ACCESS_DENIED listing \\*\n'), false);
});
