/**
 * The scheduler's data (docs/scheduler.md): tasks with their action, run-as
 * principal, credential source, triggers and options; runs (history);
 * interactive logon sessions; scheduler-wide settings. Plain JSON-able values,
 * so the store can keep them as they are. Times are ms since the epoch.
 */

/** What a run does. */
export type TaskAction =
  | {
    readonly kind: 'command';
    /** argv[0] is looked up on PATH as execvp does. */
    readonly argv: readonly string[];
    readonly cwd?: string;
    /** Added to the child's environment (KRB5CCNAME and KRB5_CONFIG are always set by the runner). */
    readonly env?: Readonly<Record<string, string>>;
  }
  | {
    readonly kind: 'http';
    readonly method?: string;
    readonly url: string;
    /** Service principal for the Negotiate token (default HTTP/<host>). */
    readonly spn?: string;
    /** The status a successful run gets (default 200). */
    readonly expectStatus?: number;
  };

/**
 * Where the run's logon comes from. A stored password is kept encrypted in
 * the store's secret table, never in the task record.
 */
export type TaskCredential =
  | { readonly kind: 'password' }
  | { readonly kind: 'keytab'; readonly keytab: string }
  /** No stored credential: the task runs inside its account's interactive session (runOnlyIfLoggedOn). */
  | { readonly kind: 'session' };

export type Trigger =
  /** A cron expression (5–7 fields, croner syntax); timezone default UTC. */
  | { readonly kind: 'cron'; readonly expression: string; readonly timezone?: string }
  /** Every `everyMs`, starting at `startAt` (default: when the task was defined). */
  | { readonly kind: 'interval'; readonly everyMs: number; readonly startAt?: number }
  | { readonly kind: 'once'; readonly at: number }
  /** When `principal` (default: the task's run-as principal) logs on to this host. */
  | { readonly kind: 'logon'; readonly principal?: string };

/** What to do when a trigger fires while a run of the same task is under way (Windows' MultipleInstancesPolicy). */
export type InstancePolicy = 'ignore-new' | 'parallel' | 'queue' | 'stop-existing';

export interface RetryPolicy {
  /** Extra attempts after a failed run (0: none). */
  readonly count: number;
  /** Delay before the first retry, doubled for each further one. */
  readonly delayMs: number;
  /** Longest delay between retries. */
  readonly maxDelayMs?: number;
}

export interface TaskOptions {
  /** Default 72 h, as in Windows. */
  readonly timeLimitMs: number;
  readonly instances: InstancePolicy;
  readonly retry: RetryPolicy;
  /** Start once as soon as possible when a scheduled start was missed (daemon down). */
  readonly runMissed: boolean;
  /** Run only while the account is logged on, inside that session, with no stored credential. */
  readonly runOnlyIfLoggedOn: boolean;
  /** How long a run is expected to last: the TGT must outlive it plus a margin at launch. */
  readonly expectedRunMs: number;
}

export interface TaskDefinition {
  readonly name: string;
  /** Run-as principal ('svc-backup' or 'svc-backup@REALM'). */
  readonly principal: string;
  readonly credential: TaskCredential;
  readonly action: TaskAction;
  readonly triggers: readonly Trigger[];
  readonly options: TaskOptions;
  readonly enabled: boolean;
  /** krb5.conf for this task's runs (KRB5_CONFIG of the child; the scheduler's default otherwise). */
  readonly krb5Config?: string;
  readonly description?: string;
}

export interface Task extends TaskDefinition {
  readonly createdAt: number;
  readonly modifiedAt: number;
  /** Planner state: the latest scheduled start already handled (started, skipped or missed). */
  readonly lastScheduledAt?: number;
}

/** How a run logged on. */
export type CredentialUsed = 'own' | 'borrowed-session';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'timed-out' | 'stopped';

/** Why a run started. */
export type RunReason = 'schedule' | 'missed' | 'run-now' | 'logon' | 'retry' | 'queued';

export interface RunRecord {
  readonly id: number;
  readonly task: string;
  readonly reason: RunReason;
  /** 1 for the first attempt, 2… for retries. */
  readonly attempt: number;
  readonly scheduledAt?: number;
  readonly startedAt: number;
  readonly endedAt?: number;
  readonly status: RunStatus;
  readonly principal: string;
  readonly credentialUsed?: CredentialUsed;
  /** The borrowed session's id, when one was borrowed. */
  readonly sessionId?: string;
  readonly ticketEndTime?: number;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly httpStatus?: number;
  /** Failure cause, in words. */
  readonly cause?: string;
  readonly errorCode?: string;
  /** The scheduler process that ran it (to tell interrupted runs). */
  readonly daemonPid?: number;
  readonly childPid?: number;
  /** The run's private folder (removed after the run; by recovery after a crash). */
  readonly runDir?: string;
}

export type RunStart = Omit<RunRecord, 'id' | 'status' | 'endedAt'>;

export interface RunOutcome {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly endedAt: number;
  readonly credentialUsed?: CredentialUsed;
  readonly sessionId?: string;
  readonly ticketEndTime?: number;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly httpStatus?: number;
  readonly cause?: string;
  readonly errorCode?: string;
}

/** How an interactive logon was made. */
export type SessionKind = 'password' | 'smartcard';

/** An interactive logon session on this host (`kerbside logon`). */
export interface SessionRecord {
  readonly id: string;
  readonly principal: string;
  readonly kind: SessionKind;
  /** The session's credential cache (FILE:…), owned by the user; the scheduler only reads and renews from it. */
  readonly ccache: string;
  readonly loggedOnAt: number;
}

export interface SchedulerSettings {
  /**
   * Windows' DisableUseOfTokenFromSession: true (kerbside's default) means a
   * task always logs on with its own credential, even while its account is
   * logged on interactively.
   */
  readonly disableUseOfTokenFromSession: boolean;
}

export const DEFAULT_SETTINGS: SchedulerSettings = Object.freeze({ disableUseOfTokenFromSession: true });

export const HOUR = 3_600_000;

export const DEFAULT_TASK_OPTIONS: TaskOptions = Object.freeze({
  timeLimitMs: 72 * HOUR,
  instances: 'ignore-new',
  retry: Object.freeze({ count: 0, delayMs: 60_000 }),
  runMissed: false,
  runOnlyIfLoggedOn: false,
  expectedRunMs: HOUR,
});
