import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { fromUtf8 } from '../core/bytes.js';
import { seededRandom } from '../core/random.js';
import { generateKey, stringToKey } from '../crypto/index.js';
import { readKeytab } from '../files/index.js';
import { InvalidArgumentError } from '../core/errors.js';
import { MemoryStore, NTLM_CREDENTIAL_ENCTYPE, PrincipalCache, openSqliteStore } from '../store/index.js';
import { ErrorCode } from '../messages/index.js';
import { KeyRecordMismatchError } from './errors.js';
import { createRealm, realmAdmin } from './admin.js';
import { asReq, encTimestamp, expectAsRep, expectError, openAsRep, passwordKey, T0, UDP_PEER } from '../testing/kdc-client.js';
import { masterKeyProtector, plainKeysForTests } from './keys.js';
import { createKdc } from './processor.js';

const REALM = 'EXAMPLE.TEST';

test('addPrincipal with a password: one key per permitted enctype, RFC 4120 §4 default salt stored explicitly', async () => {
  const store = new MemoryStore({ clock: new ManualClock(T0) });
  const admin = await createRealm({ realm: REALM, store, keys: plainKeysForTests(), random: seededRandom(1) });
  const rec = await admin.addPrincipal('alice', { password: 'pw', maxLife: 3600 });
  assert.equal(rec.name, `alice@${REALM}`);
  assert.equal(rec.maxLife, 3600);
  assert.deepEqual(rec.keys.map((k) => k.enctype), [18, 17, 20, 19]);
  for (const k of rec.keys) {
    assert.equal(k.kvno, 1);
    assert.equal(fromUtf8(k.salt!.value), `${REALM}alice`);
    assert.deepEqual(k.keyvalue, (await stringToKey(k.enctype, 'pw', `${REALM}alice`)).keyvalue);
  }
  const krbtgt = await store.get(`krbtgt/${REALM}@${REALM}`);
  assert.equal(krbtgt?.keys.length, 4);
  assert.equal(krbtgt?.keys[0]?.salt, undefined, 'random keys have no salt');
  // createRealm is idempotent
  assert.deepEqual((await admin.createRealm()).keys, krbtgt?.keys);
});

test('setPassword and randkey add a kvno and keep the old one unless told otherwise', async () => {
  const store = new MemoryStore({ clock: new ManualClock(T0) });
  const admin = realmAdmin({ realm: REALM, store, keys: plainKeysForTests(), random: seededRandom(2), policy: { permittedEnctypes: [18, 20] } });
  await admin.addPrincipal('HTTP/web.example.test');
  const two = await admin.setPassword('HTTP/web.example.test', 'new pw');
  assert.equal(two.kvno, 2);
  assert.deepEqual([...new Set(two.keys.map((k) => k.kvno))], [2, 1]);
  assert.equal(fromUtf8(two.keys[0]!.salt!.value), `${REALM}HTTPweb.example.test`);
  const three = await admin.randkey(`HTTP/web.example.test@${REALM}`, { keepOld: false });
  assert.equal(three.kvno, 3);
  assert.deepEqual(three.keys.map((k) => [k.kvno, k.enctype]), [[3, 18], [3, 20]]);
});

test('names: the realm is added, another realm is refused; weak enctypes need allowWeakCrypto', async () => {
  const admin = realmAdmin({ realm: REALM, store: new MemoryStore(), keys: plainKeysForTests() });
  assert.equal(admin.principalName('a/b'), `a/b@${REALM}`);
  assert.equal(admin.principalName(`a@${REALM}`), `a@${REALM}`);
  assert.throws(() => admin.principalName('a@OTHER.TEST'), /not in realm EXAMPLE\.TEST/);
  await assert.rejects(admin.addPrincipal('old', { password: 'x', enctypes: [23] }), (err: Error & { hint?: string }) => /enctypes 23 is permitted/.test(err.message) && /allowWeakCrypto/.test(err.hint ?? ''));
  const weak = realmAdmin({ realm: REALM, store: new MemoryStore(), keys: plainKeysForTests(), policy: { permittedEnctypes: [18, 23], allowWeakCrypto: true } });
  assert.deepEqual((await weak.addPrincipal('old', { password: 'x' })).keys.map((k) => k.enctype), [18, 23]);
});

test('exportKeytab writes the current keys (or all kvnos) in MIT keytab format', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-kdc-admin-'));
  try {
    const clock = new ManualClock(T0 + 1500);
    const admin = realmAdmin({ realm: REALM, store: new MemoryStore({ clock }), keys: plainKeysForTests(), clock, random: seededRandom(3) });
    await admin.addPrincipal('svc/a', { password: 'one' });
    await admin.setPassword('svc/a', 'two');
    await admin.addPrincipal('svc/b');
    const path = join(dir, 'x.keytab');
    await admin.exportKeytab(['svc/a', 'svc/b'], path);
    const entries = await readKeytab(path);
    assert.equal(entries.length, 8);
    const a18 = entries.find((e) => e.principal.components[1] === 'a' && e.enctype === 18)!;
    assert.equal(a18.kvno, 2);
    assert.equal(a18.principal.realm, REALM);
    assert.equal(a18.timestamp.getTime(), T0 + 1000);
    assert.deepEqual(a18.key, (await stringToKey(18, 'two', `${REALM}svca`)).keyvalue);
    await admin.exportKeytab('svc/a', path, { allKvnos: true });
    assert.deepEqual([...new Set((await readKeytab(path)).map((e) => e.kvno))], [2, 1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('keys wrapped under a master key: stored bytes differ, the KDC and keytab export still work', async () => {
  const clock = new ManualClock(T0);
  const random = seededRandom(4);
  const keys = masterKeyProtector(generateKey(18, random), random);
  const store = new MemoryStore({ clock });
  const admin = await createRealm({ realm: REALM, store, clock, random, keys });
  await admin.addPrincipal('alice', { password: 'alice-pw' });
  const plain = await passwordKey('alice', 'alice-pw');
  const stored = (await store.get(`alice@${REALM}`))!.keys.find((k) => k.enctype === 18)!;
  assert.notDeepEqual(stored.keyvalue, plain.keyvalue);
  assert.deepEqual((await admin.keytabEntries('alice')).find((e) => e.enctype === 18)?.key, plain.keyvalue);
  const kdc = createKdc({ realm: REALM, store, clock, random, keys });
  const rep = expectAsRep(await kdc.process(asReq({ padata: [encTimestamp(plain, T0)] }), UDP_PEER));
  assert.equal(openAsRep(rep, plain).nonce, 12345);
});

test('plain keys are an in-memory test mode: realmAdmin refuses plainKeysForTests() with a persistent store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-admin-'));
  const store = await openSqliteStore({ path: join(dir, 'p.sqlite') });
  try {
    assert.throws(() => realmAdmin({ realm: REALM, store, keys: plainKeysForTests() }), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /in the clear in a persistent database/);
      assert.match(err.hint ?? '', /masterKeyProtector/);
      return true;
    });
    // Behind a PrincipalCache the same rule applies; an in-memory store behind one is fine.
    const cache = await PrincipalCache.open(store, { clock: new ManualClock(T0), pollIntervalMs: 60_000 });
    assert.throws(() => realmAdmin({ realm: REALM, store: cache, keys: plainKeysForTests() }), InvalidArgumentError);
    cache.stop();
    const memCache = await PrincipalCache.open(new MemoryStore(), { clock: new ManualClock(T0), pollIntervalMs: 60_000 });
    realmAdmin({ realm: REALM, store: memCache, keys: plainKeysForTests() });
    await memCache.close();
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('NTLM credential: stored only with realm NTLM and allowNtlm, bound like a key, never used by Kerberos nor exported', async () => {
  const clock = new ManualClock(T0);
  const random = seededRandom(5);
  const keys = masterKeyProtector(generateKey(18, random), random);
  const store = new MemoryStore({ clock });
  const off = await createRealm({ realm: REALM, store, clock, random, keys });
  assert.equal((await off.addPrincipal('dave', { password: 'dave-pw', allowNtlm: true })).ntlmCredential, undefined, 'realm NTLM off');
  const admin = realmAdmin({ realm: REALM, store, clock, random, keys, ntlm: true });
  assert.equal((await admin.addPrincipal('erin', { password: 'erin-pw' })).ntlmCredential, undefined, 'allowNtlm off');
  const alice = await admin.addPrincipal('alice', { password: 'alice-pw', allowNtlm: true });
  const cred = alice.ntlmCredential!;
  assert.equal(cred.enctype, NTLM_CREDENTIAL_ENCTYPE);
  assert.equal(cred.kvno, 1);
  // The NT hash is the RC4-HMAC key of the password (RFC 4757 §5: MD4 of its UTF-16LE form, no salt).
  const rc4 = await stringToKey(23, 'alice-pw', '', undefined, { allowWeak: true });
  assert.deepEqual(keys.open(cred, `alice@${REALM}`).keyvalue, rc4.keyvalue);
  assert.throws(() => keys.open(cred, `erin@${REALM}`), KeyRecordMismatchError, 'bound to its principal');
  assert.throws(() => keys.open({ ...cred, enctype: 23 }, `alice@${REALM}`), KeyRecordMismatchError, 'bound to its enctype');
  assert.deepEqual(alice.keys.map((k) => k.enctype), [18, 17, 20, 19]);
  assert.ok((await admin.keytabEntries('alice', { allKvnos: true })).every((e) => e.enctype !== NTLM_CREDENTIAL_ENCTYPE && e.enctype !== 23));
  // A client asking for the private enctype (or RC4) gets no reply key: weak crypto is off.
  const kdc = createKdc({ realm: REALM, store, clock, random, keys });
  const plain = await passwordKey('alice', 'alice-pw');
  for (const etypes of [[NTLM_CREDENTIAL_ENCTYPE], [23], [NTLM_CREDENTIAL_ENCTYPE, 23]]) {
    const err = expectError(await kdc.process(asReq({ etypes, padata: [encTimestamp(plain, T0)] }), UDP_PEER));
    assert.equal(err.errorCode, ErrorCode.KDC_ERR_ETYPE_NOSUPP, `etypes ${etypes.join(',')}`);
  }
  // set-password renews it under the new kvno; randkey (no password) drops it.
  const two = await admin.setPassword('alice', 'alice-pw2');
  assert.equal(two.ntlmCredential?.kvno, 2);
  assert.deepEqual(keys.open(two.ntlmCredential!, `alice@${REALM}`).keyvalue, (await stringToKey(23, 'alice-pw2', '', undefined, { allowWeak: true })).keyvalue);
  assert.equal((await admin.randkey('alice')).ntlmCredential, undefined);
});
