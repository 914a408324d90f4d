/** The scheduler stores: one conformance suite for memory and SQLite, plus SQLite's own durability settings and reopening. */

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schedulerStoreConformance, task } from './conformance.js';
import { MemorySchedulerStore, openSqliteSchedulerStore } from './index.js';
import { sqliteDriversUnderTest } from '../testing/sqlite-drivers.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kerbside-sched-store-'));
  dirs.push(d);
  return d;
}

schedulerStoreConformance('memory', async () => new MemorySchedulerStore());
for (const driver of await sqliteDriversUnderTest()) {
  schedulerStoreConformance(`sqlite (${driver})`, async () => openSqliteSchedulerStore({ path: join(await freshDir(), 'scheduler.db'), driver }));
}

test('sqlite: a second connection (another process) sees the rows and the change stamp; the file is 0600 in a 0700 folder', async () => {
  const dir = join(await freshDir(), 'sched');
  const path = join(dir, 'scheduler.db');
  const a = await openSqliteSchedulerStore({ path });
  const b = await openSqliteSchedulerStore({ path });
  try {
    const before = await b.changeStamp();
    await a.addTask(task('t'), 'sealed');
    const run = await a.startRun({ task: 't', reason: 'schedule', attempt: 1, principal: 'p@R', startedAt: 1 });
    assert.ok((await b.changeStamp()) > before);
    assert.equal((await b.getTask('t'))?.name, 't');
    assert.deepEqual((await b.runningRuns()).map((r) => r.id), [run.id]);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  } finally {
    await a.close();
    await b.close();
  }
  const c = await openSqliteSchedulerStore({ path });
  try {
    assert.equal((await c.history()).length, 1);
  } finally {
    await c.close();
  }
});
