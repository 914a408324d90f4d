/**
 * The scheduler's folder (`kerbside scheduler --dir DIR`): `scheduler.db`
 * (the SQLite store), `host.key` (seals stored passwords), `runs/` (one
 * private 0700 folder per run under way) and `logs/` (each command run's
 * output). The folder itself is 0700.
 */

import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RandomSource } from '../core/random.js';
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
