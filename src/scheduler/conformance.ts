/**
 * The conformance suite every SchedulerStore backend passes (memory, SQLite;
 * a PostgreSQL backend runs the same): tasks and secrets, planner state,
 * history in order with outcomes, running runs, sessions, settings, run-now
 * requests, and the change stamp other processes poll.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskExistsError, TaskNotFoundError } from './errors.js';
import type { SchedulerStore } from './store.js';
import { DEFAULT_SETTINGS, DEFAULT_TASK_OPTIONS, type Task } from './types.js';

export function task(name: string, overrides: Partial<Task> = {}): Task {
  return {
    name, principal: 'svc@EXAMPLE.TEST', credential: { kind: 'password' }, action: { kind: 'command', argv: ['true'] },
    triggers: [{ kind: 'cron', expression: '0 * * * *' }], options: DEFAULT_TASK_OPTIONS, enabled: true, createdAt: 1000, modifiedAt: 1000,
    ...overrides,
  };
}

export function schedulerStoreConformance(name: string, open: () => Promise<SchedulerStore>): void {
  const withStore = (title: string, fn: (s: SchedulerStore) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });
  };

  withStore('tasks: add, get, list in name order, put, delete; duplicates and missing names are typed errors', async (s) => {
    await s.addTask(task('b'), 'sealed-b');
    await s.addTask(task('a'));
    await assert.rejects(s.addTask(task('a')), TaskExistsError);
    assert.deepEqual((await s.listTasks()).map((t) => t.name), ['a', 'b']);
    assert.deepEqual(await s.getTask('b'), task('b'));
    assert.equal(await s.getSecret('b'), 'sealed-b');
    assert.equal(await s.getSecret('a'), undefined);
    await s.putTask(task('b', { enabled: false, modifiedAt: 2000 }));
    assert.equal((await s.getTask('b'))?.enabled, false);
    assert.equal(await s.getSecret('b'), 'sealed-b', 'undefined keeps the secret');
    await s.putTask(task('b'), 'sealed-b2');
    assert.equal(await s.getSecret('b'), 'sealed-b2');
    await s.putTask(task('b', { credential: { kind: 'keytab', keytab: '/k' } }), null);
    assert.equal(await s.getSecret('b'), undefined);
    await assert.rejects(s.putTask(task('zz')), TaskNotFoundError);
    await s.deleteTask('a');
    await assert.rejects(s.deleteTask('a'), TaskNotFoundError);
    assert.equal(await s.getTask('a'), undefined);
  });

  withStore('planner state: setLastScheduled is kept with the task', async (s) => {
    await s.addTask(task('t'));
    await s.setLastScheduled('t', 5000);
    assert.equal((await s.getTask('t'))?.lastScheduledAt, 5000);
    assert.equal((await s.listTasks())[0]?.lastScheduledAt, 5000);
  });

  withStore('history: runs start as running, finish with their outcome, newest first, per task and limited', async (s) => {
    const r1 = await s.startRun({ task: 'a', reason: 'schedule', attempt: 1, principal: 'p@R', startedAt: 1, scheduledAt: 1, daemonPid: 7 });
    const r2 = await s.startRun({ task: 'b', reason: 'run-now', attempt: 1, principal: 'p@R', startedAt: 2 });
    assert.ok(r2.id > r1.id);
    assert.equal(r1.status, 'running');
    await s.updateRun(r1.id, { childPid: 42, credentialUsed: 'own' });
    assert.deepEqual((await s.runningRuns()).map((r) => [r.id, r.childPid]), [[r1.id, 42], [r2.id, undefined]]);
    const done = await s.finishRun(r1.id, { status: 'failed', endedAt: 3, cause: 'it broke', exitCode: 2, errorCode: 'ERR_ACTION_FAILED' });
    assert.equal(done.status, 'failed');
    assert.equal(done.childPid, 42);
    assert.deepEqual((await s.runningRuns()).map((r) => r.id), [r2.id]);
    const all = await s.history();
    assert.deepEqual(all.map((r) => r.id), [r2.id, r1.id]);
    assert.equal(all[1]?.cause, 'it broke');
    assert.equal(all[1]?.daemonPid, 7);
    assert.deepEqual((await s.history({ task: 'a' })).map((r) => r.id), [r1.id]);
    assert.equal((await s.history({ limit: 1 })).length, 1);
    await assert.rejects(s.finishRun(9999, { status: 'succeeded', endedAt: 1 }));
  });

  withStore('sessions, settings, run requests and the change stamp', async (s) => {
    const s0 = await s.changeStamp();
    assert.deepEqual(await s.settings(), DEFAULT_SETTINGS);
    await s.setSettings({ disableUseOfTokenFromSession: false });
    assert.equal((await s.settings()).disableUseOfTokenFromSession, false);
    const s1 = await s.changeStamp();
    assert.ok(s1 > s0);
    await s.addSession({ id: 'x1', principal: 'alice@R', kind: 'smartcard', ccache: 'FILE:/tmp/a', loggedOnAt: 5 });
    await s.addSession({ id: 'x0', principal: 'bob@R', kind: 'password', ccache: 'FILE:/tmp/b', loggedOnAt: 4 });
    assert.deepEqual((await s.listSessions()).map((x) => x.id), ['x0', 'x1']);
    assert.equal(await s.removeSession('x1'), true);
    assert.equal(await s.removeSession('x1'), false);
    const s2 = await s.changeStamp();
    assert.ok(s2 > s1);
    await s.requestRun('t', 10);
    await s.requestRun('u', 11);
    assert.ok((await s.changeStamp()) > s2);
    assert.deepEqual(await s.takeRunRequests(), [{ task: 't', at: 10 }, { task: 'u', at: 11 }]);
    assert.deepEqual(await s.takeRunRequests(), []);
  });
}
