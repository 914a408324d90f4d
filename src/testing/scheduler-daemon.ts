/**
 * Driving `kerbside scheduler` from tests: the admin commands run in this
 * process (`kerbside task …`), the daemon as a child process, and polling of
 * the run history until a run has finished. Shared by the scheduler's
 * process-level tests (src/scheduler/daemon.test.ts, samba-ad.test.ts).
 */

import assert from 'node:assert/strict';
import { systemClock } from '../core/clock.js';
import type { RunRecord } from '../scheduler/index.js';
import { runCliInProcess, spawnCli, type CapturedRun, type CliProcess } from './kerbside-cli.js';

export interface SchedulerHarnessOptions {
  /** The scheduler folder (--dir). */
  readonly dir: string;
  /** Working directory for commands and the daemon. */
  readonly cwd: string;
  /** The krb5.conf the daemon is started with (--krb5-config). */
  readonly krb5Config: string;
  /** Environment of commands and the daemon (PATH, KRB5_CONFIG, …); KERBSIDE_SCHEDULER_DIR is added. */
  readonly env: Readonly<Record<string, string>>;
}

export interface SchedulerHarness {
  readonly env: Readonly<Record<string, string>>;
  /** `kerbside ARGS` in this process, with the harness's environment. */
  cli(...args: string[]): Promise<CapturedRun>;
  /** Starts `kerbside scheduler --dir DIR --poll 1s`; stopAll() kills what is left. */
  startDaemon(): CliProcess;
  /** `kerbside task history [TASK] --json`. */
  history(task?: string): Promise<RunRecord[]>;
  /** Waits for a run of `task` with an id above `after` that is no longer running. */
  finishedRun(task: string, after?: number, timeoutMs?: number): Promise<RunRecord>;
  stopAll(): Promise<void>;
}

/** Polls `fn` every 200 ms until it returns something other than undefined. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const clock = systemClock();
  const end = clock.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (clock.now() > end) throw new Error(`timed out waiting for ${what}`);
    await clock.sleep(200);
  }
}

export function schedulerHarness(o: SchedulerHarnessOptions): SchedulerHarness {
  const env = Object.freeze({ ...o.env, KERBSIDE_SCHEDULER_DIR: o.dir });
  const daemons: CliProcess[] = [];
  const cli = (...args: string[]): Promise<CapturedRun> => runCliInProcess(args, { env, cwd: o.cwd });
  const history = async (task?: string): Promise<RunRecord[]> => {
    const r = await cli('task', 'history', ...(task === undefined ? [] : [task]), '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RunRecord[];
  };
  return {
    env,
    cli,
    history,
    startDaemon() {
      const d = spawnCli(['scheduler', '--dir', o.dir, '--krb5-config', o.krb5Config, '--poll', '1s'], { env, cwd: o.cwd });
      daemons.push(d);
      return d;
    },
    finishedRun: (task, after = 0, timeoutMs = 30_000) =>
      until(`a finished run of ${task}`, async () => (await history(task)).find((r) => r.id > after && r.status !== 'running'), timeoutMs),
    async stopAll() {
      for (const d of daemons) await d.stop('SIGKILL').catch(() => undefined);
    },
  };
}
