/**
 * The KDC's TGS replay cache lives in the realm database (store/
 * sqlite-replay-cache.ts): an authenticator accepted before `kerbside kdc`
 * restarts is refused after it.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { ErrorCode } from '../messages/index.js';
import { T0, UDP_PEER, expectError, expectTgsRep, getTgt, tgsReq, type Harness } from '../testing/kdc-client.js';
import type { CliIO } from './io.js';
import { startRealmKdc } from './kdc-runner.js';
import { createRealmDirectory, openRealm } from './realm-dir.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

function io(clock: ManualClock): CliIO {
  return {
    argv: [], env: {}, cwd: '/', clock, random: seededRandom(3), out: () => {}, err: () => {},
    readSecret: async () => '', stopSignal: new AbortController().signal,
  };
}

test('kerbside kdc: a TGS authenticator accepted before a restart is refused after it (KRB_AP_ERR_REPEAT)', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'kerbside-rcache-kdc-')), 'realm');
  dirs.push(dir);
  const clock = new ManualClock(T0);
  const created = await createRealmDirectory({ dir, realm: 'EXAMPLE.TEST', clock, random: seededRandom(1) });
  await created.admin.addPrincipal('alice', { password: 'alice-pw' });
  await created.admin.addPrincipal('HTTP/localhost');
  await created.close();
  const listen = [{ host: '127.0.0.1', port: 0 }];

  const first = await startRealmKdc(await openRealm(dir, io(clock)), io(clock), { listen, pollIntervalMs: 60_000 });
  let req: Uint8Array;
  try {
    const tgt = await getTgt({ kdc: first.kdc, clock } as unknown as Harness);
    req = tgsReq({ tgt: tgt.ticket, sessionKey: tgt.sessionKey, now: clock.now() });
    expectTgsRep(await first.kdc.process(req, UDP_PEER));
  } finally {
    await first.stop();
  }

  await clock.advance(10_000);
  const second = await startRealmKdc(await openRealm(dir, io(clock)), io(clock), { listen, pollIntervalMs: 60_000 });
  try {
    assert.equal(expectError(await second.kdc.process(req, UDP_PEER)).errorCode, ErrorCode.KRB_AP_ERR_REPEAT);
  } finally {
    await second.stop();
  }
});
