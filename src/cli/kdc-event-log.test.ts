/**
 * kdc.conf's event log settings (docs/events.md "Retention") and what
 * `kerbside kdc` opens from them; openEventLog for apps.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { createEmitter, openEventLog } from '../events/index.js';
import { RealmDirectoryError } from './errors.js';
import { DEFAULT_EVENT_LOG_SETTINGS, REALM_FILES, parseByteSize, readRealmSettings } from './kdc-conf.js';
import { openKdcEventLog } from './kdc-runner.js';
import type { OpenRealm } from './realm-dir.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function realmDir(extra: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kerbside-eventlog-conf-'));
  dirs.push(d);
  await writeFile(join(d, REALM_FILES.config), `[realms]\n  R.TEST = {\n${extra}  }\n`);
  return d;
}

test('kdc.conf: eventlog on by default (90 days, 100 MB); eventlog = false, eventlog_max_age and eventlog_max_size', async () => {
  assert.deepEqual((await readRealmSettings(await realmDir(''))).eventLog, DEFAULT_EVENT_LOG_SETTINGS);
  assert.deepEqual(DEFAULT_EVENT_LOG_SETTINGS, { enabled: true, maxAge: 90 * 86_400, maxSize: 100 * 1024 * 1024 });
  const set = await readRealmSettings(await realmDir('    eventlog_max_age = 30d\n    eventlog_max_size = 20M\n'));
  assert.deepEqual(set.eventLog, { enabled: true, maxAge: 30 * 86_400, maxSize: 20 * 1024 * 1024 });
  assert.equal((await readRealmSettings(await realmDir('    eventlog = false\n'))).eventLog?.enabled, false);
  for (const bad of ['eventlog = maybe', 'eventlog_max_size = lots', 'eventlog_max_age = soon']) {
    await assert.rejects(readRealmSettings(await realmDir(`    ${bad}\n`)), RealmDirectoryError, bad);
  }
});

test('parseByteSize: K, M, G in powers of 1024, plain bytes, and refusals', () => {
  assert.equal(parseByteSize('512K'), 512 * 1024);
  assert.equal(parseByteSize('100M'), 100 * 1024 * 1024);
  assert.equal(parseByteSize('1G'), 1024 ** 3);
  assert.equal(parseByteSize('1gb'), 1024 ** 3);
  assert.equal(parseByteSize('4096'), 4096);
  for (const bad of ['', 'M', '1.5M', '-1', '10T']) assert.throws(() => parseByteSize(bad), bad);
});

test('openKdcEventLog: <realm>/events.sqlite when on, nothing at all when kdc.conf says eventlog = false', async () => {
  const clock = new ManualClock(Date.UTC(2026, 11, 3));
  const on = await realmDir('');
  const log = await openKdcEventLog({ settings: await readRealmSettings(on) } as OpenRealm, clock);
  assert.ok(log !== undefined);
  createEmitter(log, clock).emit('kdc.lockout', 'alice@R.TEST locked out', { principal: 'alice@R.TEST' });
  await log.close();
  assert.ok(existsSync(join(on, 'events.sqlite')));
  const off = await realmDir('    eventlog = false\n');
  assert.equal(await openKdcEventLog({ settings: await readRealmSettings(off) } as OpenRealm, clock), undefined);
  assert.equal(existsSync(join(off, 'events.sqlite')), false);
  // What an app does: openEventLog(dir) for a sink to hand to negotiateServer/negotiateFetch, and the store to read.
  const app = await openEventLog(on, { clock, computer: 'web1' });
  assert.deepEqual((await app.store.query({ eventIds: [4740] })).records.map((r) => [r.user, r.level]), [['alice@R.TEST', 'audit_success']]);
  createEmitter(app.sink, clock).emit('http.auth_succeeded', 'alice authenticated', { client: 'alice@R.TEST' });
  await app.close();
  const again = await openEventLog(on, { clock });
  assert.deepEqual((await again.store.query({ sources: ['kerbside-http'] })).records.map((r) => r.computer), ['web1']);
  await again.close();
});
