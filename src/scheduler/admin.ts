/**
 * Defining tasks and sessions (docs/scheduler.md "Tasks"): validation
 * (run-as.ts), optional verification of the credential against the KDC,
 * sealing the stored password, the store write and its event. Used by the
 * daemon and by the CLI, which edits the store the daemon watches.
 */

import type { Clock } from '../core/clock.js';
import type { RandomSource } from '../core/random.js';
import { createEmitter, nullSink, type Emitter, type EventSink } from '../events/index.js';
import { InvalidTaskError, SessionNotFoundError, TaskNotFoundError } from './errors.js';
import { schedulerEventId } from './event-ids.js';
import { switchConflictError, validateDefinition } from './run-as.js';
import type { SecretBox } from './secrets.js';
import type { SchedulerStore } from './store.js';
import { describeTrigger } from './triggers.js';
import {
  DEFAULT_TASK_OPTIONS, type SchedulerSettings, type SessionKind, type SessionRecord, type Task, type TaskAction, type TaskCredential,
  type TaskOptions, type Trigger,
} from './types.js';

/** A credential as given at definition: the password in clear, only until it is sealed. */
export type CredentialInput =
  | { readonly kind: 'password'; readonly password: string }
  | { readonly kind: 'keytab'; readonly keytab: string }
  | { readonly kind: 'session' };

export interface TaskInput {
  readonly name: string;
  readonly principal: string;
  /** Default: session when runOnlyIfLoggedOn, else required. */
  readonly credential?: CredentialInput;
  readonly action: TaskAction;
  readonly triggers?: readonly Trigger[];
  readonly options?: Partial<TaskOptions>;
  readonly enabled?: boolean;
  readonly krb5Config?: string;
  readonly description?: string;
}

export type TaskPatch = Partial<Omit<TaskInput, 'name'>>;

/** Checks a credential before it is stored (a logon against the KDC, the keytab's keys). Throws with the cause. */
export type CredentialVerifier = (principal: string, credential: CredentialInput, krb5Config: string | undefined) => Promise<void>;

export interface TaskAdminOptions {
  readonly store: SchedulerStore;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly secrets: SecretBox;
  readonly events?: EventSink;
  /** Principal names in canonical form (default realm added). */
  readonly canonical: (name: string) => string;
  /** Run at add/modify when a credential is given (definition-time errors: wrong password, unknown account). */
  readonly verify?: CredentialVerifier;
  /** Called after every change (the in-process daemon re-plans). */
  readonly onChange?: () => void;
}

export interface Defined {
  readonly task: Task;
  /** For people: e.g. the borrowed smart-card session. */
  readonly warnings: readonly string[];
}

export class TaskAdmin {
  readonly #o: TaskAdminOptions;
  readonly #emit: Emitter;

  constructor(options: TaskAdminOptions) {
    this.#o = options;
    this.#emit = createEmitter(options.events ?? nullSink(), options.clock);
  }

  async add(input: TaskInput): Promise<Defined> {
    const now = this.#o.clock.now();
    const options: TaskOptions = { ...DEFAULT_TASK_OPTIONS, ...input.options };
    const credential = input.credential ?? (options.runOnlyIfLoggedOn ? { kind: 'session' as const } : undefined);
    if (credential === undefined) {
      throw new InvalidTaskError(`task "${input.name}" has no credential`, {
        hint: 'give it a stored password (--password-file FILE, or type it when asked) or a keytab (--keytab FILE), or --run-only-if-logged-on',
      });
    }
    const task: Task = {
      name: input.name,
      principal: input.principal,
      credential: stored(credential),
      action: input.action,
      triggers: input.triggers ?? [],
      options,
      enabled: input.enabled ?? true,
      ...(input.krb5Config !== undefined ? { krb5Config: input.krb5Config } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      createdAt: now,
      modifiedAt: now,
    };
    const warnings = await this.#check(task);
    if (credential.kind !== 'session') await this.#o.verify?.(task.principal, credential, task.krb5Config);
    const secret = credential.kind === 'password' ? this.#o.secrets.seal(task.name, credential.password) : undefined;
    await this.#o.store.addTask(task, secret);
    this.#emit.emit('scheduler.task_registered', `task "${task.name}" was registered: runs as ${task.principal} with ${describeCredential(task.credential)}, ${task.triggers.map(describeTrigger).join('; ') || 'on demand only'}`, {
      eventId: schedulerEventId('scheduler.task_registered'), task: task.name, principal: task.principal, credential: task.credential.kind,
      warnings: warnings.length > 0 ? warnings : undefined,
    });
    this.#o.onChange?.();
    return { task, warnings };
  }

  async modify(name: string, patch: TaskPatch): Promise<Defined> {
    const old = await this.get(name);
    const options: TaskOptions = { ...old.options, ...patch.options };
    let credential: TaskCredential = patch.credential !== undefined ? stored(patch.credential) : old.credential;
    if (patch.credential === undefined && options.runOnlyIfLoggedOn !== old.options.runOnlyIfLoggedOn) {
      if (options.runOnlyIfLoggedOn) credential = { kind: 'session' };
      else if (old.credential.kind === 'session') {
        throw new InvalidTaskError(`task "${name}" needs a credential of its own to stop running only if logged on`, { hint: 'give --password-file FILE or --keytab FILE' });
      }
    }
    const task: Task = {
      ...old,
      ...(patch.principal !== undefined ? { principal: patch.principal } : {}),
      ...(patch.action !== undefined ? { action: patch.action } : {}),
      ...(patch.triggers !== undefined ? { triggers: patch.triggers } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      ...(patch.krb5Config !== undefined ? { krb5Config: patch.krb5Config } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      credential,
      options,
      modifiedAt: this.#o.clock.now(),
      // A task enabled again starts from now: the starts it had while disabled were not missed.
      ...(patch.enabled === true && !old.enabled ? { lastScheduledAt: this.#o.clock.now() } : {}),
    };
    const warnings = await this.#check(task);
    if (patch.credential !== undefined && patch.credential.kind !== 'session') await this.#o.verify?.(task.principal, patch.credential, task.krb5Config);
    const secret = patch.credential?.kind === 'password' ? this.#o.secrets.seal(name, patch.credential.password)
      : credential.kind !== 'password' ? null : undefined;
    await this.#o.store.putTask(task, secret);
    this.#emit.emit('scheduler.task_updated', `task "${name}" was changed`, { eventId: schedulerEventId('scheduler.task_updated'), task: name, enabled: task.enabled });
    this.#o.onChange?.();
    return { task, warnings };
  }

  setEnabled(name: string, enabled: boolean): Promise<Defined> {
    return this.modify(name, { enabled });
  }

  async remove(name: string): Promise<void> {
    await this.#o.store.deleteTask(name);
    this.#emit.emit('scheduler.task_deleted', `task "${name}" was deleted`, { eventId: schedulerEventId('scheduler.task_deleted'), task: name });
    this.#o.onChange?.();
  }

  async get(name: string): Promise<Task> {
    const t = await this.#o.store.getTask(name);
    if (t === undefined) throw new TaskNotFoundError(`there is no task named "${name}"`, { hint: 'kerbside task list shows the defined tasks', detail: { task: name } });
    return t;
  }

  list(): Promise<Task[]> {
    return this.#o.store.listTasks();
  }

  async requestRun(name: string): Promise<void> {
    await this.get(name);
    await this.#o.store.requestRun(name, this.#o.clock.now());
    this.#o.onChange?.();
  }

  /** Changes scheduler-wide settings; turning disableUseOfTokenFromSession on fails while run-only-if-logged-on tasks exist. */
  async setSettings(patch: Partial<SchedulerSettings>): Promise<SchedulerSettings> {
    const old = await this.#o.store.settings();
    const next: SchedulerSettings = { ...old, ...patch };
    if (next.disableUseOfTokenFromSession && !old.disableUseOfTokenFromSession) {
      const conflicting = (await this.#o.store.listTasks()).filter((t) => t.options.runOnlyIfLoggedOn).map((t) => t.name);
      if (conflicting.length > 0) throw switchConflictError(conflicting);
    }
    await this.#o.store.setSettings(next);
    if (next.disableUseOfTokenFromSession !== old.disableUseOfTokenFromSession) {
      this.#emit.emit('scheduler.setting_changed', `disableUseOfTokenFromSession is now ${next.disableUseOfTokenFromSession ? 'on: tasks always log on with their own credential' : 'off (compatibility): tasks whose account is logged on borrow that session'}`, {
        eventId: schedulerEventId('scheduler.setting_changed'), setting: 'disableUseOfTokenFromSession', value: next.disableUseOfTokenFromSession,
      });
    }
    this.#o.onChange?.();
    return next;
  }

  /** Registers an interactive logon session (`kerbside logon`). */
  async logon(session: { readonly principal: string; readonly kind: SessionKind; readonly ccache: string; readonly id?: string }): Promise<SessionRecord> {
    const id = session.id ?? Buffer.from(this.#o.random.bytes(6)).toString('hex');
    const rec: SessionRecord = { id, principal: this.#o.canonical(session.principal), kind: session.kind, ccache: session.ccache, loggedOnAt: this.#o.clock.now() };
    await this.#o.store.addSession(rec);
    this.#o.onChange?.();
    return rec;
  }

  async logoff(id: string): Promise<void> {
    if (!(await this.#o.store.removeSession(id))) throw new SessionNotFoundError(`there is no logon session "${id}"`, { hint: 'kerbside logon --list shows the sessions' });
    this.#o.onChange?.();
  }

  async #check(task: Task): Promise<string[]> {
    const settings = await this.#o.store.settings();
    const sessions = await this.#o.store.listSessions();
    return validateDefinition(task, settings, sessions, this.#o.canonical);
  }
}

function stored(c: CredentialInput): TaskCredential {
  return c.kind === 'password' ? { kind: 'password' } : c.kind === 'keytab' ? { kind: 'keytab', keytab: c.keytab } : { kind: 'session' };
}

export function describeCredential(c: TaskCredential): string {
  switch (c.kind) {
    case 'password': return 'its stored password';
    case 'keytab': return `keytab ${c.keytab}`;
    case 'session': return 'its interactive session (run only if logged on)';
  }
}
