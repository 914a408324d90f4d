/**
 * The scheduler engine (docs/scheduler.md): applies the planner's decisions
 * on the injected clock, gives every run its own logon (or, only where the
 * options say so, a borrowed interactive session), runs the action, records
 * history and events. Timers come only from the Clock; processes only from
 * runner.ts. It never throws out of its loop: a failure becomes a failed run
 * or a `scheduler.internal_error` event.
 */

import { join } from 'node:path';
import type { Clock, TimerHandle } from '../core/clock.js';
import { KerbsideError } from '../core/errors.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import {
  CannotRefreshUnattendedError, type LifecycleEvent,
} from '../lifecycle/index.js';
import {
  KerberosClient, LogonSession, PasswordIncorrectError, PrincipalUnknownError, KdcUnreachableError, KeytabKeyMissingError,
  buildCache, loadClientConfig, type ClientConfig, type KdcTransport, type SessionSource,
} from '../client/index.js';
import { createEmitter, nullSink, type Emitter, type EventFieldsInput, type EventSink } from '../events/index.js';
import { parsePrincipal, principalToString, writeCcache, type Credential } from '../files/index.js';
import { negotiateFetch } from '../http/index.js';
import { TaskAdmin, type CredentialVerifier } from './admin.js';
import {
  ActionFailedError, ActionLaunchError, InvalidTaskError, NotLoggedOnError, RunInterruptedError, SchedulerError, SecretUnavailableError,
  TimeLimitError,
} from './errors.js';
import { schedulerEventId, type SchedulerEventType } from './event-ids.js';
import { instanceDecision, plan, retryDelay, tasksForLogon } from './planner.js';
import { chooseLogon, type LogonChoice } from './run-as.js';
import { createRunDir, ensureDir, removeRunDir, spawnChild, stopOrphan, type ChildHandle } from './runner.js';
import type { SecretBox } from './secrets.js';
import type { SchedulerStore } from './store.js';
import type {
  CredentialUsed, RunOutcome, RunReason, RunRecord, SessionRecord, Task,
} from './types.js';

export interface SchedulerOptions {
  readonly store: SchedulerStore;
  readonly clock: Clock;
  readonly random?: RandomSource;
  readonly events?: EventSink;
  readonly secrets: SecretBox;
  /** The scheduler's folder: run folders go to `<dir>/runs`, command output to `<dir>/logs/<run>.log`. */
  readonly dir: string;
  /** krb5.conf for tasks without their own (KRB5_CONFIG of the children); default: the environment's. */
  readonly krb5Config?: string;
  /** A parsed client configuration instead of reading krb5.conf (tests). */
  readonly clientConfig?: ClientConfig;
  /** KDC transport for the scheduler's own Kerberos exchanges (tests); default sockets. */
  readonly transport?: KdcTransport;
  /** Environment the children start from (default: PATH only). */
  readonly baseEnv?: Readonly<Record<string, string>>;
  /** Poll the store for other processes' changes this often (the daemon); undefined: only changes made through this object. */
  readonly pollIntervalMs?: number;
  /** A start later than this is missed (default 60 s). */
  readonly lateToleranceMs?: number;
  /** Margin beyond the expected run time the TGT must cover at launch (default 5 min). */
  readonly ticketMarginMs?: number;
  /** For the `daemonPid` of history rows (default process.pid). */
  readonly pid?: number;
  /** Checks credentials at definition (CLI: against the KDC). */
  readonly verify?: CredentialVerifier;
}

interface ActiveRun {
  readonly id: number;
  readonly task: string;
  child?: ChildHandle;
  abort?: () => void;
  stopped: boolean;
}

/** What the run's action returned. */
interface ActionResult {
  readonly ok: boolean;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly httpStatus?: number;
  readonly cause?: string;
  readonly errorCode?: string;
  readonly status?: RunOutcome['status'];
  /** The action never launched (101/103 distinction). */
  readonly launched: boolean;
}

export class Scheduler {
  readonly admin: TaskAdmin;
  readonly store: SchedulerStore;
  readonly clock: Clock;
  readonly #o: SchedulerOptions;
  readonly #random: RandomSource;
  readonly #emit: Emitter;
  readonly #sink: EventSink;
  readonly #configs = new Map<string, Promise<ClientConfig>>();
  #defaultRealm: string | undefined;
  readonly #active = new Map<number, ActiveRun>();
  readonly #inflight = new Set<Promise<void>>();
  readonly #queued = new Map<string, { reason: RunReason; attempt: number; scheduledAt?: number }[]>();
  readonly #retryTimers = new Set<TimerHandle>();
  /** Interactive sessions held for borrowing tasks, by session id. */
  readonly #held = new Map<string, Promise<LogonSession>>();
  readonly #announced = new Set<string>();
  #knownSessions: Set<string> | undefined;
  #timer: TimerHandle | undefined;
  #pollTimer: TimerHandle | undefined;
  #cycle: Promise<void> = Promise.resolve();
  #stamp = -1;
  #started = false;
  #stopping = false;

  private constructor(o: SchedulerOptions, defaultRealm: string | undefined) {
    this.#o = o;
    this.store = o.store;
    this.clock = o.clock;
    this.#random = o.random ?? systemRandom();
    this.#sink = o.events ?? nullSink();
    this.#emit = createEmitter(this.#sink, o.clock);
    this.#defaultRealm = defaultRealm;
    this.admin = new TaskAdmin({
      store: o.store, clock: o.clock, random: this.#random, secrets: o.secrets, events: this.#sink,
      canonical: (n) => this.canonical(n),
      ...(o.verify !== undefined ? { verify: o.verify } : {}),
      onChange: () => { this.wake(); },
    });
  }

  static async open(o: SchedulerOptions): Promise<Scheduler> {
    const s = new Scheduler(o, undefined);
    const config = await s.#config(undefined);
    s.#defaultRealm = config.defaultRealm;
    return s;
  }

  /** 'alice' → 'alice@REALM' with the default realm. */
  canonical(name: string): string {
    return principalToString(parsePrincipal(name, this.#defaultRealm === undefined ? {} : { defaultRealm: this.#defaultRealm }));
  }

  /** Recovers runs a crash interrupted, then plans on the clock until stop(). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#recover();
    this.#knownSessions = new Set((await this.store.listSessions()).map((s) => s.id));
    this.#schedulePoll();
    await this.tick();
  }

  /** Plans now (serialised with other cycles). */
  tick(): Promise<void> {
    const next = this.#cycle.then(() => this.#runCycle()).catch((err: unknown) => { this.#internal('planning', err); });
    this.#cycle = next;
    return next;
  }

  /** Asks for a cycle soon (after a change made through this object). */
  wake(): void {
    if (this.#started && !this.#stopping) void this.tick();
  }

  /** Resolves when no cycle and no run is under way. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#cycle;
      if (this.#inflight.size === 0) return;
      await Promise.allSettled([...this.#inflight]);
    }
  }

  /** Stops planning, forwards SIGTERM to running children, waits for the runs to be recorded. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#timer?.cancel();
    this.#pollTimer?.cancel();
    for (const t of this.#retryTimers) t.cancel();
    this.#retryTimers.clear();
    for (const run of this.#active.values()) {
      run.stopped = true;
      run.child?.stop('SIGTERM');
      run.abort?.();
    }
    await this.idle();
    for (const held of this.#held.values()) await held.then((s) => s.close(), () => undefined);
    this.#held.clear();
  }

  /** Runs `name` now, as a user's run-now request (event 110). Resolves once the run is recorded as started. */
  async runNow(name: string): Promise<void> {
    const task = await this.admin.get(name);
    this.#emitEvent('scheduler.task_run_requested', `a run of task "${name}" was requested`, { task: name });
    this.#trigger(task, 'run-now', 1, undefined);
  }

  // ---- planning -------------------------------------------------------------------------------

  async #runCycle(): Promise<void> {
    if (this.#stopping) return;
    const now = this.clock.now();
    for (const req of await this.store.takeRunRequests()) {
      const task = await this.store.getTask(req.task);
      if (task === undefined) continue;
      this.#emitEvent('scheduler.task_run_requested', `a run of task "${req.task}" was requested`, { task: req.task });
      this.#trigger(task, 'run-now', 1, undefined);
    }
    const tasks = await this.store.listTasks();
    await this.#noticeLogons(tasks);
    const p = plan(tasks, now, this.#o.lateToleranceMs === undefined ? {} : { lateToleranceMs: this.#o.lateToleranceMs });
    for (const [name, at] of p.handled) await this.store.setLastScheduled(name, at);
    for (const m of p.missed) {
      this.#emitEvent('scheduler.missed_start', `task "${m.task}" missed ${m.count} scheduled start${m.count === 1 ? '' : 's'} from ${iso(m.scheduledAt)} while the scheduler was not running${m.runNow ? '; running it once now' : '; skipped (the task does not run missed starts)'}`, {
        task: m.task, scheduledAt: iso(m.scheduledAt), count: m.count, runNow: m.runNow,
      });
    }
    for (const s of p.starts) {
      const task = tasks.find((t) => t.name === s.task)!;
      this.#emitEvent('scheduler.task_triggered', `task "${s.task}" was triggered by its schedule (${iso(s.scheduledAt)})`, { task: s.task, scheduledAt: iso(s.scheduledAt) });
      this.#trigger(task, s.reason, 1, s.scheduledAt);
    }
    this.#timer?.cancel();
    this.#timer = undefined;
    if (p.wakeAt !== undefined && !this.#stopping) {
      this.#timer = this.clock.setTimer(p.wakeAt - this.clock.now(), () => { this.#timer = undefined; void this.tick(); });
    }
  }

  #schedulePoll(): void {
    const every = this.#o.pollIntervalMs;
    if (every === undefined || this.#stopping) return;
    this.#pollTimer = this.clock.setTimer(every, () => {
      void (async () => {
        try {
          const stamp = await this.store.changeStamp();
          if (stamp !== this.#stamp) {
            this.#stamp = stamp;
            await this.tick();
          }
        } catch (err) {
          this.#internal('polling the store', err);
        }
        this.#schedulePoll();
      })();
    });
  }

  async #noticeLogons(tasks: readonly Task[]): Promise<void> {
    const sessions = await this.store.listSessions();
    const known = this.#knownSessions ?? new Set<string>();
    for (const s of sessions) {
      if (known.has(s.id)) continue;
      known.add(s.id);
      for (const name of tasksForLogon(tasks, s.principal, (n) => this.canonical(n))) {
        this.#emitEvent('scheduler.task_triggered_on_logon', `task "${name}" was triggered by the logon of ${s.principal}`, { task: name, principal: s.principal, session: s.id });
        this.#trigger(tasks.find((t) => t.name === name)!, 'logon', 1, undefined);
      }
    }
    for (const id of [...known]) {
      if (!sessions.some((s) => s.id === id)) {
        known.delete(id);
        const held = this.#held.get(id);
        this.#held.delete(id);
        if (held !== undefined) void held.then((x) => x.close(), () => undefined);
      }
    }
    this.#knownSessions = known;
  }

  /** Applies the instance policy and starts (or queues) a run. */
  #trigger(task: Task, reason: RunReason, attempt: number, scheduledAt: number | undefined): void {
    if (this.#stopping) return;
    const running = [...this.#active.values()].filter((r) => r.task === task.name && !r.stopped);
    switch (instanceDecision(task.options.instances, running.length)) {
      case 'ignore':
        this.#emitEvent('scheduler.instance_ignored', `a start of task "${task.name}" was ignored: a run of it is under way (instance policy ignore-new)`, { task: task.name, reason });
        return;
      case 'queue': {
        const q = this.#queued.get(task.name) ?? [];
        q.push({ reason, attempt, ...(scheduledAt !== undefined ? { scheduledAt } : {}) });
        this.#queued.set(task.name, q);
        this.#emitEvent('scheduler.instance_queued', `a start of task "${task.name}" was queued behind the run under way`, { task: task.name, reason });
        return;
      }
      case 'stop-then-start':
        for (const r of running) {
          r.stopped = true;
          r.child?.stop('SIGTERM');
          r.abort?.();
          this.#emitEvent('scheduler.task_terminated', `run ${r.id} of task "${task.name}" is being stopped for a new instance (instance policy stop-existing)`, { task: task.name, run: r.id });
        }
        break;
      case 'start':
        break;
    }
    const p = this.#execute(task, reason, attempt, scheduledAt).catch((err: unknown) => { this.#internal(`running task "${task.name}"`, err); });
    this.#inflight.add(p);
    void p.finally(() => { this.#inflight.delete(p); });
  }

  // ---- a run ----------------------------------------------------------------------------------

  async #execute(task: Task, reason: RunReason, attempt: number, scheduledAt: number | undefined): Promise<void> {
    const principal = this.canonical(task.principal);
    const record = await this.store.startRun({
      task: task.name, reason, attempt, principal, startedAt: this.clock.now(),
      ...(scheduledAt !== undefined ? { scheduledAt } : {}),
      daemonPid: this.#o.pid ?? process.pid,
    });
    const active: ActiveRun = { id: record.id, task: task.name, stopped: false };
    this.#active.set(record.id, active);
    const fields = { task: task.name, run: record.id, principal };
    let outcome: RunOutcome;
    let runDir: string | undefined;
    let session: LogonSession | undefined;
    let ownSession = false;
    try {
      const settings = await this.store.settings();
      const sessions = await this.store.listSessions();
      const choice = chooseLogon(task, settings, sessions, (n) => this.canonical(n));
      if (choice.kind === 'not-logged-on') {
        const cause = `${principal} is not logged on, and task "${task.name}" runs only if its account is logged on`;
        this.#emitEvent('scheduler.not_logged_on', `task "${task.name}" did not start: ${cause}`, fields);
        outcome = { status: 'failed', endedAt: this.clock.now(), cause, errorCode: NotLoggedOnError.code };
      } else {
        if (task.action.kind === 'command') {
          runDir = await createRunDir(join(this.#o.dir, 'runs'), record.id);
          await this.store.updateRun(record.id, { runDir });
        }
        const credentialUsed: CredentialUsed = choice.kind === 'borrow' ? 'borrowed-session' : 'own';
        const logon = await this.#logon(task, principal, choice, runDir, record.id);
        session = logon.session;
        ownSession = choice.kind === 'own';
        const ticketEndTime = logon.tgt?.endtime.getTime();
        const common = {
          credentialUsed,
          ...(ticketEndTime !== undefined ? { ticketEndTime } : {}),
          ...(choice.kind === 'borrow' ? { sessionId: choice.session.id } : {}),
        };
        await this.store.updateRun(record.id, common);
        if (logon.error !== undefined || ticketEndTime === undefined) {
          const cause = describeLogonFailure(logon.error, principal, choice);
          this.#emitEvent('scheduler.task_start_failed', `task "${task.name}" could not start: ${cause}`, { ...fields, credentialUsed, errorCode: codeOf(logon.error) });
          outcome = { status: 'failed', endedAt: this.clock.now(), ...common, cause, errorCode: codeOf(logon.error) };
        } else {
          this.#emitEvent('scheduler.task_started', `task "${task.name}" started as ${principal} (${credentialUsed === 'own' ? 'own logon' : `borrowed session ${choice.kind === 'borrow' ? choice.session.id : ''}`}; ticket valid until ${iso(ticketEndTime)})`, { ...fields, credentialUsed, reason, attempt });
          const result = await this.#action(task, session!, active, runDir, record.id, fields);
          if (result.ok) {
            this.#emitEvent('scheduler.task_completed', `task "${task.name}" completed${result.exitCode !== undefined ? ` (exit code ${result.exitCode})` : result.httpStatus !== undefined ? ` (HTTP ${result.httpStatus})` : ''}`, { ...fields, exitCode: result.exitCode, httpStatus: result.httpStatus });
          } else {
            this.#emitEvent('scheduler.action_failed', `task "${task.name}" failed: ${result.cause ?? 'unknown cause'}`, { ...fields, exitCode: result.exitCode, httpStatus: result.httpStatus, errorCode: result.errorCode });
          }
          outcome = {
            status: result.status ?? (result.ok ? 'succeeded' : 'failed'), endedAt: this.clock.now(), ...common,
            ...(result.exitCode !== undefined ? { exitCode: result.exitCode } : {}),
            ...(result.signal !== undefined ? { signal: result.signal } : {}),
            ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
            ...(result.cause !== undefined ? { cause: result.cause } : {}),
            ...(result.errorCode !== undefined ? { errorCode: result.errorCode } : {}),
          };
        }
      }
    } catch (err) {
      const cause = err instanceof KerbsideError ? err.explain() : `unexpected failure: ${(err as Error)?.message ?? String(err)}`;
      this.#emitEvent('scheduler.task_start_failed', `task "${task.name}" could not start: ${cause}`, { ...fields, errorCode: codeOf(err) });
      outcome = { status: 'failed', endedAt: this.clock.now(), cause, errorCode: codeOf(err) };
    } finally {
      if (ownSession) await session?.close().catch(() => undefined);
      if (runDir !== undefined) await removeRunDir(runDir).catch(() => undefined);
    }
    await this.store.finishRun(record.id, outcome);
    this.#active.delete(record.id);
    this.#afterRun(task, outcome, attempt, reason);
  }

  #afterRun(task: Task, outcome: RunOutcome, attempt: number, reason: RunReason): void {
    if (this.#stopping) return;
    const q = this.#queued.get(task.name);
    if (q !== undefined && q.length > 0 && ![...this.#active.values()].some((r) => r.task === task.name)) {
      const next = q.shift()!;
      if (q.length === 0) this.#queued.delete(task.name);
      void this.store.getTask(task.name).then((t) => { if (t !== undefined) this.#trigger(t, 'queued', next.attempt, next.scheduledAt); });
    }
    if (outcome.status !== 'failed' && outcome.status !== 'timed-out') return;
    const delay = retryDelay(task.options.retry, attempt);
    if (delay === undefined) return;
    this.#emitEvent('scheduler.retry_scheduled', `task "${task.name}" will be retried in ${Math.round(delay / 1000)} s (retry ${attempt} of ${task.options.retry.count})`, { task: task.name, retry: attempt, delayMs: delay, reason });
    const timer = this.clock.setTimer(delay, () => {
      this.#retryTimers.delete(timer);
      void this.store.getTask(task.name).then((t) => {
        if (t !== undefined && t.enabled) this.#trigger(t, 'retry', attempt + 1, undefined);
      }).catch((err: unknown) => { this.#internal('retrying', err); });
    });
    this.#retryTimers.add(timer);
  }

  /** The run's logon: its own session, or the borrowed one. A failure is returned (with the session, if any) so it lands in history. */
  async #logon(task: Task, principal: string, choice: Exclude<LogonChoice, { kind: 'not-logged-on' }>, runDir: string | undefined, runId: number)
    : Promise<{ readonly session?: LogonSession; readonly tgt?: Credential; readonly error?: unknown }> {
    const minRemaining = task.options.expectedRunMs + (this.#o.ticketMarginMs ?? 5 * 60_000);
    let session: LogonSession | undefined;
    try {
      if (choice.kind === 'borrow') {
        this.#emitEvent('scheduler.session_borrowed', `task "${task.name}" runs in the ${choice.session.kind === 'smartcard' ? 'smart-card ' : ''}logon session ${choice.session.id} of ${choice.session.principal} instead of logging on with its own credential (${choice.why === 'compatibility' ? 'disableUseOfTokenFromSession is off' : 'runOnlyIfLoggedOn'})`, {
          task: task.name, run: runId, principal, session: choice.session.id, sessionKind: choice.session.kind, why: choice.why,
        });
        session = await this.#heldSession(choice.session, task);
        const tgt = await session.tgt({ minRemaining });
        if (runDir !== undefined) {
          // The child gets a private copy of the borrowed TGT: the user's own cache is never handed out or written.
          await writeCcache(`FILE:${join(runDir, 'ccache')}`, buildCache({ principal: tgt.client, credentials: [tgt], offset: (await this.#client(task)).timeOffset }));
        }
        return { session, tgt };
      }
      const client = await this.#client(task);
      const source = await this.#source(task);
      session = await LogonSession.open({
        client, principal, source, sink: this.#sink,
        ...(runDir !== undefined ? { ccache: `FILE:${join(runDir, 'ccache')}` } : {}),
      });
      const tgt = await session.tgt({ minRemaining });
      return { session, tgt };
    } catch (error) {
      return { ...(session !== undefined ? { session } : {}), error: error ?? new SchedulerError('logon failed') };
    }
  }

  async #source(task: Task): Promise<SessionSource> {
    const c = task.credential;
    if (c.kind === 'keytab') return { kind: 'keytab', keytab: c.keytab };
    if (c.kind === 'password') {
      const sealed = await this.store.getSecret(task.name);
      if (sealed === undefined) throw new SecretUnavailableError(`task "${task.name}" has no stored password`, { hint: 'store one with kerbside task modify NAME --password-file FILE' });
      return { kind: 'password', password: this.#o.secrets.open(task.name, sealed) };
    }
    throw new InvalidTaskError(`task "${task.name}" has no credential of its own`);
  }

  /** The interactive session as the scheduler holds it: opened from the user's cache, renewed, never re-acquired. */
  #heldSession(rec: SessionRecord, task: Task): Promise<LogonSession> {
    let held = this.#held.get(rec.id);
    if (held === undefined) {
      held = (async () => LogonSession.open({
        client: await this.#client(task),
        source: { kind: 'ccache', ccache: rec.ccache },
        sink: this.#sink,
        onEvent: (e) => { this.#sessionEvent(rec, e); },
      }))();
      this.#held.set(rec.id, held);
      held.catch(() => { if (this.#held.get(rec.id) === held) this.#held.delete(rec.id); });
    }
    return held;
  }

  /** A borrowed session that cannot be refreshed: say so for each task that borrows it, before the ticket expires. */
  #sessionEvent(rec: SessionRecord, e: LifecycleEvent): void {
    if (e.type !== 'cannot_refresh_unattended' || this.#announced.has(rec.id)) return;
    this.#announced.add(rec.id);
    void (async () => {
      const settings = await this.store.settings();
      const sessions = await this.store.listSessions();
      const borrowers = (await this.store.listTasks()).filter((t) => {
        const c = chooseLogon(t, settings, sessions, (n) => this.canonical(n));
        return c.kind === 'borrow' && c.session.id === rec.id;
      }).map((t) => t.name);
      const pin = rec.kind === 'smartcard';
      this.#emitEvent('scheduler.cannot_refresh_unattended',
        `the ${pin ? 'smart-card ' : ''}logon session ${rec.id} of ${rec.principal}, borrowed by ${borrowers.map((b) => `task "${b}"`).join(', ') || 'no task now'}, cannot be refreshed unattended: ${pin ? 're-acquiring its TGT needs a smart-card PIN, which nobody can type for a background task' : 're-acquiring its TGT needs the user\'s password'}; it expires at ${e.endTime === undefined ? 'once used up' : iso(e.endTime)} and the tasks will fail from then on (set disableUseOfTokenFromSession to true so they log on with their own credential)`,
        {
          session: rec.id, principal: rec.principal, sessionKind: rec.kind, tasks: borrowers, needsPin: pin,
          endTime: e.endTime === undefined ? undefined : iso(e.endTime),
        });
    })().catch((err: unknown) => { this.#internal('announcing a session that cannot be refreshed', err); });
  }

  async #action(task: Task, session: LogonSession, active: ActiveRun, runDir: string | undefined, runId: number, fields: EventFieldsInput): Promise<ActionResult> {
    const a = task.action;
    const limit = task.options.timeLimitMs;
    if (a.kind === 'command') {
      const krb5 = task.krb5Config ?? this.#o.krb5Config;
      const env: Record<string, string> = {
        ...(this.#o.baseEnv ?? (process.env['PATH'] !== undefined ? { PATH: process.env['PATH'] } : {})),
        ...a.env,
        KRB5CCNAME: `FILE:${join(runDir!, 'ccache')}`,
        ...(krb5 !== undefined ? { KRB5_CONFIG: krb5 } : {}),
      };
      const logFile = join(this.#o.dir, 'logs', `${runId}.log`);
      await ensureDir(join(this.#o.dir, 'logs'));
      const child = spawnChild({ argv: a.argv, ...(a.cwd !== undefined ? { cwd: a.cwd } : {}), env, clock: this.clock, timeLimitMs: limit, logFile });
      active.child = child;
      if (active.stopped) child.stop('SIGTERM');
      if (child.pid !== undefined) await this.store.updateRun(runId, { childPid: child.pid });
      this.#emitEvent('scheduler.action_started', `task "${task.name}" launched ${a.argv.join(' ')}${child.pid !== undefined ? ` (pid ${child.pid})` : ''}`, { ...fields, command: a.argv[0], pid: child.pid });
      const r = await child.done;
      if (r.launchError !== undefined) {
        const cause = r.launchError.errno === 'ENOENT'
          ? `the command "${a.argv[0]}" was not found (not on PATH${a.cwd !== undefined ? ` or the working directory ${a.cwd} does not exist` : ''})`
          : `the command "${a.argv[0]}" could not be launched: ${r.launchError.message}`;
        return { ok: false, launched: false, cause, errorCode: ActionLaunchError.code };
      }
      this.#emitEvent('scheduler.action_completed', `task "${task.name}": ${a.argv[0]} ended with ${r.exitCode !== undefined ? `exit code ${r.exitCode}` : `signal ${r.signal ?? '?'}`}`, { ...fields, exitCode: r.exitCode, signal: r.signal });
      if (r.timedOut) {
        this.#emitEvent('scheduler.time_limit_reached', `task "${task.name}" overran its execution time limit of ${fmt(limit)} and was stopped`, fields);
        return { ok: false, launched: true, status: 'timed-out', cause: `the run overran its execution time limit of ${fmt(limit)} and was stopped`, errorCode: TimeLimitError.code, ...exitOf(r) };
      }
      if (r.stopped) return { ok: false, launched: true, status: 'stopped', cause: 'the run was stopped (instance policy stop-existing, or the scheduler shut down)', ...exitOf(r) };
      if (r.exitCode === 0) return { ok: true, launched: true, exitCode: 0 };
      return { ok: false, launched: true, cause: r.exitCode !== undefined ? `${a.argv[0]} exited with code ${r.exitCode}` : `${a.argv[0]} was killed by signal ${r.signal ?? '?'}`, errorCode: ActionFailedError.code, ...exitOf(r) };
    }
    // Built-in HTTP request through negotiateFetch with the run's own session.
    this.#emitEvent('scheduler.action_started', `task "${task.name}" sends ${a.method ?? 'GET'} ${a.url}`, { ...fields, url: a.url });
    let timer: TimerHandle | undefined;
    let aborted: ((e: Error) => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      aborted = reject;
      timer = this.clock.setTimer(limit, () => { reject(new TimeoutMarker()); });
    });
    active.abort = () => { aborted?.(new StopMarker()); };
    try {
      const response = await Promise.race([
        negotiateFetch(a.url, {
          method: a.method ?? 'GET',
          negotiate: { session, clock: this.clock, random: this.#random, ...(a.spn !== undefined ? { spn: a.spn } : {}) },
        }),
        stop,
      ]);
      await response.arrayBuffer().catch(() => undefined);
      const want = a.expectStatus ?? 200;
      this.#emitEvent('scheduler.action_completed', `task "${task.name}": ${a.url} answered ${response.status}`, { ...fields, httpStatus: response.status });
      if (response.status === want) return { ok: true, launched: true, httpStatus: response.status };
      return { ok: false, launched: true, httpStatus: response.status, cause: `${a.url} answered HTTP ${response.status}, expected ${want}`, errorCode: ActionFailedError.code };
    } catch (err) {
      if (err instanceof TimeoutMarker) {
        this.#emitEvent('scheduler.time_limit_reached', `task "${task.name}" overran its execution time limit of ${fmt(limit)} and was stopped`, fields);
        return { ok: false, launched: true, status: 'timed-out', cause: `the run overran its execution time limit of ${fmt(limit)} and was stopped`, errorCode: TimeLimitError.code };
      }
      if (err instanceof StopMarker) return { ok: false, launched: true, status: 'stopped', cause: 'the run was stopped' };
      return { ok: false, launched: true, cause: err instanceof KerbsideError ? err.explain() : String((err as Error)?.message ?? err), errorCode: codeOf(err) };
    } finally {
      timer?.cancel();
      stop.catch(() => undefined);
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  #config(path: string | undefined): Promise<ClientConfig> {
    if (path === undefined && this.#o.clientConfig !== undefined) return Promise.resolve(this.#o.clientConfig);
    const key = path ?? this.#o.krb5Config ?? '';
    let c = this.#configs.get(key);
    if (c === undefined) {
      const file = path ?? this.#o.krb5Config;
      c = file !== undefined ? loadClientConfig(file) : loadClientConfig(undefined, { env: process.env });
      this.#configs.set(key, c);
      c.catch(() => this.#configs.delete(key));
    }
    return c;
  }

  async #client(task: Task): Promise<KerberosClient> {
    const config = await this.#config(task.krb5Config);
    return new KerberosClient({ config, clock: this.clock, random: this.#random, ...(this.#o.transport !== undefined ? { transport: this.#o.transport } : {}) });
  }

  async #recover(): Promise<void> {
    for (const run of await this.store.runningRuns()) {
      if (run.childPid !== undefined) stopOrphan(run.childPid);
      if (run.runDir !== undefined) await removeRunDir(run.runDir).catch(() => undefined);
      const cause = `the scheduler (pid ${run.daemonPid ?? '?'}) stopped while this run was under way (killed or host restarted); its outcome is unknown`;
      await this.store.finishRun(run.id, { status: 'interrupted', endedAt: this.clock.now(), cause, errorCode: RunInterruptedError.code });
      this.#emitEvent('scheduler.run_interrupted', `run ${run.id} of task "${run.task}" was interrupted: ${cause}`, { task: run.task, run: run.id });
    }
  }

  #emitEvent(type: SchedulerEventType, message: string, fields: EventFieldsInput): void {
    try {
      this.#emit.emit(type, message, { eventId: schedulerEventId(type), ...fields });
    } catch {
      // A failing sink must not stop the scheduler.
    }
  }

  #internal(what: string, err: unknown): void {
    this.#emitEvent('scheduler.internal_error', `internal error while ${what}: ${(err as Error)?.message ?? String(err)}`, { errorCode: codeOf(err) });
  }
}

class TimeoutMarker extends Error {}
class StopMarker extends Error {}

function exitOf(r: { exitCode?: number; signal?: string }): { exitCode?: number; signal?: string } {
  return { ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), ...(r.signal !== undefined ? { signal: r.signal } : {}) };
}

function codeOf(err: unknown): string {
  return err instanceof KerbsideError ? err.code : 'ERR_UNEXPECTED';
}

/** The cause of a failed logon in words, for history. */
export function describeLogonFailure(err: unknown, principal: string, choice: LogonChoice): string {
  const text = err instanceof KerbsideError ? err.explain() : String((err as Error)?.message ?? err);
  if (choice.kind === 'borrow') {
    const card = choice.session.kind === 'smartcard';
    if (err instanceof CannotRefreshUnattendedError) {
      return card
        ? `the borrowed smart-card logon session ${choice.session.id} of ${principal} can no longer be renewed, and re-acquiring its TGT needs a smart-card PIN that nobody is there to type (${text})`
        : `the borrowed logon session ${choice.session.id} of ${principal} can no longer be renewed and needs the user's password (${text})`;
    }
    return `the borrowed logon session ${choice.session.id} of ${principal} cannot be used: ${text}`;
  }
  if (err instanceof PasswordIncorrectError) return `logon of ${principal} with its stored password failed: ${text}`;
  if (err instanceof PrincipalUnknownError) return `the account ${principal} does not exist in its realm: ${text}`;
  if (err instanceof KeytabKeyMissingError) return `the keytab holds no key for ${principal}: ${text}`;
  if (err instanceof KdcUnreachableError) return `no KDC could be reached for ${principal}: ${text}`;
  return `logon of ${principal} failed: ${text}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function fmt(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

export type { RunRecord };
