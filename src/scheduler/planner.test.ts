/** The sans-IO planner and trigger arithmetic: cron (croner), interval, once, logon; missed starts; instances; retry backoff; the two options. */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { task } from './conformance.js';
import {
  DEFAULT_SETTINGS, InvalidTaskError, OptionConflictError, chooseLogon, instanceDecision, nextFire, plan, retryDelay, tasksForLogon,
  validateDefinition, validateTrigger, type SessionRecord,
} from './index.js';

const T0 = Date.UTC(2026, 0, 5, 8, 30);
const MIN = 60_000;
const HOUR = 60 * MIN;
const canon = (n: string) => (n.includes('@') ? n : `${n}@EXAMPLE.TEST`);

test('triggers: cron from a given time (no timer), interval from its start, once, logon never by time', () => {
  assert.equal(nextFire({ kind: 'cron', expression: '0 * * * *' }, T0, 0), Date.UTC(2026, 0, 5, 9, 0));
  assert.equal(nextFire({ kind: 'cron', expression: '0 * * * *' }, Date.UTC(2026, 0, 5, 9, 0), 0), Date.UTC(2026, 0, 5, 10, 0), 'strictly after');
  assert.equal(nextFire({ kind: 'cron', expression: '30 2 * * 1', timezone: 'UTC' }, T0, 0), Date.UTC(2026, 0, 12, 2, 30));
  assert.equal(nextFire({ kind: 'cron', expression: '0 9 * * *', timezone: 'Europe/Paris' }, T0, 0), Date.UTC(2026, 0, 6, 8, 0));
  assert.equal(nextFire({ kind: 'interval', everyMs: HOUR }, T0, T0), T0 + HOUR);
  assert.equal(nextFire({ kind: 'interval', everyMs: HOUR, startAt: T0 + 5 * MIN }, T0, 0), T0 + 5 * MIN);
  assert.equal(nextFire({ kind: 'interval', everyMs: HOUR }, T0 + 90 * MIN, T0), T0 + 2 * HOUR);
  assert.equal(nextFire({ kind: 'once', at: T0 + MIN }, T0, 0), T0 + MIN);
  assert.equal(nextFire({ kind: 'once', at: T0 + MIN }, T0 + MIN, 0), undefined);
  assert.equal(nextFire({ kind: 'logon' }, T0, 0), undefined);
});

test('invalid triggers are definition-time errors that say what to write', () => {
  assert.throws(() => validateTrigger({ kind: 'cron', expression: '61 * * * *' }), (e: unknown) => e instanceof InvalidTaskError && /not valid/.test(e.message) && /0 \* \* \* \*/.test(e.hint ?? ''));
  assert.throws(() => validateTrigger({ kind: 'cron', expression: 'every hour' }), InvalidTaskError);
  assert.throws(() => validateTrigger({ kind: 'interval', everyMs: 10 }), InvalidTaskError);
  assert.throws(() => validateTrigger({ kind: 'once', at: Number.NaN }), InvalidTaskError);
});

test('plan: on time → start; nothing due → wake at the next start; handled starts move lastScheduledAt', () => {
  const t = task('hourly', { createdAt: T0 });
  let p = plan([t], T0 + 10 * MIN);
  assert.deepEqual(p.starts, []);
  assert.equal(p.wakeAt, Date.UTC(2026, 0, 5, 9, 0));
  p = plan([t], Date.UTC(2026, 0, 5, 9, 0));
  assert.deepEqual(p.starts, [{ task: 'hourly', reason: 'schedule', scheduledAt: Date.UTC(2026, 0, 5, 9, 0) }]);
  assert.equal(p.handled.get('hourly'), Date.UTC(2026, 0, 5, 9, 0));
  assert.equal(p.wakeAt, Date.UTC(2026, 0, 5, 10, 0));
  const again = plan([{ ...t, lastScheduledAt: Date.UTC(2026, 0, 5, 9, 0) }], Date.UTC(2026, 0, 5, 9, 0));
  assert.deepEqual(again.starts, [], 'a handled start is not started twice');
  assert.deepEqual(plan([{ ...t, enabled: false }], Date.UTC(2026, 0, 5, 9, 0)).starts, [], 'disabled tasks never start');
});

test('plan: missed starts (daemon down) are counted; run once, coalesced, only when the task says runMissed', () => {
  const down = Date.UTC(2026, 0, 5, 12, 20); // 09:00, 10:00, 11:00 and 12:00 were missed
  const skip = plan([task('a', { createdAt: T0 })], down);
  assert.deepEqual(skip.starts, []);
  assert.deepEqual(skip.missed, [{ task: 'a', scheduledAt: Date.UTC(2026, 0, 5, 9, 0), count: 4, runNow: false }]);
  assert.equal(skip.handled.get('a'), down);
  const run = plan([task('b', { createdAt: T0, options: { ...task('b').options, runMissed: true } })], down);
  assert.deepEqual(run.starts, [{ task: 'b', reason: 'missed', scheduledAt: Date.UTC(2026, 0, 5, 9, 0) }]);
  assert.equal(run.missed[0]?.count, 4);
  // One start, just later than the tolerance, is missed too.
  assert.equal(plan([task('c', { createdAt: T0 })], Date.UTC(2026, 0, 5, 9, 2)).missed.length, 1);
  assert.equal(plan([task('c', { createdAt: T0 })], Date.UTC(2026, 0, 5, 9, 0, 30)).starts.length, 1);
});

test('multiple-instances policy and retry backoff', () => {
  assert.equal(instanceDecision('ignore-new', 0), 'start');
  assert.equal(instanceDecision('ignore-new', 1), 'ignore');
  assert.equal(instanceDecision('parallel', 3), 'start');
  assert.equal(instanceDecision('queue', 1), 'queue');
  assert.equal(instanceDecision('stop-existing', 1), 'stop-then-start');
  const r = { count: 3, delayMs: 30_000, maxDelayMs: 90_000 };
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelay(r, n)), [30_000, 60_000, 90_000, undefined]);
});

test('logon triggers match the canonical principal name', () => {
  const tasks = [
    task('mine', { principal: 'alice', triggers: [{ kind: 'logon' }] }),
    task('bobs', { principal: 'svc', triggers: [{ kind: 'logon', principal: 'bob' }] }),
    task('timer', { principal: 'alice' }),
  ];
  assert.deepEqual(tasksForLogon(tasks, 'alice@EXAMPLE.TEST', canon), ['mine']);
  assert.deepEqual(tasksForLogon(tasks, 'bob', canon), ['bobs']);
});

const card: SessionRecord = { id: 's1', principal: 'alice@EXAMPLE.TEST', kind: 'smartcard', ccache: 'FILE:/tmp/krb5cc_alice', loggedOnAt: T0 };

test('the two options: own logon by default even while logged on; borrowing only with the switch off or run-only-if-logged-on', () => {
  const t = task('t', { principal: 'alice' });
  assert.deepEqual(chooseLogon(t, DEFAULT_SETTINGS, [card], canon), { kind: 'own' });
  assert.deepEqual(chooseLogon(t, { disableUseOfTokenFromSession: false }, [card], canon), { kind: 'borrow', session: card, why: 'compatibility' });
  assert.deepEqual(chooseLogon(t, { disableUseOfTokenFromSession: false }, [], canon), { kind: 'own' });
  const only = task('o', { principal: 'alice', credential: { kind: 'session' }, options: { ...t.options, runOnlyIfLoggedOn: true } });
  assert.deepEqual(chooseLogon(only, { disableUseOfTokenFromSession: false }, [], canon), { kind: 'not-logged-on' });
  assert.deepEqual(chooseLogon(only, { disableUseOfTokenFromSession: false }, [card], canon), { kind: 'borrow', session: card, why: 'run-only-if-logged-on' });
});

test('definition checks: the conflict names both settings; the smart-card borrow is warned about; a task needs a credential and an action', () => {
  const only = task('o', { principal: 'alice', credential: { kind: 'session' }, options: { ...task('o').options, runOnlyIfLoggedOn: true } });
  assert.throws(() => validateDefinition(only, DEFAULT_SETTINGS, [], canon), (e: unknown) => e instanceof OptionConflictError
    && /runOnlyIfLoggedOn/.test(e.message) && /disableUseOfTokenFromSession/.test(e.message) && /set disableUseOfTokenFromSession to false/.test(e.hint ?? ''));
  const warnings = validateDefinition(task('t', { principal: 'alice' }), { disableUseOfTokenFromSession: false }, [card], canon);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /smart-card logon session of alice@EXAMPLE\.TEST/);
  assert.deepEqual(validateDefinition(task('t', { principal: 'alice' }), DEFAULT_SETTINGS, [card], canon), []);
  assert.throws(() => validateDefinition(task('t', { credential: { kind: 'session' } }), DEFAULT_SETTINGS, [], canon), /no credential of its own/);
  assert.throws(() => validateDefinition(task('t', { action: { kind: 'command', argv: [] } }), DEFAULT_SETTINGS, [], canon), /has no command/);
  assert.throws(() => validateDefinition(task('bad name!'), DEFAULT_SETTINGS, [], canon), /not a task name/);
  assert.throws(() => validateDefinition(task('t', { action: { kind: 'http', url: 'ftp://x/' } }), DEFAULT_SETTINGS, [], canon), /http or https/);
});
