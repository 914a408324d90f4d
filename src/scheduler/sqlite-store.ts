/**
 * The embedded scheduler store: one SQLite file (`scheduler.db` in the
 * scheduler's folder) through node:sqlite or better-sqlite3 (src/store's SQLite driver), loaded only when opened, with
 * the realm store's conventions (src/store/sqlite.ts): WAL journal,
 * synchronous=FULL, every write one IMMEDIATE transaction — a history row
 * is on disk before its promise resolves and survives kill -9. The daemon
 * and the CLI open the same file; `changeStamp` lets the daemon notice the
 * CLI's changes cheaply.
 */

import { resolve } from 'node:path';
import { openWalDatabase, StoreError, StoreUnavailableError, type SqliteDatabase, type SqliteDriverName } from '../store/index.js';
import { TaskNotFoundError } from './errors.js';
import { taskExists, taskNotFound, type HistoryQuery, type SchedulerStore } from './store.js';
import {
  DEFAULT_SETTINGS, type RunOutcome, type RunRecord, type RunStart, type SchedulerSettings, type SessionRecord, type Task,
} from './types.js';

type Database = SqliteDatabase;

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  name              TEXT NOT NULL PRIMARY KEY,
  definition        TEXT NOT NULL,       -- JSON Task without lastScheduledAt
  last_scheduled_at INTEGER
);
CREATE TABLE IF NOT EXISTS secrets (task TEXT NOT NULL PRIMARY KEY REFERENCES tasks(name) ON DELETE CASCADE, sealed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  task       TEXT NOT NULL,
  status     TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  record     TEXT NOT NULL               -- JSON RunRecord without id
);
CREATE INDEX IF NOT EXISTS runs_by_task ON runs (task, id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE TABLE IF NOT EXISTS sessions (id TEXT NOT NULL PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_requests (id INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS change_stamp (id INTEGER PRIMARY KEY CHECK (id = 1), stamp INTEGER NOT NULL);
INSERT OR IGNORE INTO change_stamp (id, stamp) VALUES (1, 0);
`;

export interface SqliteSchedulerStoreOptions {
  readonly path: string;
  readonly busyTimeoutMs?: number;
  /** Which SQLite driver (default: node:sqlite when this Node has it, else better-sqlite3). */
  readonly driver?: SqliteDriverName;
}

export async function openSqliteSchedulerStore(options: SqliteSchedulerStoreOptions): Promise<SchedulerStore & { readonly path: string }> {
  const path = resolve(options.path);
  let db: Database | undefined;
  try {
    db = await openWalDatabase(path, options.busyTimeoutMs ?? 5000, 'FULL', options.driver);
    db.pragma('foreign_keys = ON');
    const conn = db;
    conn.transaction('immediate', () => {
      const version = conn.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new StoreUnavailableError(`the scheduler database ${path} has schema version ${version}, newer than this kerbside understands (${SCHEMA_VERSION})`, {
          hint: 'upgrade kerbside on this host',
        });
      }
      conn.exec(SCHEMA);
      if (version < SCHEMA_VERSION) conn.pragma(`user_version = ${SCHEMA_VERSION}`);
    });
    return new SqliteSchedulerStore(conn, path);
  } catch (err) {
    db?.close();
    if (err instanceof StoreError) throw err;
    throw new StoreUnavailableError(`the scheduler database ${path} cannot be used (${String((err as { code?: unknown }).code ?? err)})`, {
      hint: 'check that the scheduler folder exists and is writable by this user', cause: err, detail: { path },
    });
  }
}

interface TaskRow { definition: string; last_scheduled_at: number | null }
interface RunRow { id: number; record: string }

class SqliteSchedulerStore implements SchedulerStore {
  readonly path: string;
  readonly #db: Database;
  readonly #s;

  constructor(db: Database, path: string) {
    this.#db = db;
    this.path = path;
    const p = <R = unknown>(sql: string) => db.prepare<R>(sql);
    this.#s = {
      bump: p('UPDATE change_stamp SET stamp = stamp + 1 WHERE id = 1'),
      stamp: p('SELECT stamp FROM change_stamp WHERE id = 1').pluck<number>(),
      getSetting: p('SELECT value FROM settings WHERE key = ?').pluck<string>(),
      setSetting: p('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      getTask: p<TaskRow>('SELECT definition, last_scheduled_at FROM tasks WHERE name = ?'),
      listTasks: p<TaskRow>('SELECT definition, last_scheduled_at FROM tasks ORDER BY name'),
      insertTask: p('INSERT INTO tasks (name, definition, last_scheduled_at) VALUES (?, ?, ?)'),
      updateTask: p('UPDATE tasks SET definition = ?, last_scheduled_at = ? WHERE name = ?'),
      deleteTask: p('DELETE FROM tasks WHERE name = ?'),
      setLast: p('UPDATE tasks SET last_scheduled_at = ? WHERE name = ?'),
      getSecret: p('SELECT sealed FROM secrets WHERE task = ?').pluck<string>(),
      putSecret: p('INSERT INTO secrets (task, sealed) VALUES (?, ?) ON CONFLICT (task) DO UPDATE SET sealed = excluded.sealed'),
      deleteSecret: p('DELETE FROM secrets WHERE task = ?'),
      insertRun: p('INSERT INTO runs (task, status, started_at, record) VALUES (?, ?, ?, ?)'),
      getRun: p<RunRow>('SELECT id, record FROM runs WHERE id = ?'),
      updateRun: p('UPDATE runs SET status = ?, record = ? WHERE id = ?'),
      historyAll: p<RunRow>('SELECT id, record FROM runs ORDER BY id DESC LIMIT ?'),
      historyTask: p<RunRow>('SELECT id, record FROM runs WHERE task = ? ORDER BY id DESC LIMIT ?'),
      running: p<RunRow>("SELECT id, record FROM runs WHERE status = 'running' ORDER BY id"),
      putSession: p('INSERT INTO sessions (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record'),
      deleteSession: p('DELETE FROM sessions WHERE id = ?'),
      listSessions: p('SELECT record FROM sessions').pluck<string>(),
      addRequest: p('INSERT INTO run_requests (task, at) VALUES (?, ?)'),
      listRequests: p<{ id: number; task: string; at: number }>('SELECT id, task, at FROM run_requests ORDER BY id'),
      deleteRequestsUpTo: p('DELETE FROM run_requests WHERE id <= ?'),
    };
  }

  #write<T>(fn: () => T): T {
    return this.#db.transaction('immediate', fn);
  }

  async settings(): Promise<SchedulerSettings> {
    const v = this.#s.getSetting.get('settings');
    return v === undefined ? DEFAULT_SETTINGS : { ...DEFAULT_SETTINGS, ...(JSON.parse(v) as Partial<SchedulerSettings>) };
  }

  async setSettings(settings: SchedulerSettings): Promise<void> {
    this.#write(() => { this.#s.setSetting.run('settings', JSON.stringify(settings)); this.#s.bump.run(); });
  }

  async addTask(task: Task, secret?: string): Promise<void> {
    this.#write(() => {
      if (this.#s.getTask.get(task.name) !== undefined) throw taskExists(task.name);
      const { lastScheduledAt, ...def } = task;
      this.#s.insertTask.run(task.name, JSON.stringify(def), lastScheduledAt ?? null);
      if (secret !== undefined) this.#s.putSecret.run(task.name, secret);
      this.#s.bump.run();
    });
  }

  async putTask(task: Task, secret?: string | null): Promise<void> {
    this.#write(() => {
      if (this.#s.getTask.get(task.name) === undefined) throw taskNotFound(task.name);
      const { lastScheduledAt, ...def } = task;
      this.#s.updateTask.run(JSON.stringify(def), lastScheduledAt ?? null, task.name);
      if (secret === null) this.#s.deleteSecret.run(task.name);
      else if (secret !== undefined) this.#s.putSecret.run(task.name, secret);
      this.#s.bump.run();
    });
  }

  async deleteTask(name: string): Promise<void> {
    this.#write(() => {
      this.#s.deleteSecret.run(name);
      if (this.#s.deleteTask.run(name).changes === 0) throw taskNotFound(name);
      this.#s.bump.run();
    });
  }

  async getTask(name: string): Promise<Task | undefined> {
    const row = this.#s.getTask.get(name);
    return row === undefined ? undefined : taskOf(row);
  }

  async listTasks(): Promise<Task[]> {
    return this.#s.listTasks.all().map(taskOf);
  }

  async setLastScheduled(name: string, at: number): Promise<void> {
    this.#write(() => { this.#s.setLast.run(at, name); });
  }

  async getSecret(name: string): Promise<string | undefined> {
    return this.#s.getSecret.get(name);
  }

  async startRun(run: RunStart): Promise<RunRecord> {
    return this.#write(() => {
      const info = this.#s.insertRun.run(run.task, 'running', run.startedAt, JSON.stringify({ ...run, status: 'running' }));
      return { ...run, id: Number(info.lastInsertRowid), status: 'running' as const };
    });
  }

  async updateRun(id: number, patch: Partial<RunRecord>): Promise<void> {
    this.#write(() => {
      const row = this.#s.getRun.get(id);
      if (row === undefined) return;
      const rec = { ...(JSON.parse(row.record) as RunRecord), ...patch };
      this.#s.updateRun.run(rec.status, JSON.stringify(rec), id);
    });
  }

  async finishRun(id: number, outcome: RunOutcome): Promise<RunRecord> {
    return this.#write(() => {
      const row = this.#s.getRun.get(id);
      if (row === undefined) throw new TaskNotFoundError(`run ${id} is not in the history`);
      const rec = { ...(JSON.parse(row.record) as Omit<RunRecord, 'id'>), ...outcome };
      this.#s.updateRun.run(rec.status, JSON.stringify(rec), id);
      return { ...rec, id };
    });
  }

  async history(q: HistoryQuery = {}): Promise<RunRecord[]> {
    const limit = q.limit ?? -1;
    const rows = q.task === undefined ? this.#s.historyAll.all(limit) : this.#s.historyTask.all(q.task, limit);
    return rows.map(runOf);
  }

  async runningRuns(): Promise<RunRecord[]> {
    return this.#s.running.all().map(runOf);
  }

  async addSession(s: SessionRecord): Promise<void> {
    this.#write(() => { this.#s.putSession.run(s.id, JSON.stringify(s)); this.#s.bump.run(); });
  }

  async removeSession(id: string): Promise<boolean> {
    return this.#write(() => {
      const gone = this.#s.deleteSession.run(id).changes > 0;
      if (gone) this.#s.bump.run();
      return gone;
    });
  }

  async listSessions(): Promise<SessionRecord[]> {
    return this.#s.listSessions.all().map((r) => JSON.parse(r) as SessionRecord).sort((a, b) => a.loggedOnAt - b.loggedOnAt);
  }

  async requestRun(task: string, at: number): Promise<void> {
    this.#write(() => { this.#s.addRequest.run(task, at); this.#s.bump.run(); });
  }

  async takeRunRequests(): Promise<{ task: string; at: number }[]> {
    return this.#write(() => {
      const rows = this.#s.listRequests.all();
      if (rows.length > 0) this.#s.deleteRequestsUpTo.run(rows[rows.length - 1]!.id);
      return rows.map(({ task, at }) => ({ task, at }));
    });
  }

  async changeStamp(): Promise<number> {
    return this.#s.stamp.get() ?? 0;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}

function taskOf(row: TaskRow): Task {
  const def = JSON.parse(row.definition) as Task;
  return row.last_scheduled_at === null ? def : { ...def, lastScheduledAt: row.last_scheduled_at };
}

function runOf(row: RunRow): RunRecord {
  return { ...(JSON.parse(row.record) as Omit<RunRecord, 'id'>), id: row.id };
}
