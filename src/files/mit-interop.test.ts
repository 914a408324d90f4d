/**
 * Interoperability of keytabs and credential caches with MIT krb5 1.20:
 * files kerbside writes are read by MIT klist/kvno, files MIT ktutil, kadmin
 * and kinit write are read by kerbside. A missing MIT program fails these
 * tests (requireTool), it never skips them.
 */

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { toHex } from '../core/bytes.js';
import { enctypeName } from '../crypto/index.js';
import { startMitRealm, type MitRealm } from '../testing/mit-realm.js';
import { checkRun, mitTool, parseKlistCache, parseKlistKeytab, type KlistKeytabEntry } from '../testing/mit-tools.js';
import {
  decodeCcache, encodeCcache, getConfigString, keytabEntriesFromPassword, listConfig, newCcache, parsePrincipal,
  principalToString, readCcache, readKeytab, setConfig, storeCredential, ticketsOf, writeCcache, writeKeytab,
  type Credential, type CredentialCache, type KeytabEntry,
} from './index.js';

const PASSWORD = 'correct horse battery staple';
const ENCTYPES = ['aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96', 'aes128-cts-hmac-sha256-128', 'aes256-cts-hmac-sha384-192'];

/** MIT klist's flag letters, in its order (src/clients/klist/klist.c flags_string). */
const KLIST_FLAGS: ReadonlyArray<[number, string]> = [
  [0x40000000, 'F'], [0x20000000, 'f'], [0x10000000, 'P'], [0x08000000, 'p'], [0x04000000, 'D'], [0x02000000, 'd'],
  [0x01000000, 'i'], [0x00800000, 'R'], [0x00400000, 'I'], [0x00100000, 'H'], [0x00200000, 'A'], [0x00080000, 'T'],
  [0x00040000, 'O'], [0x00008000, 'a'],
];
const klistFlags = (mask: number): string => KLIST_FLAGS.filter(([bit]) => (mask & bit) !== 0).map(([, c]) => c).join('');

/** klist's time format in the C locale and UTC: MM/DD/YY HH:MM:SS. */
function klistTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

const comparable = (e: KlistKeytabEntry): string => `${e.kvno} ${e.principal} ${e.enctype} ${e.keyHex}`;

describe('MIT krb5 interoperability: keytabs and credential caches', () => {
  let realm: MitRealm;
  const ktutil = (): string => mitTool('ktutil');
  const klist = async (args: string[]): Promise<string> => checkRun(`klist ${args.join(' ')}`, await realm.run(mitTool('klist'), args)).stdout;

  before(async () => {
    realm = await startMitRealm({
      principals: [
        { name: 'alice', password: PASSWORD, attrs: ['+requires_preauth'] },
        { name: 'HTTP/host.example.test', randkey: true },
      ],
    });
  });
  after(async () => { await realm?.stop(); });

  /** Runs ktutil addent -password for each (kvno, enctype[, salt]) and writes `path`. */
  async function ktutilKeytab(path: string, principal: string, adds: ReadonlyArray<{ kvno: number; enctype: string; salt?: string }>): Promise<void> {
    const script = adds.map((a) => `addent -password -p ${principal} -k ${a.kvno} -e ${a.enctype}${a.salt === undefined ? '' : ` -s ${a.salt}`}\n${PASSWORD}\n`).join('');
    const r = checkRun('ktutil', await realm.run(ktutil(), [], { input: `${script}wkt ${path}\nquit\n` }));
    assert.doesNotMatch(r.stderr, /error|invalid|unknown/i, r.stderr);
  }

  test('1. a keytab kerbside derives from a password lists in MIT klist with exactly the keys MIT ktutil derives', async () => {
    const principal = 'HTTP/host@EXAMPLE.TEST';
    const clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const ours = join(realm.dir, 'kerbside.keytab');
    const theirs = join(realm.dir, 'ktutil.keytab');
    const p = parsePrincipal(principal);
    const entries: KeytabEntry[] = [
      ...await keytabEntriesFromPassword({ principal: p, password: PASSWORD, kvno: 1, enctypes: [18, 17, 19, 20], clock }),
      // A kvno above 255 (needs the 32-bit kvno field) and an explicit salt.
      ...await keytabEntriesFromPassword({ principal: p, password: PASSWORD, kvno: 300, enctypes: [18], clock }),
      ...await keytabEntriesFromPassword({ principal: p, password: PASSWORD, kvno: 2, enctypes: [17], salt: 'EXAMPLE.TESTother', clock }),
    ];
    await writeKeytab(ours, entries);
    await ktutilKeytab(theirs, principal, [
      ...ENCTYPES.map((enctype) => ({ kvno: 1, enctype })),
      { kvno: 300, enctype: 'aes256-cts-hmac-sha1-96' },
      { kvno: 2, enctype: 'aes128-cts-hmac-sha1-96', salt: 'EXAMPLE.TESTother' },
    ]);

    const ourList = parseKlistKeytab(await klist(['-k', '-t', '-e', '-K', `FILE:${ours}`]));
    const theirList = parseKlistKeytab(await klist(['-k', '-t', '-e', '-K', `FILE:${theirs}`]));
    assert.equal(ourList.length, 6);
    assert.deepEqual(ourList.map(comparable).sort(), theirList.map(comparable).sort());
    assert.deepEqual(ourList.map((e) => e.enctype), ['aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96', 'aes128-cts-hmac-sha256-128', 'aes256-cts-hmac-sha384-192', 'aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96']);
    assert.deepEqual(ourList.map((e) => e.kvno), [1, 1, 1, 1, 300, 2]);
    assert.ok(ourList.every((e) => e.timestamp === '01/02/26 03:04:05'), 'the timestamp is the injected clock\'s');
  });

  test('2. keytabs MIT ktutil and kadmin ktadd write are read by kerbside with the keys MIT klist -K shows', async () => {
    const theirs = join(realm.dir, 'ktutil2.keytab');
    await ktutilKeytab(theirs, 'HTTP/host@EXAMPLE.TEST', [...ENCTYPES.map((enctype) => ({ kvno: 7, enctype })), { kvno: 1000, enctype: ENCTYPES[0]! }]);
    const exported = join(realm.dir, 'kadmin.keytab');
    await realm.exportKeytab('HTTP/host.example.test', exported);

    for (const path of [theirs, exported]) {
      const listed = parseKlistKeytab(await klist(['-k', '-t', '-e', '-K', `FILE:${path}`]));
      const read = await readKeytab(`FILE:${path}`);
      assert.ok(read.length >= 4, path);
      assert.deepEqual(
        read.map((e) => `${e.kvno} ${principalToString(e.principal)} ${enctypeName(e.enctype)} ${toHex(e.key)}`),
        listed.map(comparable),
        path,
      );
      assert.deepEqual(read.map((e) => klistTime(e.timestamp)), listed.map((e) => e.timestamp));
    }
  });

  test('4. a ccache MIT kinit writes is read by kerbside with identical content and re-serialised byte for byte', async () => {
    const cache = `FILE:${join(realm.dir, 'mit.ccache')}`;
    await realm.kinit('alice', PASSWORD, { ccache: cache, args: ['-f', '-l', '2h', '-r', '1d'] });
    checkRun('kvno', await realm.run(mitTool('kvno'), ['HTTP/host.example.test'], { env: { KRB5CCNAME: cache } }));
    const bytes = new Uint8Array(await readFile(cache.slice(5)));
    const cc = decodeCcache(bytes);
    assert.equal(toHex(encodeCcache(cc)), toHex(bytes), 're-serialised byte for byte');

    const listed = parseKlistCache(await klist(['-c', cache, '-e', '-f', '-C']));
    assert.equal(principalToString(cc.defaultPrincipal), listed.defaultPrincipal);
    const tickets = ticketsOf(cc);
    assert.equal(tickets.length, listed.credentials.length);
    tickets.forEach((t, i) => {
      const l = listed.credentials[i]!;
      assert.equal(principalToString(t.server), l.service);
      assert.equal(klistTime(t.starttime ?? t.authtime), l.start);
      assert.equal(klistTime(t.endtime), l.expires);
      assert.equal(t.renewTill === undefined ? undefined : klistTime(t.renewTill), l.renewUntil);
      assert.equal(klistFlags(t.ticketFlags), l.flags);
      assert.equal(enctypeName(t.key.enctype), l.sessionEnctype);
    });
    assert.deepEqual(listed.credentials.map((c) => c.flags), ['FRIA', 'FRAT']);
    assert.deepEqual(listConfig(cc).map((c) => `config: ${c.key}(${c.principal}) = ${new TextDecoder().decode(c.value)}`), listed.config);
    assert.equal(getConfigString(cc, 'pa_type', parsePrincipal('krbtgt/EXAMPLE.TEST@EXAMPLE.TEST')), '2');
  });

  test('3. a ccache kerbside writes is listed by MIT klist as written, and MIT kvno can use and extend it', async () => {
    const mitCache = `FILE:${join(realm.dir, 'source.ccache')}`;
    await realm.kinit('alice', PASSWORD, { ccache: mitCache, args: ['-f', '-r', '1d'] });
    const source = await readCcache(mitCache);
    const tgt = ticketsOf(source)[0]!;
    const tgs = tgt.server;

    // Same ticket (valid DER, so klist can show its enctype) with times and flags of our choosing.
    const base = tgt.authtime.getTime();
    const written: Credential = {
      ...tgt,
      starttime: new Date(base + 60_000),
      endtime: new Date(base + 5 * 3600_000),
      renewTill: new Date(base + 3 * 86_400_000),
      ticketFlags: (0x40000000 | 0x10000000 | 0x00800000 | 0x00400000 | 0x00200000 | 0x00040000) >>> 0, // F P R I A O
    };
    const second: Credential = {
      ...tgt,
      server: parsePrincipal('krbtgt/OTHER.TEST@EXAMPLE.TEST', { nameType: 2 }),
      endtime: new Date(base + 1800_000),
      ticketFlags: 0x00200000,
    };
    const { starttime: _s, renewTill: _r, ...secondWithoutTimes } = second;
    let cc: CredentialCache = newCcache(source.defaultPrincipal, { kdcTimeOffset: { seconds: 3, microseconds: 250_000 } });
    cc = storeCredential(cc, written);
    cc = storeCredential(cc, secondWithoutTimes);
    cc = setConfig(cc, 'fast_avail', 'yes', tgs);
    cc = setConfig(cc, 'pa_type', '2', tgs);
    cc = setConfig(cc, 'refresh_time', '1800000000');
    const ours = `FILE:${join(realm.dir, 'kerbside.ccache')}`;
    await writeCcache(ours, cc);

    const listed = parseKlistCache(await klist(['-c', ours, '-e', '-f', '-C']));
    assert.equal(listed.cacheName, ours);
    assert.equal(listed.defaultPrincipal, 'alice@EXAMPLE.TEST');
    assert.equal(listed.credentials.length, 2);
    const [a, b] = listed.credentials as [typeof listed.credentials[0], typeof listed.credentials[0]];
    assert.deepEqual(a, {
      start: klistTime(written.starttime!), expires: klistTime(written.endtime), service: 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST',
      renewUntil: klistTime(written.renewTill!), flags: 'FPRIAO', sessionEnctype: 'aes256-cts-hmac-sha1-96', ticketEnctype: 'aes256-cts-hmac-sha1-96',
    });
    assert.deepEqual(b, {
      start: klistTime(tgt.authtime), expires: klistTime(second.endtime), service: 'krbtgt/OTHER.TEST@EXAMPLE.TEST',
      flags: 'A', sessionEnctype: 'aes256-cts-hmac-sha1-96', ticketEnctype: 'aes256-cts-hmac-sha1-96',
    });
    // Config entries print as MIT prints those of its own caches.
    const mitListed = parseKlistCache(await klist(['-c', mitCache, '-e', '-f', '-C']));
    assert.deepEqual(listed.config.slice(0, 2), mitListed.config);
    assert.deepEqual(listed.config, [
      'config: fast_avail(krbtgt/EXAMPLE.TEST@EXAMPLE.TEST) = yes',
      'config: pa_type(krbtgt/EXAMPLE.TEST@EXAMPLE.TEST) = 2',
      'config: refresh_time = 1800000000',
    ]);

    // MIT uses the TGT from our cache for a TGS exchange and appends the service ticket to our file.
    checkRun('kvno with the kerbside cache', await realm.run(mitTool('kvno'), ['HTTP/host.example.test'], { env: { KRB5CCNAME: ours } }));
    const after = await readCcache(ours);
    assert.deepEqual(after.credentials.slice(0, cc.credentials.length), cc.credentials, 'MIT kept what we wrote');
    assert.deepEqual(ticketsOf(after).map((t) => principalToString(t.server)),
      ['krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', 'krbtgt/OTHER.TEST@EXAMPLE.TEST', 'HTTP/host.example.test@EXAMPLE.TEST']);
    assert.deepEqual(after.kdcTimeOffset, cc.kdcTimeOffset);
  });
});
