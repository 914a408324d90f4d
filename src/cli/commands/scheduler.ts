/**
 * `kerbside scheduler --dir DIR`: the scheduler daemon. Runs the due tasks of
 * DIR until SIGTERM/SIGINT (forwarding the signal to running children),
 * notices task, session and setting changes made by other processes within
 * a second, and logs its events as JSON lines to DIR/events.log (and to
 * stderr with --events-stderr) and to the event log DIR/events.sqlite
 * (`kerbside events --dir DIR`; docs/events.md). `kerbside scheduler set NAME VALUE` and
 * `kerbside scheduler show` read and change the scheduler-wide settings.
 */

import { appendFileSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import { fanout, jsonLinesSink, openEventLog, type EventSink } from '../../events/index.js';
import { Scheduler, acquireDaemonLock, openSchedulerDir } from '../../scheduler/index.js';
import { durationOption, parseCommandLine } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { conflictsExitTwo, openAdmin, schedulerDirOption } from '../scheduler-cli.js';

const SETTINGS = ['disableUseOfTokenFromSession'] as const;

export const command: Command = {
  name: 'scheduler',
  summary: 'run the task scheduler daemon (kerbside scheduler --dir DIR), or show/set its settings',
  usage: `scheduler [--dir DIR] [--krb5-config FILE] [--poll DURATION] [--events-stderr]
       scheduler show [--dir DIR] [--json]
       scheduler set disableUseOfTokenFromSession true|false [--dir DIR]`,
  async run(io: CliIO): Promise<number> {
    const parsed = parseCommandLine(io.argv, {
      dir: { type: 'string' }, 'krb5-config': { type: 'string' }, poll: { type: 'string' }, 'events-stderr': { type: 'boolean' }, json: { type: 'boolean' },
    });
    const v = parsed.values;
    const [sub, ...args] = parsed.positionals;
    if (sub === 'show') {
      const a = await openAdmin(io, v.dir);
      try {
        const s = await a.dir.store.settings();
        if (v.json === true) io.out(JSON.stringify(s, null, 2));
        else io.out(`disableUseOfTokenFromSession: ${s.disableUseOfTokenFromSession}${s.disableUseOfTokenFromSession ? ' (tasks always log on with their own credential)' : ' (compatibility: tasks whose account is logged on borrow that session)'}`);
        return 0;
      } finally {
        await a.close();
      }
    }
    if (sub === 'set') {
      const [name, value] = args;
      if (name === undefined || value === undefined || args.length > 2) throw new UsageError('give a setting and a value');
      if (!(SETTINGS as readonly string[]).includes(name)) throw new UsageError(`unknown setting "${name}" (settings: ${SETTINGS.join(', ')})`);
      if (value !== 'true' && value !== 'false') throw new UsageError(`${name} takes true or false`);
      return conflictsExitTwo(io, 'scheduler', async () => {
        const a = await openAdmin(io, v.dir);
        try {
          await a.admin.setSettings({ disableUseOfTokenFromSession: value === 'true' });
          io.out(`${name} set to ${value}`);
          return 0;
        } finally {
          await a.close();
        }
      });
    }
    if (sub !== undefined) throw new UsageError(`unknown subcommand "${sub}"`);
    const dir = await openSchedulerDir({ dir: schedulerDirOption(io, v.dir), random: io.random });
    let release: () => Promise<void>;
    try {
      release = await acquireDaemonLock(dir.dir, process.pid);
    } catch (err) {
      await dir.close();
      throw err;
    }
    const logPath = join(dir.dir, 'events.log');
    const eventLog = await openEventLog(dir.dir, { clock: io.clock }).catch(async (err: unknown) => {
      await dir.close();
      await release();
      throw err;
    });
    const sinks: EventSink[] = [jsonLinesSink((l) => { appendFileSync(logPath, l, { mode: 0o600 }); }), eventLog.sink];
    if (v['events-stderr'] === true) sinks.push(jsonLinesSink((l) => io.err(l.trimEnd())));
    const krb5 = v['krb5-config'] !== undefined ? resolve(io.cwd, v['krb5-config']) : io.env['KRB5_CONFIG'];
    const scheduler = await Scheduler.open({
      store: dir.store, clock: io.clock, random: io.random, events: fanout(...sinks), secrets: dir.secrets, dir: dir.dir,
      ...(krb5 !== undefined ? { krb5Config: krb5 } : {}),
      pollIntervalMs: v.poll === undefined ? 1000 : durationOption('poll', v.poll) * 1000,
      baseEnv: { PATH: io.env['PATH'] ?? '/usr/bin:/bin' },
    });
    // The clock's timers do not keep the process alive; this watch of the folder does, until stop.
    const keepAlive = watch(dir.dir, { persistent: true }, () => undefined);
    await scheduler.start();
    io.out(`kerbside scheduler: running the tasks of ${dir.dir} (pid ${process.pid}); SIGTERM stops it`);
    await new Promise<void>((done) => {
      if (io.stopSignal.aborted) done();
      else io.stopSignal.addEventListener('abort', () => done(), { once: true });
    });
    io.out('kerbside scheduler: stopping (running tasks get SIGTERM)');
    await scheduler.stop();
    keepAlive.close();
    await eventLog.close();
    await dir.close();
    await release();
    return 0;
  },
};
