import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import { encodeKeytab, readKeytab, writeKeytab, type KeytabEntry } from '../files/index.js';
import { AcceptorKeyError, keytabKeys, Krb5Acceptor, Krb5Initiator } from './index.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';

/** A per-test limit: a refresh loop on the ManualClock that never ends fails the test instead of hanging CI. */
const SIMULATION = { timeout: 60_000 } as const;

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function fixture() {
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-gss-'));
  dirs.push(dir);
  const path = join(dir, 'http.keytab');
  const clock = new ManualClock(Date.UTC(2026, 0, 10, 9, 0, 0));
  const random = seededRandom(12);
  const events = memorySink();
  let reads = 0;
  const keys = keytabKeys(`FILE:${path}`, {
    clock, events, checkIntervalMs: 5_000, missReloadIntervalMs: 1_000,
    read: (name) => { reads++; return readKeytab(name); },
  });
  const acceptor = new Krb5Acceptor({ keys, clock, random, events });
  const kv = (kvno: number) => serviceKey(seededRandom(1000 + kvno), { kvno });
  const tryAccept = async (service: KeytabEntry): Promise<unknown> => {
    const init = new Krb5Initiator({ credential: mintTicket({ service, now: clock.now(), random }), clock, random });
    return acceptor.newContext().acceptSecContext(init.initSecContext().output!).then(() => 'accepted', (e: unknown) => e);
  };
  return { path, clock, events, keys, kv, tryAccept, reads: () => reads };
}

test('keytab rotation: a new kvno is picked up at once on a miss, the old kvno keeps working while present', SIMULATION, async () => {
  const f = await fixture();
  await writeKeytab(f.path, [f.kv(12)]);
  assert.equal(await f.tryAccept(f.kv(12)), 'accepted');
  // The KDC rotates to kvno 13 and the keytab gains it (atomic replace), before the next periodic check.
  await writeKeytab(f.path, [f.kv(12), f.kv(13)]);
  assert.equal(await f.tryAccept(f.kv(13)), 'accepted', 'kvno miss forces a re-read');
  assert.equal(await f.tryAccept(f.kv(12)), 'accepted', 'old kvno still in the keytab');
  const reloaded = f.events.events.filter((e) => e.type === 'acceptor.keytab_reloaded');
  assert.equal(reloaded.length, 1);
  assert.deepEqual(reloaded[0]!.fields['kvnos'], ['HTTP/web.example.test@EXAMPLE.TEST: 12, 13']);
  assert.equal(f.keys.status().reloads, 1);
});

test('keytab rotation: kvno-miss diagnostics say which side is out of date', SIMULATION, async () => {
  const f = await fixture();
  await writeKeytab(f.path, [f.kv(12), f.kv(13)]);
  assert.equal(await f.tryAccept(f.kv(13)), 'accepted');
  await writeKeytab(f.path, [f.kv(13)]);
  await f.clock.advance(5_000); // periodic stat notices the new file
  const old = await f.tryAccept(f.kv(12));
  assert.ok(old instanceof AcceptorKeyError);
  assert.equal(old.problem, 'ticket-out-of-date');
  assert.match(old.message, /ticket kvno 12 not in keytab \(which holds 13\) for HTTP\/web\.example\.test@EXAMPLE\.TEST: the ticket is likely out of date/);
  const ahead = await f.tryAccept(f.kv(15));
  assert.ok(ahead instanceof AcceptorKeyError);
  assert.equal(ahead.problem, 'keytab-out-of-date');
  assert.match(ahead.message, /ticket kvno 15 not in keytab \(which holds 13\).*: the keytab is likely out of date/);
  const misses = f.events.events.filter((e) => e.type === 'acceptor.kvno_miss');
  assert.deepEqual(misses.map((e) => e.fields['outOfDate']), ['ticket', 'keytab']);
});

test('keytab rotation: a half-written keytab keeps the last good copy and is reported; the complete file is then used', SIMULATION, async () => {
  const f = await fixture();
  await writeKeytab(f.path, [f.kv(13)]);
  assert.equal(await f.tryAccept(f.kv(13)), 'accepted');
  const full = encodeKeytab([f.kv(13), f.kv(14)]);
  await writeFile(f.path, full.subarray(0, full.length - 20)); // caught mid-write
  await f.clock.advance(5_000);
  assert.equal(await f.tryAccept(f.kv(13)), 'accepted', 'previous copy still in use');
  const failed = f.events.events.filter((e) => e.type === 'acceptor.keytab_reload_failed');
  assert.ok(failed.length >= 1);
  assert.equal(failed[0]!.severity, 'warning');
  assert.equal(failed[0]!.fields['keptPreviousCopy'], true);
  assert.match(String(f.keys.status().lastError), /keytab/);
  await writeFile(f.path, full);
  await f.clock.advance(5_000);
  assert.equal(await f.tryAccept(f.kv(14)), 'accepted');
  assert.equal(f.keys.status().lastError, undefined);
});

test('keytab keys are never expired by age (KB318225): 90 days later the same keytab still works, with no re-read', SIMULATION, async () => {
  const f = await fixture();
  await writeKeytab(f.path, [f.kv(7)]);
  assert.equal(await f.tryAccept(f.kv(7)), 'accepted');
  const readsBefore = f.reads();
  for (let day = 0; day < 90; day++) {
    await f.clock.advance(24 * 3600_000);
    assert.equal(await f.tryAccept(f.kv(7)), 'accepted', `day ${day + 1}`);
  }
  assert.equal(f.reads(), readsBefore, 'unchanged file: stat only, no re-read');
});

test('keytab misses are rate-limited: a flood of tickets with unknown kvnos re-reads at most once per interval', SIMULATION, async () => {
  const f = await fixture();
  await writeKeytab(f.path, [f.kv(3)]);
  assert.equal(await f.tryAccept(f.kv(3)), 'accepted');
  await f.clock.advance(1_000);
  const before = f.reads();
  for (let i = 0; i < 20; i++) assert.ok((await f.tryAccept(f.kv(50 + i))) instanceof AcceptorKeyError);
  assert.equal(f.reads() - before, 1);
  await f.clock.advance(1_000);
  await f.tryAccept(f.kv(99));
  assert.equal(f.reads() - before, 2);
});

test('keytab missing at start: a typed error naming the keytab; it is picked up once it appears', SIMULATION, async () => {
  const f = await fixture();
  const e = await f.tryAccept(f.kv(1));
  assert.ok(e instanceof AcceptorKeyError);
  assert.equal(e.problem, 'keytab-unavailable');
  assert.match(e.message, /http\.keytab could not be read/);
  assert.equal(f.events.events.at(-1)?.severity, 'error');
  await writeKeytab(f.path, [f.kv(1)]);
  await f.clock.advance(5_000); // the next periodic check finds it
  assert.equal(await f.tryAccept(f.kv(1)), 'accepted');
});

test('two concurrent first calls both get the keys: the second waits for the first read instead of failing as keytab-unavailable', SIMULATION, async () => {
  const f = await fixture();
  await writeKeytab(f.path, [f.kv(12)]);
  const [a, b] = await Promise.all([f.keys.keys(), f.keys.keys()]);
  assert.equal(a.length, 1);
  assert.equal(b.length, 1);
  assert.equal(f.reads(), 1, 'one read shared');
});
