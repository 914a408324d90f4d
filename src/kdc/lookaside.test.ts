import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { LookasideCache } from './lookaside.js';

const bytes = (...v: number[]): Uint8Array => new Uint8Array(v);

function counting(reply: Uint8Array | undefined): { compute: () => Promise<Uint8Array | undefined>; calls: () => number } {
  let n = 0;
  return { compute: async () => { n++; return reply; }, calls: () => n };
}

test('an identical request gets the stored reply without running again', async () => {
  const cache = new LookasideCache(new ManualClock(), { maxEntries: 10, maxBytes: 10_000, lifetimeMs: 120_000, maxPending: 100 });
  const c = counting(bytes(9, 9));
  assert.deepEqual(await cache.lookup(bytes(1, 2, 3), c.compute), { reply: bytes(9, 9), hit: false });
  assert.deepEqual(await cache.lookup(bytes(1, 2, 3), c.compute), { reply: bytes(9, 9), hit: true });
  assert.equal(c.calls(), 1);
  assert.equal((await cache.lookup(bytes(1, 2, 4), c.compute)).hit, false, 'a different request is not a hit');
  assert.equal(c.calls(), 2);
  const s = cache.stats();
  assert.equal(s.hits, 1);
  assert.equal(s.misses, 2);
  assert.equal(s.entries, 2);
});

test('entries expire by the injected clock (MIT keeps replies two minutes)', async () => {
  const clock = new ManualClock();
  const cache = new LookasideCache(clock, { maxEntries: 10, maxBytes: 10_000, lifetimeMs: 120_000, maxPending: 100 });
  const c = counting(bytes(7));
  await cache.lookup(bytes(1), c.compute);
  await clock.advance(119_999);
  assert.equal((await cache.lookup(bytes(1), c.compute)).hit, true);
  await clock.advance(1);
  assert.equal((await cache.lookup(bytes(1), c.compute)).hit, false);
  assert.equal(c.calls(), 2);
});

test('entry and byte caps evict the oldest first', async () => {
  const clock = new ManualClock();
  const cache = new LookasideCache(clock, { maxEntries: 3, maxBytes: 1_000_000, lifetimeMs: 60_000, maxPending: 100 });
  for (let i = 0; i < 5; i++) await cache.lookup(bytes(i), async () => bytes(i));
  assert.equal(cache.stats().entries, 3);
  assert.equal(cache.stats().evictions, 2);
  assert.equal((await cache.lookup(bytes(0), async () => bytes(0))).hit, false, 'oldest was evicted');
  assert.equal((await cache.lookup(bytes(4), async () => bytes(4))).hit, true);

  const small = new LookasideCache(clock, { maxEntries: 100, maxBytes: 400, lifetimeMs: 60_000, maxPending: 100 });
  for (let i = 0; i < 10; i++) await small.lookup(bytes(i), async () => new Uint8Array(100));
  assert.ok(small.stats().bytes <= 400);
  assert.equal(small.stats().entries, 2);
  // a reply larger than the whole cap is not stored at all
  await small.lookup(bytes(99), async () => new Uint8Array(1000));
  assert.equal((await small.lookup(bytes(99), async () => undefined)).hit, false);
});

test('silence is not cached; a request in flight is shared', async () => {
  const cache = new LookasideCache(new ManualClock(), { maxEntries: 10, maxBytes: 10_000, lifetimeMs: 120_000, maxPending: 100 });
  const silent = counting(undefined);
  await cache.lookup(bytes(5), silent.compute);
  await cache.lookup(bytes(5), silent.compute);
  assert.equal(silent.calls(), 2);

  let release!: (b: Uint8Array) => void;
  let runs = 0;
  const slow = (): Promise<Uint8Array> => { runs++; return new Promise((r) => { release = r; }); };
  const first = cache.lookup(bytes(6), slow);
  const second = cache.lookup(bytes(6), slow);
  release(bytes(42));
  assert.deepEqual(await first, { reply: bytes(42), hit: false });
  assert.deepEqual(await second, { reply: bytes(42), hit: true });
  assert.equal(runs, 1);
});

test('lifetime 0 disables the cache', async () => {
  const cache = new LookasideCache(new ManualClock(), { maxEntries: 10, maxBytes: 10_000, lifetimeMs: 0, maxPending: 100 });
  const c = counting(bytes(1));
  await cache.lookup(bytes(1), c.compute);
  await cache.lookup(bytes(1), c.compute);
  assert.equal(c.calls(), 2);
});

test('the table of requests in progress is bounded: beyond maxPending, requests are answered but not shared', { timeout: 10_000 }, async () => {
  const cache = new LookasideCache(new ManualClock(), { maxEntries: 100, maxBytes: 100_000, lifetimeMs: 120_000, maxPending: 2 });
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let computed = 0;
  const slow = (reply: number) => async (): Promise<Uint8Array> => { computed++; await gate; return bytes(reply); };
  const lookups = [1, 2, 3, 4, 5].map((i) => cache.lookup(bytes(i), slow(i)));
  assert.equal(cache.stats().pending, 2, 'only two requests in progress are shared');
  assert.equal(cache.stats().unshared, 3);
  const shared = cache.lookup(bytes(1), slow(100)); // retransmit of a shared request: waits for it
  const unshared = cache.lookup(bytes(5), slow(50)); // retransmit of an unshared one: processed again
  assert.equal(computed, 6);
  release();
  assert.deepEqual((await Promise.all(lookups)).map((r) => r.reply![0]), [1, 2, 3, 4, 5]);
  assert.deepEqual(await shared, { reply: bytes(1), hit: true });
  assert.equal((await unshared).reply![0], 50);
  assert.equal(cache.stats().pending, 0);
});
