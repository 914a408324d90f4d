import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEventLogConformance } from './event-log-conformance.js';
import { MemoryEventLogStore } from './event-log.js';
import { openSqliteEventLog } from './sqlite-event-log.js';
import { sqliteDriversUnderTest } from '../testing/sqlite-drivers.js';

let root = '';
let n = 0;
before(() => { root = mkdtempSync(join(tmpdir(), 'kerbside-eventlog-')); });
after(() => { rmSync(root, { recursive: true, force: true }); });

runEventLogConformance('memory', async () => {
  const store = new MemoryEventLogStore();
  return { store, reopen: async () => store.connect(), close: () => store.close() };
});

for (const driver of await sqliteDriversUnderTest()) {
  runEventLogConformance(`sqlite (${driver})`, async () => {
    const path = join(root, `d${++n}`, 'events.sqlite');
    const store = await openSqliteEventLog({ path, driver });
    return { store, reopen: () => openSqliteEventLog({ path, driver }), close: () => store.close() };
  });
}

test('sqlite event log: a new file is private (0600) in a private directory (0700), in WAL mode', async () => {
  const path = join(root, 'private', 'events.sqlite');
  const store = await openSqliteEventLog({ path });
  try {
    await store.append([{ time: 1, level: 'information', source: 's', category: 'c', eventId: 1, type: 'a.b', user: null, computer: 'h', message: 'm', data: {} }]);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(root, 'private')).mode & 0o777, 0o700);
    assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600);
  } finally {
    await store.close();
  }
});
