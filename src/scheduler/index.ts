/**
 * kerbside/scheduler: tasks that run as accounts with their own logon
 * (docs/scheduler.md). Sans-IO planning (planner.ts, run-as.ts, triggers.ts)
 * on an injected clock, a thin process runner, an embedded store.
 * The store conformance suite is in ./conformance.js (it imports node:test).
 */
export type {
  TaskAction, TaskCredential, Trigger, InstancePolicy, RetryPolicy, TaskOptions, TaskDefinition, Task, CredentialUsed, RunStatus,
  RunReason, RunRecord, RunStart, RunOutcome, SessionKind, SessionRecord, SchedulerSettings,
} from './types.js';
export { DEFAULT_SETTINGS, DEFAULT_TASK_OPTIONS } from './types.js';
export {
  SchedulerError, InvalidTaskError, OptionConflictError, TaskNotFoundError, TaskExistsError, SessionNotFoundError,
  SecretUnavailableError, NotLoggedOnError, ActionLaunchError, ActionFailedError, TimeLimitError, RunInterruptedError,
} from './errors.js';
export { validateTrigger, nextFire, nextFireOf, describeTrigger, formatMs } from './triggers.js';
export {
  plan, nextStart, tasksForLogon, instanceDecision, retryDelay,
  type Plan, type PlannedStart, type MissedStarts, type PlanOptions, type InstanceDecision,
} from './planner.js';
export { chooseLogon, validateDefinition, sessionsOf, conflictError, switchConflictError, CONFLICT_HINT, type LogonChoice } from './run-as.js';
export { MemorySchedulerStore, type SchedulerStore, type HistoryQuery } from './store.js';
export { openSqliteSchedulerStore, type SqliteSchedulerStoreOptions } from './sqlite-store.js';
export { loadHostKey, secretBox, HOST_KEY_FILE, type SecretBox } from './secrets.js';
export {
  TaskAdmin, describeCredential,
  type TaskInput, type TaskPatch, type CredentialInput, type CredentialVerifier, type TaskAdminOptions, type Defined,
} from './admin.js';
export { SCHEDULER_EVENT_IDS, schedulerEventId, type SchedulerEventType } from './event-ids.js';
export { Scheduler, describeLogonFailure, type SchedulerOptions } from './scheduler.js';
export { kdcVerifier } from './verify.js';
export { openSchedulerDir, acquireDaemonLock, DAEMON_LOCK_FILE, type SchedulerDir, type SchedulerDirOptions } from './scheduler-dir.js';
