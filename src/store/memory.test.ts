import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStoreConformance } from './conformance.js';
import { createMemoryStore, MemoryStore } from './memory.js';

runStoreConformance('memory', async ({ clock, changeLogLimit }) => {
  const store = createMemoryStore(changeLogLimit === undefined ? { clock } : { clock, changeLogLimit });
  return {
    store,
    lockout: store.lockout,
    reopen: async () => store.connect(),
    close: () => store.close(),
  };
});

test('memory store: handles from connect() share data but close independently', async () => {
  const a = new MemoryStore();
  const b = a.connect();
  await b.create({ name: 'x@R' });
  await b.close();
  assert.equal((await a.get('x@R'))?.name, 'x@R');
  await a.close();
});
