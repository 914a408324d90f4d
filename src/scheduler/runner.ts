/**
 * The thin I/O part of a run (docs/scheduler.md "Each run"): a private 0700
 * folder for the run's credential cache, the child process with its own
 * environment (KRB5CCNAME, KRB5_CONFIG), its output appended to a log file,
 * the execution time limit on the injected clock, signals forwarded to the
 * child's process group, and the folder removed afterwards. Everything that
 * decides anything is in scheduler.ts and planner.ts.
 */

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';

/** Creates a private folder for one run under `base` (mode 0700 on both). */
export async function createRunDir(base: string, runId: number): Promise<string> {
  await mkdir(base, { recursive: true, mode: 0o700 });
  await chmod(base, 0o700);
  const dir = await mkdtemp(join(base, `run-${runId}-`));
  await chmod(dir, 0o700);
  return dir;
}

/** A private folder (0700), created if missing. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/**
 * After a crash: a child the previous daemon started may still run, unsupervised.
 * It is stopped (SIGTERM to its process group) so that it does not outlive its record.
 */
export function stopOrphan(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // gone already (or not ours)
  }
}

/** Removes a run folder and everything in it (the cache); a folder already gone is fine. */
export async function removeRunDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface ChildResult {
  /** The command could not be started (ENOENT, EACCES…). */
  readonly launchError?: { readonly errno: string; readonly message: string };
  readonly exitCode?: number;
  readonly signal?: string;
  /** The time limit was reached and the child was stopped. */
  readonly timedOut: boolean;
  /** stop() was called (stop-existing, daemon shutdown). */
  readonly stopped: boolean;
}

export interface ChildHandle {
  readonly pid: number | undefined;
  readonly done: Promise<ChildResult>;
  /** Forwards `signal` to the child's process group; SIGKILL follows after `graceMs` if it is still there. */
  stop(signal?: NodeJS.Signals, graceMs?: number): void;
}

export interface SpawnOptions {
  readonly argv: readonly string[];
  readonly cwd?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly timeLimitMs: number;
  /** stdout and stderr are appended here. */
  readonly logFile?: string;
  /** Between SIGTERM and SIGKILL (default 10 s of the clock). */
  readonly graceMs?: number;
}

export function spawnChild(o: SpawnOptions): ChildHandle {
  const grace = o.graceMs ?? 10_000;
  let fd: number | undefined;
  if (o.logFile !== undefined) fd = openSync(o.logFile, 'a', 0o600);
  let timedOut = false;
  let stopped = false;
  let exited = false;
  const child = spawn(o.argv[0]!, o.argv.slice(1), {
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    env: { ...o.env },
    // Its own process group, so a signal reaches a shell's children too.
    detached: true,
    stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'],
  });
  if (fd !== undefined) closeSync(fd);
  const signalGroup = (sig: NodeJS.Signals): void => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try { child.kill(sig); } catch { /* already gone */ }
    }
  };
  let killTimer: { cancel(): void } | undefined;
  const stop = (sig: NodeJS.Signals = 'SIGTERM', g = grace): void => {
    signalGroup(sig);
    if (sig !== 'SIGKILL' && killTimer === undefined) killTimer = o.clock.setTimer(g, () => { signalGroup('SIGKILL'); });
  };
  const limit = o.clock.setTimer(o.timeLimitMs, () => { timedOut = true; stop('SIGTERM'); });
  const done = new Promise<ChildResult>((resolve) => {
    let launchError: ChildResult['launchError'];
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) {
        launchError = { errno: err.code ?? 'EUNKNOWN', message: err.message };
        exited = true;
        limit.cancel();
        resolve({ launchError, timedOut: false, stopped: false });
      }
    });
    child.once('close', (code, signal) => {
      exited = true;
      limit.cancel();
      killTimer?.cancel();
      if (launchError !== undefined) return;
      resolve({
        ...(code !== null ? { exitCode: code } : {}),
        ...(signal !== null ? { signal } : {}),
        timedOut, stopped,
      });
    });
  });
  return {
    pid: child.pid,
    done,
    stop(sig, g) { stopped = true; stop(sig, g); },
  };
}
