/**
 * The scheduler's storage (docs/architecture.md "Storage"): tasks, stored secrets
 * (already encrypted by secrets.ts), run history, interactive sessions,
 * settings and run-now requests, behind one async interface that an
 * embedded SQLite file (sqlite-store.ts) and memory (below) implement and
 * that conformance.ts checks. A PostgreSQL backend implements the same
 * interface. Every write is durable when its promise resolves.
 */

import { TaskExistsError, TaskNotFoundError } from './errors.js';
import {
  DEFAULT_SETTINGS, type RunOutcome, type RunRecord, type RunStart, type SchedulerSettings, type SessionRecord, type Task,
} from './types.js';

export interface HistoryQuery {
  readonly task?: string;
  /** Most recent first, at most this many (default all). */
  readonly limit?: number;
}

export interface SchedulerStore {
  settings(): Promise<SchedulerSettings>;
  setSettings(settings: SchedulerSettings): Promise<void>;

  addTask(task: Task, secret?: string): Promise<void>;
  /** Replaces the task (same name); `secret` null removes the stored secret, undefined keeps it. */
  putTask(task: Task, secret?: string | null): Promise<void>;
  deleteTask(name: string): Promise<void>;
  getTask(name: string): Promise<Task | undefined>;
  listTasks(): Promise<Task[]>;
  /** Planner state only (no change stamp bump: it is the daemon's own write). */
  setLastScheduled(name: string, at: number): Promise<void>;
  /** The encrypted secret of a task. */
  getSecret(name: string): Promise<string | undefined>;

  startRun(run: RunStart): Promise<RunRecord>;
  /** Fills in details of a running run (child pid, credential used). */
  updateRun(id: number, patch: Partial<Pick<RunRecord, 'childPid' | 'credentialUsed' | 'sessionId' | 'ticketEndTime' | 'runDir'>>): Promise<void>;
  finishRun(id: number, outcome: RunOutcome): Promise<RunRecord>;
  history(query?: HistoryQuery): Promise<RunRecord[]>;
  /** Runs still marked running (after a crash: interrupted ones). */
  runningRuns(): Promise<RunRecord[]>;

  addSession(session: SessionRecord): Promise<void>;
  removeSession(id: string): Promise<boolean>;
  listSessions(): Promise<SessionRecord[]>;

  /** A run-now request for the daemon (`kerbside task run`). */
  requestRun(task: string, at: number): Promise<void>;
  /** Takes (and deletes) pending run-now requests. */
  takeRunRequests(): Promise<{ task: string; at: number }[]>;

  /** Grows on every change of tasks, sessions, settings or requests by anyone: the daemon polls it. */
  changeStamp(): Promise<number>;
  close(): Promise<void>;
}

/** In memory, for tests and throwaway schedulers. */
export class MemorySchedulerStore implements SchedulerStore {
  #settings: SchedulerSettings = DEFAULT_SETTINGS;
  readonly #tasks = new Map<string, Task>();
  readonly #secrets = new Map<string, string>();
  readonly #runs: RunRecord[] = [];
  readonly #sessions = new Map<string, SessionRecord>();
  #requests: { task: string; at: number }[] = [];
  #stamp = 0;
  #nextRun = 1;

  async settings(): Promise<SchedulerSettings> { return this.#settings; }
  async setSettings(s: SchedulerSettings): Promise<void> { this.#settings = { ...s }; this.#stamp++; }

  async addTask(task: Task, secret?: string): Promise<void> {
    if (this.#tasks.has(task.name)) throw taskExists(task.name);
    this.#tasks.set(task.name, clone(task));
    if (secret !== undefined) this.#secrets.set(task.name, secret);
    this.#stamp++;
  }

  async putTask(task: Task, secret?: string | null): Promise<void> {
    if (!this.#tasks.has(task.name)) throw taskNotFound(task.name);
    this.#tasks.set(task.name, clone(task));
    if (secret === null) this.#secrets.delete(task.name);
    else if (secret !== undefined) this.#secrets.set(task.name, secret);
    this.#stamp++;
  }

  async deleteTask(name: string): Promise<void> {
    if (!this.#tasks.delete(name)) throw taskNotFound(name);
    this.#secrets.delete(name);
    this.#stamp++;
  }

  async getTask(name: string): Promise<Task | undefined> {
    const t = this.#tasks.get(name);
    return t === undefined ? undefined : clone(t);
  }

  async listTasks(): Promise<Task[]> {
    return [...this.#tasks.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(clone);
  }

  async setLastScheduled(name: string, at: number): Promise<void> {
    const t = this.#tasks.get(name);
    if (t !== undefined) this.#tasks.set(name, { ...t, lastScheduledAt: at });
  }

  async getSecret(name: string): Promise<string | undefined> { return this.#secrets.get(name); }

  async startRun(run: RunStart): Promise<RunRecord> {
    const rec: RunRecord = { ...run, id: this.#nextRun++, status: 'running' };
    this.#runs.push(rec);
    return clone(rec);
  }

  async updateRun(id: number, patch: Partial<RunRecord>): Promise<void> {
    const i = this.#runs.findIndex((r) => r.id === id);
    if (i >= 0) this.#runs[i] = { ...this.#runs[i]!, ...patch };
  }

  async finishRun(id: number, outcome: RunOutcome): Promise<RunRecord> {
    const i = this.#runs.findIndex((r) => r.id === id);
    if (i < 0) throw new TaskNotFoundError(`run ${id} is not in the history`);
    const rec = { ...this.#runs[i]!, ...outcome };
    this.#runs[i] = rec;
    return clone(rec);
  }

  async history(q: HistoryQuery = {}): Promise<RunRecord[]> {
    const rows = this.#runs.filter((r) => q.task === undefined || r.task === q.task).slice().reverse();
    return (q.limit === undefined ? rows : rows.slice(0, q.limit)).map(clone);
  }

  async runningRuns(): Promise<RunRecord[]> {
    return this.#runs.filter((r) => r.status === 'running').map(clone);
  }

  async addSession(s: SessionRecord): Promise<void> { this.#sessions.set(s.id, { ...s }); this.#stamp++; }
  async removeSession(id: string): Promise<boolean> {
    const had = this.#sessions.delete(id);
    if (had) this.#stamp++;
    return had;
  }
  async listSessions(): Promise<SessionRecord[]> {
    return [...this.#sessions.values()].sort((a, b) => a.loggedOnAt - b.loggedOnAt).map((s) => ({ ...s }));
  }

  async requestRun(task: string, at: number): Promise<void> { this.#requests.push({ task, at }); this.#stamp++; }
  async takeRunRequests(): Promise<{ task: string; at: number }[]> {
    const r = this.#requests;
    this.#requests = [];
    return r;
  }

  async changeStamp(): Promise<number> { return this.#stamp; }
  async close(): Promise<void> {}
}

export function taskExists(name: string): TaskExistsError {
  return new TaskExistsError(`a task named "${name}" already exists`, { hint: 'choose another name, or change it with kerbside task modify', detail: { task: name } });
}

export function taskNotFound(name: string): TaskNotFoundError {
  return new TaskNotFoundError(`there is no task named "${name}"`, { hint: 'kerbside task list shows the defined tasks', detail: { task: name } });
}

function clone<T>(v: T): T {
  return structuredClone(v);
}
