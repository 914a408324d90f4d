/**
 * The planner, sans-IO (docs/scheduler.md "Planning"): tasks, the clock's
 * time and what is running in, decisions out. It never reads a clock, starts
 * a timer or touches the store; the scheduler applies its decisions.
 *
 * - A scheduled start is due when its time has come; it is *missed* when it
 *   is later than `lateToleranceMs` or a later start of the same task is due
 *   too (the daemon was down). Missed starts run once, coalesced, when the
 *   task says `runMissed`; otherwise they are recorded and skipped.
 * - Once handled, a task's `lastScheduledAt` moves to now, so every start is
 *   handled exactly once, across restarts too (the store keeps it).
 * - The multiple-instances policy decides what a start does while a run of
 *   the same task is under way.
 */

import { nextFire, nextFireOf } from './triggers.js';
import type { InstancePolicy, RetryPolicy, RunReason, Task, Trigger } from './types.js';

export interface PlannedStart {
  readonly task: string;
  readonly reason: Extract<RunReason, 'schedule' | 'missed'>;
  readonly scheduledAt: number;
}

export interface MissedStarts {
  readonly task: string;
  /** The first missed start. */
  readonly scheduledAt: number;
  /** How many starts were missed (counted up to 1000). */
  readonly count: number;
  /** True when one coalesced run is started for them. */
  readonly runNow: boolean;
}

export interface Plan {
  readonly starts: readonly PlannedStart[];
  readonly missed: readonly MissedStarts[];
  /** New `lastScheduledAt` per task that had something due. */
  readonly handled: ReadonlyMap<string, number>;
  /** When to look again (undefined: no time trigger will fire). */
  readonly wakeAt: number | undefined;
}

export interface PlanOptions {
  /** A start later than this is treated as missed (default 60 s). */
  readonly lateToleranceMs?: number;
}

const MISSED_COUNT_CAP = 1000;

/** The next scheduled start of `task` not yet handled. */
export function nextStart(task: Task): number | undefined {
  return nextFireOf(task.triggers, task.lastScheduledAt ?? task.createdAt, task.createdAt);
}

export function plan(tasks: readonly Task[], now: number, options: PlanOptions = {}): Plan {
  const tolerance = options.lateToleranceMs ?? 60_000;
  const starts: PlannedStart[] = [];
  const missed: MissedStarts[] = [];
  const handled = new Map<string, number>();
  let wakeAt: number | undefined;
  for (const task of tasks) {
    if (!task.enabled) continue;
    const first = nextStart(task);
    if (first === undefined) continue;
    if (first > now) {
      wakeAt = wakeAt === undefined ? first : Math.min(wakeAt, first);
      continue;
    }
    handled.set(task.name, now);
    const count = countUpTo(task.triggers, first, now, task.createdAt);
    if (count === 1 && now - first <= tolerance) {
      starts.push({ task: task.name, reason: 'schedule', scheduledAt: first });
    } else {
      missed.push({ task: task.name, scheduledAt: first, count, runNow: task.options.runMissed });
      if (task.options.runMissed) starts.push({ task: task.name, reason: 'missed', scheduledAt: first });
    }
    const after = nextFireOf(task.triggers, now, task.createdAt);
    if (after !== undefined) wakeAt = wakeAt === undefined ? after : Math.min(wakeAt, after);
  }
  return { starts, missed, handled, wakeAt };
}

/** Starts in [first, now] (first included), up to the cap. */
function countUpTo(triggers: readonly Trigger[], first: number, now: number, origin: number): number {
  let count = 0;
  for (const t of triggers) {
    let at = nextFire(t, first - 1, origin);
    while (at !== undefined && at <= now && count < MISSED_COUNT_CAP) {
      count++;
      at = nextFire(t, at, origin);
    }
  }
  return Math.max(1, count);
}

/** Tasks a logon of `principal` triggers (names compared in their canonical form). */
export function tasksForLogon(tasks: readonly Task[], principal: string, canonical: (name: string) => string): string[] {
  const who = canonical(principal);
  return tasks.filter((t) => t.enabled && t.triggers.some((tr) => tr.kind === 'logon' && canonical(tr.principal ?? t.principal) === who))
    .map((t) => t.name);
}

export type InstanceDecision = 'start' | 'ignore' | 'queue' | 'stop-then-start';

/** What a start does while `running` runs of the task are under way. */
export function instanceDecision(policy: InstancePolicy, running: number): InstanceDecision {
  if (running === 0) return 'start';
  switch (policy) {
    case 'parallel': return 'start';
    case 'ignore-new': return 'ignore';
    case 'queue': return 'queue';
    case 'stop-existing': return 'stop-then-start';
  }
}

/** Delay before retry number `retry` (1-based): doubling from delayMs, capped; undefined when none is left. */
export function retryDelay(policy: RetryPolicy, retry: number): number | undefined {
  if (retry > policy.count) return undefined;
  const delay = policy.delayMs * 2 ** (retry - 1);
  return Math.min(delay, policy.maxDelayMs ?? 24 * 3_600_000);
}
