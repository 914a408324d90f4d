/**
 * The embedded principal store: one SQLite file through the built-in
 * node:sqlite (Node >= 22.13) or better-sqlite3 (an optional peer dependency,
 * loaded only when this store is opened), see sqlite-driver.ts.
 *
 * Durability: WAL journal with synchronous=FULL, every write one IMMEDIATE
 * transaction, so a write is on disk before its promise resolves. Other
 * processes opening the same file see each other's commits; the `changes`
 * table (an AUTOINCREMENT sequence) lets them notice cheaply. Lockout state
 * lives in its own table of the same file and never touches `changes`.
 *
 * The store owns its database file (docs/architecture.md "Storage"): it creates missing
 * parent directories (0700) and a new file with mode 0600; SQLite gives the
 * -wal and -shm files the database file's mode.
 */

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { asBuffer } from '../core/bytes.js';
import { KerbsideError } from '../core/errors.js';
import {
  PrincipalExistsError, PrincipalNotFoundError, StoreClosedError, StoreUnavailableError,
} from './errors.js';
import { NO_LOCKOUT_STATE, afterFailure, afterSuccess, afterUnlock, sourceOfKey, withOptional } from './lockout.js';
import {
  DEFAULT_CHANGE_LOG_LIMIT, NTLM_CREDENTIAL_ENCTYPE, applyPatch, buildRecord, checkChangeLogLimit, checkMetaKey, checkNtlmCredential,
  globToRegExp, initialAttributes, isNtlmCredential, keysForVersion, kvnosToPurge, listLimit, nextKvno, passwordChanged, realmOf,
} from './records.js';
import { loadBetterSqlite3, openSqliteDatabase, type SqliteDatabase, type SqliteDriverName } from './sqlite-driver.js';
import type {
  ChangeBatch, KeyMaterial, ListOptions, ListPage, LockoutState, LockoutStore, MetaValue, NewPrincipal,
  PrincipalAttributes, PrincipalPatch, PrincipalRecord, PrincipalStore, PurgeKeysOptions, SetKeysOptions, StoredKey,
} from './types.js';

type Database = SqliteDatabase;

export { loadBetterSqlite3 };

/**
 * What `openSqliteStore` returns. Declared as an interface so that the
 * published typings never mention better-sqlite3 (client-only users need not
 * install it, nor its types).
 */
export interface SqliteStore extends PrincipalStore {
  /** Failure counts and last successes, in the same file. */
  readonly lockout: LockoutStore;
  /** The absolute path of the database file. */
  readonly path: string;
  /** The durability settings in force on this connection, read back from SQLite (synchronous 2 = FULL). */
  readonly durability: { readonly journalMode: string; readonly synchronous: number };
  /** The SQLite driver of this connection: the built-in node:sqlite or better-sqlite3. */
  readonly driver: SqliteDriverName;
}

export interface SqliteStoreOptions {
  /** The database file; created (with its directory) if missing. */
  readonly path: string;
  readonly clock?: Clock;
  /** How long a write waits for another process's write lock (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** How many change-log entries to keep (default 100 000); older readers get `reset`. */
  readonly changeLogLimit?: number;
  /** Which SQLite driver (default: node:sqlite when this Node has it, else better-sqlite3; env KERBSIDE_SQLITE_DRIVER). */
  readonly driver?: SqliteDriverName;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS principals (
  name        TEXT    NOT NULL PRIMARY KEY,
  realm       TEXT    NOT NULL,
  kvno        INTEGER NOT NULL,
  attributes  TEXT    NOT NULL,   -- JSON: flags and limits (PrincipalAttributes)
  created_at  INTEGER NOT NULL,
  modified_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS principal_keys (
  principal TEXT    NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  kvno      INTEGER NOT NULL,
  enctype   INTEGER NOT NULL,
  position  INTEGER NOT NULL,     -- order within the kvno, as given
  keyvalue  BLOB    NOT NULL,
  salt_type INTEGER,
  salt      BLOB,
  s2kparams BLOB,
  PRIMARY KEY (principal, kvno, enctype)
);
CREATE TABLE IF NOT EXISTS realm_meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value                           -- TEXT or BLOB, kept as given
);
CREATE TABLE IF NOT EXISTS changes (
  seq  INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,             -- 'principal' | 'meta'
  name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lockout (
  principal     TEXT    NOT NULL PRIMARY KEY,
  failures      INTEGER NOT NULL,
  first_failure INTEGER,
  last_failure  INTEGER,
  locked_until  INTEGER,          -- -1: until an administrator unlocks
  last_success  INTEGER
);
`;

/** Opens (creating if needed) the SQLite principal store at `options.path`. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const path = resolve(options.path);
  const changeLogLimit = checkChangeLogLimit(options.changeLogLimit ?? DEFAULT_CHANGE_LOG_LIMIT);
  const db = await openWalDatabase(path, options.busyTimeoutMs ?? 5000, 'FULL', options.driver);
  try {
    db.pragma('foreign_keys = ON');
    const conn = db;
    conn.transaction('immediate', () => {
      const version = conn.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new StoreUnavailableError(`the principal database ${path} has schema version ${version}, newer than this kerbside understands (${SCHEMA_VERSION})`, {
          hint: 'upgrade kerbside on this host, or point it at another database',
        });
      }
      conn.exec(SCHEMA);
      if (version < SCHEMA_VERSION) conn.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
    return new SqliteStoreImpl(db, path, options.clock ?? systemClock(), changeLogLimit);
  } catch (err) {
    db.close();
    throw unavailable(err, path);
  }
}

/**
 * Opens a store's SQLite file (principals, the replay cache, the event log) in WAL mode:
 * a missing directory is created 0700 and a missing file 0600 (SQLite gives
 * the -wal and -shm files the database file's mode). Failures are wrapped by `unavailable`.
 */
export async function openWalDatabase(
  path: string, busyTimeoutMs: number, synchronous: 'NORMAL' | 'FULL', driver?: SqliteDriverName,
): Promise<SqliteDatabase> {
  let db: Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
    }
    db = await openSqliteDatabase(path, driver === undefined ? { busyTimeoutMs } : { busyTimeoutMs, driver });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    return db;
  } catch (err) {
    db?.close();
    throw unavailable(err, path);
  }
}

/** Wraps SQLite and file-system failures in StoreUnavailableError; passes our own errors through. */
export function unavailable(err: unknown, path: string): unknown {
  if (err instanceof KerbsideError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  if (!/^(?:SQLITE_|E[A-Z]+$)/.test(code)) return err; // a bug, not the environment
  const hints: Record<string, string> = {
    SQLITE_BUSY: 'another process held the database write lock for longer than busyTimeoutMs; retry, or raise busyTimeoutMs',
    SQLITE_READONLY: 'the database file or its directory is not writable by this user',
    SQLITE_CANTOPEN: 'check that the directory exists and is writable by this user',
    SQLITE_NOTADB: 'the file is not a SQLite database; check the configured path',
    SQLITE_CORRUPT: 'the database file is damaged; restore it from a backup',
    SQLITE_FULL: 'the disk is full',
    EACCES: 'the database file or its directory is not accessible by this user',
  };
  const hint = hints[code] ?? Object.entries(hints).find(([k]) => code.startsWith(`${k}_`))?.[1] ?? `SQLite/file-system error ${code}`;
  return new StoreUnavailableError(`the principal database ${path} cannot be used (${code})`, { hint, detail: { path, code }, cause: err });
}

interface PrincipalRow { kvno: number; attributes: string; created_at: number; modified_at: number }
interface KeyRow { kvno: number; enctype: number; keyvalue: Uint8Array; salt_type: number | null; salt: Uint8Array | null; s2kparams: Uint8Array | null }
interface LockoutRow {
  failures: number; first_failure: number | null; last_failure: number | null; locked_until: number | null; last_success: number | null;
}

// better-sqlite3 reads BLOBs as Buffer, node:sqlite as Uint8Array: a plain copy for both.
const bytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);
const blob = (b: Uint8Array): Buffer => asBuffer(b);

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database) {
  const p = <R = unknown>(sql: string) => db.prepare<R>(sql);
  return {
    principal: p<PrincipalRow>('SELECT kvno, attributes, created_at, modified_at FROM principals WHERE name = ?'),
    keys: p<KeyRow>('SELECT kvno, enctype, keyvalue, salt_type, salt, s2kparams FROM principal_keys WHERE principal = ? ORDER BY kvno DESC, position'),
    kvnos: p('SELECT DISTINCT kvno FROM principal_keys WHERE principal = ?').pluck<number>(),
    insertPrincipal: p('INSERT INTO principals (name, realm, kvno, attributes, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)'),
    updatePrincipal: p('UPDATE principals SET kvno = ?, attributes = ?, modified_at = ? WHERE name = ?'),
    deletePrincipal: p('DELETE FROM principals WHERE name = ?'),
    insertKey: p('INSERT INTO principal_keys (principal, kvno, enctype, position, keyvalue, salt_type, salt, s2kparams) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    replaceKeyValue: p('UPDATE principal_keys SET keyvalue = ? WHERE principal = ? AND kvno = ? AND enctype = ?'),
    deleteKeysOfKvno: p('DELETE FROM principal_keys WHERE principal = ? AND kvno = ?'),
    deleteKeysBelow: p('DELETE FROM principal_keys WHERE principal = ? AND kvno < ?'),
    deleteKeysOfEnctype: p('DELETE FROM principal_keys WHERE principal = ? AND enctype = ?'),
    list: p('SELECT name FROM principals WHERE name > ? AND kerbside_name_match(name, ?, ?) ORDER BY name LIMIT ?').pluck<string>(),
    getMeta: p<{ value: string | Uint8Array | null }>('SELECT value FROM realm_meta WHERE key = ?'),
    setMeta: p('INSERT INTO realm_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    deleteMeta: p('DELETE FROM realm_meta WHERE key = ?'),
    insertChange: p('INSERT INTO changes (kind, name) VALUES (?, ?)'),
    pruneChanges: p('DELETE FROM changes WHERE seq <= ?'),
    oldestSeq: p('SELECT MIN(seq) FROM changes').pluck<number | null>(),
    lastSeq: p("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").pluck<number>(),
    changesAfter: p<{ kind: string; name: string }>('SELECT DISTINCT kind, name FROM changes WHERE seq > ?'),
    lockoutGet: p<LockoutRow>('SELECT failures, first_failure, last_failure, locked_until, last_success FROM lockout WHERE principal = ?'),
    lockoutPut: p(`INSERT INTO lockout (principal, failures, first_failure, last_failure, locked_until, last_success) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (principal) DO UPDATE SET failures = excluded.failures, first_failure = excluded.first_failure,
      last_failure = excluded.last_failure, locked_until = excluded.locked_until, last_success = excluded.last_success`),
    lockoutDelete: p('DELETE FROM lockout WHERE principal = ?'),
    // Source rows of a principal: keys from 'name|' up to (not including) 'name}' ('}' follows '|' in ASCII).
    lockoutSources: p<LockoutRow & { principal: string }>(`SELECT principal, failures, first_failure, last_failure, locked_until, last_success
      FROM lockout WHERE principal >= ? AND principal < ? ORDER BY principal`),
    lockoutDeleteSources: p('DELETE FROM lockout WHERE principal >= ? AND principal < ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

class SqliteStoreImpl implements SqliteStore {
  readonly lockout: LockoutStore;
  readonly path: string;
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #changeLogLimit: number;
  readonly #sql: Statements;
  #closed = false;

  constructor(db: Database, path: string, clock: Clock, changeLogLimit: number) {
    this.#db = db;
    this.path = path;
    this.#clock = clock;
    this.#changeLogLimit = changeLogLimit;
    let lastPattern: string | undefined;
    let lastRe: RegExp | undefined;
    db.function('kerbside_name_match', { deterministic: true }, (name: string, pattern: string | null, prefix: string | null) => {
      if (prefix !== null && !name.startsWith(prefix)) return 0;
      if (pattern === null) return 1;
      if (pattern !== lastPattern) { lastRe = globToRegExp(pattern); lastPattern = pattern; }
      return lastRe!.test(name) ? 1 : 0;
    });
    this.#sql = prepareStatements(db);
    this.lockout = this.#lockoutStore();
  }

  get driver(): SqliteDriverName {
    return this.#db.driver;
  }

  get durability(): { journalMode: string; synchronous: number } {
    return this.#run(() => ({
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.#db.pragma('synchronous', { simple: true })),
    }));
  }

  async create(p: NewPrincipal): Promise<PrincipalRecord> {
    const realm = realmOf(p.name);
    const attributes = initialAttributes(p);
    const keys = p.keys === undefined ? [] : keysForVersion(p.name, p.keys, p.kvno ?? 1);
    checkNtlmCredential(p.name, attributes, keys);
    return this.#write(() => {
      if (this.#sql.principal.get(p.name) !== undefined) throw new PrincipalExistsError(p.name);
      const now = this.#clock.now();
      this.#sql.insertPrincipal.run(p.name, realm, keys.find((k) => !isNtlmCredential(k))?.kvno ?? 0, JSON.stringify(attributes), now, now);
      this.#insertKeys(p.name, keys);
      return this.#changedPrincipal(p.name);
    });
  }

  async get(name: string): Promise<PrincipalRecord | undefined> {
    return this.#run(() => this.#db.transaction('deferred', () => this.#read(name)));
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = listLimit(options);
    if (options.pattern !== undefined) globToRegExp(options.pattern); // reject a bad pattern with our own error
    const names = this.#run(() => this.#sql.list.all(options.after ?? '', options.pattern ?? null, options.prefix ?? null, limit + 1));
    if (names.length <= limit) return { names };
    const page = names.slice(0, limit);
    return { names: page, next: page[limit - 1]! };
  }

  async update(name: string, patch: PrincipalPatch): Promise<PrincipalRecord> {
    return this.#write(() => {
      const row = this.#row(name);
      const attributes = applyPatch(name, JSON.parse(row.attributes) as PrincipalAttributes, patch);
      if (!attributes.allowNtlm) this.#sql.deleteKeysOfEnctype.run(name, NTLM_CREDENTIAL_ENCTYPE);
      this.#sql.updatePrincipal.run(row.kvno, JSON.stringify(attributes), this.#clock.now(), name);
      return this.#changedPrincipal(name);
    });
  }

  async setKeys(name: string, keys: readonly KeyMaterial[], options: SetKeysOptions = {}): Promise<PrincipalRecord> {
    return this.#write(() => {
      const row = this.#row(name);
      const kvno = nextKvno(name, row.kvno, options.kvno);
      const fresh = keysForVersion(name, keys, kvno);
      let attributes = JSON.parse(row.attributes) as PrincipalAttributes;
      const now = this.#clock.now();
      checkNtlmCredential(name, attributes, fresh);
      if (options.fromPassword === true) attributes = passwordChanged(attributes, now);
      if (options.purgeOld === true) this.#sql.deleteKeysBelow.run(name, kvno);
      this.#sql.deleteKeysOfEnctype.run(name, NTLM_CREDENTIAL_ENCTYPE);
      this.#insertKeys(name, fresh);
      this.#sql.updatePrincipal.run(kvno, JSON.stringify(attributes), now, name);
      return this.#changedPrincipal(name);
    });
  }

  async replaceKeyBytes(name: string, replace: (key: StoredKey) => Uint8Array | undefined): Promise<PrincipalRecord> {
    return this.#write(() => {
      this.#row(name);
      let changed = false;
      for (const k of this.#storedKeys(name)) {
        const bytes = replace(k);
        if (bytes === undefined) continue;
        this.#sql.replaceKeyValue.run(blob(bytes), name, k.kvno, k.enctype);
        changed = true;
      }
      return changed ? this.#changedPrincipal(name) : this.#read(name)!;
    });
  }

  async purgeKeys(name: string, options: PurgeKeysOptions): Promise<PrincipalRecord> {
    return this.#write(() => {
      const row = this.#row(name);
      const drop = kvnosToPurge(name, this.#sql.kvnos.all(name), options);
      if (drop.length === 0) return this.#read(name)!;
      for (const kvno of drop) this.#sql.deleteKeysOfKvno.run(name, kvno);
      this.#sql.updatePrincipal.run(row.kvno, row.attributes, this.#clock.now(), name);
      return this.#changedPrincipal(name);
    });
  }

  async delete(name: string): Promise<void> {
    this.#write(() => {
      this.#row(name);
      this.#sql.deletePrincipal.run(name);
      this.#changed('principal', name);
    });
  }

  async getMeta(key: string): Promise<MetaValue | undefined> {
    checkMetaKey(key);
    const row = this.#run(() => this.#sql.getMeta.get(key));
    if (row === undefined || row.value === null) return undefined;
    return typeof row.value === 'string' ? row.value : bytes(row.value);
  }

  async setMeta(key: string, value: MetaValue): Promise<void> {
    checkMetaKey(key);
    this.#write(() => {
      this.#sql.setMeta.run(key, value instanceof Uint8Array ? blob(value) : String(value));
      this.#changed('meta', key);
    });
  }

  async deleteMeta(key: string): Promise<void> {
    checkMetaKey(key);
    this.#write(() => {
      if (this.#sql.deleteMeta.run(key).changes > 0) this.#changed('meta', key);
    });
  }

  async changeSeq(): Promise<number> {
    return this.#run(() => this.#sql.lastSeq.get() ?? 0);
  }

  async changesSince(seq: number): Promise<ChangeBatch> {
    return this.#run(() => this.#db.transaction('deferred', (): ChangeBatch => {
      const current = this.#sql.lastSeq.get() ?? 0;
      const oldest = this.#sql.oldestSeq.get() ?? current + 1;
      if (seq < oldest - 1 || seq > current) return { seq: current, principals: [], meta: [], reset: true };
      const principals: string[] = [];
      const meta: string[] = [];
      for (const c of this.#sql.changesAfter.all(seq)) (c.kind === 'meta' ? meta : principals).push(c.name);
      return { seq: current, principals, meta, reset: false };
    }));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  // ---- internals (synchronous: both SQLite drivers are) ----

  /** Runs `fn` on the open database, mapping SQLite failures to StoreUnavailableError. */
  #run<T>(fn: () => T): T {
    if (this.#closed) throw new StoreClosedError(`the principal database ${this.path}`);
    try {
      return fn();
    } catch (err) {
      throw unavailable(err, this.path);
    }
  }

  /** One IMMEDIATE transaction: takes the write lock up front, so read-then-write cannot deadlock. */
  #write<T>(fn: () => T): T {
    return this.#run(() => this.#db.transaction('immediate', fn));
  }

  #row(name: string): PrincipalRow {
    const row = this.#sql.principal.get(name);
    if (row === undefined) throw new PrincipalNotFoundError(name);
    return row;
  }

  #read(name: string): PrincipalRecord | undefined {
    const row = this.#sql.principal.get(name);
    if (row === undefined) return undefined;
    return buildRecord(name, JSON.parse(row.attributes) as PrincipalAttributes, this.#storedKeys(name), row.created_at, row.modified_at, row.kvno);
  }

  /** Every key row of a principal, the NTLM credential included. */
  #storedKeys(name: string): StoredKey[] {
    return this.#sql.keys.all(name).map((k) => ({
      kvno: k.kvno,
      enctype: k.enctype,
      keyvalue: bytes(k.keyvalue),
      ...(k.salt_type !== null ? { salt: { type: k.salt_type, value: k.salt === null ? new Uint8Array(0) : bytes(k.salt) } } : {}),
      ...(k.s2kparams !== null ? { s2kparams: bytes(k.s2kparams) } : {}),
    }));
  }

  #insertKeys(name: string, keys: readonly StoredKey[]): void {
    keys.forEach((k, position) => {
      this.#sql.insertKey.run(
        name, k.kvno, k.enctype, position, blob(k.keyvalue),
        k.salt?.type ?? null, k.salt === undefined ? null : blob(k.salt.value), k.s2kparams === undefined ? null : blob(k.s2kparams),
      );
    });
  }

  /** Appends to the change log, pruning entries beyond the limit. */
  #changed(kind: 'principal' | 'meta', name: string): void {
    const seq = Number(this.#sql.insertChange.run(kind, name).lastInsertRowid);
    if (seq > this.#changeLogLimit) this.#sql.pruneChanges.run(seq - this.#changeLogLimit);
  }

  /** Logs a change to a principal and returns it as now stored. */
  #changedPrincipal(name: string): PrincipalRecord {
    this.#changed('principal', name);
    return this.#read(name)!;
  }

  // ---- lockout table ----

  #lockoutStore(): LockoutStore {
    return {
      get: async (principal) => this.#run(() => this.#lockoutRead(principal)),
      recordFailure: async (principal, policy) => this.#lockoutUpdate(principal, (st, now) => afterFailure(st, policy, now)),
      recordSuccess: async (principal) => this.#lockoutUpdate(principal, (st, now) => afterSuccess(st, now)),
      unlock: async (principal) => { this.#lockoutUpdate(principal, (st) => afterUnlock(st), true); },
      forget: async (principal) => { this.#lockoutUpdate(principal, () => undefined, true); },
      sources: async (principal) => this.#run(() => this.#sql.lockoutSources.all(`${principal}|`, `${principal}}`).flatMap((r) => {
        const source = sourceOfKey(principal, r.principal);
        return source === undefined ? [] : [{ source, state: lockoutState(r) }];
      })),
    };
  }

  /** Read-modify-write of one lockout row in one transaction; undefined deletes the row. */
  #lockoutUpdate(principal: string, next: (state: LockoutState, now: number) => LockoutState | undefined, withSources = false): LockoutState {
    return this.#write(() => {
      if (withSources) this.#sql.lockoutDeleteSources.run(`${principal}|`, `${principal}}`);
      const state = next(this.#lockoutRead(principal), this.#clock.now());
      if (state === undefined) {
        this.#sql.lockoutDelete.run(principal);
        return NO_LOCKOUT_STATE;
      }
      const until = state.lockedUntil === Number.POSITIVE_INFINITY ? -1 : state.lockedUntil ?? null;
      this.#sql.lockoutPut.run(principal, state.failures, state.firstFailure ?? null, state.lastFailure ?? null, until, state.lastSuccess ?? null);
      return state;
    });
  }

  #lockoutRead(principal: string): LockoutState {
    const r = this.#sql.lockoutGet.get(principal);
    return r === undefined ? NO_LOCKOUT_STATE : lockoutState(r);
  }
}

function lockoutState(r: LockoutRow): LockoutState {
  return withOptional({
    failures: r.failures,
    firstFailure: r.first_failure ?? undefined,
    lastFailure: r.last_failure ?? undefined,
    lockedUntil: r.locked_until === -1 ? Number.POSITIVE_INFINITY : r.locked_until ?? undefined,
    lastSuccess: r.last_success ?? undefined,
  });
}
