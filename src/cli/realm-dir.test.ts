import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { Krb5Config } from '../files/index.js';
import { RealmDirectoryError } from './errors.js';
import { clientKrb5Conf } from '../files/index.js';
import { resolveRealmPolicy } from '../kdc/index.js';
import { REALM_FILES, formatKdcConf, parseListenAddress, readRealmSettings, realmPolicy } from './kdc-conf.js';
import { createRealmDirectory, openRealm } from './realm-dir.js';
import { runCliInProcess } from '../testing/kerbside-cli.js';
import { freeLoopbackPort } from '../testing/mit-realm.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kerbside-realmdir-'));
  dirs.push(d);
  return d;
}
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

const env = { clock: systemClock(), random: seededRandom(7) };

test('listen addresses in MIT kdc_listen syntax (kdc.conf(5) kdc_listen)', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:88'), [{ host: '127.0.0.1', port: 88 }]);
  assert.deepEqual(parseListenAddress('[::1]:750'), [{ host: '::1', port: 750 }]);
  assert.deepEqual(parseListenAddress('::1'), [{ host: '::1', port: 88 }]);
  assert.deepEqual(parseListenAddress('10.0.0.1'), [{ host: '10.0.0.1', port: 88 }]);
  assert.deepEqual(parseListenAddress('8888'), [{ host: '0.0.0.0', port: 8888 }, { host: '::', port: 8888 }]);
  assert.throws(() => parseListenAddress('kdc.example.test:88'), RealmDirectoryError);
  assert.throws(() => parseListenAddress('127.0.0.1:99999'), /not a port number/);
  assert.throws(() => parseListenAddress('127.0.0.1:8x'), /not a port number/);
});

test('kdc.conf round trip: what init writes is what the KDC reads', async () => {
  const dir = await tempDir();
  const text = formatKdcConf({
    realm: 'EXAMPLE.TEST', listen: [{ host: '127.0.0.1', port: 8888 }, { host: '::1', port: 8888 }],
    maxLife: 36_000, maxRenewableLife: 604_800, clockSkew: 300, supportedEnctypes: [18, 17, 20, 19],
  });
  assert.match(text, /^\[kdcdefaults\]$/m);
  assert.match(text, /max_life = 10h$/m);
  assert.match(text, /max_renewable_life = 7d$/m);
  assert.match(text, /clockskew = 5m$/m);
  assert.match(text, /supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal$/m);
  await writeFile(join(dir, REALM_FILES.config), text);
  const s = await readRealmSettings(dir);
  assert.equal(s.realm, 'EXAMPLE.TEST');
  assert.deepEqual(s.listen, [{ host: '127.0.0.1', port: 8888 }, { host: '::1', port: 8888 }]);
  assert.equal(s.maxLife, 36_000);
  assert.equal(s.maxRenewableLife, 604_800);
  assert.equal(s.clockSkew, 300);
  assert.deepEqual(s.supportedEnctypes, [18, 17, 20, 19]);
  assert.equal(s.databasePath, join(dir, REALM_FILES.database));
});

test('separate UDP and TCP listen lists are kept apart', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, REALM_FILES.config), `[kdcdefaults]
  kdc_listen = 127.0.0.1:88
  kdc_tcp_listen = 127.0.0.1:88, 127.0.0.1:750
[realms]
  R.TEST = {
    supported_enctypes = aes
  }
`);
  const s = await readRealmSettings(dir);
  assert.deepEqual(s.listen, [{ host: '127.0.0.1', port: 88 }, { host: '127.0.0.1', port: 750, transports: ['tcp'] }]);
  assert.deepEqual(s.supportedEnctypes, [18, 17, 20, 19]);
});

test('password_quality in kdc.conf: MIT policy names; absent = no checks; bad values name the file and relation', async () => {
  const dir = await tempDir();
  const conf = (quality: string): string => `[realms]\n  R.TEST = {\n    supported_enctypes = aes\n${quality}  }\n`;
  await writeFile(join(dir, REALM_FILES.config), conf(''));
  assert.equal((await readRealmSettings(dir)).passwordQuality, undefined, 'a kdc.conf from before the policy keeps working unchanged');
  await writeFile(join(dir, REALM_FILES.config), conf('    password_quality = {\n      minlength = 12\n      minclasses = 3\n      history = 5\n    }\n'));
  assert.deepEqual((await readRealmSettings(dir)).passwordQuality, { minLength: 12, minClasses: 3, history: 5 });
  await writeFile(join(dir, REALM_FILES.config), conf('    password_quality = {\n      minlength = twelve\n    }\n'));
  await assert.rejects(readRealmSettings(dir), /kdc\.conf: realms\.R\.TEST\.password_quality\.minlength = "twelve" is not a whole number/);
  await writeFile(join(dir, REALM_FILES.config), conf('    password_quality = {\n      minclasses = 9\n    }\n'));
  await assert.rejects(readRealmSettings(dir), /minclasses must be a whole number from 1 to 5/);
});

test('NTLM in kdc.conf (docs/ntlm.md): off by default; ntlm = true and ntlm_listen; a listener without ntlm or a port is refused', async () => {
  const dir = await tempDir();
  const conf = (extra: string): Promise<void> => writeFile(join(dir, REALM_FILES.config), `[realms]\n  R.TEST = {\n${extra}  }\n`);
  await conf('');
  assert.deepEqual((await readRealmSettings(dir)).ntlm, { enabled: false, listen: [] });
  await conf('    ntlm = true\n    ntlm_listen = 127.0.0.1:8891\n');
  assert.deepEqual((await readRealmSettings(dir)).ntlm, { enabled: true, listen: [{ host: '127.0.0.1', port: 8891 }] });
  await conf('    ntlm = maybe\n');
  await assert.rejects(readRealmSettings(dir), /ntlm = "maybe" is not a boolean/);
  await conf('    ntlm_listen = 127.0.0.1:8891\n');
  await assert.rejects(readRealmSettings(dir), /ntlm_listen is set but NTLM is not enabled for realm R\.TEST/);
  await conf('    ntlm = true\n    ntlm_listen = 127.0.0.1\n');
  await assert.rejects(readRealmSettings(dir), /not a port number/);
  // What formatKdcConf writes for it reads back the same.
  const text = formatKdcConf({
    realm: 'R.TEST', listen: [{ host: '127.0.0.1', port: 88 }], maxLife: 36_000, maxRenewableLife: 604_800, clockSkew: 300,
    supportedEnctypes: [18], ntlm: { enabled: true, listen: [{ host: '127.0.0.1', port: 8891 }] },
  });
  await writeFile(join(dir, REALM_FILES.config), text);
  assert.deepEqual((await readRealmSettings(dir)).ntlm, { enabled: true, listen: [{ host: '127.0.0.1', port: 8891 }] });
});

test('a directory without kdc.conf is named in the error with how to create a realm', async () => {
  const dir = await tempDir();
  await assert.rejects(readRealmSettings(dir), (err: RealmDirectoryError) => {
    assert.ok(err instanceof RealmDirectoryError);
    assert.match(err.message, /kdc\.conf not found/);
    assert.match(err.hint ?? '', /kerbside realm init/);
    return true;
  });
});

test('init creates a private directory, refuses to overwrite it, and open checks the master key', async () => {
  const dir = join(await tempDir(), 'realm');
  const realm = await createRealmDirectory({ dir, realm: 'EXAMPLE.TEST', ...env });
  const tgt = await realm.store.get('krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
  assert.deepEqual(tgt?.keys.map((k) => k.enctype), [18, 17, 20, 19]);
  // Keys are wrapped under the master key: the stored bytes are longer than the keys.
  assert.ok(tgt!.keys.every((k) => k.keyvalue.length > 32));
  await realm.close();
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, REALM_FILES.stash))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, REALM_FILES.database))).mode & 0o777, 0o600);

  await assert.rejects(createRealmDirectory({ dir, realm: 'OTHER.TEST', ...env }), /already holds a realm/);
  assert.match(await readFile(join(dir, REALM_FILES.config), 'utf8'), /EXAMPLE\.TEST = \{/);

  const reopened = await openRealm(dir, env);
  const key = reopened.keys.open(tgt!.keys[0]!, tgt!.name);
  assert.equal(key.keyvalue.length, 32);
  await reopened.close();

  // A stash from another realm is refused before any request could fail on it.
  const other = join(await tempDir(), 'other');
  await (await createRealmDirectory({ dir: other, realm: 'EXAMPLE.TEST', ...env, random: seededRandom(8) })).close();
  await writeFile(join(dir, REALM_FILES.stash), await readFile(join(other, REALM_FILES.stash)));
  await assert.rejects(openRealm(dir, env), /does not belong to the database/);
});

test('a bad realm name is refused before anything is written', async () => {
  const dir = join(await tempDir(), 'bad');
  await assert.rejects(createRealmDirectory({ dir, realm: 'BAD REALM', ...env }), RealmDirectoryError);
  await assert.rejects(stat(dir), { code: 'ENOENT' });
});

test('the client krb5.conf parses with the files module and names the KDC', async () => {
  const conf = await Krb5Config.parse(clientKrb5Conf({ realm: 'EXAMPLE.TEST', kdc: '[::1]:8888', libdefaults: { default_ccache_name: 'FILE:/tmp/x' } }));
  assert.equal(conf.libdefaults().defaultRealm, 'EXAMPLE.TEST');
  assert.equal(conf.libdefaults().dnsLookupKdc, false);
  assert.equal(conf.libdefaults().defaultCcacheName, 'FILE:/tmp/x');
  assert.deepEqual(conf.realm('EXAMPLE.TEST').kdc, ['[::1]:8888']);
});

test('lockout in kdc.conf: MIT policy names maxfailure, failurecountinterval, lockoutduration (kadmin units) and maxfailure_all_sources', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, REALM_FILES.config), `[realms]
  R.TEST = {
    maxfailure = 4
    failurecountinterval = 180
    lockoutduration = 1h 30m
    maxfailure_all_sources = 12
  }
`);
  const s = await readRealmSettings(dir);
  assert.deepEqual(s.lockout, { maxFailure: 4, failureCountInterval: 180, lockoutDuration: 5400, maxFailureAllSources: 12 });
  assert.deepEqual(realmPolicy(s).lockout, { maxFailures: 4, failureWindowMs: 180_000, lockoutDurationMs: 5_400_000, maxFailuresAllSources: 12 });

  // lockoutduration 0 = until an administrator unlocks; without maxfailure_all_sources: five sources' worth.
  await writeFile(join(dir, REALM_FILES.config), '[realms]\n  R.TEST = {\n    maxfailure = 3\n    lockoutduration = 0\n  }\n');
  const forever = await readRealmSettings(dir);
  assert.deepEqual(forever.lockout, { maxFailure: 3, failureCountInterval: 0, lockoutDuration: 0 });
  assert.deepEqual(resolveRealmPolicy(realmPolicy(forever)).lockout, { maxFailures: 3, failureWindowMs: 0, lockoutDurationMs: 0, maxFailuresAllSources: 15 });

  // No lockout settings: no lockout (as in MIT without a policy).
  await writeFile(join(dir, REALM_FILES.config), '[realms]\n  R.TEST = {\n  }\n');
  assert.deepEqual((await readRealmSettings(dir)).lockout, { maxFailure: 0, failureCountInterval: 0, lockoutDuration: 0 });
  assert.equal(resolveRealmPolicy(realmPolicy(await readRealmSettings(dir))).lockout.maxFailures, 0);

  for (const bad of ['maxfailure = ten', 'maxfailure = -1', 'maxfailure = 2.5', 'lockoutduration = soon', 'maxfailure_all_sources = x']) {
    await writeFile(join(dir, REALM_FILES.config), `[realms]\n  R.TEST = {\n    ${bad}\n  }\n`);
    await assert.rejects(readRealmSettings(dir), RealmDirectoryError, bad);
  }
});

test('realm init writes lockout on: maxfailure 10, failurecountinterval 15m, lockoutduration 15m, maxfailure_all_sources 50', async () => {
  const dir = join(await tempDir(), 'realm');
  await (await createRealmDirectory({ dir, realm: 'EXAMPLE.TEST', ...env })).close();
  const text = await readFile(join(dir, REALM_FILES.config), 'utf8');
  assert.match(text, /^\s*maxfailure = 10$/m);
  assert.match(text, /^\s*failurecountinterval = 15m$/m);
  assert.match(text, /^\s*lockoutduration = 15m$/m);
  assert.match(text, /^\s*maxfailure_all_sources = 50$/m);
  const s = await readRealmSettings(dir);
  assert.deepEqual(realmPolicy(s).lockout, { maxFailures: 10, failureWindowMs: 900_000, lockoutDurationMs: 900_000, maxFailuresAllSources: 50 });
});

test('kerbside kdc warns at start when kdc.conf has no lockout, and not when realm init wrote it', async () => {
  const run = async (lockout?: { maxFailure: number; failureCountInterval: number; lockoutDuration: number }): Promise<string> => {
    const dir = join(await tempDir(), 'realm');
    await (await createRealmDirectory({ dir, realm: 'EXAMPLE.TEST', ...env, ...(lockout === undefined ? {} : { lockout }) })).close();
    const stop = new AbortController();
    const r = await runCliInProcess(['kdc', '--dir', dir, '--listen', '127.0.0.1:0'], {
      signal: stop.signal, onOut: (line) => { if (line.includes('ready on')) stop.abort(); },
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stderr;
  };
  assert.match(await run({ maxFailure: 0, failureCountInterval: 0, lockoutDuration: 0 }), /warning kdc\.config: account lockout is off/);
  assert.doesNotMatch(await run(), /lockout is off/);
});

test('PKINIT in kdc.conf: MIT names, FILE: paths relative to the realm directory; bad values name the relation', async () => {
  const dir = await tempDir();
  const conf = (extra: string): Promise<void> => writeFile(join(dir, REALM_FILES.config), `[realms]\n  R.TEST = {\n${extra}  }\n`);
  await conf('');
  assert.equal((await readRealmSettings(dir)).pkinit, undefined, 'off without pkinit_identity');
  await conf(`    pkinit_identity = FILE:pkinit/kdc.pem,pkinit/kdc.key
    pkinit_anchors = FILE:pkinit/ca.pem
    pkinit_anchors = FILE:/etc/other-ca.pem
    pkinit_revoke = FILE:pkinit/crl.pem
    pkinit_allow_upn = true
    pkinit_eku_checking = scLogin
    pkinit_dh_min_bits = 4096
    pkinit_require_freshness = yes
`);
  assert.deepEqual((await readRealmSettings(dir)).pkinit, {
    certificate: join(dir, 'pkinit/kdc.pem'), key: join(dir, 'pkinit/kdc.key'),
    anchors: [join(dir, 'pkinit/ca.pem'), '/etc/other-ca.pem'], revoke: [join(dir, 'pkinit/crl.pem')],
    allowUpn: true, requireFreshness: true, dhMinBits: 4096, allowSmartCardLogonEku: true,
  });
  for (const [extra, message] of [
    ['    pkinit_identity = PKCS11:module_name=x.so\n    pkinit_anchors = FILE:ca.pem\n', /pkinit_identity = "PKCS11:module_name=x.so" is not a FILE: reference/],
    ['    pkinit_identity = FILE:kdc.pem,kdc.key\n', /pkinit_anchors is not/],
    ['    pkinit_identity = FILE:kdc.pem\n    pkinit_anchors = FILE:ca.pem\n', /needs a certificate and a key/],
    ['    pkinit_identity = FILE:kdc.pem,kdc.key\n    pkinit_anchors = FILE:ca.pem\n    pkinit_dh_min_bits = 1024\n', /pkinit_dh_min_bits = "1024" is not 2048 or 4096/],
    ['    pkinit_identity = FILE:kdc.pem,kdc.key\n    pkinit_anchors = FILE:ca.pem\n    pkinit_eku_checking = none\n', /pkinit_eku_checking = "none"/],
  ] as const) {
    await conf(extra);
    await assert.rejects(readRealmSettings(dir), (err: unknown) => err instanceof RealmDirectoryError && message.test(err.message));
  }
});

test('realm init --listen sets both kdc.conf (kdc_listen) and krb5.conf (kdc = …); kerbside kdc warns when krb5.conf names another address (issue 13)', async () => {
  const dir = join(await tempDir(), 'realm');
  const port = await freeLoopbackPort();
  const init = await runCliInProcess(['realm', 'init', '--realm', 'EXAMPLE.TEST', '--dir', dir, '--listen', `127.0.0.1:${port}`, '--admin-password', 'Admin-pass-1']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(await readFile(join(dir, REALM_FILES.config), 'utf8'), new RegExp(`kdc_listen = 127\\.0\\.0\\.1:${port}`));
  assert.match(await readFile(join(dir, REALM_FILES.krb5Conf), 'utf8'), new RegExp(`kdc = 127\\.0\\.0\\.1:${port}`));
  const kdc = async (listen: readonly string[]): Promise<string> => {
    const stop = new AbortController();
    const r = await runCliInProcess(['kdc', '--dir', dir, ...listen], {
      signal: stop.signal, onOut: (line) => { if (line.includes('ready on')) stop.abort(); },
    });
    assert.equal(r.code, 0, r.stderr);
    return r.stderr;
  };
  assert.doesNotMatch(await kdc([]), /will not reach it/, 'kdc.conf\'s address: krb5.conf matches');
  const other = await kdc(['--listen', '127.0.0.1:0']);
  assert.match(other, new RegExp(`warning: .*krb5\\.conf names kdc = 127\\.0\\.0\\.1:${port}, but this KDC listens on 127\\.0\\.0\\.1:\\d+: clients using that krb5\\.conf will not reach it`));
});
