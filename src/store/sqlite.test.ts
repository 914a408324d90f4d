import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ManualClock } from '../core/clock.js';
import { runStoreConformance } from './conformance.js';
import { StoreDependencyMissingError, StoreUnavailableError } from './errors.js';
import { PrincipalCache } from './cache.js';
import { loadBetterSqlite3, openSqliteStore } from './sqlite.js';
import { loadNodeSqlite, openSqliteDatabase, sqliteCodeName, sqliteDriverName, type SqliteDriverName } from './sqlite-driver.js';
import { sqliteDriversUnderTest } from '../testing/sqlite-drivers.js';

const drivers = await sqliteDriversUnderTest();

let root = '';
let n = 0;
before(() => { root = mkdtempSync(join(tmpdir(), 'kerbside-store-')); });
after(() => { rmSync(root, { recursive: true, force: true }); });
const freshPath = () => join(root, `db${++n}`, 'principals.sqlite');

for (const driver of drivers) {
  runStoreConformance(`sqlite (${driver})`, async ({ clock, changeLogLimit }) => {
    const path = freshPath();
    const opts = changeLogLimit === undefined ? { path, clock, driver } : { path, clock, changeLogLimit, driver };
    const store = await openSqliteStore(opts);
    assert.equal(store.driver, driver);
    return {
      store,
      lockout: store.lockout,
      reopen: () => openSqliteStore(opts),
      close: () => store.close(),
    };
  });
}

test('sqlite: node:sqlite is the default driver where this Node has it (>= 22.13), better-sqlite3 otherwise; KERBSIDE_SQLITE_DRIVER forces one', () => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const hasNodeSqlite = major > 23 || (major === 23 && minor >= 5) || (major === 22 && minor >= 13);
  assert.equal(loadNodeSqlite() !== undefined, hasNodeSqlite, `node:sqlite availability in Node ${process.versions.node}`);
  assert.equal(sqliteDriverName({}), hasNodeSqlite ? 'node' : 'better-sqlite3');
  assert.equal(sqliteDriverName({ KERBSIDE_SQLITE_DRIVER: 'better-sqlite3' }), 'better-sqlite3');
  assert.equal(sqliteDriverName({ KERBSIDE_SQLITE_DRIVER: 'node' }), 'node');
  assert.throws(() => sqliteDriverName({ KERBSIDE_SQLITE_DRIVER: 'sqlite3' }), (err: unknown) => {
    assert.ok(err instanceof StoreUnavailableError);
    assert.match(err.message, /KERBSIDE_SQLITE_DRIVER=sqlite3/);
    return true;
  });
});

for (const driver of drivers) {
  test(`sqlite (${driver}): a write lock held past busyTimeoutMs is StoreUnavailableError SQLITE_BUSY with its hint`, async () => {
    const path = freshPath();
    const store = await openSqliteStore({ path, driver, busyTimeoutMs: 50 });
    const other = await openSqliteDatabase(path, { busyTimeoutMs: 50, driver });
    try {
      other.exec('BEGIN IMMEDIATE');
      await assert.rejects(store.create({ name: 'x@R' }), (err: unknown) => {
        assert.ok(err instanceof StoreUnavailableError);
        assert.equal(err.detail?.['code'], 'SQLITE_BUSY');
        assert.match(err.hint ?? '', /busyTimeoutMs/);
        return true;
      });
      other.exec('ROLLBACK');
      await store.create({ name: 'x@R' });
    } finally {
      other.close();
      await store.close();
    }
  });
}

test('sqlite: node:sqlite result codes get better-sqlite3\'s names (sqlite.org/rescode.html)', () => {
  assert.equal(sqliteCodeName(5), 'SQLITE_BUSY');
  assert.equal(sqliteCodeName(517), 'SQLITE_BUSY_SNAPSHOT');
  assert.equal(sqliteCodeName(26), 'SQLITE_NOTADB');
  assert.equal(sqliteCodeName(1555), 'SQLITE_CONSTRAINT_PRIMARYKEY');
  assert.equal(sqliteCodeName(13 | (9 << 8)), 'SQLITE_FULL', 'an extended code not in the table falls back to its primary name');
});

// In one process only where both drivers load (a Node >= 22.13 with better-sqlite3 built for it); on Node 20,
// src/node-matrix.test.ts passes one realm file between the drivers across processes in every run.
if (drivers.length >= 2) test('sqlite: a database written with one driver opens with the other (the same SQLite file format)', async () => {
  const pairs: [SqliteDriverName, SqliteDriverName][] = [[drivers[0]!, drivers[1]!], [drivers[1]!, drivers[0]!]];
  for (const [first, second] of pairs) {
    const path = freshPath();
    const a = await openSqliteStore({ path, driver: first });
    await a.create({ name: 'x@R', keys: [{ enctype: 18, keyvalue: new Uint8Array(32).fill(7), salt: { type: 3, value: Uint8Array.of(1, 2) } }] });
    await a.setMeta('blob', Uint8Array.of(0, 255));
    await a.close();
    const b = await openSqliteStore({ path, driver: second });
    try {
      assert.equal(b.driver, second);
      const r = await b.get('x@R');
      assert.deepEqual(r?.keys[0]?.keyvalue, new Uint8Array(32).fill(7));
      assert.deepEqual(r?.keys[0]?.salt, { type: 3, value: Uint8Array.of(1, 2) });
      assert.deepEqual(await b.getMeta('blob'), Uint8Array.of(0, 255));
      await b.create({ name: 'y@R' });
    } finally {
      await b.close();
    }
  }
});

test('sqlite: WAL with synchronous=FULL; new file and directory are private (0600/0700)', async () => {
  const path = freshPath();
  const store = await openSqliteStore({ path });
  try {
    assert.deepEqual(store.durability, { journalMode: 'wal', synchronous: 2 });
    await store.create({ name: 'a@R' });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600, 'SQLite gives the WAL the database file\'s mode');
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  } finally {
    await store.close();
  }
});

test('sqlite: a database written by a newer schema is refused with StoreUnavailableError', async () => {
  const path = freshPath();
  const store = await openSqliteStore({ path });
  await store.close();
  const db = await openSqliteDatabase(path, { busyTimeoutMs: 1000 });
  db.pragma('user_version = 99');
  db.close();
  await assert.rejects(openSqliteStore({ path }), (err: unknown) => {
    assert.ok(err instanceof StoreUnavailableError);
    assert.match(err.message, /schema version 99/);
    return true;
  });
});

test('sqlite: a record written before a flag existed reads with that flag\'s default (no migration surprise)', async () => {
  const path = freshPath();
  const store = await openSqliteStore({ path });
  await store.create({ name: 'old@EXAMPLE.TEST', keys: [{ enctype: 18, keyvalue: new Uint8Array(32) }], allowService: false });
  await store.close();
  const db = await openSqliteDatabase(path, { busyTimeoutMs: 1000 });
  const row = db.prepare('SELECT attributes FROM principals WHERE name = ?').get('old@EXAMPLE.TEST') as { attributes: string };
  const attributes = JSON.parse(row.attributes) as Record<string, unknown>;
  delete attributes['allowService'];
  db.prepare('UPDATE principals SET attributes = ? WHERE name = ?').run(JSON.stringify(attributes), 'old@EXAMPLE.TEST');
  db.close();
  const reopened = await openSqliteStore({ path });
  try {
    assert.equal((await reopened.get('old@EXAMPLE.TEST'))?.allowService, true, 'every principal was a service before DISALLOW_SVR was the user default');
  } finally {
    await reopened.close();
  }
});

test('sqlite: a file that is not a database is refused with StoreUnavailableError naming the path', async () => {
  const path = freshPath();
  const store = await openSqliteStore({ path });
  await store.close();
  writeFileSync(path, 'this is not a database, just text long enough to have a header.............................');
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  await assert.rejects(openSqliteStore({ path }), (err: unknown) => {
    assert.ok(err instanceof StoreUnavailableError);
    assert.ok(err.message.includes(path));
    assert.match(err.hint ?? '', /not a SQLite database/);
    return true;
  });
});

test('sqlite: a missing better-sqlite3 gives the typed install hint', async () => {
  const missing = Object.assign(new Error("Cannot find package 'better-sqlite3'"), { code: 'ERR_MODULE_NOT_FOUND' });
  await assert.rejects(loadBetterSqlite3(() => Promise.reject(missing)), (err: unknown) => {
    assert.ok(err instanceof StoreDependencyMissingError);
    assert.equal(err.code, 'ERR_STORE_DEPENDENCY_MISSING');
    assert.equal(err.message, 'the embedded store needs the optional dependency better-sqlite3 on this Node.js: npm install better-sqlite3');
    assert.match(err.hint ?? '', /Node >= 22\.13 .* node:sqlite/);
    assert.equal(err.cause, missing);
    return true;
  });
  const broken = Object.assign(new Error('wrong NODE_MODULE_VERSION'), { code: 'ERR_DLOPEN_FAILED' });
  await assert.rejects(loadBetterSqlite3(() => Promise.reject(broken)), StoreUnavailableError);
});

// A child process that creates principals in a loop and prints the index of each
// one after its create() resolved, until it is killed.
const CHILD = `
const { openSqliteStore } = await import(process.argv[1]);
const store = await openSqliteStore({ path: process.argv[2] });
for (let i = 0; ; i++) {
  await store.create({ name: 'user' + i + '@EXAMPLE.COM', keys: [{ enctype: 18, keyvalue: new Uint8Array(32).fill(i & 255) }] });
  process.stdout.write(i + '\\n');
}
`;

const children = new Set<ReturnType<typeof spawn>>();
after(() => { for (const c of children) c.kill('SIGKILL'); });

function startWriter(path: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, new URL('./sqlite.js', import.meta.url).href, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const acks = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return { child, exited, acks };
}

test('sqlite: every acknowledged insert survives kill -9 of the writing process', async () => {
  const path = freshPath();
  const { child, exited, acks } = startWriter(path);
  const N = 200;
  let last = -1;
  while (last < N - 1) {
    const line = await acks.next();
    assert.ok(!line.done, 'the writer stopped early');
    last = Number(line.value);
  }
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  children.delete(child);
  const store = await openSqliteStore({ path });
  try {
    for (let i = 0; i < N; i++) {
      const r = await store.get(`user${i}@EXAMPLE.COM`);
      assert.ok(r, `acknowledged principal user${i} is missing after the crash`);
      assert.deepEqual(r.keys[0]?.keyvalue, new Uint8Array(32).fill(i & 255));
    }
  } finally {
    await store.close();
  }
});

test('sqlite: a PrincipalCache sees principals another process creates, after one poll', async () => {
  const path = freshPath();
  const store = await openSqliteStore({ path });
  const clock = new ManualClock();
  const cache = await PrincipalCache.open(store, { clock, pollIntervalMs: 1000 });
  try {
    assert.equal(await cache.get('user0@EXAMPLE.COM'), undefined);
    const { child, exited, acks } = startWriter(path);
    assert.equal((await acks.next()).value, '0');
    child.kill('SIGKILL');
    await exited;
    children.delete(child);
    assert.equal(await cache.get('user0@EXAMPLE.COM'), undefined, 'the miss is cached until the next poll');
    await clock.advance(1000);
    assert.equal((await cache.get('user0@EXAMPLE.COM'))?.kvno, 1);
  } finally {
    await cache.close();
  }
});

test('sqlite: better-sqlite3 is loaded only when the embedded store is opened with it, and typings never import it', async () => {
  const probe = `
const { createRequire } = await import('node:module');
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('better-sqlite3'));
const store = await import(process.argv[1]);
const before = loaded();
const s = await store.openSqliteStore({ path: process.argv[2] });
await s.close();
process.stdout.write(JSON.stringify([before, loaded()]));
`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', probe, new URL('./index.js', import.meta.url).href, freshPath()], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((resolve) => child.on('exit', resolve));
  children.delete(child);
  assert.deepEqual(JSON.parse(out), [false, sqliteDriverName() === 'better-sqlite3']);
  for (const file of ['./sqlite.d.ts', './sqlite-driver.d.ts']) {
    const typings = readFileSync(new URL(file, import.meta.url), 'utf8');
    assert.doesNotMatch(typings, /from ['"]better-sqlite3['"]|import\(['"]better-sqlite3['"]\)/, file);
  }
});
