/**
 * What the scheduler commands (task, logon, logoff, scheduler) share: the
 * scheduler folder (--dir, else $KERBSIDE_SCHEDULER_DIR, else ./scheduler),
 * an admin over its store, and the MIT-style formatting of tasks and runs.
 */

import { resolve } from 'node:path';
import { KerberosClient, loadClientConfig } from '../client/index.js';
import { jsonLinesSink, type EventSink } from '../events/index.js';
import {
  OptionConflictError, TaskAdmin, describeCredential, describeTrigger, formatMs, kdcVerifier, nextStart, openSchedulerDir,
  type RunRecord, type SchedulerDir, type Task,
} from '../scheduler/index.js';
import { parsePrincipal, principalToString } from '../files/index.js';
import type { CliIO } from './io.js';

export function schedulerDirOption(io: CliIO, value: string | undefined): string {
  return resolve(io.cwd, value ?? io.env['KERBSIDE_SCHEDULER_DIR'] ?? 'scheduler');
}

export interface OpenAdmin {
  readonly dir: SchedulerDir;
  readonly admin: TaskAdmin;
  readonly canonical: (n: string) => string;
  close(): Promise<void>;
}

/** Events of CLI changes go to stderr only with KERBSIDE_EVENTS=stderr; the daemon logs its own. */
function cliSink(io: CliIO): EventSink | undefined {
  return io.env['KERBSIDE_EVENTS'] === 'stderr' ? jsonLinesSink((l) => io.err(l.trimEnd())) : undefined;
}

export async function openAdmin(io: CliIO, dirValue: string | undefined, options: { verify?: boolean; krb5Config?: string } = {}): Promise<OpenAdmin> {
  const dir = await openSchedulerDir({ dir: schedulerDirOption(io, dirValue), random: io.random });
  const krb5 = options.krb5Config ?? io.env['KRB5_CONFIG'];
  let realm: string | undefined;
  try {
    realm = (await loadClientConfig(krb5, { env: io.env })).defaultRealm;
  } catch {
    realm = undefined;
  }
  const canonical = (n: string): string => principalToString(parsePrincipal(n, realm === undefined ? {} : { defaultRealm: realm }));
  const sink = cliSink(io);
  const admin = new TaskAdmin({
    store: dir.store, clock: io.clock, random: io.random, secrets: dir.secrets, canonical,
    ...(sink !== undefined ? { events: sink } : {}),
    ...(options.verify === true ? {
      verify: kdcVerifier(async (k) => new KerberosClient({ config: await loadClientConfig(k ?? krb5, { env: io.env }), clock: io.clock, random: io.random })),
    } : {}),
  });
  return { dir, admin, canonical, close: () => dir.close() };
}

/** OptionConflictError is a usage-level refusal: exit status 2, both settings named. */
export async function conflictsExitTwo(io: CliIO, name: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof OptionConflictError) {
      io.err(`kerbside ${name}: ${err.explain()}`);
      return 2;
    }
    throw err;
  }
}

export function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** The task as JSON for --json (no secret: the stored password is only named). */
export function taskJson(t: Task): Record<string, unknown> {
  const next = t.enabled ? nextStart(t) : undefined;
  return { ...t, nextRunAt: next === undefined ? null : iso(next), createdAt: iso(t.createdAt), modifiedAt: iso(t.modifiedAt), ...(t.lastScheduledAt !== undefined ? { lastScheduledAt: iso(t.lastScheduledAt) } : {}) };
}

export function runJson(r: RunRecord): Record<string, unknown> {
  return {
    ...r, startedAt: iso(r.startedAt), ...(r.endedAt !== undefined ? { endedAt: iso(r.endedAt) } : {}),
    ...(r.scheduledAt !== undefined ? { scheduledAt: iso(r.scheduledAt) } : {}),
    ...(r.ticketEndTime !== undefined ? { ticketEndTime: iso(r.ticketEndTime) } : {}),
  };
}

export function describeAction(t: Task): string {
  const a = t.action;
  return a.kind === 'command' ? a.argv.join(' ') : `${a.method ?? 'GET'} ${a.url}${a.spn !== undefined ? ` (${a.spn})` : ''}`;
}

/** `kerbside task show`: one "Field: value" line each, as klist prints its header. */
export function formatTask(t: Task, last: RunRecord | undefined): string {
  const next = t.enabled ? nextStart(t) : undefined;
  const lines = [
    `Task: ${t.name}${t.enabled ? '' : ' (disabled)'}`,
    `Run as: ${t.principal} with ${describeCredential(t.credential)}`,
    `Action: ${describeAction(t)}`,
    `Triggers: ${t.triggers.map(describeTrigger).join('; ') || 'none (run on demand)'}`,
    `Time limit: ${formatMs(t.options.timeLimitMs)}`,
    `Multiple instances: ${t.options.instances}`,
    `Retry: ${t.options.retry.count === 0 ? 'no' : `${t.options.retry.count} times, from ${formatMs(t.options.retry.delayMs)} doubling`}`,
    `Run missed starts: ${t.options.runMissed ? 'yes' : 'no'}`,
    `Run only if logged on: ${t.options.runOnlyIfLoggedOn ? 'yes' : 'no'}`,
    ...(t.krb5Config !== undefined ? [`krb5.conf: ${t.krb5Config}`] : []),
    `Next run: ${iso(next)}`,
    `Last run: ${last === undefined ? 'never' : `${iso(last.startedAt)} ${last.status}${last.cause !== undefined ? `: ${last.cause.split('\n')[0]}` : ''}`}`,
  ];
  return lines.join('\n');
}

export function formatRun(r: RunRecord): string {
  const result = r.exitCode !== undefined ? `exit ${r.exitCode}` : r.httpStatus !== undefined ? `HTTP ${r.httpStatus}` : r.signal ?? '-';
  const head = `${String(r.id).padEnd(6)} ${r.task.padEnd(20)} ${iso(r.startedAt).padEnd(21)} ${iso(r.endedAt).padEnd(21)} ${r.status.padEnd(11)} ${result.padEnd(8)} ${(r.credentialUsed ?? '-').padEnd(16)} ${r.principal}  ticket ends ${iso(r.ticketEndTime)}`;
  return r.cause === undefined ? head : `${head}\n       cause: ${r.cause.split('\n').join('\n       ')}`;
}

export const RUN_HEADER = `${'Run'.padEnd(6)} ${'Task'.padEnd(20)} ${'Started'.padEnd(21)} ${'Ended'.padEnd(21)} ${'Status'.padEnd(11)} ${'Result'.padEnd(8)} ${'Credential'.padEnd(16)} Principal`;
