/**
 * Wrapped keys are bound to their record (kdc/keys.ts): key bytes moved
 * between records in the SQLite file are refused, and a realm written in the
 * first, unbound format still works and is re-wrapped when it is opened.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import { readKeytab } from '../files/index.js';
import { ErrorCode } from '../messages/index.js';
import { openWalDatabase, type SqliteDatabase } from '../store/index.js';
import * as kdcModule from '../kdc/index.js';
import { createKdc } from '../kdc/index.js';
import { T0, UDP_PEER, asReq, encTimestamp, expectAsRep, expectError, passwordKey } from '../testing/kdc-client.js';
import { REALM_FILES } from './kdc-conf.js';
import { createRealmDirectory, openRealm } from './realm-dir.js';

const REALM = 'EXAMPLE.TEST';
const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

async function realmWithUsers(): Promise<{ dir: string; env: { clock: ManualClock; random: ReturnType<typeof seededRandom> } }> {
  const dir = join(await mkdtemp(join(tmpdir(), 'kerbside-keybind-')), 'realm');
  dirs.push(dir);
  const env = { clock: new ManualClock(T0), random: seededRandom(11) };
  const realm = await createRealmDirectory({ dir, realm: REALM, ...env });
  await realm.admin.addPrincipal('alice', { password: 'alice-pw' });
  await realm.admin.addPrincipal('mallory', { password: 'mallory-pw' });
  await realm.close();
  return { dir, env };
}

/** The realm database through this Node's SQLite driver (node:sqlite or better-sqlite3), as an attacker with write access edits it. */
async function withDb<T>(dir: string, fn: (db: SqliteDatabase) => T): Promise<T> {
  const db = await openWalDatabase(join(dir, REALM_FILES.database), 5000, 'FULL');
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

test('a wrapped key moved to another principal in the SQLite file is refused (typed error, KRB_ERR_GENERIC), not used to log in', async () => {
  const { dir, env } = await realmWithUsers();
  // Mallory, who can write to the database but has no stash, copies her own aes256 key into alice's record.
  await withDb(dir, (db) => {
    const mine = db.prepare('SELECT keyvalue FROM principal_keys WHERE principal = ? AND enctype = 18').pluck().get(`mallory@${REALM}`);
    db.prepare('UPDATE principal_keys SET keyvalue = ? WHERE principal = ? AND enctype = 18').run(mine, `alice@${REALM}`);
  });
  const realm = await openRealm(dir, env);
  try {
    const events = memorySink();
    const kdc = createKdc({ realm: REALM, store: realm.store, clock: env.clock, random: env.random, events, keys: realm.keys });
    const malloryKey = await passwordKey('mallory', 'mallory-pw');
    const reply = await kdc.process(asReq({ client: 'alice', etypes: [18], padata: [encTimestamp(malloryKey, T0)] }), UDP_PEER);
    const err = expectError(reply);
    assert.equal(err.errorCode, ErrorCode.KRB_ERR_GENERIC);
    const ev = events.ofType('kdc.request').at(-1);
    assert.equal(ev?.severity, 'error');
    assert.match(String(ev?.fields['reason']), /was wrapped for .* of mallory@EXAMPLE\.TEST: key bytes were moved between records/);
    // The typed error, as the admin side sees it (keytab export opens the same key).
    const record = await realm.store.get(`alice@${REALM}`);
    assert.throws(() => realm.keys.open(record!.keys.find((k) => k.enctype === 18)!, `alice@${REALM}`), { code: 'ERR_KEY_RECORD_MISMATCH' });
    // Alice's other keys are untouched and still work.
    const aliceKey = await passwordKey('alice', 'alice-pw', 17);
    expectAsRep(await kdc.process(asReq({ client: 'alice', etypes: [17], nonce: 2, padata: [encTimestamp(aliceKey, T0)] }), UDP_PEER));
  } finally {
    await realm.close();
  }
});

test('a key moved to another kvno of the same principal is refused', async () => {
  const { dir, env } = await realmWithUsers();
  const first = await openRealm(dir, env);
  await first.admin.setPassword('alice', 'alice-pw-2');
  await first.close();
  // Roll kvno 2 back to the kvno 1 key (the old password) by copying bytes.
  await withDb(dir, (db) => {
    const old = db.prepare('SELECT keyvalue FROM principal_keys WHERE principal = ? AND kvno = 1 AND enctype = 18').pluck().get(`alice@${REALM}`);
    db.prepare('UPDATE principal_keys SET keyvalue = ? WHERE principal = ? AND kvno = 2 AND enctype = 18').run(old, `alice@${REALM}`);
  });
  const realm = await openRealm(dir, env);
  try {
    const kdc = createKdc({ realm: REALM, store: realm.store, clock: env.clock, random: env.random, keys: realm.keys });
    const oldKey = await passwordKey('alice', 'alice-pw');
    const err = expectError(await kdc.process(asReq({ client: 'alice', etypes: [18], padata: [encTimestamp(oldKey, T0)] }), UDP_PEER));
    assert.equal(err.errorCode, ErrorCode.KRB_ERR_GENERIC);
  } finally {
    await realm.close();
  }
});

test('a realm whose keys are in the first (unbound) format still works, is re-wrapped on open, and then refuses old-format blobs', async () => {
  const { dir, env } = await realmWithUsers();
  // The fixture: every key rewritten in the first format, and the migration marker removed, as a realm made before the change.
  const stash = (await readKeytab(join(dir, REALM_FILES.stash)))[0]!;
  const masterKey = { enctype: stash.enctype, keyvalue: stash.key };
  const current = kdcModule.masterKeyProtector(masterKey, env.random);
  const legacyBlobs = new Map<string, Uint8Array>();
  await withDb(dir, (db) => {
    const rows = db.prepare('SELECT principal, kvno, enctype, keyvalue FROM principal_keys').all() as { principal: string; kvno: number; enctype: number; keyvalue: Uint8Array }[];
    const update = db.prepare('UPDATE principal_keys SET keyvalue = ? WHERE principal = ? AND kvno = ? AND enctype = ?');
    for (const r of rows) {
      const key = current.open({ kvno: r.kvno, enctype: r.enctype, keyvalue: new Uint8Array(r.keyvalue) }, r.principal);
      const old = kdcModule.sealLegacyForTests(masterKey, key, env.random);
      legacyBlobs.set(`${r.principal}/${r.kvno}/${r.enctype}`, old);
      update.run(Buffer.from(old), r.principal, r.kvno, r.enctype);
    }
    db.prepare("DELETE FROM realm_meta WHERE key = 'kerbside.key_wrap'").run();
  });

  const realm = await openRealm(dir, env);
  try {
    const alice = await realm.store.get(`alice@${REALM}`);
    assert.ok(alice!.keys.every((k) => !kdcModule.isLegacyWrappedKey(k.keyvalue)), 'every key re-wrapped in the record-bound format');
    assert.equal(await realm.store.getMeta('kerbside.key_wrap'), '2');
    const kdc = createKdc({ realm: REALM, store: realm.store, clock: env.clock, random: env.random, keys: realm.keys });
    const aliceKey = await passwordKey('alice', 'alice-pw');
    expectAsRep(await kdc.process(asReq({ client: 'alice', padata: [encTimestamp(aliceKey, T0)] }), UDP_PEER));
  } finally {
    await realm.close();
  }

  // An old-format blob restored from an old backup after the migration is refused.
  await withDb(dir, (db) => {
    db.prepare('UPDATE principal_keys SET keyvalue = ? WHERE principal = ? AND kvno = 1 AND enctype = 18')
      .run(Buffer.from(legacyBlobs.get(`mallory@${REALM}/1/18`)!), `alice@${REALM}`);
  });
  const again = await openRealm(dir, env);
  try {
    const record = await again.store.get(`alice@${REALM}`);
    assert.throws(() => again.keys.open(record!.keys.find((k) => k.enctype === 18)!, `alice@${REALM}`), { code: 'ERR_KEY_RECORD_MISMATCH' });
  } finally {
    await again.close();
  }
});
