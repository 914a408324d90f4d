import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { ReplayCacheFullError } from './errors.js';
import { MemoryReplayCache, type ReplayCache, type ReplayTuple } from './replay-cache.js';
import { openSqliteReplayCache } from './sqlite-replay-cache.js';
import { sqliteDriversUnderTest } from '../testing/sqlite-drivers.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const SKEW = 300;

function tuple(i: number, extra: Partial<ReplayTuple> = {}): ReplayTuple {
  return {
    client: 'alice@EXAMPLE.TEST', server: 'HTTP/web@EXAMPLE.TEST', ctime: T0 + i * 1000, cusec: i % 1000,
    authenticator: Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 7), ...extra,
  };
}

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function dbPath(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kerbside-rcache-'));
  dirs.push(d);
  return join(d, 'replay.sqlite');
}

type Open = (maxEntries: number, path?: string) => Promise<ReplayCache & { readonly size: number; close?(): void }>;
const kinds: [string, Open][] = [
  ['memory', async (maxEntries) => new MemoryReplayCache({ clockSkewSeconds: SKEW, maxEntries })],
  ...(await sqliteDriversUnderTest()).map((driver): [string, Open] => [
    `sqlite (${driver})`, async (maxEntries, path) => openSqliteReplayCache({ path: path ?? await dbPath(), clockSkewSeconds: SKEW, maxEntries, driver }),
  ]),
];

for (const [kind, open] of kinds) {
  test(`${kind}: an authenticator is accepted once; the full tuple and the ciphertext tell authenticators apart`, async () => {
    const c = await open(10);
    try {
      assert.equal(await c.seen(tuple(1), T0), false);
      assert.equal(await c.seen(tuple(1), T0 + 1), true);
      assert.equal(await c.seen(tuple(1, { authenticator: Uint8Array.of(9) }), T0), false, 'same microsecond, other ciphertext');
      assert.equal(await c.seen(tuple(1, { server: 'host/x@EXAMPLE.TEST' }), T0), false, 'other server');
      assert.equal(await c.seen(tuple(1, { client: 'alice@EXAMPLE.TEST\0HTTP' }), T0), false, 'fields are length-prefixed');
    } finally {
      c.close?.();
    }
  });

  test(`${kind}: when full it refuses new authenticators (ReplayCacheFullError) and never evicts an unexpired entry`, async () => {
    const c = await open(3);
    try {
      for (let i = 0; i < 3; i++) assert.equal(await c.seen(tuple(i), T0 + i), false);
      await assert.rejects(async () => c.seen(tuple(3), T0 + 10), (err: unknown) => {
        assert.ok(err instanceof ReplayCacheFullError);
        assert.equal(err.code, 'ERR_REPLAY_CACHE_FULL');
        assert.match(err.hint ?? '', /2 × clock skew/);
        return true;
      });
      // The oldest entry is still there: its replay is still caught.
      assert.equal(await c.seen(tuple(0), T0 + 20), true);
      assert.equal(c.size, 3);
    } finally {
      c.close?.();
    }
  });

  test(`${kind}: entries expire 2 × skew after they were recorded (ManualClock), making room again`, async () => {
    const clock = new ManualClock(T0);
    const c = await open(2);
    try {
      assert.equal(await c.seen(tuple(1), clock.now()), false);
      await clock.advance(60_000);
      assert.equal(await c.seen(tuple(2), clock.now()), false);
      await clock.advance(2 * SKEW * 1000 - 60_000 - 1);
      assert.equal(await c.seen(tuple(1), clock.now()), true, 'one ms before expiry: still a replay');
      await assert.rejects(async () => c.seen(tuple(3), clock.now()), ReplayCacheFullError);
      await clock.advance(1);
      assert.equal(await c.seen(tuple(3), clock.now()), false, 'the first entry expired: room for a new one');
      assert.equal(await c.seen(tuple(2), clock.now()), true);
      await clock.advance(2 * SKEW * 1000);
      assert.equal(await c.seen(tuple(2), clock.now()), false, 'expired entries are forgotten');
    } finally {
      c.close?.();
    }
  });
}

test('sqlite: an authenticator accepted before a restart is refused after it (a new cache on the same file)', async () => {
  const path = await dbPath();
  const before = await openSqliteReplayCache({ path, clockSkewSeconds: SKEW, maxEntries: 100 });
  assert.equal(before.seen(tuple(1), T0), false);
  before.close();
  const restarted = await openSqliteReplayCache({ path, clockSkewSeconds: SKEW, maxEntries: 100 });
  try {
    assert.equal(restarted.seen(tuple(1), T0 + 5000), true);
    assert.equal(restarted.seen(tuple(2), T0 + 5000), false);
    // The count survives too: the file's entries are counted against maxEntries.
    assert.equal(restarted.size, 2);
  } finally {
    restarted.close();
  }
  assert.throws(() => restarted.seen(tuple(9), T0), { code: 'ERR_STORE_CLOSED' });
});

test('sqlite: two caches on one file (two KDC processes) never both accept an authenticator', async () => {
  const path = await dbPath();
  const a = await openSqliteReplayCache({ path, clockSkewSeconds: SKEW, maxEntries: 100 });
  const b = await openSqliteReplayCache({ path, clockSkewSeconds: SKEW, maxEntries: 100 });
  try {
    assert.equal(a.seen(tuple(1), T0), false);
    assert.equal(b.seen(tuple(1), T0), true);
    assert.equal(b.seen(tuple(2), T0), false);
    assert.equal(a.seen(tuple(2), T0), true);
  } finally {
    a.close();
    b.close();
  }
});
