/**
 * The one test suite every PrincipalStore backend must pass (docs/architecture.md
 * "Storage": two implementations, the same suite). A backend's test file calls
 * `runStoreConformance('sqlite', open)`; `open` gets a ManualClock the store
 * must use for its timestamps and lockout arithmetic.
 */

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { PrincipalCache } from './cache.js';
import { PrincipalExistsError, PrincipalNotFoundError, StoreClosedError } from './errors.js';
import { listAll } from './list.js';
import { isLockedOut, sourceLockoutKey } from './lockout.js';
import { NTLM_CREDENTIAL_ENCTYPE } from './records.js';
import type { KeyMaterial, LockoutStore, PrincipalPatch, PrincipalStore } from './types.js';

export interface ConformanceEnv {
  readonly clock: ManualClock;
  /** When set, the store must keep only this many change-log entries. */
  readonly changeLogLimit?: number;
}

export interface StoreUnderTest {
  readonly store: PrincipalStore;
  /** Another handle on the same data (for SQLite: a new connection to the same file). The suite closes it. */
  readonly reopen?: () => Promise<PrincipalStore>;
  /** The backend's lockout store, when it has one. */
  readonly lockout?: LockoutStore;
  close(): Promise<void>;
}

const REALM = 'EXAMPLE.COM';
const T0 = Date.UTC(2026, 0, 1);

const key = (enctype: number, fill: number, extra: Partial<KeyMaterial> = {}): KeyMaterial => ({
  enctype, keyvalue: new Uint8Array(enctype === 17 ? 16 : 32).fill(fill), ...extra,
});

export function runStoreConformance(name: string, open: (env: ConformanceEnv) => Promise<StoreUnderTest>): void {
  /** Runs `body` against a fresh store, closing everything afterwards even when it fails. */
  const withStore = (title: string, body: (s: StoreUnderTest, clock: ManualClock) => Promise<void>, changeLogLimit?: number) =>
    test(title, async () => {
      const clock = new ManualClock(T0);
      const s = await open(changeLogLimit === undefined ? { clock } : { clock, changeLogLimit });
      try {
        await body(s, clock);
      } finally {
        await s.close();
      }
    });

  /** Like withStore, with a second handle on the same data. */
  const withTwoHandles = (title: string, body: (a: PrincipalStore, b: PrincipalStore, clock: ManualClock) => Promise<void>) =>
    withStore(title, async (s, clock) => {
      assert.ok(s.reopen, `${name} must offer a second handle (reopen) for the cross-handle tests`);
      const other = await s.reopen();
      try {
        await body(s.store, other, clock);
      } finally {
        await other.close();
      }
    });

  describe(`PrincipalStore conformance: ${name}`, () => {
    withStore('create then get returns the record with defaults, keys, salts and times', async ({ store }, clock) => {
      const created = await store.create({
        name: `alice@${REALM}`,
        keys: [
          key(18, 1, { salt: { type: 0, value: new TextEncoder().encode(`${REALM}alice`) }, s2kparams: new Uint8Array([0, 0, 0x10, 0]) }),
          key(17, 2, { salt: { type: 3, value: new Uint8Array(0) } }),
        ],
      });
      await clock.advance(5000);
      const got = await store.get(`alice@${REALM}`);
      assert.deepEqual(got, created);
      assert.ok(got);
      assert.equal(got.name, `alice@${REALM}`);
      assert.equal(got.realm, REALM);
      assert.equal(got.kvno, 1);
      assert.equal(got.createdAt, T0);
      assert.equal(got.modifiedAt, T0);
      assert.equal(got.requiresPreauth, true);
      assert.equal(got.allowForwardable, true);
      assert.equal(got.allowRenewable, true);
      assert.equal(got.allowProxiable, false);
      assert.equal(got.allowPostdated, false);
      assert.equal(got.disabled, false);
      assert.equal(got.allowTickets, true);
      assert.equal(got.allowService, true);
      assert.equal(got.okAsDelegate, false);
      assert.equal(got.maxLife, undefined);
      assert.ok(!('principalExpiry' in got), 'absent limits are absent properties');
      assert.deepEqual(got.keys.map((k) => [k.kvno, k.enctype]), [[1, 18], [1, 17]]);
      assert.deepEqual(got.keys[0]!.keyvalue, new Uint8Array(32).fill(1));
      assert.deepEqual(got.keys[0]!.salt, { type: 0, value: new TextEncoder().encode(`${REALM}alice`) });
      assert.deepEqual(got.keys[0]!.s2kparams, new Uint8Array([0, 0, 0x10, 0]));
      assert.deepEqual(got.keys[1]!.salt, { type: 3, value: new Uint8Array(0) });
      assert.ok(!('s2kparams' in got.keys[1]!));
      assert.ok(got.keys[0]!.keyvalue instanceof Uint8Array && !Buffer.isBuffer(got.keys[0]!.keyvalue), 'public APIs return Uint8Array');
    });

    withStore('create takes attributes, limits and an initial kvno; no keys means kvno 0', async ({ store }) => {
      const svc = await store.create({
        name: `HTTP/www.example.com@${REALM}`, keys: [key(18, 3)], kvno: 7, requiresPreauth: false, okAsDelegate: true,
        maxLife: 36000, maxRenewableLife: 604800, allowedEnctypes: [18, 17], principalExpiry: T0 + 1e9, policy: 'services',
      });
      assert.equal(svc.kvno, 7);
      assert.equal(svc.requiresPreauth, false);
      assert.equal(svc.okAsDelegate, true);
      assert.equal(svc.maxLife, 36000);
      assert.deepEqual(svc.allowedEnctypes, [18, 17]);
      assert.equal(svc.policy, 'services');
      const bare = await store.create({ name: `bare@${REALM}` });
      assert.equal(bare.kvno, 0);
      assert.deepEqual(bare.keys, []);
      await assert.rejects(store.create({ name: `x@${REALM}`, maxLife: -1 }), InvalidArgumentError);
      await assert.rejects(store.create({ name: `y@${REALM}`, ...{ bogus: true } }), InvalidArgumentError);
      assert.equal(await store.get(`x@${REALM}`), undefined);
    });

    withStore('create of an existing name fails with PrincipalExistsError and changes nothing', async ({ store }) => {
      await store.create({ name: `bob@${REALM}`, keys: [key(18, 1)] });
      await assert.rejects(store.create({ name: `bob@${REALM}`, keys: [key(18, 9)], disabled: true }), (err: unknown) => {
        assert.ok(err instanceof PrincipalExistsError);
        assert.equal(err.code, 'ERR_PRINCIPAL_EXISTS');
        assert.match(err.message, /bob@EXAMPLE\.COM/);
        return true;
      });
      const bob = await store.get(`bob@${REALM}`);
      assert.equal(bob?.disabled, false);
      assert.deepEqual(bob?.keys[0]?.keyvalue, new Uint8Array(32).fill(1));
    });

    withStore('names are case-sensitive and must carry a realm (MIT quoting of @)', async ({ store }) => {
      await store.create({ name: `carol@${REALM}` });
      assert.equal(await store.get(`Carol@${REALM}`), undefined);
      assert.equal(await store.get(`carol@example.com`), undefined);
      await store.create({ name: `Carol@${REALM}` });
      assert.equal((await store.list()).names.length, 2);
      await assert.rejects(store.create({ name: 'noRealm' }), InvalidArgumentError);
      await assert.rejects(store.create({ name: 'trailing@' }), InvalidArgumentError);
      const escaped = await store.create({ name: `odd\\@name@${REALM}` });
      assert.equal(escaped.realm, REALM);
    });

    withStore('records are copies: mutating inputs or results does not change the store', async ({ store }) => {
      const input = key(18, 5);
      await store.create({ name: `dave@${REALM}`, keys: [input] });
      (input.keyvalue as Uint8Array).fill(0);
      const first = await store.get(`dave@${REALM}`);
      (first!.keys[0]!.keyvalue as Uint8Array).fill(0);
      const second = await store.get(`dave@${REALM}`);
      assert.deepEqual(second!.keys[0]!.keyvalue, new Uint8Array(32).fill(5));
    });

    withStore('update changes flags and limits, null clears a limit, modifiedAt moves', async ({ store }, clock) => {
      await store.create({ name: `erin@${REALM}`, maxLife: 3600, passwordExpiry: T0 + 1000 });
      await clock.advance(60_000);
      const updated = await store.update(`erin@${REALM}`, { disabled: true, maxLife: null, maxRenewableLife: 7200, allowedEnctypes: [18] });
      assert.equal(updated.disabled, true);
      assert.ok(!('maxLife' in updated));
      assert.equal(updated.maxRenewableLife, 7200);
      assert.equal(updated.passwordExpiry, T0 + 1000);
      assert.deepEqual(updated.allowedEnctypes, [18]);
      assert.equal(updated.createdAt, T0);
      assert.equal(updated.modifiedAt, T0 + 60_000);
      assert.deepEqual(await store.get(`erin@${REALM}`), updated);
      await assert.rejects(store.update(`erin@${REALM}`, { disabled: 'yes' as unknown as boolean }), InvalidArgumentError);
      await assert.rejects(store.update(`erin@${REALM}`, { passwd: 'x' } as unknown as PrincipalPatch), InvalidArgumentError);
      await assert.rejects(store.update(`nobody@${REALM}`, { disabled: true }), (err: unknown) => {
        assert.ok(err instanceof PrincipalNotFoundError);
        assert.equal(err.code, 'ERR_PRINCIPAL_NOT_FOUND');
        return true;
      });
    });

    withStore('setKeys adds the next kvno and keeps old ones, newest first in the given order', async ({ store }, clock) => {
      await store.create({ name: `svc/host@${REALM}`, keys: [key(18, 1), key(17, 1)] });
      await clock.advance(1000);
      const r2 = await store.setKeys(`svc/host@${REALM}`, [key(17, 2), key(18, 2), key(20, 2)]);
      assert.equal(r2.kvno, 2);
      assert.equal(r2.modifiedAt, T0 + 1000);
      assert.deepEqual(r2.keys.map((k) => [k.kvno, k.enctype]), [[2, 17], [2, 18], [2, 20], [1, 18], [1, 17]]);
      const r9 = await store.setKeys(`svc/host@${REALM}`, [key(18, 9)], { kvno: 9 });
      assert.equal(r9.kvno, 9);
      await assert.rejects(store.setKeys(`svc/host@${REALM}`, [key(18, 3)], { kvno: 9 }), InvalidArgumentError);
      await assert.rejects(store.setKeys(`svc/host@${REALM}`, [key(18, 3), key(18, 4)]), InvalidArgumentError);
      await assert.rejects(store.setKeys(`svc/host@${REALM}`, []), InvalidArgumentError);
      const purged = await store.setKeys(`svc/host@${REALM}`, [key(18, 10)], { purgeOld: true });
      assert.deepEqual(purged.keys.map((k) => [k.kvno, k.enctype]), [[10, 18]]);
      assert.deepEqual(await store.get(`svc/host@${REALM}`), purged);
      await assert.rejects(store.setKeys(`nobody@${REALM}`, [key(18, 1)]), PrincipalNotFoundError);
    });

    withStore('setKeys fromPassword stamps lastPasswordChange and lifts a forced change', async ({ store }, clock) => {
      await store.create({ name: `frank@${REALM}`, keys: [key(18, 1)], requiresPasswordChange: true });
      await clock.advance(3_600_000);
      const r = await store.setKeys(`frank@${REALM}`, [key(18, 2)], { fromPassword: true });
      assert.equal(r.lastPasswordChange, T0 + 3_600_000);
      assert.equal(r.requiresPasswordChange, false);
      const r3 = await store.setKeys(`frank@${REALM}`, [key(18, 3)]);
      assert.equal(r3.lastPasswordChange, T0 + 3_600_000, 'random keys are not a password change');
    });

    withStore('purgeKeys drops old kvnos by count or threshold but never the current one', async ({ store }) => {
      await store.create({ name: `rot@${REALM}`, keys: [key(18, 1)] });
      for (let i = 2; i <= 5; i++) await store.setKeys(`rot@${REALM}`, [key(18, i), key(17, i)]);
      const kvnos = (r: { keys: readonly { kvno: number }[] }) => [...new Set(r.keys.map((k) => k.kvno))];
      assert.deepEqual(kvnos(await store.purgeKeys(`rot@${REALM}`, { belowKvno: 3 })), [5, 4, 3]);
      assert.deepEqual(kvnos(await store.purgeKeys(`rot@${REALM}`, { keepNewest: 2 })), [5, 4]);
      assert.deepEqual(kvnos(await store.purgeKeys(`rot@${REALM}`, { belowKvno: 100 })), [5]);
      const final = await store.get(`rot@${REALM}`);
      assert.equal(final?.kvno, 5);
      assert.equal(final?.keys.length, 2);
      await assert.rejects(store.purgeKeys(`rot@${REALM}`, {}), InvalidArgumentError);
      await assert.rejects(store.purgeKeys(`rot@${REALM}`, { keepNewest: 0 }), InvalidArgumentError);
      await assert.rejects(store.purgeKeys(`nobody@${REALM}`, { keepNewest: 1 }), PrincipalNotFoundError);
    });

    withStore('replaceKeyBytes rewrites key bytes in place: same kvnos, salts and modification time; a change is logged', async ({ store }, clock) => {
      const salt = { type: 0, value: new Uint8Array([1, 2]) };
      await store.create({ name: `wrap@${REALM}`, keys: [key(18, 1, { salt }), key(17, 1)] });
      const before = await store.setKeys(`wrap@${REALM}`, [key(18, 2)]);
      const seq = await store.changeSeq();
      clock.advance(1000);
      const after = await store.replaceKeyBytes(`wrap@${REALM}`, (k) => (k.kvno === 1 ? new Uint8Array(48).fill(k.enctype) : undefined));
      assert.deepEqual(after.keys.map((k) => [k.kvno, k.enctype, k.keyvalue.length, k.keyvalue[0]]), [[2, 18, 32, 2], [1, 18, 48, 18], [1, 17, 48, 17]]);
      assert.deepEqual(after.keys[1]?.salt, salt);
      assert.equal(after.kvno, 2);
      assert.equal(after.modifiedAt, before.modifiedAt);
      assert.deepEqual(await store.get(`wrap@${REALM}`), after);
      assert.deepEqual((await store.changesSince(seq)).principals, [`wrap@${REALM}`]);
      await assert.rejects(store.replaceKeyBytes(`nobody@${REALM}`, () => undefined), PrincipalNotFoundError);
    });

    withStore('the NTLM credential: only with allowNtlm, never among keys, replaced by setKeys, deleted when NTLM is turned off', async ({ store }) => {
      const nt = (fill: number): KeyMaterial => ({ enctype: NTLM_CREDENTIAL_ENCTYPE, keyvalue: new Uint8Array(16).fill(fill) });
      const name = `carol@${REALM}`;
      await assert.rejects(store.create({ name, keys: [key(18, 1), nt(9)] }), InvalidArgumentError, 'allowNtlm is off by default');
      assert.equal(await store.get(name), undefined);
      const created = await store.create({ name, allowNtlm: true, keys: [key(18, 1), nt(9)] });
      assert.equal(created.allowNtlm, true);
      assert.equal(created.kvno, 1);
      assert.deepEqual(created.keys.map((k) => [k.kvno, k.enctype]), [[1, 18]], 'the credential is not a Kerberos key');
      assert.deepEqual(created.ntlmCredential, { kvno: 1, enctype: NTLM_CREDENTIAL_ENCTYPE, keyvalue: new Uint8Array(16).fill(9) });
      assert.deepEqual(await store.get(name), created);
      // A new password without a credential drops the old one; with one, it replaces it.
      let r = await store.setKeys(name, [key(18, 2)]);
      assert.equal(r.ntlmCredential, undefined);
      r = await store.setKeys(name, [key(18, 3), nt(7)]);
      assert.deepEqual(r.ntlmCredential, { kvno: 3, enctype: NTLM_CREDENTIAL_ENCTYPE, keyvalue: new Uint8Array(16).fill(7) });
      assert.deepEqual(r.keys.map((k) => [k.kvno, k.enctype]), [[3, 18], [2, 18], [1, 18]]);
      // Master-key re-wrapping reaches the credential too.
      r = await store.replaceKeyBytes(name, (k) => (k.enctype === NTLM_CREDENTIAL_ENCTYPE ? new Uint8Array(16).fill(5) : undefined));
      assert.deepEqual(r.ntlmCredential?.keyvalue, new Uint8Array(16).fill(5));
      r = await store.purgeKeys(name, { keepNewest: 1 });
      assert.deepEqual(r.ntlmCredential?.keyvalue, new Uint8Array(16).fill(5), 'the current kvno keeps its credential');
      r = await store.update(name, { allowNtlm: false });
      assert.equal(r.ntlmCredential, undefined);
      assert.ok(!('ntlmCredential' in r));
      // Turning it back on does not resurrect the deleted credential.
      r = await store.update(name, { allowNtlm: true });
      assert.equal(r.ntlmCredential, undefined);
      await assert.rejects(store.update(name, { allowNtlm: false }).then(() => store.setKeys(name, [key(18, 4), nt(1)])), InvalidArgumentError);
      assert.equal((await store.get(name))!.kvno, 3, 'the refused setKeys changed nothing');
    });

    withStore('delete removes the principal and its keys; the name can be reused', async ({ store }) => {
      await store.create({ name: `gone@${REALM}`, keys: [key(18, 1)] });
      await store.setKeys(`gone@${REALM}`, [key(18, 2)]);
      await store.delete(`gone@${REALM}`);
      assert.equal(await store.get(`gone@${REALM}`), undefined);
      await assert.rejects(store.delete(`gone@${REALM}`), PrincipalNotFoundError);
      const again = await store.create({ name: `gone@${REALM}`, keys: [key(17, 7)] });
      assert.deepEqual(again.keys.map((k) => [k.kvno, k.enctype]), [[1, 17]]);
    });

    withStore('list filters by glob and prefix, orders by UTF-8 bytes and pages with a cursor', async ({ store }) => {
      const names = [
        `alice@${REALM}`, `HTTP/a.example.com@${REALM}`, `HTTP/b.example.com@${REALM}`, `host/a.example.com@${REALM}`,
        `bob@OTHER.ORG`, `z\u00e9@${REALM}`, `\uff21@${REALM}`, `\u{1f600}@${REALM}`, `krbtgt/${REALM}@${REALM}`,
      ];
      for (const n of names) await store.create({ name: n });
      const all = (await store.list()).names;
      const byBytes = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(all, byBytes);
      assert.deepEqual((await store.list({ pattern: 'HTTP/*' })).names, [`HTTP/a.example.com@${REALM}`, `HTTP/b.example.com@${REALM}`]);
      assert.deepEqual((await store.list({ pattern: '*@OTHER.ORG' })).names, ['bob@OTHER.ORG']);
      assert.deepEqual((await store.list({ pattern: '[ab]*' })).names, [`alice@${REALM}`, 'bob@OTHER.ORG']);
      assert.deepEqual((await store.list({ pattern: '[!a-z]?*/*' })).names, [`HTTP/a.example.com@${REALM}`, `HTTP/b.example.com@${REALM}`]);
      assert.deepEqual((await store.list({ pattern: '?@*' })).names, [`\uff21@${REALM}`, `\u{1f600}@${REALM}`], '? matches one character, not one byte');
      assert.deepEqual((await store.list({ pattern: 'http/*' })).names, [], 'patterns are case-sensitive');
      assert.deepEqual((await store.list({ prefix: 'host/' })).names, [`host/a.example.com@${REALM}`]);
      assert.deepEqual((await store.list({ prefix: 'HTTP/', pattern: '*b.*' })).names, [`HTTP/b.example.com@${REALM}`]);
      await assert.rejects(store.list({ pattern: '[z-a]' }), InvalidArgumentError);
      const p1 = await store.list({ limit: 4 });
      assert.deepEqual(p1.names, byBytes.slice(0, 4));
      assert.equal(p1.next, byBytes[3]);
      const p2 = await store.list({ limit: 4, after: p1.next! });
      assert.deepEqual(p2.names, byBytes.slice(4, 8));
      const p3 = await store.list({ limit: 4, after: p2.next! });
      assert.deepEqual(p3.names, byBytes.slice(8));
      assert.equal(p3.next, undefined);
      const exact = await store.list({ limit: byBytes.length });
      assert.equal(exact.next, undefined, 'no cursor when the page ends exactly at the last name');
      const streamed: string[] = [];
      for await (const n of listAll(store, { pattern: `*@${REALM}` })) streamed.push(n);
      assert.deepEqual(streamed, byBytes.filter((n) => n.endsWith(`@${REALM}`)));
    });

    withStore('realm metadata holds strings and bytes', async ({ store }) => {
      assert.equal(await store.getMeta('master-key-check'), undefined);
      await store.setMeta('master-key-check', new Uint8Array([1, 2, 3]));
      await store.setMeta('policy:default', '{"minLength":12}');
      await store.setMeta('empty', '');
      assert.deepEqual(await store.getMeta('master-key-check'), new Uint8Array([1, 2, 3]));
      assert.equal(await store.getMeta('policy:default'), '{"minLength":12}');
      assert.equal(await store.getMeta('empty'), '');
      await store.setMeta('policy:default', '{}');
      assert.equal(await store.getMeta('policy:default'), '{}');
      await store.deleteMeta('policy:default');
      await store.deleteMeta('policy:default');
      assert.equal(await store.getMeta('policy:default'), undefined);
      await assert.rejects(store.setMeta('', 'x'), InvalidArgumentError);
    });

    withStore('the change log lists changed principals and meta keys since a sequence number', async ({ store }) => {
      const s0 = await store.changeSeq();
      assert.deepEqual(await store.changesSince(s0), { seq: s0, principals: [], meta: [], reset: false });
      await store.create({ name: `a@${REALM}`, keys: [key(18, 1)] });
      await store.create({ name: `b@${REALM}` });
      await store.setKeys(`a@${REALM}`, [key(18, 2)]);
      await store.setMeta('realm-policy', 'x');
      const c1 = await store.changesSince(s0);
      assert.equal(c1.reset, false);
      assert.deepEqual([...c1.principals].sort(), [`a@${REALM}`, `b@${REALM}`]);
      assert.deepEqual(c1.meta, ['realm-policy']);
      assert.equal(c1.seq, await store.changeSeq());
      assert.ok(c1.seq > s0);
      await store.delete(`b@${REALM}`);
      await assert.rejects(store.delete(`b@${REALM}`));
      await assert.rejects(store.create({ name: `a@${REALM}` }));
      const c2 = await store.changesSince(c1.seq);
      assert.deepEqual(c2.principals, [`b@${REALM}`], 'failed writes are not logged');
      assert.deepEqual(await store.changesSince(c2.seq), { seq: c2.seq, principals: [], meta: [], reset: false });
      assert.equal((await store.changesSince(c2.seq + 100)).reset, true, 'a seq from the future (restored database) resets');
    });

    withStore('a reader the pruned change log no longer reaches gets reset', async ({ store }) => {
      const s0 = await store.changeSeq();
      for (let i = 0; i < 5; i++) await store.create({ name: `p${i}@${REALM}` });
      assert.equal((await store.changesSince(s0 + 1)).reset, false, 'the log still reaches back to s0 + 1');
      const old = await store.changesSince(s0);
      assert.equal(old.reset, true);
      assert.equal(old.seq, await store.changeSeq());
    }, 4);

    withTwoHandles('a second handle sees writes and their change-log entries', async (a, b) => {
      const seq = await b.changeSeq();
      await a.create({ name: `shared@${REALM}`, keys: [key(18, 1)] });
      assert.equal((await b.get(`shared@${REALM}`))?.kvno, 1);
      assert.deepEqual((await b.changesSince(seq)).principals, [`shared@${REALM}`]);
      await b.setMeta('k', 'v');
      assert.equal(await a.getMeta('k'), 'v');
    });

    withTwoHandles('concurrent setKeys from two handles produce distinct kvnos', async (a, b) => {
      await a.create({ name: `race@${REALM}`, keys: [key(18, 0)] });
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).setKeys(`race@${REALM}`, [key(18, i + 1)])));
      const r = await a.get(`race@${REALM}`);
      assert.equal(r?.kvno, 11);
      assert.deepEqual(r?.keys.map((k) => k.kvno), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    });

    withTwoHandles('data survives closing the first handle', async (a, b) => {
      await a.create({ name: `durable@${REALM}`, keys: [key(18, 4)] });
      await a.setMeta('m', new Uint8Array([9]));
      await a.close();
      await assert.rejects(a.get(`durable@${REALM}`), StoreClosedError);
      await a.close(); // idempotent
      assert.deepEqual((await b.get(`durable@${REALM}`))?.keys[0]?.keyvalue, new Uint8Array(32).fill(4));
      assert.deepEqual(await b.getMeta('m'), new Uint8Array([9]));
    });

    withTwoHandles('PrincipalCache serves from memory and sees another handle\'s writes after one poll', async (a, b, clock) => {
      await a.create({ name: `kdc-user@${REALM}`, keys: [key(18, 1)] });
      const errors: unknown[] = [];
      const cache = await PrincipalCache.open(a, { clock, pollIntervalMs: 1000, onError: (e) => errors.push(e) });
      try {
        const first = await cache.get(`kdc-user@${REALM}`);
        assert.equal(await cache.get(`kdc-user@${REALM}`), first, 'second lookup is the cached object');
        assert.equal(cache.stats.hits, 1);
        assert.ok(Object.isFrozen(first) && Object.isFrozen(first?.keys));
        assert.equal(await cache.get(`ghost@${REALM}`), undefined);
        assert.equal(await cache.get(`ghost@${REALM}`), undefined);
        assert.equal(cache.stats.misses, 2, 'unknown principals are cached too');

        // Another process (handle b) disables the user and creates the ghost.
        await b.update(`kdc-user@${REALM}`, { disabled: true });
        await b.create({ name: `ghost@${REALM}` });
        assert.equal((await cache.get(`kdc-user@${REALM}`))?.disabled, false, 'stale until the next poll');
        await clock.advance(1000);
        assert.equal((await cache.get(`kdc-user@${REALM}`))?.disabled, true);
        assert.equal((await cache.get(`ghost@${REALM}`))?.name, `ghost@${REALM}`);

        // Writes through the cache are visible at once.
        await cache.setKeys(`kdc-user@${REALM}`, [key(18, 2)]);
        assert.equal((await cache.get(`kdc-user@${REALM}`))?.kvno, 2);
        await cache.delete(`ghost@${REALM}`);
        assert.equal(await cache.get(`ghost@${REALM}`), undefined);

        // Realm metadata is cached and invalidated the same way.
        await b.setMeta('realm-policy', 'v1');
        assert.equal(await cache.getMeta('realm-policy'), 'v1');
        await b.setMeta('realm-policy', 'v2');
        assert.equal(await cache.getMeta('realm-policy'), 'v1');
        await clock.advance(1000);
        assert.equal(await cache.getMeta('realm-policy'), 'v2');

        // Polling keeps going: a later remote change is seen after another interval.
        await b.update(`kdc-user@${REALM}`, { disabled: false });
        await clock.advance(1000);
        assert.equal((await cache.get(`kdc-user@${REALM}`))?.disabled, false);
        assert.ok(cache.stats.polls >= 3);
        assert.deepEqual(errors, []);
      } finally {
        cache.stop();
      }
      assert.equal(clock.pendingTimers, 0, 'stop cancels the poll timer');
    });

    withStore('PrincipalCache keeps serving when a poll fails and reports the error', async ({ store }, clock) => {
      await store.create({ name: `u@${REALM}` });
      const errors: unknown[] = [];
      let fail = false;
      const flaky = new Proxy(store, {
        get(target, prop) {
          if (prop === 'changesSince') {
            return async (seq: number) => {
              if (fail) throw new Error('database offline');
              return target.changesSince(seq);
            };
          }
          const v: unknown = Reflect.get(target, prop);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const cache = await PrincipalCache.open(flaky, { clock, pollIntervalMs: 500, onError: (e) => errors.push(e) });
      try {
        assert.equal((await cache.get(`u@${REALM}`))?.name, `u@${REALM}`);
        fail = true;
        await clock.advance(500);
        assert.equal(errors.length, 1);
        assert.equal((await cache.get(`u@${REALM}`))?.name, `u@${REALM}`);
        fail = false;
        await store.update(`u@${REALM}`, { disabled: true });
        await clock.advance(500);
        assert.equal((await cache.get(`u@${REALM}`))?.disabled, true, 'polling resumed after the failure');
      } finally {
        cache.stop();
      }
    });

    withStore('PrincipalCache drops everything when the change log was pruned past it', async ({ store }, clock) => {
      await store.create({ name: `r@${REALM}` });
      const cache = await PrincipalCache.open(store, { clock, pollIntervalMs: 1000 });
      try {
        await cache.get(`r@${REALM}`);
        // Written behind the cache's back (not through it), more than the log keeps.
        await store.update(`r@${REALM}`, { okAsDelegate: true });
        for (let i = 0; i < 5; i++) await store.setMeta(`m${i}`, 'x');
        await clock.advance(1000);
        assert.equal((await cache.get(`r@${REALM}`))?.okAsDelegate, true);
      } finally {
        cache.stop();
      }
    }, 3);

    withStore('a closed store refuses work with StoreClosedError', async ({ store }) => {
      await store.close();
      await assert.rejects(store.get(`a@${REALM}`), StoreClosedError);
      await assert.rejects(store.create({ name: `a@${REALM}` }), StoreClosedError);
      await assert.rejects(store.changesSince(0), StoreClosedError);
    });

    withStore('lockout: failures lock at the maximum, the lock expires, success and unlock clear the count', async (s, clock) => {
      const { store, lockout } = s;
      assert.ok(lockout, `${name} must offer a lockout store`);
      const policy = { maxFailures: 3, failureWindowMs: 600_000, lockoutDurationMs: 900_000 };
      const who = `locky@${REALM}`;
      assert.deepEqual(await lockout.get(who), { failures: 0 });
      const seq = await store.changeSeq();
      await lockout.recordFailure(who, policy);
      await clock.advance(1000);
      const two = await lockout.recordFailure(who, policy);
      assert.deepEqual(two, { failures: 2, firstFailure: T0, lastFailure: T0 + 1000 });
      assert.equal(isLockedOut(two, clock.now()), false);
      const three = await lockout.recordFailure(who, policy);
      assert.equal(three.lockedUntil, T0 + 1000 + 900_000);
      assert.equal(isLockedOut(await lockout.get(who), clock.now()), true);
      assert.equal(await store.changeSeq(), seq, 'lockout writes stay off the principal change log');
      await clock.advance(900_000);
      assert.equal(isLockedOut(await lockout.get(who), clock.now()), false, 'the lock expired');
      const fresh = await lockout.recordFailure(who, policy);
      assert.equal(fresh.failures, 1, 'an expired lock starts a fresh count');
      assert.equal(fresh.lockedUntil, undefined);
      await clock.advance(600_000);
      assert.equal((await lockout.recordFailure(who, policy)).failures, 1, 'failures outside the window no longer count');
      const ok = await lockout.recordSuccess(who);
      assert.deepEqual(ok, { failures: 0, lastFailure: clock.now(), lastSuccess: clock.now() });
      assert.deepEqual(await lockout.get(who), ok);
    });

    withStore('lockout: a lock is not extended by failures during it; source rows are listed, unlocked and forgotten with their principal', async ({ lockout }, clock) => {
      assert.ok(lockout, `${name} must offer a lockout store`);
      const policy = { maxFailures: 2, failureWindowMs: 60_000, lockoutDurationMs: 600_000 };
      const who = `src@${REALM}`;
      await lockout.recordFailure(who, policy);
      const locked = await lockout.recordFailure(who, policy);
      assert.equal(locked.lockedUntil, T0 + 600_000);
      await clock.advance(120_000);
      const during = await lockout.recordFailure(who, policy);
      assert.equal(during.lockedUntil, T0 + 600_000, 'not extended');
      assert.equal(during.failures, 3, 'counted, and not restarted by the window');
      const a = sourceLockoutKey(who, '192.0.2.1');
      const v6 = sourceLockoutKey(who, '2001:db8::/64');
      await lockout.recordFailure(a, policy);
      await lockout.recordFailure(v6, policy);
      await lockout.recordFailure(v6, policy);
      await lockout.recordFailure(sourceLockoutKey(`src2@${REALM}`, '192.0.2.1'), policy);
      await lockout.recordFailure(`src@${REALM}x`, policy);
      const rows = await lockout.sources(who);
      assert.deepEqual(rows.map((r) => [r.source, r.state.failures]), [['192.0.2.1', 1], ['2001:db8::/64', 2]]);
      assert.equal(isLockedOut(rows[1]!.state, clock.now()), true);
      assert.deepEqual(await lockout.sources(`nobody@${REALM}`), []);
      await lockout.unlock(who);
      assert.deepEqual(await lockout.sources(who), [], 'unlock clears the source rows');
      assert.equal(isLockedOut(await lockout.get(who), clock.now()), false);
      assert.equal((await lockout.sources(`src2@${REALM}`)).length, 1, 'another principal keeps its rows');
      await lockout.recordFailure(a, policy);
      await lockout.forget(who);
      assert.deepEqual(await lockout.sources(who), []);
      assert.equal((await lockout.get(`src@${REALM}x`)).failures, 1, 'a longer name is not a source row');
    });

    withStore('lockout: duration 0 locks until an administrator unlocks; forget erases', async ({ lockout }, clock) => {
      assert.ok(lockout, `${name} must offer a lockout store`);
      const policy = { maxFailures: 2, failureWindowMs: 0, lockoutDurationMs: 0 };
      const who = `forever@${REALM}`;
      await lockout.recordSuccess(who);
      await lockout.recordFailure(who, policy);
      await clock.advance(86_400_000);
      const locked = await lockout.recordFailure(who, policy);
      assert.equal(locked.lockedUntil, Number.POSITIVE_INFINITY);
      await clock.advance(365 * 86_400_000);
      assert.equal(isLockedOut(await lockout.get(who), clock.now()), true);
      await lockout.recordSuccess(who);
      assert.equal(isLockedOut(await lockout.get(who), clock.now()), true, 'a success does not lift an active lock');
      await lockout.unlock(who);
      const after = await lockout.get(who);
      assert.equal(isLockedOut(after, clock.now()), false);
      assert.equal(after.failures, 0);
      assert.equal(after.lastSuccess, clock.now());
      await lockout.forget(who);
      assert.deepEqual(await lockout.get(who), { failures: 0 });
      await assert.rejects(lockout.recordFailure(who, { maxFailures: -1, failureWindowMs: 0, lockoutDurationMs: 0 }), InvalidArgumentError);
      const counting = { maxFailures: 0, failureWindowMs: 0, lockoutDurationMs: 0 };
      for (let i = 0; i < 5; i++) await lockout.recordFailure(who, counting);
      assert.deepEqual(await lockout.get(who), { failures: 5, firstFailure: clock.now(), lastFailure: clock.now() }, 'maxFailures 0 counts but never locks');
    });
  });
}
