/**
 * kerbside kinit / klist / kvno / kdestroy / ktutil in a throwaway realm
 * served by MIT krb5kdc 1.20 and, with the same cases, by kerbside's own KDC
 * (src/testing/peer-realm.ts): caches and keytabs go both ways between
 * kerbside and MIT's tools, and the output and messages match MIT's. The
 * commands run in-process through main() with a captured CliIO; one test runs
 * the real binary (node dist/src/cli/main.js).
 */

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { systemClock } from '../../core/clock.js';
import { systemRandom } from '../../core/random.js';
import { newCcache, parsePrincipal, readCcache, readKeytab, ticketsOf, writeCcache } from '../../files/index.js';
import { cachedPaType } from '../../client/index.js';
import { PEER_REALMS, type PeerRealm, type PeerRealmFactory } from '../../testing/peer-realm.js';
import { mitTool, parseKlistCache, runProgram } from '../../testing/mit-tools.js';
import { main } from '../main.js';
import type { CliIO } from '../io.js';

const ALICE_PW = 'alice-Pw-1';

for (const [kdcName, startRealm] of PEER_REALMS) {
  describe(`kerbside CLIs against ${kdcName}`, () => { cliSuite(startRealm); });
}

function cliSuite(startRealm: PeerRealmFactory): void {
  let realm: PeerRealm;

  before(async () => {
    realm = await startRealm({
      maxLife: 10 * 3600,
      maxRenewableLife: 7 * 86400,
      principals: [
        { name: 'alice', password: ALICE_PW },
        { name: 'nopreauth', password: 'np-pw', requiresPreauth: false },
        { name: 'svc' },
        { name: 'HTTP/localhost' },
      ],
    });
    await realm.exportKeytab('svc', join(realm.dir, 'svc.keytab'));
  });

  after(async () => {
    await realm?.stop();
  });

  interface Run {
    readonly code: number;
    readonly out: string;
    readonly err: string;
  }

  /** Runs `kerbside <argv>` in-process with the realm's environment. */
  async function kerbside(argv: readonly string[], options: { ccache?: string; secret?: string } = {}): Promise<Run> {
    let out = '';
    let err = '';
    const env = { ...realm.env, ...(options.ccache !== undefined ? { KRB5CCNAME: options.ccache } : {}) };
    const io: CliIO = {
      argv, env, cwd: realm.dir, clock: systemClock(), random: systemRandom(),
      out: (t) => { out += t.endsWith('\n') ? t : `${t}\n`; },
      err: (t) => { err += t.endsWith('\n') ? t : `${t}\n`; },
      readSecret: async () => {
        if (options.secret === undefined) throw new Error('unexpected password prompt');
        return options.secret;
      },
      stopSignal: new AbortController().signal,
    };
    const code = await main(argv, io);
    return { code, out, err };
  }

  function mit(tool: 'klist' | 'kvno' | 'kinit' | 'ktutil' | 'kdestroy' | 'kswitch', args: readonly string[], o: { ccache?: string; input?: string } = {}) {
    return realm.run(mitTool(tool), args, {
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(o.ccache !== undefined ? { env: { KRB5CCNAME: o.ccache } } : {}),
    });
  }

  const cacheIn = (name: string): string => `FILE:${join(realm.dir, name)}`;

  test('kinit with a password (pre-authentication required): MIT klist lists the cache and MIT kvno uses its TGT', async () => {
    const ccache = cacheIn('alice.cc');
    const r = await kerbside(['kinit', 'alice'], { ccache, secret: ALICE_PW });
    assert.equal(r.code, 0, r.err);
    const listed = await mit('klist', ['-e', '-f', '-C'], { ccache });
    assert.equal(listed.code, 0, listed.stderr);
    const k = parseKlistCache(listed.stdout);
    assert.equal(k.defaultPrincipal, 'alice@EXAMPLE.TEST');
    assert.equal(k.credentials[0]?.service, 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
    assert.match(k.credentials[0]?.flags ?? '', /A/, 'pre-authenticated');
    assert.deepEqual(k.config, ['config: pa_type(krbtgt/EXAMPLE.TEST@EXAMPLE.TEST) = 2']);
    const kvno = await mit('kvno', ['HTTP/localhost'], { ccache });
    assert.equal(kvno.code, 0, kvno.stderr);
    assert.match(kvno.stdout, /^HTTP\/localhost@EXAMPLE\.TEST: kvno = \d+$/m);
  });

  test('kinit against a KDC that does not require pre-authentication', async () => {
    const ccache = cacheIn('np.cc');
    const r = await kerbside(['kinit', 'nopreauth'], { ccache, secret: 'np-pw' });
    assert.equal(r.code, 0, r.err);
    const cache = await readCcache(ccache);
    assert.equal(cachedPaType(cache), undefined);
    assert.equal(ticketsOf(cache).length, 1);
  });

  test('kinit -V with a wrong password fails as MIT does: "Password incorrect while getting initial credentials"', async () => {
    const ccache = cacheIn('wrong.cc');
    const r = await kerbside(['kinit', '-V', 'alice'], { ccache, secret: 'not-the-password' });
    assert.equal(r.code, 1);
    assert.equal(r.err.split('\n')[0], 'kinit: Password incorrect while getting initial credentials');
    assert.match(r.out, /^Using default cache: .*wrong\.cc\nUsing principal: alice@EXAMPLE\.TEST\n$/);
    const unknown = await kerbside(['kinit', 'nobody'], { ccache, secret: 'x' });
    assert.equal(unknown.code, 1);
    assert.equal(unknown.err.split('\n')[0], "kinit: Client 'nobody@EXAMPLE.TEST' not found in Kerberos database while getting initial credentials");
  });

  test('kinit -k -t keytab, then kvno: prints like MIT and stores the ticket MIT klist then shows', async () => {
    const ccache = cacheIn('svc.cc');
    const r = await kerbside(['kinit', '-k', '-t', join(realm.dir, 'svc.keytab'), 'svc'], { ccache });
    assert.equal(r.code, 0, r.err);
    const v = await kerbside(['kvno', 'HTTP/localhost'], { ccache });
    assert.equal(v.code, 0, v.err);
    const mitKvno = await mit('kvno', ['HTTP/localhost'], { ccache });
    assert.equal(v.out, mitKvno.stdout, 'same output as MIT kvno');
    const k = parseKlistCache((await mit('klist', ['-e'], { ccache })).stdout);
    assert.deepEqual(k.credentials.map((c) => c.service), ['krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', 'HTTP/localhost@EXAMPLE.TEST']);
    const missing = await kerbside(['kinit', '-k', '-t', join(realm.dir, 'svc.keytab'), 'alice'], { ccache: cacheIn('x.cc') });
    assert.equal(missing.code, 1);
    assert.equal(missing.err.split('\n')[0], 'kinit: Keytab contains no suitable keys for alice@EXAMPLE.TEST while getting initial credentials');
    const unknownService = await kerbside(['kvno', 'HTTP/nohost'], { ccache });
    assert.equal(unknownService.code, 1);
    assert.equal(unknownService.err.split('\n')[0],
      'kvno: Server HTTP/nohost@EXAMPLE.TEST not found in Kerberos database while getting credentials for HTTP/nohost@EXAMPLE.TEST');
  });

  test('kinit -R renews a renewable TGT in place', async () => {
    const ccache = cacheIn('renew.cc');
    assert.equal((await kerbside(['kinit', '-r', '2d', '-l', '1h', 'alice'], { ccache, secret: ALICE_PW })).code, 0);
    const before = ticketsOf(await readCcache(ccache))[0]!;
    assert.ok(before.renewTill !== undefined);
    await systemClock().sleep(1100); // a renewed ticket starts at a later whole second
    const r = await kerbside(['kinit', '-R'], { ccache });
    assert.equal(r.code, 0, r.err);
    const cache = await readCcache(ccache);
    const after = ticketsOf(cache)[0]!;
    assert.ok((after.starttime ?? after.authtime).getTime() > (before.starttime ?? before.authtime).getTime());
    assert.equal(after.renewTill?.getTime(), before.renewTill.getTime());
    assert.equal(cachedPaType(cache), 2, 'kept pa_type');
    assert.equal((await mit('kvno', ['HTTP/localhost'], { ccache })).code, 0, 'MIT uses the renewed TGT');
    const none = await kerbside(['kinit', '-R'], { ccache: cacheIn('absent.cc') });
    assert.equal(none.code, 1);
    assert.match(none.err, /^kinit: No credentials cache found \(filename: .*absent\.cc\) while renewing credentials/);
  });

  test('a cache written by MIT kinit is used by kerbside kvno, and kerbside klist prints what MIT klist prints', async () => {
    const ccache = cacheIn('mit.cc');
    const k = await mit('kinit', ['-f', '-r', '1d', 'alice'], { ccache, input: `${ALICE_PW}\n` });
    assert.equal(k.code, 0, k.stderr);
    const v = await kerbside(['kvno', 'HTTP/localhost'], { ccache });
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /^HTTP\/localhost@EXAMPLE\.TEST: kvno = \d+\n$/);
    for (const flags of [[], ['-f'], ['-e'], ['-f', '-e'], ['-C']]) {
      const ours = await kerbside(['klist', ...flags], { ccache });
      const theirs = await mit('klist', flags, { ccache });
      assert.equal(ours.code, 0, ours.err);
      assert.equal(ours.out, theirs.stdout, `klist ${flags.join(' ')}`);
    }
  });

  test('klist -k lists keytabs as MIT does; klist and kdestroy report a missing cache as MIT does', async () => {
    const keytab = join(realm.dir, 'svc.keytab');
    for (const flags of [[], ['-t'], ['-e'], ['-K'], ['-t', '-e', '-K']]) {
      const ours = await kerbside(['klist', '-k', ...flags, keytab]);
      const theirs = await mit('klist', ['-k', ...flags, keytab]);
      assert.equal(ours.out, theirs.stdout, `klist -k ${flags.join(' ')}`);
    }
    const ccache = cacheIn('gone.cc');
    assert.equal((await kerbside(['kinit', 'alice'], { ccache, secret: ALICE_PW })).code, 0);
    assert.equal((await kerbside(['kdestroy'], { ccache })).code, 0);
    const ours = await kerbside(['klist'], { ccache });
    const theirs = await mit('klist', [], { ccache });
    assert.equal(ours.code, 1);
    assert.equal(theirs.code, 1);
    assert.equal(ours.err.split('\n')[0], theirs.stderr.trim());
    const again = await kerbside(['kdestroy'], { ccache });
    assert.equal(again.code, 0);
    assert.equal(again.err.trim(), 'kdestroy: No credentials cache found while destroying cache');
  });

  test('ktutil add --password makes the keys MIT ktutil makes; kinit -k works with them; list, remove and merge', async () => {
    const ours = join(realm.dir, 'alice-ours.keytab');
    const r = await kerbside(['ktutil', 'add', '-k', ours, '-p', 'alice', '-V', '1', '-e', 'aes256-cts-hmac-sha1-96,aes128-cts-hmac-sha1-96', '--password'], { secret: ALICE_PW });
    assert.equal(r.code, 0, r.err);
    const theirs = join(realm.dir, 'alice-mit.keytab');
    const script = [
      'addent -password -p alice@EXAMPLE.TEST -k 1 -e aes256-cts-hmac-sha1-96', ALICE_PW,
      'addent -password -p alice@EXAMPLE.TEST -k 1 -e aes128-cts-hmac-sha1-96', ALICE_PW,
      `wkt ${theirs}`, 'quit', '',
    ].join('\n');
    assert.equal((await mit('ktutil', [], { input: script })).code, 0);
    const a = await readKeytab(ours);
    const b = await readKeytab(theirs);
    assert.deepEqual(a.map((e) => [e.enctype, Buffer.from(e.key).toString('hex')]), b.map((e) => [e.enctype, Buffer.from(e.key).toString('hex')]));

    const ccache = cacheIn('alice-kt.cc');
    const k = await kerbside(['kinit', '-k', '-t', ours, 'alice'], { ccache });
    assert.equal(k.code, 0, k.err);

    const listed = await kerbside(['ktutil', 'list', '-k', ours, '-e']);
    assert.equal(listed.out, [
      'slot KVNO Principal',
      `---- ---- ${'-'.repeat(69)}`,
      `   1    1 ${'alice@EXAMPLE.TEST'.padStart(40)} (aes256-cts-hmac-sha1-96) `,
      `   2    1 ${'alice@EXAMPLE.TEST'.padStart(40)} (aes128-cts-hmac-sha1-96) `,
      '',
    ].join('\n'));
    const mitListed = await mit('ktutil', [], { input: `rkt ${ours}\nlist -e\nquit\n` });
    assert.ok(mitListed.stdout.includes(listed.out.trimEnd()), 'same layout as MIT ktutil list');

    const merged = join(realm.dir, 'merged.keytab');
    assert.equal((await kerbside(['ktutil', 'merge', '-k', merged, ours, join(realm.dir, 'svc.keytab')])).code, 0);
    const all = await readKeytab(merged);
    assert.equal(all.length, 2 + (await readKeytab(join(realm.dir, 'svc.keytab'))).length);
    const removed = await kerbside(['ktutil', 'remove', '-k', merged, '-p', 'alice', '-e', 'aes128-cts-hmac-sha1-96']);
    assert.equal(removed.code, 0, removed.err);
    assert.equal((await readKeytab(merged)).length, all.length - 1);
    const klist = await mit('klist', ['-k', '-e', merged]);
    assert.equal(klist.code, 0, 'MIT reads the merged keytab');
    const usage = await kerbside(['ktutil', 'add', '-k', merged, '-p', 'alice', '-V', '2', '--password']);
    assert.equal(usage.code, 2, 'missing -e is a usage error');
  });

  test('DIR: collections: MIT kinit/kswitch/kdestroy and kerbside klist -l/-A/kswitch agree on one collection', async () => {
    const dir = join(realm.dir, 'mit-collection');
    const ccache = `DIR:${dir}`;
    const keytab = join(realm.dir, 'svc.keytab');
    assert.equal((await mit('kinit', ['alice'], { ccache, input: `${ALICE_PW}\n` })).code, 0);
    assert.equal((await mit('kinit', ['-k', '-t', keytab, 'svc'], { ccache })).code, 0, 'MIT puts svc in a new cache and switches to it');
    for (const flags of [['-l'], ['-A'], []]) {
      const ours = await kerbside(['klist', ...flags], { ccache });
      const theirs = await mit('klist', flags, { ccache });
      assert.equal(ours.code, theirs.code, `klist ${flags.join(' ')}: ${ours.err}`);
      assert.equal(ours.out, theirs.stdout, `klist ${flags.join(' ')}`);
    }
    // A cache without a current TGT is listed "(Expired)" by both.
    await writeCcache(`DIR::${dir}/tktOld000`, newCcache(parsePrincipal('old@EXAMPLE.TEST')));
    const ours = await kerbside(['klist', '-l'], { ccache });
    assert.equal(ours.out, (await mit('klist', ['-l'], { ccache })).stdout);
    assert.match(ours.out, /^old@EXAMPLE\.TEST +DIR::.*\/tktOld000 \(Expired\)$/m);
    assert.equal((await kerbside(['kdestroy', '-p', 'old'], { ccache })).code, 0);
    assert.doesNotMatch((await mit('klist', ['-l'], { ccache })).stdout, /old@/);
    const noOne = await kerbside(['kdestroy', '-p', 'old'], { ccache });
    const mitNoOne = await mit('kdestroy', ['-p', 'old'], { ccache });
    assert.equal(noOne.code, mitNoOne.code);
    assert.equal(noOne.err.trim(), mitNoOne.stderr.trim());
    const kvno = await kerbside(['kvno', 'HTTP/localhost'], { ccache });
    assert.equal(kvno.code, 0, kvno.err);
    assert.deepEqual(parseKlistCache((await mit('klist', [], { ccache })).stdout).credentials.map((c) => c.service),
      ['krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', 'HTTP/localhost@EXAMPLE.TEST'], 'kerbside kvno stored its ticket in the primary cache');
    assert.equal((await kerbside(['kswitch', '-p', 'alice'], { ccache })).code, 0);
    assert.equal(parseKlistCache((await mit('klist', [], { ccache })).stdout).defaultPrincipal, 'alice@EXAMPLE.TEST', 'MIT sees kerbside\'s switch');
    assert.equal((await mit('kswitch', ['-p', 'svc'], { ccache })).code, 0);
    assert.match((await kerbside(['klist'], { ccache })).out, /^Default principal: svc@EXAMPLE\.TEST$/m, 'kerbside sees MIT\'s switch');
    const nobody = await kerbside(['kswitch', '-p', 'nobody'], { ccache });
    const mitNobody = await mit('kswitch', ['-p', 'nobody'], { ccache });
    assert.equal(nobody.code, mitNobody.code);
    assert.equal(nobody.err.trim(), mitNobody.stderr.trim());
    // kdestroy of the primary leaves the other cache and says so, as MIT's does; -A removes the rest.
    const one = await kerbside(['kdestroy'], { ccache });
    assert.equal(one.code, 0);
    assert.equal(one.err.trim(), 'Other credential caches present, use -A to destroy all');
    assert.deepEqual(parseKlistCache((await mit('klist', ['-A'], { ccache })).stdout).defaultPrincipal, 'alice@EXAMPLE.TEST');
    assert.equal((await kerbside(['kdestroy', '-A'], { ccache })).code, 0);
    const empty = await mit('klist', ['-l'], { ccache });
    assert.equal(empty.code, 1, 'MIT finds no cache left');
    assert.deepEqual(await readdir(dir), ['primary']);
  });

  test('DIR: collections written by kerbside kinit: the layout MIT writes, and MIT klist/kvno/kdestroy use them', async () => {
    const keytab = join(realm.dir, 'svc.keytab');
    const layouts: string[][] = [];
    const firstLayouts: string[][] = [];
    const listings: string[] = [];
    for (const who of ['mit', 'kerbside'] as const) {
      const dir = join(realm.dir, `${who}-layout`);
      const ccache = `DIR:${dir}`;
      if (who === 'mit') {
        assert.equal((await mit('kinit', ['alice'], { ccache, input: `${ALICE_PW}\n` })).code, 0);
        firstLayouts.push((await readdir(dir)).sort());
        assert.equal((await mit('kinit', ['-k', '-t', keytab, 'svc'], { ccache })).code, 0);
        assert.equal((await mit('kinit', ['alice'], { ccache, input: `${ALICE_PW}\n` })).code, 0, 'back to alice\'s own cache');
      } else {
        assert.equal((await kerbside(['kinit', 'alice'], { ccache, secret: ALICE_PW })).code, 0);
        firstLayouts.push((await readdir(dir)).sort());
        const v = await kerbside(['kinit', '-V', '-k', '-t', keytab, 'svc'], { ccache });
        assert.equal(v.code, 0, v.err);
        assert.match(v.out, new RegExp(`^Using new cache: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/tkt[A-Za-z0-9]{6}$`, 'm'));
        const again = await kerbside(['kinit', '-V', 'alice'], { ccache, secret: ALICE_PW });
        assert.match(again.out, /^Using existing cache: .*\/tkt$/m);
      }
      layouts.push((await readdir(dir)).map((f) => f.replace(/^tkt[A-Za-z0-9]{6}$/, 'tktXXXXXX')).sort());
      const primary = await readFile(join(dir, 'primary'), 'utf8');
      assert.equal(primary, 'tkt\n', `${who}: primary names alice's cache`);
      const l = await mit('klist', ['-l'], { ccache });
      assert.equal(l.code, 0);
      listings.push(l.stdout.replace(/DIR::\S+\/(tkt\w*)/g, '$1').replace(/tkt[A-Za-z0-9]{6}/, 'tktXXXXXX'));
      assert.equal((await mit('kvno', ['HTTP/localhost'], { ccache })).code, 0, `MIT kvno uses ${who}'s primary`);
    }
    assert.deepEqual(firstLayouts[1], firstLayouts[0], 'same files as MIT after the first kinit');
    assert.deepEqual(layouts[1], layouts[0], 'same files as MIT');
    assert.equal(listings[1], listings[0], 'MIT klist -l lists both collections alike');
  });

  test('MEMORY: caches live in the process; KEYRING: names the cache types that work', async () => {
    const ccache = 'MEMORY:cli-test';
    assert.equal((await kerbside(['kinit', 'alice'], { ccache, secret: ALICE_PW })).code, 0);
    const listed = await kerbside(['klist'], { ccache });
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /^Ticket cache: MEMORY:cli-test\nDefault principal: alice@EXAMPLE\.TEST\n/);
    assert.equal((await kerbside(['kvno', 'HTTP/localhost'], { ccache })).code, 0);
    assert.equal((await kerbside(['kdestroy'], { ccache })).code, 0);
    assert.equal((await kerbside(['klist', '-s'], { ccache })).code, 1);
    const keyring = await kerbside(['klist'], { ccache: 'KEYRING:persistent:1000' });
    assert.equal(keyring.code, 1);
    assert.match(keyring.err, /KEYRING .*kernel keyring.*the cache types that work are FILE, DIR, MEMORY/);
    assert.match(keyring.err, /RHEL\/Fedora default .*default_ccache_name = DIR:\/run\/user\/%\{uid\}\/krb5cc.*KRB5CCNAME=DIR:\/run\/user\/1000\/krb5cc/);
    const session = await kerbside(['kinit', 'alice'], { ccache: 'KEYRING:session:x', secret: ALICE_PW });
    assert.equal(session.code, 1);
    assert.match(session.err, /the cache types that work are FILE, DIR, MEMORY/);
    await mkdir(join(realm.dir, 'unused'), { recursive: true });
  });

  /** Runs the same kinit with kerbside and MIT into two caches; returns both results and both caches' klist -f. */
  async function bothKinit(args: readonly string[], tag: string, o: { secret?: string; setup?: (ccache: string, who: 'mit' | 'kerbside') => Promise<void> } = {}) {
    const ours = cacheIn(`${tag}-ours.cc`);
    const theirs = cacheIn(`${tag}-mit.cc`);
    await o.setup?.(ours, 'kerbside');
    await o.setup?.(theirs, 'mit');
    const k = await kerbside(['kinit', ...args], { ccache: ours, ...(o.secret !== undefined ? { secret: o.secret } : {}) });
    const m = await mit('kinit', args, { ccache: theirs, ...(o.secret !== undefined ? { input: `${o.secret}\n` } : {}) });
    const list = async (cc: string) => parseKlistCache((await mit('klist', ['-f'], { ccache: cc })).stdout);
    return { k, m, ourCache: await list(ours), mitCache: await list(theirs) };
  }

  test('kinit -C and -E (RFC 6806): the KDC\'s canonical name goes in the cache, as with MIT kinit', async () => {
    let passed = 0;
    for (const args of [['-C', 'alice'], ['-E', 'alice@EXAMPLE.TEST'], ['-E', '-C', 'alice@EXAMPLE.TEST']]) {
      const r = await bothKinit(args, `canon${args.length}${args[0]}`, { secret: ALICE_PW });
      assert.equal(r.k.code, r.m.code, `kinit ${args.join(' ')}: ${r.k.err} / ${r.m.stderr}`);
      if (r.m.code !== 0) {
        // MIT krb5kdc 1.20 with its DB2 database has no enterprise-name lookup; kerbside then fails as MIT does.
        assert.equal(r.k.err.split('\n')[0], r.m.stderr.split('\n')[0]!.replace(/^\/\S*\//, ''), `kinit ${args.join(' ')}`);
        continue;
      }
      assert.equal(r.ourCache.defaultPrincipal, r.mitCache.defaultPrincipal, `kinit ${args.join(' ')}`);
      assert.equal(r.ourCache.defaultPrincipal, 'alice@EXAMPLE.TEST');
      assert.deepEqual(r.ourCache.credentials.map((c) => c.service), r.mitCache.credentials.map((c) => c.service));
      passed++;
    }
    assert.ok(passed >= 1, 'at least kinit -C succeeds');
    const unknown = await bothKinit(['-E', 'nobody@EXAMPLE.TEST'], 'canon-unknown', { secret: 'x' });
    assert.equal(unknown.k.code, 1);
    assert.equal(unknown.m.code, 1);
  });

  test('kinit -s (postdated) and -v (validate): the same outcome and message as MIT kinit against this KDC', async () => {
    const r = await bothKinit(['-s', '1h', '-l', '3h', 'alice'], 'postdate', { secret: ALICE_PW });
    assert.equal(r.k.code, r.m.code, `${r.k.err} / ${r.m.stderr}`);
    if (r.m.code === 0) {
      // The KDC postdates: an invalid, postdated TGT starting in an hour (klist flags d and i).
      assert.match(r.ourCache.credentials[0]?.flags ?? '', /d/);
      assert.match(r.ourCache.credentials[0]?.flags ?? '', /i/);
      assert.equal(r.ourCache.credentials[0]?.flags, r.mitCache.credentials[0]?.flags);
      assert.equal(r.ourCache.credentials[0]?.start.slice(0, 14), r.mitCache.credentials[0]?.start.slice(0, 14));
      // Too early to validate: the KDC's refusal, worded as MIT's kinit -v words it.
      const early = await kerbside(['kinit', '-v'], { ccache: cacheIn('postdate-ours.cc') });
      const mitEarly = await mit('kinit', ['-v'], { ccache: cacheIn('postdate-mit.cc') });
      assert.equal(early.code, mitEarly.code);
      assert.equal(early.err.split('\n')[0], mitEarly.stderr.split('\n')[0]!.replace(/^\/\S*\//, ''));
      // Once the start time has come, kinit -v makes it valid; MIT klist then shows no "i" flag.
      const soon = cacheIn('postdate-soon.cc');
      assert.equal((await kerbside(['kinit', '-s', '2s', 'alice'], { ccache: soon, secret: ALICE_PW })).code, 0);
      await systemClock().sleep(2600);
      const validated = await kerbside(['kinit', '-v'], { ccache: soon });
      assert.equal(validated.code, 0, validated.err);
      const flags = parseKlistCache((await mit('klist', ['-f'], { ccache: soon })).stdout).credentials[0]?.flags ?? '';
      assert.doesNotMatch(flags, /i/);
      assert.equal((await mit('kvno', ['HTTP/localhost'], { ccache: soon })).code, 0, 'MIT uses the validated TGT');
    } else {
      assert.equal(r.k.err.split('\n')[0], r.m.stderr.split('\n')[0]!.replace(/^\/\S*\//, ''));
      assert.match(r.k.err, /postdat/i);
    }
    // -v on a ticket that is not postdated (or not yet valid): as MIT, per KDC.
    const plain = cacheIn('validate.cc');
    assert.equal((await kerbside(['kinit', 'alice'], { ccache: plain, secret: ALICE_PW })).code, 0);
    const ours = await kerbside(['kinit', '-v'], { ccache: plain });
    const theirs = await mit('kinit', ['-v'], { ccache: plain });
    assert.equal(ours.code, theirs.code, `${ours.err} / ${theirs.stderr}`);
    if (theirs.code !== 0) assert.equal(ours.err.split('\n')[0], theirs.stderr.split('\n')[0]!.replace(/^\/\S*\//, ''));
    const none = await kerbside(['kinit', '-v'], { ccache: cacheIn('absent-v.cc') });
    assert.equal(none.code, 1);
    assert.match(none.err, /^kinit: No credentials cache found \(filename: .*absent-v\.cc\) while validating credentials/);
  });

  test('kinit -n against a KDC without anonymous PKINIT: fails as MIT kinit -n does, saying the KDC does not support it', async () => {
    const ours = await kerbside(['kinit', '-n'], { ccache: cacheIn('anon-ours.cc') });
    const theirs = await mit('kinit', ['-n'], { ccache: cacheIn('anon-mit.cc') });
    assert.equal(theirs.code, 1, `MIT kinit -n: ${theirs.stdout}${theirs.stderr}`);
    assert.equal(ours.code, 1);
    assert.match(ours.err, /^kinit: the KDC of EXAMPLE\.TEST does not support anonymous PKINIT \(it answered a request for WELLKNOWN\/ANONYMOUS with KDC_ERR_\w+/);
    assert.match(ours.err, /hint: on an MIT KDC: create WELLKNOWN\/ANONYMOUS/);
    const named = await kerbside(['kinit', '-n', '@EXAMPLE.TEST'], { ccache: cacheIn('anon-ours.cc') });
    assert.equal(named.code, 1);
    assert.match(named.err, /does not support anonymous PKINIT/);
    assert.equal((await kerbside(['kinit', '-n', '-k'], { ccache: cacheIn('anon-ours.cc') })).code, 2);
  });

  test('the real binary: node dist/src/cli/main.js kinit reads the password from stdin; MIT klist reads the result', async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const bin = resolve(here, '..', 'main.js');
    const ccache = cacheIn('bin.cc');
    const r = await runProgram(process.execPath, [bin, 'kinit', 'alice'], { env: { ...realm.env, KRB5CCNAME: ccache }, input: `${ALICE_PW}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Password for alice@EXAMPLE\.TEST: /);
    const listed = await mit('klist', [], { ccache });
    assert.equal(parseKlistCache(listed.stdout).defaultPrincipal, 'alice@EXAMPLE.TEST');
    const wrong = await runProgram(process.execPath, [bin, 'kinit', 'alice'], { env: { ...realm.env, KRB5CCNAME: cacheIn('bin2.cc') }, input: 'nope\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /kinit: Password incorrect while getting initial credentials/);
    await readFile(join(realm.dir, 'bin.cc'));
  });
}
