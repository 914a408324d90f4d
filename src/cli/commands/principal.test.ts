/**
 * The admin commands in-process (captured CliIO): realm init/show, principal
 * add/list/show/modify/set-password/randkey/delete with their flags, and
 * keytab export. What they store is read back from the realm's database; the
 * keytab is checked with the files module's decoder against the stored keys.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.js';
import { systemRandom } from '../../core/random.js';
import { bytesEqual } from '../../core/bytes.js';
import { readKeytab } from '../../files/index.js';
import { stringToKey } from '../../crypto/index.js';
import { openRealm } from '../realm-dir.js';
import { runCliInProcess } from '../../testing/kerbside-cli.js';

const work = await mkdtemp(join(tmpdir(), 'kerbside-admin-'));
const dir = join(work, 'realm');
after(() => rm(work, { recursive: true, force: true }));

async function ok(...args: string[]): Promise<string> {
  const r = await runCliInProcess([...args, '--dir', dir]);
  assert.equal(r.code, 0, `kerbside ${args.join(' ')}:\n${r.stderr}`);
  return r.stdout;
}

async function fails(code: number, args: readonly string[], pattern: RegExp): Promise<void> {
  const r = await runCliInProcess([...args, '--dir', dir]);
  assert.equal(r.code, code, `kerbside ${args.join(' ')} should exit ${code}:\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, pattern);
}

async function record(name: string) {
  const realm = await openRealm(dir, { clock: systemClock(), random: systemRandom() });
  try {
    return await realm.store.get(name);
  } finally {
    await realm.close();
  }
}

test('realm init: generated admin password printed once, krb5.conf snippet, settings from flags', async () => {
  await fails(2, ['realm', 'init'], /--realm is required/);
  const out = await ok('realm', 'init', '--realm', 'EXAMPLE.TEST', '--listen', '127.0.0.1:8888', '--max-life', '8h',
    '--enctypes', 'aes256-cts-hmac-sha1-96,aes128-cts-hmac-sha1-96');
  assert.match(out, /Realm EXAMPLE\.TEST created/);
  assert.match(out, /Password for admin@EXAMPLE\.TEST \(shown only now\): [A-Za-z0-9]{20}/);
  assert.match(out, /\[realms\]\n\tEXAMPLE\.TEST = \{\n\t\tkdc = 127\.0\.0\.1:8888\n\t\}/);
  const shown = await ok('realm', 'show');
  assert.match(shown, /Maximum ticket life: 8h/);
  assert.match(shown, /Enctypes:\s+aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96$/m);
  assert.match(shown, /\(2 principals\)/);
  await fails(1, ['realm', 'init', '--realm', 'EXAMPLE.TEST'], /already holds a realm; refusing to overwrite/);
});

test('realm init --prompt-password reads the password twice', async () => {
  const other = join(work, 'prompted');
  const mismatch = await runCliInProcess(['realm', 'init', '--realm', 'P.TEST', '--dir', other, '--prompt-password'], { secrets: ['a', 'b'] });
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /do not match/);
  const r = await runCliInProcess(['realm', 'init', '--realm', 'P.TEST', '--dir', other, '--prompt-password'], { secrets: ['Admin-pw-1', 'Admin-pw-1'] });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /shown only now/);
});

test('principal add: attributes from flags, keys in the realm enctypes or --enctypes', async () => {
  await ok('principal', 'add', 'alice', '--password', 'Alice-pw-1', '--no-requires-preauth', '--max-life', '2h',
    '--max-renewable-life', '1d', '--expiry', '2030-01-31', '--password-expiry', '2029-12-31T12:00:00Z', '--no-allow-forwardable');
  const alice = await record('alice@EXAMPLE.TEST');
  assert.ok(alice !== undefined);
  assert.equal(alice.requiresPreauth, false);
  assert.equal(alice.allowForwardable, false);
  assert.equal(alice.allowRenewable, true);
  assert.equal(alice.maxLife, 7200);
  assert.equal(alice.maxRenewableLife, 86_400);
  assert.equal(alice.principalExpiry, Date.UTC(2030, 0, 31));
  assert.equal(alice.passwordExpiry, Date.UTC(2029, 11, 31, 12));
  assert.ok(alice.lastPasswordChange !== undefined);
  assert.deepEqual(alice.keys.map((k) => [k.kvno, k.enctype]), [[1, 18], [1, 17]]);

  await ok('principal', 'add', 'HTTP/www.example.test', '--randkey', '--enctypes', 'aes256-cts-hmac-sha1-96');
  const http = await record('HTTP/www.example.test@EXAMPLE.TEST');
  assert.deepEqual(http?.keys.map((k) => k.enctype), [18]);
  assert.equal(http?.requiresPreauth, true, 'pre-authentication is required by default');

  await fails(1, ['principal', 'add', 'alice', '--password', 'x'], /alice@EXAMPLE\.TEST already exists/);
  await fails(2, ['principal', 'add', 'carol', '--password', 'x', '--randkey'], /either --password \/ --password-file or --randkey/);
  await fails(2, ['principal', 'add', 'carol', '--password', 'x', '--disabled', '--enabled'], /either --disabled or --enabled/);
  await fails(2, ['principal', 'add', 'carol', '--password', 'x', '--expiry', 'soon'], /not a date/);
  await fails(2, ['principal', 'add', 'carol', '--password', 'x', '--max-life', 'ten hours'], /not a duration/);
  await fails(2, ['principal', 'add', 'carol', '--password', 'x', '--enctypes', 'des-cbc-crc'], /not an enctype kerbside implements/);
  await fails(1, ['principal', 'add', 'carol@OTHER.TEST', '--password', 'x'], /not in realm EXAMPLE\.TEST/);
  assert.equal(await record('carol@EXAMPLE.TEST'), undefined);
});

test('principal add without --password prompts twice', async () => {
  const r = await runCliInProcess(['principal', 'add', 'dave', '--dir', dir], { secrets: ['Dave-pw-1', 'Dave-pw-1'] });
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await record('dave@EXAMPLE.TEST')) !== undefined);
});

test('principal list (with a glob) and show (no key bytes)', async () => {
  assert.equal(await ok('principal', 'list'),
    'HTTP/www.example.test@EXAMPLE.TEST\nadmin@EXAMPLE.TEST\nalice@EXAMPLE.TEST\ndave@EXAMPLE.TEST\nkrbtgt/EXAMPLE.TEST@EXAMPLE.TEST\n');
  assert.equal(await ok('principal', 'list', 'HTTP/*'), 'HTTP/www.example.test@EXAMPLE.TEST\n');
  const shown = await ok('principal', 'show', 'alice');
  assert.match(shown, /^Principal: alice@EXAMPLE\.TEST$/m);
  assert.match(shown, /^Expiration date: 2030-01-31T00:00:00Z$/m);
  assert.match(shown, /^Maximum ticket life: 2h$/m);
  assert.match(shown, /^Attributes: DISALLOW_FORWARDABLE DISALLOW_PROXIABLE DISALLOW_POSTDATED DISALLOW_SVR$/m);
  assert.match(shown, /^Service: no \(DISALLOW_SVR: a user; --allow-svr makes it a service\)$/m);
  assert.match(await ok('principal', 'show', 'HTTP/www.example.test'), /^Service: yes/m);
  assert.match(shown, /^Key: vno 1, aes256-cts-hmac-sha1-96$/m);
  assert.doesNotMatch(shown, /[0-9a-f]{32}/);
  await fails(1, ['principal', 'show', 'nobody'], /nobody@EXAMPLE\.TEST does not exist/);
});

test('principal modify: flags, clearing limits with "never", --unlock', async () => {
  await ok('principal', 'modify', 'alice', '--requires-preauth', '--disabled', '--expiry', 'never', '--allow-forwardable');
  const alice = await record('alice@EXAMPLE.TEST');
  assert.equal(alice?.requiresPreauth, true);
  assert.equal(alice?.disabled, true);
  assert.equal(alice?.allowForwardable, true);
  assert.equal(alice?.principalExpiry, undefined);
  assert.equal(alice?.maxLife, 7200, 'untouched attributes stay');
  await ok('principal', 'modify', 'alice', '--enabled', '--unlock');
  assert.equal((await record('alice@EXAMPLE.TEST'))?.disabled, false);
  await fails(2, ['principal', 'modify', 'alice'], /nothing to modify/);
});

test('--allow-svr / --no-allow-svr: a password principal is a user until made a service; a keytab export makes it one', async () => {
  await ok('principal', 'add', 'svcacct', '--password', 'Svc-account-pw1', '--allow-svr');
  assert.equal((await record('svcacct@EXAMPLE.TEST'))?.allowService, true);
  await ok('principal', 'modify', 'svcacct', '--no-allow-svr');
  assert.equal((await record('svcacct@EXAMPLE.TEST'))?.allowService, false);
  await fails(2, ['principal', 'modify', 'svcacct', '--allow-svr', '--no-allow-svr'], /either --allow-svr or --no-allow-svr/);
  await ok('principal', 'add', 'eve', '--password', 'Eve-password-1');
  assert.equal((await record('eve@EXAMPLE.TEST'))?.allowService, false);
  const exported = await ok('keytab', 'export', '--principal', 'eve', '--out', join(work, 'eve.keytab'));
  assert.match(exported, /eve@EXAMPLE\.TEST may now be the server of service tickets/);
  assert.equal((await record('eve@EXAMPLE.TEST'))?.allowService, true);
  assert.doesNotMatch(await ok('keytab', 'export', '--principal', 'eve', '--out', join(work, 'eve.keytab')), /may now be/);
  await ok('principal', 'delete', 'eve');
  await ok('principal', 'delete', 'svcacct');
});

test('warnings: --no-requires-preauth names AS-REP roasting, --password the process list; --password-file reads a file or stdin', async () => {
  const noPreauth = await runCliInProcess(['principal', 'add', 'legacy', '--randkey', '--no-requires-preauth', '--dir', dir]);
  assert.equal(noPreauth.code, 0, noPreauth.stderr);
  assert.match(noPreauth.stderr, /warning: legacy@EXAMPLE\.TEST will not need pre-authentication: .*AS-REP roasting/);
  const modified = await runCliInProcess(['principal', 'modify', 'legacy', '--no-requires-preauth', '--dir', dir]);
  assert.match(modified.stderr, /AS-REP roasting/);
  assert.doesNotMatch((await runCliInProcess(['principal', 'modify', 'legacy', '--requires-preauth', '--dir', dir])).stderr, /warning/);

  const onCommandLine = await runCliInProcess(['principal', 'set-password', 'legacy', '--password', 'Legacy-pw-1', '--dir', dir]);
  assert.equal(onCommandLine.code, 0, onCommandLine.stderr);
  assert.match(onCommandLine.stderr, /visible to other users of this machine \(process list\).*--password-file/);
  assert.doesNotMatch(onCommandLine.stderr, /Legacy-pw-1/);

  const file = join(work, 'legacy.pw');
  await writeFile(file, 'Legacy-pw-2\nignored second line\n', { mode: 0o600 });
  const fromFile = await runCliInProcess(['principal', 'set-password', 'legacy', '--password-file', file, '--dir', dir]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(fromFile.stderr, '', 'no warning for a password file');
  const fromStdin = await runCliInProcess(['principal', 'set-password', 'legacy', '--password-file', '-', '--dir', dir], { secrets: ['Legacy-pw-3'] });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  const realm = await openRealm(dir, { clock: systemClock(), random: systemRandom() });
  try {
    const stored = (await realm.store.get('legacy@EXAMPLE.TEST'))!.keys.find((k) => k.kvno === 4 && k.enctype === 18)!;
    const derived = await stringToKey(18, 'Legacy-pw-3', 'EXAMPLE.TESTlegacy');
    assert.ok(bytesEqual(realm.keys.open(stored, 'legacy@EXAMPLE.TEST').keyvalue, derived.keyvalue), 'the stdin line is the password');
  } finally {
    await realm.close();
  }
  await fails(2, ['principal', 'set-password', 'legacy', '--password', 'A-pw-12345', '--password-file', file], /either --password or --password-file/);
  await fails(1, ['principal', 'set-password', 'legacy', '--password-file', join(work, 'missing.pw')], /missing\.pw does not exist/);
  await ok('principal', 'delete', 'legacy');
});

test('password quality from kdc.conf (realm init writes minlength 8, minclasses 2, history 1): the error names the rule, never the password', async () => {
  assert.match(await ok('realm', 'show'), /^Password quality:\s+minlength 8, minclasses 2, history 1$/m);
  const conf = await readFile(join(dir, 'kdc.conf'), 'utf8');
  assert.match(conf, /password_quality = \{\n\t+minlength = 8\n\t+minclasses = 2\n\t+history = 1\n\t+\}/);
  const short = await runCliInProcess(['principal', 'add', 'frank', '--password-file', '-', '--dir', dir], { secrets: ['Fr4nk!'] });
  assert.equal(short.code, 1);
  assert.match(short.stderr, /refused by the realm's password policy \(minlength\): it is shorter than 8 characters/);
  assert.doesNotMatch(short.stderr + short.stdout, /Fr4nk!/);
  assert.equal(await record('frank@EXAMPLE.TEST'), undefined);
  const oneClass = await runCliInProcess(['principal', 'add', 'frank', '--password-file', '-', '--dir', dir], { secrets: ['frankfrankfrank'] });
  assert.match(oneClass.stderr, /\(minclasses\): it uses fewer than 2 of the character classes/);
  const file = join(work, 'frank.pw');
  await writeFile(file, 'Frank-pw-1\n', { mode: 0o600 });
  await ok('principal', 'add', 'frank', '--password-file', file);
  const same = await runCliInProcess(['principal', 'set-password', 'frank', '--password-file', file, '--dir', dir]);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /\(history\): it was the password of one of the last 1 key versions/);
  assert.equal((await record('frank@EXAMPLE.TEST'))?.kvno, 1, 'nothing was changed');
  await ok('principal', 'delete', 'frank');
});

test('set-password and randkey add a kvno and keep the old ones unless --purge-old', async () => {
  assert.match(await ok('principal', 'set-password', 'alice', '--password', 'Alice-pw-2'), /kvno 2; older kvnos kept: 1/);
  let alice = await record('alice@EXAMPLE.TEST');
  assert.deepEqual(alice?.keys.map((k) => [k.kvno, k.enctype]), [[2, 18], [2, 17], [1, 18], [1, 17]], 'same enctypes as before');
  assert.match(await ok('principal', 'randkey', 'alice', '--purge-old'), /kvno 3; no older kvnos kept/);
  alice = await record('alice@EXAMPLE.TEST');
  assert.deepEqual(alice?.keys.map((k) => k.kvno), [3, 3]);
  await ok('principal', 'set-password', 'alice', '--password', 'Alice-pw-4', '--enctypes', 'aes256-cts-hmac-sha1-96');
  alice = await record('alice@EXAMPLE.TEST');
  assert.deepEqual(alice?.keys.map((k) => [k.kvno, k.enctype]), [[4, 18], [3, 18], [3, 17]]);
});

test('keytab export: current kvno by default, --kvno, --all-kvnos; other entries are kept', async () => {
  const keytab = join(work, 'alice.keytab');
  await ok('keytab', 'export', '--principal', 'alice', '--out', keytab);
  await ok('keytab', 'export', '--principal', 'HTTP/www.example.test', '--out', keytab);
  let entries = await readKeytab(keytab);
  assert.deepEqual(entries.map((e) => [e.principal.components.join('/'), e.kvno, e.enctype]), [['alice', 4, 18], ['HTTP/www.example.test', 1, 18]]);

  await ok('keytab', 'export', '--principal', 'alice', '--out', keytab, '--kvno', '3');
  await ok('keytab', 'export', '--principal', 'alice', '--out', keytab, '--all-kvnos');
  entries = await readKeytab(keytab);
  const aliceEntries = entries.filter((e) => e.principal.components[0] === 'alice').map((e) => [e.kvno, e.enctype]).sort();
  assert.deepEqual(aliceEntries, [[3, 17], [3, 18], [4, 18]], 'no duplicates after exporting kvno 3 twice');

  // The exported bytes are the stored keys, unwrapped from the master key.
  const realm = await openRealm(dir, { clock: systemClock(), random: systemRandom() });
  try {
    const stored = (await realm.store.get('alice@EXAMPLE.TEST'))!.keys.find((k) => k.kvno === 4)!;
    const exported = entries.find((e) => e.principal.components[0] === 'alice' && e.kvno === 4)!;
    assert.ok(bytesEqual(realm.keys.open(stored, 'alice@EXAMPLE.TEST').keyvalue, exported.key));
  } finally {
    await realm.close();
  }
  await fails(1, ['keytab', 'export', '--principal', 'alice', '--out', keytab, '--kvno', '9'], /no keys of kvno 9 \(kvnos held: 4, 3\)/);
  await fails(2, ['keytab', 'export', '--principal', 'alice'], /--out is required/);
});

test('principal delete: gone from the database; the realm krbtgt is protected', async () => {
  assert.match(await ok('principal', 'delete', 'dave'), /Principal "dave@EXAMPLE\.TEST" deleted/);
  assert.equal(await record('dave@EXAMPLE.TEST'), undefined);
  await fails(1, ['principal', 'delete', 'dave'], /does not exist/);
  await fails(1, ['principal', 'delete', 'krbtgt/EXAMPLE.TEST'], /refusing to delete krbtgt/);
});

test('commands on a directory without a realm say how to create one', async () => {
  const r = await runCliInProcess(['principal', 'list', '--dir', join(work, 'empty')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /kdc\.conf not found[\s\S]*kerbside realm init/);
});
