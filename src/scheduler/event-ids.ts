/**
 * Stable numeric ids of the scheduler's events (docs/scheduler.md "Events"),
 * carried in each event's `eventId` field. Ids below 700 follow Windows Task
 * Scheduler's Operational log (100 started, 102 completed, 106 registered,
 * 200/201 action started/completed…); 7xx are kerbside's own.
 */

export const SCHEDULER_EVENT_IDS = Object.freeze({
  'scheduler.task_started': 100,
  'scheduler.task_start_failed': 101,
  'scheduler.task_completed': 102,
  'scheduler.action_failed': 103,
  'scheduler.task_registered': 106,
  'scheduler.task_triggered': 107,
  'scheduler.task_run_requested': 110,
  'scheduler.task_terminated': 111,
  'scheduler.task_triggered_on_logon': 119,
  'scheduler.task_updated': 140,
  'scheduler.task_deleted': 141,
  'scheduler.action_started': 200,
  'scheduler.action_completed': 201,
  'scheduler.instance_ignored': 322,
  'scheduler.instance_queued': 324,
  'scheduler.time_limit_reached': 329,
  'scheduler.not_logged_on': 332,
  'scheduler.session_borrowed': 701,
  'scheduler.cannot_refresh_unattended': 702,
  'scheduler.run_interrupted': 703,
  'scheduler.missed_start': 704,
  'scheduler.retry_scheduled': 705,
  'scheduler.setting_changed': 706,
  'scheduler.internal_error': 799,
} as const);

export type SchedulerEventType = keyof typeof SCHEDULER_EVENT_IDS;

export function schedulerEventId(type: SchedulerEventType): number {
  return SCHEDULER_EVENT_IDS[type];
}
