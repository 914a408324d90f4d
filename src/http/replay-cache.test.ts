/**
 * The acceptor's replay cache (store/replay-cache.ts) through GSS and HTTP: a
 * persistent cache (openSqliteReplayCache) refuses after a restart a token
 * accepted before it, and a full cache refuses with its own cause — a 503,
 * not a 401 "replay" — instead of evicting a live entry.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { memorySink } from '../events/index.js';
import {
  AuthenticatorReplayError, Krb5Acceptor, Krb5Initiator, ReplayCacheFullGssError, SpnegoInitiator, staticKeys,
} from '../gss/index.js';
import { MemoryReplayCache, openSqliteReplayCache } from '../store/index.js';
import { mintTicket, serviceKey } from '../testing/gss-fixtures.js';
import { kerberosAcceptor, negotiateServer } from './index.js';

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0, 250);
const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

function fixture(seed: number) {
  const clock = new ManualClock(T0);
  const random = seededRandom(seed);
  const key = serviceKey(random, { kvno: 2 });
  const credential = () => mintTicket({ service: key, now: clock.now(), random });
  return { clock, random, key, credential };
}

test('gss: an AP-REQ accepted before a restart is refused after it when the replay cache is on disk', async () => {
  const f = fixture(1);
  const path = join(await mkdtemp(join(tmpdir(), 'kerbside-acc-rcache-')), 'replay.sqlite');
  dirs.push(path.slice(0, path.lastIndexOf('/')));
  const token = new Krb5Initiator({ credential: f.credential(), clock: f.clock, random: f.random }).initSecContext().output!;

  const before = await openSqliteReplayCache({ path, clockSkewSeconds: 300, maxEntries: 1000 });
  const first = new Krb5Acceptor({ keys: staticKeys([f.key]), clock: f.clock, random: f.random, replayCache: before });
  await first.newContext().acceptSecContext(token);
  before.close();

  await f.clock.advance(30_000);
  const after = await openSqliteReplayCache({ path, clockSkewSeconds: 300, maxEntries: 1000 });
  try {
    const restarted = new Krb5Acceptor({ keys: staticKeys([f.key]), clock: f.clock, random: f.random, replayCache: after });
    await assert.rejects(restarted.newContext().acceptSecContext(token), AuthenticatorReplayError);
  } finally {
    after.close();
  }
});

test('gss: a full replay cache refuses a new authenticator with its own error (GSS_S_FAILURE, KRB_ERR_GENERIC), not a replay', async () => {
  const f = fixture(2);
  const acceptor = new Krb5Acceptor({
    keys: staticKeys([f.key]), clock: f.clock, random: f.random, replayCache: new MemoryReplayCache({ clockSkewSeconds: 300, maxEntries: 1 }),
  });
  const token = () => new Krb5Initiator({ credential: f.credential(), clock: f.clock, random: f.random }).initSecContext().output!;
  const first = token();
  await acceptor.newContext().acceptSecContext(first);
  const err = await acceptor.newContext().acceptSecContext(token()).catch((e: unknown) => e);
  assert.ok(err instanceof ReplayCacheFullGssError, String(err));
  assert.ok(!(err instanceof AuthenticatorReplayError));
  assert.equal(err.major, 'GSS_S_FAILURE');
  assert.equal(err.krbCode, 60);
  assert.match(err.message, /replay cache holds 1 unexpired/);
  // The live entry was kept: the first token is still a replay.
  await assert.rejects(acceptor.newContext().acceptSecContext(first), AuthenticatorReplayError);
});

test('http: a full replay cache answers 503 with cause replay-cache-full (an error event), not 401 replay', async () => {
  const f = fixture(3);
  const events = memorySink();
  const acceptor = kerberosAcceptor({
    keys: staticKeys([f.key]), clock: f.clock, random: f.random, replayCache: new MemoryReplayCache({ clockSkewSeconds: 300, maxEntries: 1 }),
  });
  const server = negotiateServer({ acceptor, clock: f.clock, random: f.random, events });
  const header = () => {
    const init = new SpnegoInitiator({ krb5: { credential: f.credential(), clock: f.clock, random: f.random } });
    return `Negotiate ${Buffer.from(init.initSecContext().output!).toString('base64')}`;
  };
  const req = (h: string) => ({ method: 'GET', url: '/', connection: {}, headers: { authorization: h } });
  const ok = await server.authenticate(req(header()));
  assert.equal(ok.authenticated, true);
  const full = await server.authenticate(req(header()));
  assert.equal(full.authenticated, false);
  if (full.authenticated) return;
  assert.equal(full.status, 503);
  assert.equal(full.cause, 'replay-cache-full');
  const ev = events.ofType('http.auth_refused').at(-1);
  assert.equal(ev?.fields['cause'], 'replay-cache-full');
  assert.equal(ev?.severity, 'error');
});
