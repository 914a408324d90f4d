import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex, utf8 } from '../core/bytes.js';
import {
  decodeCcache, encodeCcache, getConfig, getConfigString, isConfigEntry, listConfig, newCcache, setConfig,
  storeCredential, ticketsOf, type Credential, type CredentialCache,
} from './ccache.js';
import {
  destroyCcache, findCcacheFor, listCcacheCollection, newUniqueCcache, readCcache, switchCcache, writeCcache,
} from './ccache-file.js';
import { seededRandom } from '../core/random.js';
import { readFile } from 'node:fs/promises';
import { CcacheFormatError, FileAccessError, UnsupportedStorageTypeError } from './errors.js';
import { expandPathTokens, parseCcacheName, parseKeytabName, resolveCcacheName, resolveKeytabName } from './names.js';
import { parsePrincipal, principalToString } from './principal.js';
import { MIT_KINIT_CCACHE_HEX } from './testdata/mit-vectors.js';

const ALICE = parsePrincipal('alice@EXAMPLE.TEST');
const TGS = parsePrincipal('krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', { nameType: 2 });

function cred(over: Partial<Credential> = {}): Credential {
  return {
    client: ALICE, server: TGS, key: { enctype: 18, keyvalue: new Uint8Array(32).fill(7) },
    authtime: new Date(1_800_000_000_000), starttime: new Date(1_800_000_010_000),
    endtime: new Date(1_800_036_000_000), renewTill: new Date(1_800_604_800_000),
    isSkey: false, ticketFlags: 0x40e10000,
    addresses: [{ addrType: 2, address: Uint8Array.from([127, 0, 0, 1]) }],
    authdata: [{ adType: -138, adData: Uint8Array.from([1, 2]) }],
    ticket: Uint8Array.from([0x61, 0x03, 0x02, 0x01, 0x05]), secondTicket: new Uint8Array(0),
    ...over,
  };
}

describe('ccache codec', () => {
  const mit = fromHex(MIT_KINIT_CCACHE_HEX);

  test('decodes the cache MIT 1.20 kinit + kvno wrote (doc/formats/ccache_file_format.rst)', () => {
    const cc = decodeCcache(mit);
    assert.equal(cc.version, 4);
    assert.deepEqual(cc.kdcTimeOffset, { seconds: 0, microseconds: 0 });
    assert.equal(principalToString(cc.defaultPrincipal), 'alice@EXAMPLE.TEST');
    assert.equal(cc.credentials.length, 4);
    assert.deepEqual(listConfig(cc).map((c) => [c.key, c.principal, new TextDecoder().decode(c.value)]), [
      ['fast_avail', 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', 'yes'],
      ['pa_type', 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST', '2'],
    ]);
    assert.equal(getConfigString(cc, 'pa_type', TGS), '2');
    const [tgt, svc] = ticketsOf(cc) as [Credential, Credential];
    assert.equal(principalToString(tgt.server), 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
    assert.equal(principalToString(svc.server), 'HTTP/host.example.test@EXAMPLE.TEST');
    assert.equal(tgt.key.enctype, 18);
    assert.equal(tgt.key.keyvalue.length, 32);
    // kinit -l 1h -r 2h
    assert.equal(tgt.endtime.getTime() - tgt.authtime.getTime(), 3600_000);
    assert.equal(tgt.renewTill!.getTime() - tgt.authtime.getTime(), 7200_000);
    assert.deepEqual(tgt.starttime, tgt.authtime);
    // FRIA plus enc-pa-rep (bit 15), FRAT plus enc-pa-rep.
    assert.equal(tgt.ticketFlags, 0x40e10000);
    assert.equal(svc.ticketFlags, 0x40a90000);
    assert.equal(tgt.ticket[0], 0x61, 'ticket kept as raw DER (APPLICATION 1)');
    assert.equal(svc.secondTicket.length, 0);
  });

  test('re-encodes the MIT cache byte for byte', () => {
    assert.equal(toHex(encodeCcache(decodeCcache(mit))), MIT_KINIT_CCACHE_HEX);
  });

  test('round-trips addresses, signed authdata types, absent start/renew times and unknown header tags', () => {
    const cc: CredentialCache = {
      version: 4,
      kdcTimeOffset: { seconds: -42, microseconds: 123_456 },
      otherHeaderFields: [{ tag: 77, value: Uint8Array.from([9, 9]) }],
      defaultPrincipal: ALICE,
      credentials: [cred(), cred({ isSkey: true, secondTicket: Uint8Array.from([0x61, 0]) })],
    };
    assert.deepEqual(decodeCcache(encodeCcache(cc)), cc);
    const { starttime: _s, renewTill: _r, ...noTimes } = cred();
    const bare = { version: 4 as const, defaultPrincipal: ALICE, credentials: [noTimes] };
    assert.deepEqual(decodeCcache(encodeCcache(bare)), bare);
  });

  test('reads and writes version 3 (no header, enctype stored twice)', () => {
    const v3: CredentialCache = { version: 3, defaultPrincipal: ALICE, credentials: [cred()] };
    const bytes = encodeCcache(v3);
    assert.deepEqual([...bytes.subarray(0, 2)], [5, 3]);
    assert.deepEqual(decodeCcache(bytes), v3);
    assert.equal(bytes.length, encodeCcache({ ...v3, version: 4 }).length, 'no (empty, 2-byte) header, one more enctype (+2)');
  });

  test('refuses versions 1 and 2 and foreign files clearly', () => {
    for (const [bytes, pattern] of [
      [Uint8Array.from([5, 1, 0, 0]), /0x0501.*not supported/],
      [Uint8Array.from([5, 2, 0, 0]), /0x0502.*not supported/],
      [Uint8Array.from([5, 5]), /0x0505/],
      [Uint8Array.from([0x30, 0x82]), /not a ccache version/],
    ] as const) {
      assert.throws(() => decodeCcache(bytes), (e: unknown) => e instanceof CcacheFormatError && e.reason === 'bad-version' && pattern.test(e.message));
    }
  });

  test('every truncation is a typed error, except between credentials (a shorter valid cache)', () => {
    const cc: CredentialCache = { version: 4, kdcTimeOffset: { seconds: 1, microseconds: 2 }, defaultPrincipal: ALICE, credentials: [cred(), cred()] };
    const full = encodeCcache(cc);
    const withoutCreds = encodeCcache({ ...cc, credentials: [] }).length;
    const oneCred = encodeCcache({ ...cc, credentials: [cred()] }).length;
    for (let cut = 0; cut < full.length; cut++) {
      const part = full.subarray(0, cut);
      if (cut === withoutCreds || cut === oneCred) {
        assert.equal(decodeCcache(part).credentials.length, cut === oneCred ? 1 : 0);
        continue;
      }
      assert.throws(() => decodeCcache(part), (e: unknown) => {
        assert.ok(e instanceof CcacheFormatError, `cut ${cut}: ${String(e)}`);
        assert.ok(e.offset >= 0 && e.offset <= cut, `cut ${cut}: offset ${e.offset}`);
        assert.ok(['truncated', 'length-out-of-range'].includes(e.reason), `cut ${cut}: ${e.reason}`);
        return true;
      });
    }
  });

  test('implausible counts and bad flags are typed errors, not long loops', () => {
    const base = encodeCcache({ version: 4, defaultPrincipal: ALICE, credentials: [] });
    const huge = base.slice();
    new DataView(huge.buffer).setUint32(2 + 2 + 4, 0xffffffff); // component count of the default principal
    assert.throws(() => decodeCcache(huge), (e: unknown) => e instanceof CcacheFormatError && e.reason === 'length-out-of-range' && e.offset === 8);
    const one = encodeCcache({ version: 4, defaultPrincipal: ALICE, credentials: [cred({ addresses: [], authdata: [] })] });
    const skeyAt = one.length - 4 - 4 - 4 - 4 - 5 - 4 - 1; // …is_skey, flags, 2 counts, ticket(4+5), second ticket(4)
    const bad = one.slice();
    bad[skeyAt] = 2;
    assert.throws(() => decodeCcache(bad), (e: unknown) => e instanceof CcacheFormatError && e.reason === 'bad-value' && e.offset === skeyAt);
  });
});

describe('ccache configuration entries', () => {
  test('set, replace, read and remove, as MIT writes them (client = default principal, fields zero)', () => {
    let cc = storeCredential(newCcache(ALICE), cred());
    cc = setConfig(cc, 'fast_avail', 'yes', TGS);
    cc = setConfig(cc, 'refresh_time', '1800003600');
    cc = setConfig(cc, 'pa_type', '2', TGS);
    cc = setConfig(cc, 'fast_avail', 'no', TGS); // replaced in place
    assert.deepEqual(listConfig(cc).map((c) => `${c.key}=${new TextDecoder().decode(c.value)}`), ['fast_avail=no', 'refresh_time=1800003600', 'pa_type=2']);
    const entry = cc.credentials[1]!;
    assert.ok(isConfigEntry(entry));
    assert.deepEqual(entry.client, ALICE);
    assert.deepEqual(entry.server, { realm: 'X-CACHECONF:', nameType: 0, components: ['krb5_ccache_conf_data', 'fast_avail', 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST'] });
    assert.equal(entry.endtime.getTime(), 0);
    assert.equal(entry.key.enctype, 0);
    assert.equal(getConfig(cc, 'fast_avail'), undefined, 'a key bound to a principal is not the unbound key');
    assert.deepEqual(getConfig(cc, 'refresh_time'), utf8('1800003600'));
    cc = setConfig(cc, 'refresh_time', undefined);
    assert.equal(getConfig(cc, 'refresh_time'), undefined);
    assert.equal(ticketsOf(cc).length, 1);
    assert.throws(() => setConfig(cc, 'a/b', 'x'), /no "\/"/);
  });

  test('storeCredential replaces the ticket for the same client and server', () => {
    let cc = storeCredential(newCcache(ALICE), cred());
    cc = setConfig(cc, 'pa_type', '2', TGS);
    cc = storeCredential(cc, cred({ endtime: new Date(1_900_000_000_000) }));
    cc = storeCredential(cc, cred({ server: parsePrincipal('HTTP/h@EXAMPLE.TEST') }));
    assert.equal(cc.credentials.length, 3);
    assert.equal(cc.credentials[0]!.endtime.getTime(), 1_900_000_000_000);
  });
});

describe('ccache and keytab names', () => {
  test('FILE: and plain paths resolve; other types are refused clearly', () => {
    assert.deepEqual(parseCcacheName('FILE:/tmp/x'), { type: 'FILE', path: '/tmp/x' });
    assert.deepEqual(parseCcacheName('/tmp/krb5cc_0'), { type: 'FILE', path: '/tmp/krb5cc_0' });
    assert.deepEqual(parseCcacheName('C:\\cache'), { type: 'FILE', path: 'C:\\cache' });
    assert.deepEqual(parseKeytabName('WRFILE:/etc/krb5.keytab'), { type: 'FILE', path: '/etc/krb5.keytab' });
    assert.deepEqual(parseCcacheName('DIR:/run/user/0/krb5cc'), { type: 'DIR', directory: '/run/user/0/krb5cc' });
    assert.deepEqual(parseCcacheName('DIR::/run/user/0/krb5cc/tktAb12Cd'), { type: 'DIR', directory: '/run/user/0/krb5cc', path: '/run/user/0/krb5cc/tktAb12Cd' });
    assert.throws(() => parseCcacheName('DIR::/run/user/0/krb5cc/other'), /a file named tkt/);
    assert.deepEqual(parseCcacheName('MEMORY:x'), { type: 'MEMORY', residual: 'x' });
    for (const name of ['KCM:0', 'API:x']) {
      assert.throws(() => parseCcacheName(name), (e: unknown) => e instanceof UnsupportedStorageTypeError && /not supported by kerbside; the cache types that work are FILE, DIR, MEMORY/.test(e.message) && /FILE/.test(e.hint ?? ''));
    }
    for (const name of ['KEYRING:persistent:0', 'KEYRING:session:x']) {
      assert.throws(() => parseCcacheName(name), (e: unknown) => e instanceof UnsupportedStorageTypeError && /kernel keyring.*FILE, DIR, MEMORY/.test(e.message) && /DIR:/.test(e.hint ?? ''));
    }
    assert.throws(() => parseCcacheName('BOGUS:x'), (e: unknown) => e instanceof UnsupportedStorageTypeError && /unknown credential cache type/.test(e.message));
    assert.throws(() => parseKeytabName('MEMORY:x'), UnsupportedStorageTypeError);
    assert.throws(() => parseCcacheName('FILE:'), /empty path/);
  });

  test('the default cache name follows KRB5CCNAME, then default_ccache_name, then FILE:/tmp/krb5cc_<uid>', () => {
    assert.equal(resolveCcacheName({ env: {}, uid: 1234 }), 'FILE:/tmp/krb5cc_1234');
    assert.equal(resolveCcacheName({ env: { KRB5CCNAME: 'FILE:/x' }, uid: 1, configured: 'FILE:/y' }), 'FILE:/x');
    assert.equal(resolveCcacheName({ env: { TMPDIR: '/t' }, uid: 5, configured: 'FILE:%{TEMP}/cc_%{uid}' }), 'FILE:/t/cc_5');
    assert.equal(resolveKeytabName({ env: {} }), 'FILE:/etc/krb5.keytab');
    assert.equal(resolveKeytabName({ env: { KRB5_KTNAME: '/k' } }), '/k');
    if (process.getuid !== undefined) assert.equal(resolveCcacheName({ env: {} }), `FILE:/tmp/krb5cc_${process.getuid()}`);
    assert.throws(() => expandPathTokens('/x/%{bogus}'), /unknown token/);
  });
});

describe('ccache files', () => {
  let dir = '';
  after(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }); });

  test('writes atomically with mode 0600, reads back, destroys; errors name the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kerbside-cc-'));
    const name = `FILE:${join(dir, 'cc')}`;
    const cc = setConfig(storeCredential(newCcache(ALICE), cred()), 'pa_type', '2', TGS);
    await writeCcache(name, cc);
    assert.equal((await stat(join(dir, 'cc'))).mode & 0o777, 0o600);
    assert.deepEqual(await readCcache(name), cc);
    await writeCcache(name, setConfig(cc, 'pa_type', '16', TGS));
    assert.equal(getConfigString(await readCcache(name), 'pa_type', TGS), '16');
    assert.deepEqual(await readdir(dir), ['cc']);
    await destroyCcache(name);
    await destroyCcache(name);
    await assert.rejects(readCcache(name), (e: unknown) => e instanceof FileAccessError && e.errno === 'ENOENT');
    await writeFile(join(dir, 'bad'), Uint8Array.from([5, 4, 0, 0, 0]));
    await assert.rejects(readCcache(join(dir, 'bad')), (e: unknown) => e instanceof CcacheFormatError && e.file === join(dir, 'bad'));
    await assert.rejects(readCcache('KEYRING:persistent:0'), UnsupportedStorageTypeError);
  });

  test('DIR collections (MIT cc_dir.c layout): primary file, tkt* caches, new unique names, switch, match', async () => {
    const col = join(await mkdtemp(join(tmpdir(), 'kerbside-dir-')), 'collection');
    const name = `DIR:${col}`;
    assert.deepEqual(await listCcacheCollection(name), [], 'a missing directory is an empty collection');
    await writeCcache(name, newCcache(ALICE));
    assert.equal((await stat(col)).mode & 0o777, 0o700, 'the directory is created private');
    assert.deepEqual((await readdir(col)).sort(), ['primary', 'tkt'], 'the first cache written becomes the primary, as MIT records it');
    assert.equal(await readFile(join(col, 'primary'), 'utf8'), 'tkt\n');
    const bob = parsePrincipal('bob@EXAMPLE.TEST');
    const other = await newUniqueCcache(name, seededRandom(7));
    assert.match(other, new RegExp(`^DIR::${col}/tkt[A-Za-z0-9]{6}$`));
    assert.notEqual(await newUniqueCcache(name, seededRandom(8)), other);
    await writeCcache(other, newCcache(bob));
    assert.equal(await findCcacheFor(name, bob), other);
    assert.equal(await findCcacheFor(name, parsePrincipal('carol@EXAMPLE.TEST')), undefined);
    await switchCcache(other);
    assert.equal(await readFile(join(col, 'primary'), 'utf8'), `${other.slice(other.lastIndexOf('/') + 1)}\n`);
    assert.equal(principalToString((await readCcache(name)).defaultPrincipal), 'bob@EXAMPLE.TEST', 'DIR:dir reads the primary');
    assert.equal((await listCcacheCollection(name))[0], other, 'the primary is listed first');
    assert.deepEqual(await listCcacheCollection(`DIR::${col}/tkt`), [`DIR::${col}/tkt`], 'a DIR:: name is a collection of one');
    await destroyCcache(name);
    await assert.rejects(readCcache(other), (e: unknown) => e instanceof FileAccessError && e.errno === 'ENOENT');
  });

  test('MEMORY caches are per process and per name', async () => {
    await writeCcache('MEMORY:a', newCcache(ALICE));
    assert.equal(principalToString((await readCcache('MEMORY:a')).defaultPrincipal), principalToString(ALICE));
    await assert.rejects(readCcache('MEMORY:b'), (e: unknown) => e instanceof FileAccessError && e.errno === 'ENOENT');
    assert.ok((await listCcacheCollection('MEMORY:b')).includes('MEMORY:a'));
    await destroyCcache('MEMORY:a');
    await assert.rejects(readCcache('MEMORY:a'), FileAccessError);
  });
});
