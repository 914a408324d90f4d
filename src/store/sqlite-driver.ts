/**
 * One SQLite interface over two drivers, so the embedded stores (principals,
 * replay cache, event log, scheduler) are written once:
 *
 * - `node`: the built-in `node:sqlite` (DatabaseSync), Node >= 22.13 (and
 *   23.5+): no native build at all.
 * - `better-sqlite3`: the optional peer dependency, for Node 20 (loaded only
 *   when node:sqlite is absent, or when forced).
 *
 * `KERBSIDE_SQLITE_DRIVER=node|better-sqlite3` forces one (tests run both on
 * Node 22+). Both link SQLite 3 and write the same file format: a realm made
 * with one opens with the other (docs/architecture.md "Storage").
 *
 * node:sqlite's failures carry `code: 'ERR_SQLITE_ERROR'` and the numeric
 * `errcode`; they are rethrown as SqliteDriverError with better-sqlite3's
 * `SQLITE_*` names, so `unavailable()` (sqlite.ts) maps both alike.
 */

import { StoreDependencyMissingError, StoreUnavailableError } from './errors.js';

export type SqliteDriverName = 'node' | 'better-sqlite3';
export type SqliteValue = null | number | bigint | string | Uint8Array;

export interface SqliteRunResult { readonly changes: number; readonly lastInsertRowid: number }

export interface SqliteStatement<R = unknown> {
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): R | undefined;
  all(...params: unknown[]): R[];
  iterate(...params: unknown[]): IterableIterator<R>;
  /** The same statement returning only the first column of each row. */
  pluck<V = unknown>(): SqliteStatement<V>;
}

export interface SqliteDatabase {
  /** Which driver this connection uses. */
  readonly driver: SqliteDriverName;
  readonly open: boolean;
  prepare<R = unknown>(sql: string): SqliteStatement<R>;
  exec(sql: string): void;
  /** `PRAGMA <source>`: every row, or with `simple` the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  /** Runs `fn` in one transaction (BEGIN IMMEDIATE takes the write lock up front); nested calls use savepoints. */
  transaction<T>(mode: 'immediate' | 'deferred', fn: () => T): T;
  /** A scalar SQL function. */
  function(name: string, options: { deterministic?: boolean }, fn: (...args: never[]) => SqliteValue): void;
  close(): void;
}

/** A SQLite failure from node:sqlite, named as better-sqlite3 names it (`SQLITE_BUSY`…). */
export class SqliteDriverError extends Error {
  readonly code: string;
  constructor(message: string, code: string, readonly errcode: number, cause: unknown) {
    super(message, { cause });
    this.name = 'SqliteDriverError';
    this.code = code;
  }
}

const PRIMARY_CODES = [
  'OK', 'ERROR', 'INTERNAL', 'PERM', 'ABORT', 'BUSY', 'LOCKED', 'NOMEM', 'READONLY', 'INTERRUPT', 'IOERR', 'CORRUPT',
  'NOTFOUND', 'FULL', 'CANTOPEN', 'PROTOCOL', 'EMPTY', 'SCHEMA', 'TOOBIG', 'CONSTRAINT', 'MISMATCH', 'MISUSE', 'NOLFS',
  'AUTH', 'FORMAT', 'RANGE', 'NOTADB', 'NOTICE', 'WARNING',
];
// The extended result codes kerbside can meet (https://www.sqlite.org/rescode.html).
const EXTENDED_CODES: Record<number, string> = {
  517: 'BUSY_SNAPSHOT', 261: 'BUSY_RECOVERY', 1032: 'READONLY_DBMOVED', 264: 'READONLY_RECOVERY',
  1555: 'CONSTRAINT_PRIMARYKEY', 2067: 'CONSTRAINT_UNIQUE', 787: 'CONSTRAINT_FOREIGNKEY', 1299: 'CONSTRAINT_NOTNULL',
  275: 'CONSTRAINT_CHECK',
};

/** better-sqlite3's name for a SQLite (extended) result code. */
export function sqliteCodeName(errcode: number): string {
  return `SQLITE_${EXTENDED_CODES[errcode] ?? PRIMARY_CODES[errcode & 0xff] ?? String(errcode)}`;
}

function translate(err: unknown): unknown {
  const e = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (e?.code !== 'ERR_SQLITE_ERROR' || typeof e.errcode !== 'number') return err;
  return new SqliteDriverError(String(e.message), sqliteCodeName(e.errcode), e.errcode, err);
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translate(err);
  }
}

// ---- node:sqlite (typed here: @types/node 20 has no node:sqlite) ----

interface NodeStatement {
  run(...p: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(...p: unknown[]): unknown;
  all(...p: unknown[]): unknown[];
  iterate(...p: unknown[]): IterableIterator<unknown>;
}
interface NodeDatabase {
  prepare(sql: string): NodeStatement;
  exec(sql: string): void;
  function(name: string, options: { deterministic?: boolean }, fn: (...args: never[]) => unknown): void;
  close(): void;
}
interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { enableForeignKeyConstraints?: boolean }) => NodeDatabase;
  StatementSync: { prototype: object };
}

// ---- better-sqlite3 (typed here so the published typings never import it) ----

interface BetterStatement {
  run(...p: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...p: unknown[]): unknown;
  all(...p: unknown[]): unknown[];
  iterate(...p: unknown[]): IterableIterator<unknown>;
  pluck(on?: boolean): BetterStatement;
}
interface BetterDatabase {
  readonly open: boolean;
  prepare(sql: string): BetterStatement;
  exec(sql: string): void;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<T>(fn: () => T): { immediate(): T; deferred(): T };
  function(name: string, options: { deterministic?: boolean }, fn: (...args: never[]) => unknown): void;
  close(): void;
}
/** The part of the better-sqlite3 constructor kerbside uses. */
export type BetterSqlite3Constructor = new (path: string, options?: { timeout?: number; readonly?: boolean }) => BetterDatabase;

/** Loads better-sqlite3, turning its absence into StoreDependencyMissingError. */
export async function loadBetterSqlite3(
  importer: () => Promise<{ default: unknown }> = () => import('better-sqlite3'),
): Promise<BetterSqlite3Constructor> {
  try {
    return (await importer()).default as BetterSqlite3Constructor;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new StoreDependencyMissingError(err);
    throw new StoreUnavailableError('better-sqlite3 is installed but could not be loaded', {
      hint: 'its native binding may have been built for another Node.js version: run npm rebuild better-sqlite3, '
        + 'or use Node >= 22.13, whose built-in node:sqlite needs no native build',
      cause: err,
    });
  }
}

let nodeSqlite: NodeSqliteModule | null | undefined;

/**
 * The built-in node:sqlite if this Node has all kerbside uses of it (user
 * functions and iterate: 22.13+, 23.5+), else undefined. Loading it emits an
 * ExperimentalWarning on Node 22 (not 24); that one warning is not passed on,
 * since an operator can do nothing about it (any other warning is).
 */
export function loadNodeSqlite(): NodeSqliteModule | undefined {
  if (nodeSqlite !== undefined) return nodeSqlite ?? undefined;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  let mod: NodeSqliteModule | undefined;
  if (getBuiltin !== undefined) {
    const emitWarning = process.emitWarning;
    process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
      const text = typeof warning === 'string' ? warning : warning.message;
      if (/^SQLite is an experimental feature/.test(text)) return;
      (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
    } as typeof process.emitWarning;
    try {
      mod = getBuiltin.call(process, 'node:sqlite') as NodeSqliteModule | undefined;
    } catch {
      mod = undefined; // Node 22.5-22.12 without --experimental-sqlite
    } finally {
      process.emitWarning = emitWarning;
    }
  }
  const usable = mod !== undefined
    && typeof (mod.DatabaseSync.prototype as Partial<NodeDatabase>).function === 'function'
    && typeof (mod.StatementSync.prototype as Partial<NodeStatement>).iterate === 'function';
  nodeSqlite = usable ? mod! : null;
  return nodeSqlite ?? undefined;
}

/** The driver the stores use here: KERBSIDE_SQLITE_DRIVER if set, else node:sqlite when this Node has it. */
export function sqliteDriverName(env: NodeJS.ProcessEnv = process.env): SqliteDriverName {
  const forced = env['KERBSIDE_SQLITE_DRIVER'];
  if (forced === 'node' || forced === 'better-sqlite3') return forced;
  if (forced !== undefined && forced !== '') {
    throw new StoreUnavailableError(`KERBSIDE_SQLITE_DRIVER=${forced} is not a SQLite driver kerbside knows`, {
      hint: 'set it to "node" (the built-in node:sqlite, Node >= 22.13) or "better-sqlite3", or unset it to choose automatically',
    });
  }
  return loadNodeSqlite() !== undefined ? 'node' : 'better-sqlite3';
}

/**
 * Opens `path` with `driver` (default: sqliteDriverName()). Foreign keys start
 * off with both (SQLite's default; node:sqlite would turn them on); the busy
 * timeout is set as a pragma, which both honour.
 */
export async function openSqliteDatabase(path: string, options: { busyTimeoutMs: number; driver?: SqliteDriverName }): Promise<SqliteDatabase> {
  const driver = options.driver ?? sqliteDriverName();
  if (driver === 'node') {
    const mod = loadNodeSqlite();
    if (mod === undefined) {
      throw new StoreUnavailableError(`the built-in node:sqlite is not available in Node ${process.versions.node}`, {
        hint: 'node:sqlite needs Node >= 22.13; on older Node unset KERBSIDE_SQLITE_DRIVER and install better-sqlite3',
      });
    }
    const db = new NodeSqliteDatabase(guarded(() => new mod.DatabaseSync(path, { enableForeignKeyConstraints: false })));
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  }
  const Driver = await loadBetterSqlite3();
  return new BetterSqliteDatabase(new Driver(path, { timeout: options.busyTimeoutMs }));
}

const firstColumn = (row: unknown): unknown => (row === undefined ? undefined : Object.values(row as object)[0]);

class NodeSqliteStatement<R> implements SqliteStatement<R> {
  constructor(private readonly s: NodeStatement, private readonly plucked: boolean) {}
  #row(row: unknown): R { return (this.plucked ? firstColumn(row) : row) as R; }
  run(...p: unknown[]): SqliteRunResult {
    const r = guarded(() => this.s.run(...p));
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  }
  get(...p: unknown[]): R | undefined {
    const row = guarded(() => this.s.get(...p));
    return row === undefined ? undefined : this.#row(row);
  }
  all(...p: unknown[]): R[] {
    const rows = guarded(() => this.s.all(...p));
    return this.plucked ? rows.map((r) => this.#row(r)) : rows as R[];
  }
  *iterate(...p: unknown[]): IterableIterator<R> {
    const it = guarded(() => this.s.iterate(...p));
    try {
      for (;;) {
        const next = guarded(() => it.next());
        if (next.done === true) return;
        yield this.#row(next.value);
      }
    } finally {
      it.return?.(); // a `break` resets the statement, as better-sqlite3 does
    }
  }
  pluck<V>(): SqliteStatement<V> { return new NodeSqliteStatement<V>(this.s, true); }
}

class NodeSqliteDatabase implements SqliteDatabase {
  readonly driver = 'node' as const;
  #open = true;
  #depth = 0;
  constructor(private readonly db: NodeDatabase) {}
  get open(): boolean { return this.#open; }
  prepare<R>(sql: string): SqliteStatement<R> { return new NodeSqliteStatement<R>(guarded(() => this.db.prepare(sql)), false); }
  exec(sql: string): void { guarded(() => this.db.exec(sql)); }
  pragma(source: string, options: { simple?: boolean } = {}): unknown {
    const rows = this.prepare(`PRAGMA ${source}`).all();
    return options.simple === true ? firstColumn(rows[0]) : rows;
  }
  transaction<T>(mode: 'immediate' | 'deferred', fn: () => T): T {
    const savepoint = `kerbside_${this.#depth}`;
    this.exec(this.#depth === 0 ? `BEGIN ${mode === 'immediate' ? 'IMMEDIATE' : 'DEFERRED'}` : `SAVEPOINT ${savepoint}`);
    this.#depth++;
    try {
      const result = fn();
      this.exec(this.#depth === 1 ? 'COMMIT' : `RELEASE ${savepoint}`);
      return result;
    } catch (err) {
      // A failed COMMIT (SQLITE_BUSY) leaves the transaction open: roll back in every case.
      try {
        this.exec(this.#depth === 1 ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
      } catch { /* SQLite already rolled back (e.g. SQLITE_FULL) */ }
      throw err;
    } finally {
      this.#depth--;
    }
  }
  function(name: string, options: { deterministic?: boolean }, fn: (...args: never[]) => SqliteValue): void {
    guarded(() => this.db.function(name, options, fn));
  }
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    guarded(() => this.db.close());
  }
}

class BetterSqliteStatement<R> implements SqliteStatement<R> {
  constructor(private readonly s: BetterStatement) {}
  run(...p: unknown[]): SqliteRunResult {
    const r = this.s.run(...p);
    return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
  }
  get(...p: unknown[]): R | undefined { return this.s.get(...p) as R | undefined; }
  all(...p: unknown[]): R[] { return this.s.all(...p) as R[]; }
  iterate(...p: unknown[]): IterableIterator<R> { return this.s.iterate(...p) as IterableIterator<R>; }
  pluck<V>(): SqliteStatement<V> { return new BetterSqliteStatement<V>(this.s.pluck()); }
}

class BetterSqliteDatabase implements SqliteDatabase {
  readonly driver = 'better-sqlite3' as const;
  constructor(private readonly db: BetterDatabase) {}
  get open(): boolean { return this.db.open; }
  prepare<R>(sql: string): SqliteStatement<R> { return new BetterSqliteStatement<R>(this.db.prepare(sql)); }
  exec(sql: string): void { this.db.exec(sql); }
  pragma(source: string, options?: { simple?: boolean }): unknown { return this.db.pragma(source, options); }
  transaction<T>(mode: 'immediate' | 'deferred', fn: () => T): T {
    const tx = this.db.transaction(fn);
    return mode === 'immediate' ? tx.immediate() : tx.deferred();
  }
  function(name: string, options: { deterministic?: boolean }, fn: (...args: never[]) => SqliteValue): void {
    this.db.function(name, options, fn);
  }
  close(): void { if (this.db.open) this.db.close(); }
}
