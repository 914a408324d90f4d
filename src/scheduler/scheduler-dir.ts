/**
 * The scheduler's folder (`kerbside scheduler --dir DIR`): `scheduler.db`
 * (the SQLite store), `host.key` (seals stored passwords), `runs/` (one
 * private 0700 folder per run under way) and `logs/` (each command run's
 * output). The folder itself is 0700.
 */

import { chmod, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RandomSource } from '../core/random.js';
import { SchedulerError } from './errors.js';
import { loadHostKey, secretBox, type SecretBox } from './secrets.js';
import { openSqliteSchedulerStore } from './sqlite-store.js';
import type { SchedulerStore } from './store.js';

export interface SchedulerDirOptions {
  readonly dir: string;
  readonly random: RandomSource;
}

export interface SchedulerDir {
  readonly dir: string;
  readonly store: SchedulerStore;
  readonly secrets: SecretBox;
  close(): Promise<void>;
}

export async function openSchedulerDir(o: SchedulerDirOptions): Promise<SchedulerDir> {
  const dir = resolve(o.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const key = await loadHostKey(dir, o.random);
  const store = await openSqliteSchedulerStore({ path: join(dir, 'scheduler.db') });
  return { dir, store, secrets: secretBox(key, o.random), close: () => store.close() };
}

export const DAEMON_LOCK_FILE = 'scheduler.pid';

/**
 * One daemon per folder: `scheduler.pid` is created exclusively. A file left
 * by a daemon that died (kill -9) names a process that no longer exists and
 * is taken over; its interrupted runs are then recovered by the new daemon.
 * Returns the release function.
 */
export async function acquireDaemonLock(dir: string, pid: number): Promise<() => Promise<void>> {
  const path = join(dir, DAEMON_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const h = await open(path, 'wx', 0o600);
      try {
        await h.writeFile(`${pid}\n`);
        await h.sync();
      } finally {
        await h.close();
      }
      return async () => { await unlink(path).catch(() => undefined); };
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) {
      throw new SchedulerError(`another scheduler daemon (pid ${holder}) is running on ${dir}`, {
        hint: `stop it first (kill ${holder}), or give this one another --dir`, detail: { dir, pid: holder },
      });
    }
    await unlink(path).catch(() => undefined);
  }
  throw new SchedulerError(`the scheduler lock ${path} could not be taken`, { hint: 'remove it if no scheduler daemon runs on this folder' });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code === 'EPERM';
  }
}
