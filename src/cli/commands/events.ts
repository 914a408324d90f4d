/**
 * `kerbside events`: queries the persistent event log of a realm (or
 * scheduler) folder, `<dir>/events.sqlite` (docs/events.md "The event log"):
 * one line per event like Get-WinEvent's table, or JSON lines; `--follow`
 * polls for new records with the injected clock until SIGINT/SIGTERM.
 * `export --to FILE.jsonl` writes matching records as JSON lines;
 * `purge --older-than 30d` / `--max-size 100M` applies retention now.
 */

import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENT_LOG_FILE } from '../../events/index.js';
import {
  EVENT_LEVELS, MAX_EVENT_QUERY_LIMIT, openSqliteEventLog, type EventLevel, type EventLogStore, type EventQuery, type EventRecord,
} from '../../store/index.js';
import { parseDuration } from '../../files/index.js';
import { parseCommandLine, realmDirOption } from '../args.js';
import { EventLogCommandError } from '../errors.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { parseByteSize } from '../kdc-conf.js';
import { stopRequested } from '../kdc-runner.js';

const FILTERS = `[--since T] [--until T] [--id N[,N…]]... [--source S]... [--level L]... [--user U] [--type TYPE]...`;

const USAGE = `kerbside events [--dir DIR] ${FILTERS} [--limit N] [--json] [--follow]
       kerbside events export --to FILE.jsonl [--dir DIR] ${FILTERS}
       kerbside events purge [--dir DIR] [--older-than 30d] [--max-size 100M]
  DIR is a realm or scheduler folder holding ${EVENT_LOG_FILE} (default $KERBSIDE_REALM_DIR or ./realm).
  T is an ISO 8601 time (2026-12-03, 2026-12-03T08:00:00Z) or a time ago (-1h, -7d, "-1d 2h").
  L: error, warning, information, audit_success, audit_failure. --user alice matches alice@REALM and DOMAIN\\alice.
  --limit N shows the newest N (default: everything that matches; with --follow, the last 10 first).`;

const LEVEL_NAMES: Readonly<Record<EventLevel, string>> = Object.freeze({
  error: 'Error', warning: 'Warning', information: 'Information', audit_success: 'Audit Success', audit_failure: 'Audit Failure',
});

const LEVEL_ALIASES: Readonly<Record<string, EventLevel>> = Object.freeze({
  info: 'information', 'audit-success': 'audit_success', 'audit-failure': 'audit_failure', success: 'audit_success', failure: 'audit_failure',
});

const FOLLOW_POLL_MS = 1000;
const FOLLOW_BACKLOG = 10;

function list(values: readonly string[] | undefined): string[] | undefined {
  return values === undefined ? undefined : values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** An ISO 8601 time, or a duration before now ("-1h", or "1h"). */
export function timeOption(name: string, value: string, now: number): number {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return ms;
  } else {
    try {
      return now - parseDuration(v.replace(/^-/, '')) * 1000;
    } catch { /* reported below */ }
  }
  throw new UsageError(`--${name} "${value}" is not a time (ISO 8601 such as 2026-12-03T08:00:00Z, or a time ago such as -1h, -7d)`);
}

/** parseArgs takes "-1h" after --since for an option: glue such values on ("--since=-1h"). */
function glueNegativeTimes(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if ((a === '--since' || a === '--until') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

const FILTER_OPTIONS = {
  dir: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, id: { type: 'string', multiple: true },
  source: { type: 'string', multiple: true }, level: { type: 'string', multiple: true }, user: { type: 'string' },
  type: { type: 'string', multiple: true },
} as const;

type FilterValues = { [K in keyof typeof FILTER_OPTIONS]?: (typeof FILTER_OPTIONS)[K] extends { multiple: true } ? string[] : string };

function filters(v: FilterValues, now: number): EventQuery {
  const ids = list(v.id)?.map((id) => {
    if (!/^\d+$/.test(id) || !Number.isSafeInteger(Number(id))) throw new UsageError(`--id "${id}" is not an event id (e.g. 4768)`);
    return Number(id);
  });
  const levels = list(v.level)?.map((l) => {
    const level = LEVEL_ALIASES[l.toLowerCase()] ?? l.toLowerCase();
    if (!(EVENT_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--level "${l}" is not one of ${EVENT_LEVELS.join(', ')}`);
    return level as EventLevel;
  });
  const sources = list(v.source);
  const types = list(v.type);
  return {
    ...(v.since === undefined ? {} : { since: timeOption('since', v.since, now) }),
    ...(v.until === undefined ? {} : { until: timeOption('until', v.until, now) }),
    ...(ids === undefined ? {} : { eventIds: ids }),
    ...(levels === undefined ? {} : { levels }),
    ...(sources === undefined ? {} : { sources }),
    ...(types === undefined ? {} : { types }),
    ...(v.user === undefined ? {} : { user: v.user }),
  };
}

/** One record as a JSON object (the time both as ms and as ISO 8601). */
export function recordJson(r: EventRecord): string {
  return JSON.stringify({
    seq: r.seq, time: r.time, timeCreated: new Date(r.time).toISOString(), eventId: r.eventId, level: r.level, source: r.source,
    category: r.category, type: r.type, user: r.user, computer: r.computer, message: r.message, data: r.data,
  });
}

/** `2026-12-03T09:00:00.000Z  4768 Audit Success  kerbside-kdc  alice@EXAMPLE.TEST  kdc1  message` */
export function recordLine(r: EventRecord): string {
  return [
    new Date(r.time).toISOString(), String(r.eventId).padStart(5), LEVEL_NAMES[r.level].padEnd(13), r.source, r.user ?? '-', r.computer,
    r.message.replace(/[\r\n]+/g, ' '),
  ].join('  ');
}

async function openLog(io: CliIO, dirValue: string | undefined): Promise<EventLogStore> {
  const dir = realmDirOption(io, dirValue);
  const path = join(dir, EVENT_LOG_FILE);
  if (!existsSync(path)) {
    throw new EventLogCommandError(`no event log in ${dir}: ${EVENT_LOG_FILE} not found`, {
      hint: 'kerbside kdc and kerbside scheduler write it in their folder (unless kdc.conf sets eventlog = false); check --dir',
    });
  }
  return openSqliteEventLog({ path });
}

/** Every record matching `q`, oldest first, page by page. */
async function* all(store: EventLogStore, q: EventQuery): AsyncGenerator<EventRecord> {
  let after = 0;
  for (;;) {
    const page = await store.query({ ...q, after, limit: MAX_EVENT_QUERY_LIMIT });
    yield* page.records;
    if (!page.more) return;
    after = page.cursor;
  }
}

async function newest(store: EventLogStore, q: EventQuery, n: number): Promise<{ records: EventRecord[]; cursor: number }> {
  // The follower continues after the newest record of the whole log (read first, so none appended meanwhile is skipped).
  const top = (await store.query({ order: 'desc', limit: 1 })).records[0]?.seq ?? 0;
  const page = await store.query({ ...q, order: 'desc', limit: Math.min(n, MAX_EVENT_QUERY_LIMIT) });
  const records = [...page.records].reverse();
  return { records, cursor: Math.max(top, records.at(-1)?.seq ?? 0) };
}

async function query(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values: v, positionals } = parseCommandLine(glueNegativeTimes(argv), {
    ...FILTER_OPTIONS, limit: { type: 'string' }, json: { type: 'boolean' }, follow: { type: 'boolean', short: 'f' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]!}"`);
  const q = filters(v, io.clock.now());
  let limit: number | undefined;
  if (v.limit !== undefined) {
    limit = Number(v.limit);
    if (!/^\d+$/.test(v.limit) || limit < 1) throw new UsageError(`--limit "${v.limit}" is not a positive whole number`);
  }
  const print = (r: EventRecord): void => io.out(v.json === true ? recordJson(r) : recordLine(r));
  const store = await openLog(io, v.dir);
  try {
    let cursor = 0;
    if (limit !== undefined || (v.follow === true && q.since === undefined)) {
      const first = await newest(store, q, limit ?? FOLLOW_BACKLOG);
      first.records.forEach(print);
      cursor = first.cursor;
    } else {
      for await (const r of all(store, q)) { print(r); cursor = r.seq; }
    }
    if (v.follow !== true) return 0;
    // Poll until asked to stop (SIGINT/SIGTERM); an `until` in the past ends nothing: it filters.
    const stop = stopRequested(io);
    while (!io.stopSignal.aborted) {
      // The newest seq read first: records appended after it are > top, so moving the cursor to top skips
      // only records that did not match (they are not scanned again), never a new one.
      const top = (await store.query({ order: 'desc', limit: 1 })).records[0]?.seq ?? 0;
      let page;
      do {
        page = await store.query({ ...q, after: cursor, limit: MAX_EVENT_QUERY_LIMIT });
        page.records.forEach(print);
        cursor = page.cursor;
      } while (page.more);
      cursor = Math.max(cursor, top);
      await Promise.race([io.clock.sleep(FOLLOW_POLL_MS), stop]);
    }
    return 0;
  } finally {
    await store.close();
  }
}

async function exportTo(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values: v, positionals } = parseCommandLine(glueNegativeTimes(argv), { ...FILTER_OPTIONS, to: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]!}"`);
  if (v.to === undefined) throw new UsageError('give the file to write with --to FILE.jsonl');
  const q = filters(v, io.clock.now());
  const store = await openLog(io, v.dir);
  const file = resolve(io.cwd, v.to);
  let fd: number;
  try {
    // 0600: records name users and addresses.
    fd = openSync(file, 'w', 0o600);
  } catch (err) {
    await store.close();
    throw new EventLogCommandError(`cannot write the export to ${file}: ${(err as Error).message}`, {
      hint: 'check that the directory exists and is writable', cause: err,
    });
  }
  let n = 0;
  try {
    for await (const r of all(store, q)) {
      writeSync(fd, `${recordJson(r)}\n`);
      n++;
    }
  } finally {
    closeSync(fd);
    await store.close();
  }
  io.out(`exported ${n} event${n === 1 ? '' : 's'} to ${file}`);
  return 0;
}

async function purge(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values: v, positionals } = parseCommandLine(argv, {
    dir: { type: 'string' }, 'older-than': { type: 'string' }, 'max-size': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]!}"`);
  if (v['older-than'] === undefined && v['max-size'] === undefined) throw new UsageError('give --older-than DURATION (e.g. 30d) and/or --max-size SIZE (e.g. 100M)');
  let olderThan: number | undefined;
  if (v['older-than'] !== undefined) {
    try {
      olderThan = io.clock.now() - parseDuration(v['older-than']) * 1000;
    } catch {
      throw new UsageError(`--older-than "${v['older-than']}" is not a duration (e.g. 30d, 12h)`);
    }
  }
  let maxBytes: number | undefined;
  if (v['max-size'] !== undefined) {
    try {
      maxBytes = parseByteSize(v['max-size']);
    } catch (err) {
      throw new UsageError(`--max-size: ${(err as Error).message}`);
    }
  }
  const store = await openLog(io, v.dir);
  try {
    const cut = await store.purge({ ...(olderThan === undefined ? {} : { olderThan }), ...(maxBytes === undefined ? {} : { maxBytes }) });
    io.out(`purged ${cut} event${cut === 1 ? '' : 's'}; ${await store.count()} left`);
    return 0;
  } finally {
    await store.close();
  }
}

export const command: Command = {
  name: 'events',
  summary: 'query, follow, export or purge the persistent event log (4768, 4771, 4740, 40960…)',
  usage: USAGE,
  async run(io) {
    const [sub, ...rest] = io.argv;
    if (sub === 'export') return exportTo(io, rest);
    if (sub === 'purge') return purge(io, rest);
    return query(io, io.argv);
  },
};
