/**
 * Stable numeric ids of the scheduler's events (docs/scheduler.md "Events"),
 * carried in each event's `eventId` field. Ids below 700 follow Windows Task
 * Scheduler's Operational log (100 started, 102 completed, 106 registered,
 * 200/201 action started/completed…); 7xx are kerbside's own.
 */

import { EVENT_CATALOGUE, type EventTypeInfo, type KnownEventType } from '../events/index.js';

export type SchedulerEventType = Extract<KnownEventType, `scheduler.${string}`>;

/** Read from the one event catalogue (src/events/catalogue.ts), where every scheduler row has its id. */
export const SCHEDULER_EVENT_IDS: Readonly<Record<SchedulerEventType, number>> = Object.freeze(Object.fromEntries(
  (Object.values(EVENT_CATALOGUE) as EventTypeInfo[]).filter((row) => row.type.startsWith('scheduler.')).map((row) => [row.type, row.windowsEventId ?? 0]),
) as Record<SchedulerEventType, number>);

export function schedulerEventId(type: SchedulerEventType): number {
  return SCHEDULER_EVENT_IDS[type];
}
