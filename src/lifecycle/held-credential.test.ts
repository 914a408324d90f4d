import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { KerbsideError } from '../core/errors.js';
import { memorySink } from '../events/index.js';
import {
  HeldCredential, CannotRefreshUnattendedError, DEFAULT_REFRESH_POLICY, refreshTime, chooseAction, retryDelay, resolvePolicy,
  type CredentialSource, type LifecycleEvent, type CredentialHorizon, type RefreshPolicyInput,
} from './index.js';

/** A per-test limit: a refresh loop on the ManualClock that never ends fails the test instead of hanging CI. */
const SIMULATION = { timeout: 60_000 } as const;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** A ticket-like credential: a KDC with 1 h tickets and 8 h renewable life. */
interface FakeTicket { readonly serial: number; readonly startTime: number; readonly endTime: number; readonly renewTill?: number }

class FakeKdcDown extends KerbsideError {
  static override readonly code = 'ERR_KDC_UNREACHABLE';
}

function fakeSource(clock: ManualClock, opts: { life?: number; renewable?: number; unattended?: boolean; acquire?: boolean; renew?: boolean } = {}) {
  const life = opts.life ?? HOUR;
  const renewable = opts.renewable ?? 8 * HOUR;
  let serial = 0;
  const state = { down: false, acquires: 0, renews: 0, gate: undefined as Promise<void> | undefined };
  const source: CredentialSource<FakeTicket> = {
    description: 'fake keytab',
    unattended: opts.unattended ?? true,
    ...(opts.acquire === false ? {} : {
      async acquire() {
        state.acquires++;
        if (state.gate !== undefined) await state.gate;
        if (state.down) throw new FakeKdcDown('KDC unreachable');
        const now = clock.now();
        return { serial: ++serial, startTime: now, endTime: now + life, ...(renewable > 0 ? { renewTill: now + renewable } : {}) };
      },
    }),
    ...(opts.renew === false ? {} : {
      async renew(current: FakeTicket) {
        state.renews++;
        if (state.down) throw new FakeKdcDown('KDC unreachable');
        const now = clock.now();
        if (current.endTime <= now) throw new Error('ticket expired');
        if (current.renewTill === undefined || current.renewTill <= now) throw new Error('not renewable');
        const l = current.endTime - current.startTime;
        return { serial: ++serial, startTime: now, endTime: Math.min(now + l, current.renewTill), renewTill: current.renewTill };
      },
    }),
  };
  return { source, state };
}

function held(clock: ManualClock, source: CredentialSource<FakeTicket>, extra: { policy?: RefreshPolicyInput; initial?: FakeTicket } = {}) {
  const events: LifecycleEvent[] = [];
  const cred = new HeldCredential<FakeTicket>({
    name: 'TGT for job@EXAMPLE.TEST',
    source,
    horizon: (t): CredentialHorizon => ({ startTime: t.startTime, endTime: t.endTime, ...(t.renewTill !== undefined ? { renewTill: t.renewTill } : {}) }),
    clock,
    random: seededRandom(7),
    onEvent: (e) => events.push(e),
    ...(extra.policy !== undefined ? { policy: extra.policy } : {}),
    ...(extra.initial !== undefined ? { initial: extra.initial } : {}),
  });
  return { cred, events };
}

const count = (events: LifecycleEvent[], type: string, how?: string) =>
  events.filter((e) => e.type === type && (how === undefined || (e as { how?: string }).how === how)).length;

test('refreshTime: 80 % of lifetime, at least minMargin before the end, half-life for very short credentials', SIMULATION, () => {
  const p = DEFAULT_REFRESH_POLICY;
  assert.equal(refreshTime({ startTime: 0, endTime: HOUR }, p), 48 * MIN);
  assert.equal(refreshTime({ startTime: 0, endTime: 5 * MIN }, p), 3 * MIN); // 4 min would leave < 2 min
  assert.equal(refreshTime({ startTime: 0, endTime: 2 * MIN }, p), MIN); // margin would eat it all: half-life
  assert.equal(refreshTime({ startTime: 0, endTime: 10 * HOUR }, resolvePolicy({ refreshFraction: 0.5 })), 5 * HOUR);
});

test('chooseAction: renew while renew-till covers a full next lifetime, else re-acquire, else the tail', SIMULATION, () => {
  const p = DEFAULT_REFRESH_POLICY;
  const h = { startTime: 0, endTime: HOUR, renewTill: 8 * HOUR };
  const both = { renew: true, reacquire: true };
  assert.equal(chooseAction(h, 48 * MIN, both, p), 'renew');
  const late = { startTime: 6 * HOUR + 24 * MIN, endTime: 7 * HOUR + 24 * MIN, renewTill: 8 * HOUR };
  assert.equal(chooseAction(late, 7 * HOUR + 12 * MIN, both, p), 'reacquire');
  assert.equal(chooseAction(late, 7 * HOUR + 12 * MIN, { renew: true, reacquire: false }, p), 'renew-tail');
  const capped = { startTime: 7 * HOUR + 12 * MIN, endTime: 8 * HOUR, renewTill: 8 * HOUR };
  assert.equal(chooseAction(capped, 7 * HOUR + 50 * MIN, { renew: true, reacquire: false }, p), 'none');
  assert.equal(chooseAction({ startTime: 0, endTime: HOUR }, 48 * MIN, { renew: true, reacquire: false }, p), 'none');
  assert.equal(chooseAction(h, 2 * HOUR, both, p), 'reacquire', 'an expired ticket cannot be renewed');
  assert.equal(chooseAction(undefined, 0, both, p), 'reacquire');
});

test('retryDelay: exponential with jitter, capped so a retry falls before the end time', SIMULATION, () => {
  const p = DEFAULT_REFRESH_POLICY;
  const r = seededRandom(1);
  for (let n = 1; n <= 10; n++) {
    const d = retryDelay(n, undefined, 0, p, r);
    const exp = Math.min(p.retryMax, p.retryInitial * 2 ** (n - 1));
    assert.ok(d >= exp / 2 && d <= exp, `failure ${n}: ${d} within [${exp / 2}, ${exp}]`);
  }
  // 3 minutes left: the next retry comes within half of what is left.
  const h = { startTime: 0, endTime: HOUR };
  const now = HOUR - 3 * MIN;
  for (let n = 1; n <= 10; n++) assert.ok(now + retryDelay(n, h, now, p, r) < HOUR - p.minUsable);
});

test('30 simulated days, keytab-like source: renews 8 times per 7.2 h cycle, re-acquires, never hands out an expired credential', SIMULATION, async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const { source, state } = fakeSource(clock);
  const { cred, events } = held(clock, source);
  const start = clock.now();
  let minRemaining = Infinity;
  while (clock.now() - start < 30 * DAY) {
    const t = await cred.get();
    minRemaining = Math.min(minRemaining, t.endTime - clock.now());
    await clock.advance(7 * MIN); // every 7 minutes keeps the test fast; the timers do the work
  }
  cred.close();
  // Refresh at 48 min; renewals keep a full hour while renew-till (8 h) allows:
  // 48, 96, …, 384 min (8 renewals); at 432 min 432+60 > 480, so re-acquire.
  // A cycle is 432 min; 30 days = 43200 min = 100 cycles, the last
  // re-acquisition falling exactly on day 30.
  assert.equal(count(events, 'refreshed', 'acquired'), 1);
  assert.equal(count(events, 'refreshed', 'reacquired'), 100);
  assert.equal(count(events, 'refreshed', 'renewed'), 800);
  assert.equal(count(events, 'renewal_failed'), 0);
  assert.equal(count(events, 'expiring_soon'), 0);
  assert.equal(state.acquires, 101);
  assert.ok(minRemaining >= 12 * MIN, `always at least 12 minutes left (${minRemaining / MIN})`);
});

test('concurrent callers share one refresh (single flight)', SIMULATION, async () => {
  const clock = new ManualClock();
  const { source, state } = fakeSource(clock);
  let open!: () => void;
  state.gate = new Promise((resolve) => { open = resolve; });
  const { cred } = held(clock, source);
  const all = Promise.all(Array.from({ length: 10 }, () => cred.get()));
  open();
  const got = await all;
  assert.equal(state.acquires, 1);
  assert.ok(got.every((t) => t === got[0]));
  cred.close();
});

test('a 20-minute KDC outage across the refresh point: jittered retries before the end, recovery, never an expired credential', SIMULATION, async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const { source, state } = fakeSource(clock);
  const { cred, events } = held(clock, source);
  const t0 = clock.now();
  await cred.get();
  await clock.advance(47 * MIN);
  state.down = true;
  const failures: string[] = [];
  for (let m = 47; m < 67; m++) {
    try {
      const t = await cred.get();
      assert.ok(t.endTime - clock.now() > DEFAULT_REFRESH_POLICY.minUsable, 'never expired');
    } catch (err) {
      assert.ok(err instanceof FakeKdcDown, 'the caller sees the cause');
      failures.push(`${m}`);
    }
    await clock.advance(MIN);
  }
  state.down = false;
  // Up to the end of the ticket's usable life the old ticket is handed out; afterwards the cause.
  assert.deepEqual(failures, ['60', '61', '62', '63', '64', '65', '66']);
  const retries = events.filter((e) => e.type === 'renewal_failed');
  assert.ok(retries.length >= 4, `retried ${retries.length} times`);
  // Every retry scheduled while the ticket was usable falls before its end.
  const usableUntil = t0 + HOUR - DEFAULT_REFRESH_POLICY.minUsable;
  for (const e of retries) {
    if (e.type === 'renewal_failed' && e.at < usableUntil) assert.ok(e.nextAttemptAt! < t0 + HOUR);
  }
  assert.equal(count(events, 'expiring_soon'), 1);
  const t = await cred.get();
  assert.equal(clock.now(), t0 + 67 * MIN);
  assert.equal(t.startTime, clock.now(), 'refreshed as soon as the KDC is back');
  assert.equal(count(events, 'refreshed', 'reacquired'), 1, 'an expired ticket is re-acquired, not renewed');
  // The refresher lives on: next refresh 48 minutes later.
  await clock.advance(48 * MIN);
  assert.equal(count(events, 'refreshed', 'renewed'), 1);
  cred.close();
});

test('renew-only source (external cache): cannot_refresh_unattended before expiry, then a typed error naming the cause', SIMULATION, async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const { source } = fakeSource(clock, { acquire: false, unattended: false });
  const t0 = clock.now();
  const initial = { serial: 0, startTime: t0, endTime: t0 + HOUR, renewTill: t0 + 2 * HOUR };
  const { cred, events } = held(clock, { ...source, description: 'external cache FILE:/tmp/krb5cc_test' }, { initial });
  const seen: number[] = [];
  let failure: unknown;
  for (let m = 0; m < 3 * 60; m++) {
    try {
      const t = await cred.get();
      assert.ok(t.endTime - clock.now() > 0);
      seen.push(t.serial);
    } catch (err) {
      failure = err;
      break;
    }
    await clock.advance(MIN);
  }
  // 48 min: renew (renew-till 2 h still covers a full hour: end 1 h 48).
  // 1 h 36: a full hour no longer fits, the source cannot re-acquire: announce, renew the tail to 2 h.
  const cannot = events.find((e) => e.type === 'cannot_refresh_unattended');
  assert.ok(cannot !== undefined);
  assert.equal(cannot.at, t0 + 96 * MIN);
  assert.ok(cannot.at < t0 + 2 * HOUR, 'announced before the credential expires');
  assert.equal(count(events, 'refreshed', 'renewed'), 2);
  assert.equal(count(events, 'cannot_refresh_unattended'), 1);
  assert.equal(count(events, 'expiring_soon'), 1);
  assert.ok(failure instanceof CannotRefreshUnattendedError, `got ${String(failure)}`);
  assert.equal(failure.code, 'ERR_CANNOT_REFRESH_UNATTENDED');
  assert.match(failure.message, /external cache FILE:\/tmp\/krb5cc_test/);
  assert.match(failure.hint ?? '', /keytab/);
  assert.equal(clock.now(), t0 + 2 * HOUR, 'fails only at the first minute with less than minUsable left');
  assert.deepEqual([...new Set(seen)], [0, 1, 2]);
  // It keeps failing the same way, without asking the source again.
  await assert.rejects(cred.get(), CannotRefreshUnattendedError);
  cred.close();
});

test('an attended source (password prompt) is asked only when a person is present', SIMULATION, async () => {
  const clock = new ManualClock();
  const { source, state } = fakeSource(clock, { unattended: false, renewable: 0 });
  const { cred, events } = held(clock, source);
  await assert.rejects(cred.get(), CannotRefreshUnattendedError);
  assert.equal(state.acquires, 0);
  const t = await cred.get({ interactive: true });
  assert.equal(state.acquires, 1);
  await clock.advance(48 * MIN);
  assert.equal(count(events, 'cannot_refresh_unattended'), 2, 'once for the empty start, once before the hour ends');
  assert.equal(state.acquires, 1, 'no prompt from the background');
  assert.equal(await cred.get(), t, 'still usable');
  await clock.advance(12 * MIN);
  await assert.rejects(cred.get(), CannotRefreshUnattendedError);
  assert.notEqual(await cred.get({ interactive: true }), t);
  cred.close();
});

test('lazy mode: no timers, refresh happens on the first get() after the refresh time', SIMULATION, async () => {
  const clock = new ManualClock();
  const { source, state } = fakeSource(clock);
  const { cred } = held(clock, source, { policy: { proactive: false } });
  const first = await cred.get();
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(50 * MIN);
  assert.equal(state.renews, 0);
  const second = await cred.get();
  assert.equal(state.renews, 1);
  assert.notEqual(second, first);
  await clock.advance(5 * HOUR);
  const third = await cred.get();
  assert.equal(state.acquires, 2, 'expired while nobody asked: re-acquired');
  assert.equal(third.startTime, clock.now());
  cred.close();
});

test('eviction: a credential unused for evictAfter is dropped instead of refreshed', SIMULATION, async () => {
  const clock = new ManualClock();
  const { source, state } = fakeSource(clock);
  const { cred, events } = held(clock, source, { policy: { evictAfter: 2 * HOUR } });
  await cred.get();
  await clock.advance(3 * HOUR);
  assert.equal(count(events, 'evicted'), 1);
  const renewsAtEviction = state.renews;
  await clock.advance(10 * HOUR);
  assert.equal(state.renews, renewsAtEviction, 'nothing refreshed after eviction');
  assert.equal(cred.status().state, 'empty');
  await cred.get();
  assert.equal(state.acquires, 2);
  cred.close();
});

test('a source that returns an already expired credential is a failure, not a hand-out', SIMULATION, async () => {
  const clock = new ManualClock();
  const source: CredentialSource<FakeTicket> = {
    description: 'broken', unattended: true,
    acquire: async () => ({ serial: 1, startTime: clock.now() - 2 * HOUR, endTime: clock.now() - HOUR }),
  };
  const { cred, events } = held(clock, source);
  await assert.rejects(cred.get(), (e: unknown) => e instanceof KerbsideError && e.code === 'ERR_SOURCE_RETURNED_EXPIRED');
  assert.equal(count(events, 'renewal_failed'), 1);
  cred.close();
});

test('status reports horizon, counts and failures', SIMULATION, async () => {
  const clock = new ManualClock();
  const { source, state } = fakeSource(clock);
  const { cred } = held(clock, source);
  await cred.get();
  state.down = true;
  await clock.advance(48 * MIN + 1_000);
  const s = cred.status();
  assert.equal(s.state, 'failing');
  assert.equal(s.consecutiveFailures, 1);
  assert.equal(s.lastError?.code, 'ERR_KDC_UNREACHABLE');
  assert.equal(s.counts.acquired, 1);
  assert.ok(s.nextAttemptAt! > clock.now());
  cred.close();
  assert.equal(cred.status().state, 'closed');
  await assert.rejects(cred.get(), (e: unknown) => e instanceof KerbsideError && e.code === 'ERR_CREDENTIAL_CLOSED');
});

test('events reach the process event sink as credential.* KerbsideEvents, without secrets', SIMULATION, async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const { source, state } = fakeSource(clock);
  const sink = memorySink();
  const cred = new HeldCredential<FakeTicket>({
    name: 'TGT for job@EXAMPLE.TEST', source, clock, sink, random: seededRandom(3),
    horizon: (t) => ({ startTime: t.startTime, endTime: t.endTime, ...(t.renewTill !== undefined ? { renewTill: t.renewTill } : {}) }),
  });
  await cred.get();
  state.down = true;
  await clock.advance(HOUR);
  cred.close();
  const types = new Set(sink.events.map((e) => e.type));
  assert.deepEqual([...types].sort(), ['credential.expiring_soon', 'credential.refreshed', 'credential.renewal_failed']);
  const failed = sink.ofType('credential.renewal_failed')[0]!;
  assert.equal(failed.severity, 'warning');
  assert.equal(failed.fields['credential'], 'TGT for job@EXAMPLE.TEST');
  assert.equal(failed.fields['errorCode'], 'ERR_KDC_UNREACHABLE');
  assert.equal(failed.time, Date.UTC(2026, 0, 1) + 48 * MIN);
  assert.match(failed.message, /renewing TGT for job@EXAMPLE.TEST failed \(1 in a row\): KDC unreachable/);
});

test('minRemaining: a job that needs 30 more minutes gets a refreshed credential, not one about to end', SIMULATION, async () => {
  const clock = new ManualClock();
  const { source, state } = fakeSource(clock);
  const { cred } = held(clock, source, { policy: { proactive: false } });
  const first = await cred.get();
  await clock.advance(40 * MIN); // 20 minutes left, refresh not yet due (48 min)
  assert.equal(await cred.get(), first);
  const fresh = await cred.get({ minRemaining: 30 * MIN });
  assert.notEqual(fresh, first);
  assert.equal(state.renews, 1);
  assert.ok(fresh.endTime - clock.now() >= 30 * MIN);
  assert.equal(await cred.get({ minRemaining: 30 * MIN }), fresh, 'no refresh while enough is left');
  assert.equal(await cred.get({ minRemaining: 2 * HOUR }), fresh, 'more than the source ever gives: no refresh storm');
  assert.equal(state.renews, 1);
  cred.close();
});
