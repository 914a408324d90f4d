import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './clock.js';

test('ManualClock fires timers in due order while advancing', async () => {
  const clock = new ManualClock(1_000);
  const fired: string[] = [];
  clock.setTimer(300, () => fired.push(`b@${clock.now()}`));
  clock.setTimer(100, () => fired.push(`a@${clock.now()}`));
  const c = clock.setTimer(200, () => fired.push('cancelled'));
  c.cancel();
  await clock.advance(250);
  assert.deepEqual(fired, ['a@1100']);
  assert.equal(clock.now(), 1_250);
  await clock.advance(50);
  assert.deepEqual(fired, ['a@1100', 'b@1300']);
});

test('ManualClock lets async work scheduled by timers continue (sleep chains)', async () => {
  const clock = new ManualClock(0);
  const seen: number[] = [];
  void (async () => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(60_000);
      seen.push(clock.now());
    }
  })();
  await clock.advance(30 * 24 * 3600_000);
  assert.deepEqual(seen, [60_000, 120_000, 180_000]);
});
