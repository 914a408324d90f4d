/**
 * Whose credentials a run uses, and what a definition may say (sans-IO).
 * The two options of the founding failure (docs/architecture.md "The borrowed session";
 * docs/scheduler.md "The two options"):
 *
 * - `disableUseOfTokenFromSession` (scheduler-wide, default true): a task
 *   logs on with its own credential even while its account is logged on.
 *   Off (compatibility): a task whose account is logged on borrows that
 *   session — the pre-fix behaviour, which fails once a smart-card TGT can
 *   no longer be renewed.
 * - `runOnlyIfLoggedOn` (per task): the task runs only inside its account's
 *   session, with no stored credential.
 *
 * The two are mutually exclusive: the switch promises that no task uses a
 * session, and a run-only-if-logged-on task can use nothing else.
 */

import { InvalidTaskError, OptionConflictError } from './errors.js';
import { validateTrigger } from './triggers.js';
import type { SchedulerSettings, SessionRecord, TaskDefinition } from './types.js';

export type LogonChoice =
  | { readonly kind: 'own' }
  | { readonly kind: 'borrow'; readonly session: SessionRecord; readonly why: 'compatibility' | 'run-only-if-logged-on' }
  | { readonly kind: 'not-logged-on' };

/** Sessions of `principal` (canonical names), the most recent first. */
export function sessionsOf(sessions: readonly SessionRecord[], principal: string, canonical: (n: string) => string): SessionRecord[] {
  const who = canonical(principal);
  return sessions.filter((s) => canonical(s.principal) === who).sort((a, b) => b.loggedOnAt - a.loggedOnAt);
}

export function chooseLogon(
  task: TaskDefinition, settings: SchedulerSettings, sessions: readonly SessionRecord[], canonical: (n: string) => string,
): LogonChoice {
  const mine = sessionsOf(sessions, task.principal, canonical)[0];
  if (task.options.runOnlyIfLoggedOn) {
    return mine === undefined ? { kind: 'not-logged-on' } : { kind: 'borrow', session: mine, why: 'run-only-if-logged-on' };
  }
  if (!settings.disableUseOfTokenFromSession && mine !== undefined) return { kind: 'borrow', session: mine, why: 'compatibility' };
  return { kind: 'own' };
}

export const CONFLICT_HINT =
  'either set disableUseOfTokenFromSession to false (kerbside scheduler set disableUseOfTokenFromSession false: compatibility mode, tasks may borrow logged-on sessions) '
  + 'or define the task without runOnlyIfLoggedOn, with its own stored password or keytab (recommended)';

export function conflictError(task: string): OptionConflictError {
  return new OptionConflictError(
    `task "${task}": runOnlyIfLoggedOn cannot be used while disableUseOfTokenFromSession is on; the two settings are mutually exclusive`,
    { hint: CONFLICT_HINT, detail: { task } },
  );
}

/** Turning the switch on while run-only-if-logged-on tasks exist. */
export function switchConflictError(tasks: readonly string[]): OptionConflictError {
  return new OptionConflictError(
    `disableUseOfTokenFromSession cannot be turned on: ${tasks.length === 1 ? 'task' : 'tasks'} ${tasks.map((t) => `"${t}"`).join(', ')} ${tasks.length === 1 ? 'uses' : 'use'} runOnlyIfLoggedOn; the two settings are mutually exclusive`,
    {
      hint: 'first give those tasks their own credential (kerbside task modify NAME --no-run-only-if-logged-on --password-file FILE or --keytab KT), or delete them',
      detail: { tasks: tasks.join(',') },
    },
  );
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Checks everything a definition says that can be checked without I/O.
 * Returns warnings for people (the borrowed smart-card session).
 */
export function validateDefinition(
  def: TaskDefinition, settings: SchedulerSettings, sessions: readonly SessionRecord[], canonical: (n: string) => string,
): string[] {
  if (!NAME_RE.test(def.name)) {
    throw new InvalidTaskError(`"${def.name}" is not a task name`, { hint: 'use letters, digits, dot, dash and underscore (at most 128), starting with a letter or digit' });
  }
  try {
    canonical(def.principal);
  } catch (err) {
    throw new InvalidTaskError(`task "${def.name}": "${def.principal}" is not a principal name: ${(err as Error).message}`, { cause: err });
  }
  const a = def.action;
  if (a.kind === 'command') {
    if (a.argv.length === 0 || a.argv[0] === '') throw new InvalidTaskError(`task "${def.name}" has no command`, { hint: 'give the command after --, e.g. kerbside task add NAME … -- kvno cifs/fileserver' });
  } else {
    let url: URL;
    try {
      url = new URL(a.url);
    } catch {
      throw new InvalidTaskError(`task "${def.name}": "${a.url}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidTaskError(`task "${def.name}": the HTTP action needs an http or https URL, not ${url.protocol}`);
    if (a.expectStatus !== undefined && !(Number.isInteger(a.expectStatus) && a.expectStatus >= 100 && a.expectStatus <= 599)) {
      throw new InvalidTaskError(`task "${def.name}": expected status ${a.expectStatus} is not an HTTP status`);
    }
  }
  for (const t of def.triggers) validateTrigger(t);
  const o = def.options;
  if (!(o.timeLimitMs > 0)) throw new InvalidTaskError(`task "${def.name}": the execution time limit must be positive`);
  if (!(Number.isInteger(o.retry.count) && o.retry.count >= 0 && o.retry.count <= 100) || !(o.retry.delayMs >= 1000)) {
    throw new InvalidTaskError(`task "${def.name}": retry needs a count of 0–100 and a delay of at least 1 s`);
  }
  if (o.runOnlyIfLoggedOn) {
    if (settings.disableUseOfTokenFromSession) throw conflictError(def.name);
    if (def.credential.kind !== 'session') {
      throw new InvalidTaskError(`task "${def.name}": a run-only-if-logged-on task runs inside its account's session and takes no stored credential`, {
        hint: 'leave out --password/--keytab, or leave out --run-only-if-logged-on',
      });
    }
  } else if (def.credential.kind === 'session') {
    throw new InvalidTaskError(`task "${def.name}" has no credential of its own`, {
      hint: 'give it a stored password (--password-file or prompt) or a keytab (--keytab), or make it run only if logged on',
    });
  }
  const warnings: string[] = [];
  const mine = sessionsOf(sessions, def.principal, canonical);
  if (!settings.disableUseOfTokenFromSession && mine.length > 0) {
    const card = mine.find((s) => s.kind === 'smartcard');
    warnings.push(card !== undefined
      ? `task "${def.name}" will borrow the smart-card logon session of ${card.principal} (${card.ccache}) because disableUseOfTokenFromSession is off: once its TGT can no longer be renewed, re-acquiring it needs a smart-card PIN that nobody can type, and the task will fail; set disableUseOfTokenFromSession to true so the task logs on with its own credential`
      : `task "${def.name}" will borrow the logon session of ${mine[0]!.principal} because disableUseOfTokenFromSession is off; it stops working when that session ends or can no longer be renewed`);
  }
  return warnings;
}
