/** Scheduler failures, each with a stable code and a hint (docs/scheduler.md). */

import { KerbsideError } from '../core/errors.js';

export class SchedulerError extends KerbsideError {
  static override readonly code: string = 'ERR_SCHEDULER';
}

/** A task definition that cannot work (bad trigger, empty command, unknown keytab principal…). */
export class InvalidTaskError extends SchedulerError {
  static override readonly code: string = 'ERR_INVALID_TASK';
}

/**
 * `disableUseOfTokenFromSession` and `runOnlyIfLoggedOn` are mutually
 * exclusive (as the Windows switch and "Run only if user is logged on" are).
 * The CLI exits with status 2.
 */
export class OptionConflictError extends SchedulerError {
  static override readonly code: string = 'ERR_OPTION_CONFLICT';
}

export class TaskNotFoundError extends SchedulerError {
  static override readonly code: string = 'ERR_TASK_NOT_FOUND';
}

export class TaskExistsError extends SchedulerError {
  static override readonly code: string = 'ERR_TASK_EXISTS';
}

export class SessionNotFoundError extends SchedulerError {
  static override readonly code: string = 'ERR_SESSION_NOT_FOUND';
}

/** The stored secret could not be decrypted (wrong host key, tampered row). */
export class SecretUnavailableError extends SchedulerError {
  static override readonly code: string = 'ERR_SECRET_UNAVAILABLE';
}

/** A run-only-if-logged-on task whose account has no session. */
export class NotLoggedOnError extends SchedulerError {
  static override readonly code: string = 'ERR_NOT_LOGGED_ON';
}

/** The action could not be launched (command not found, not executable, bad working directory). */
export class ActionLaunchError extends SchedulerError {
  static override readonly code: string = 'ERR_ACTION_LAUNCH';
}

/** The action ran and failed (non-zero exit, unexpected HTTP status, signal). */
export class ActionFailedError extends SchedulerError {
  static override readonly code: string = 'ERR_ACTION_FAILED';
}

/** The run overran its execution time limit and was stopped. */
export class TimeLimitError extends SchedulerError {
  static override readonly code: string = 'ERR_TIME_LIMIT';
}

/** The scheduler stopped abruptly while the run was under way; recorded at the next start. */
export class RunInterruptedError extends SchedulerError {
  static override readonly code: string = 'ERR_RUN_INTERRUPTED';
}
