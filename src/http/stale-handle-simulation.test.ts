/**
 * docs/architecture.md founding failure 2, "the stale handle" (seed-002): 60 simulated
 * days on one ManualClock shared by the KDC, the clients and the server. A
 * login every 10 minutes from a fresh client (new service ticket) and from
 * long-lived clients (one ticket kept until it expires). The service key is
 * rotated on day 20 (old kvno kept) and on day 45 (the oldest kvno purged
 * from the keytab); the keytab is re-exported each time and the server picks
 * it up by itself. Every login succeeds, except a client still holding a
 * ticket for the purged kvno: it gets a 401 whose logged cause names the
 * kvno, and succeeds once it gets a new ticket. Acceptor memory (replay
 * cache, handshake table) stays bounded. Requests go through the core
 * handler in-process; the KDC is called in-process too.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { clientConfig, KerberosClient, type KdcTransport } from '../client/index.js';
import { memorySink } from '../events/index.js';
import { writeKeytab, type Credential } from '../files/index.js';
import { SpnegoInitiator } from '../gss/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { Ticket } from '../messages/index.js';
import { negotiateServer } from './index.js';

/** A per-test limit: a refresh loop on the ManualClock that never ends fails the test instead of hanging CI. */
const SIMULATION = { timeout: 300_000 } as const;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const SERVICE = 'HTTP/localhost';

let dir: string;
let realm: TestRealm;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-sim-'));
  realm = await startTestRealm({
    clock, random: seededRandom(1),
    // Long tickets, so that a client can still hold a kvno-1 ticket when kvno 1 is purged.
    policy: { maxLife: 30 * DAY, maxRenewableLife: 60 * DAY },
    principals: [{ name: 'alice', password: 'alice-password' }, { name: SERVICE, randomKey: true }],
  });
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Exports the service's keys with the given kvnos (the KDC keeps them all). */
async function installKeytab(path: string, kvnos: readonly number[]): Promise<void> {
  const all = await realm.admin.keytabEntries(SERVICE, { allKvnos: true });
  await writeKeytab(`FILE:${path}`, all.filter((e) => kvnos.includes(e.kvno)));
}

test('60 simulated days, rotations on day 20 and 45: every login succeeds except tickets for the purged kvno, which recover', SIMULATION, async () => {
  const keytab = join(dir, 'http.keytab');
  await installKeytab(keytab, [1]);
  const events = memorySink();
  const server = negotiateServer({
    keytab, principal: `${SERVICE}@${realm.realm}`, clock, random: seededRandom(2), events, maxReplayEntries: 1000,
  });
  // In-process KDC: the client's requests go straight to the KDC's processor.
  const transport: KdcTransport = {
    exchange: async (_address, _protocol, request) => {
      const reply = await realm.kdc.process(request, { transport: 'tcp', address: '127.0.0.1', port: 1 });
      if (reply === undefined) throw new Error('the KDC dropped a request');
      return reply;
    },
  };
  const config = clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } }, ticketLifetime: 30 * DAY });
  const newClient = (seed: number) => new KerberosClient({ config, clock, random: seededRandom(seed), transport });

  /** A client that keeps its TGT and service ticket until they expire. */
  class Client {
    readonly #client: KerberosClient;
    #tgt: Credential | undefined;
    #ticket: Credential | undefined;
    constructor(readonly name: string, seed: number, readonly keepTicket: boolean, tgt?: Credential) {
      this.#client = newClient(seed);
      this.#tgt = tgt;
    }
    async login(): Promise<Awaited<ReturnType<typeof server.authenticate>>> {
      const now = clock.now();
      if (this.#tgt === undefined || this.#tgt.endtime.getTime() - now < 10 * MINUTE) {
        this.#tgt = (await this.#client.getInitialCredentials({ client: 'alice', password: 'alice-password', lifetime: 30 * DAY })).credential;
        this.#ticket = undefined;
      }
      if (!this.keepTicket || this.#ticket === undefined || this.#ticket.endtime.getTime() - now < 10 * MINUTE) {
        this.#ticket = await this.#client.getServiceTicket(this.#tgt, SERVICE);
      }
      const initiator = new SpnegoInitiator({ krb5: { credential: this.#ticket, clock, random: seededRandom(now % 1e9) } });
      const token = Buffer.from(initiator.initSecContext().output!).toString('base64');
      const out = await server.authenticate({ method: 'GET', url: '/', headers: { authorization: `Negotiate ${token}` }, connection: {} });
      if (out.authenticated) {
        const www = out.headers.find(([n]) => n === 'WWW-Authenticate')![1];
        assert.equal(initiator.initSecContext(new Uint8Array(Buffer.from(www.slice('Negotiate '.length), 'base64'))).complete, true);
      }
      return out;
    }
    /** After a refusal: throw the ticket away (kdestroy; kinit). */
    forgetTicket(): void {
      this.#ticket = undefined;
    }
    get ticketKvno(): number | undefined {
      return this.#ticket === undefined ? undefined : ticketKvno(this.#ticket);
    }
  }

  const longLived = new Client('long-lived since day 0', 11, true);
  // Joins on day 19.5 with a 30-day ticket under kvno 1: still holds it when kvno 1 is purged on day 45.
  const lateLongLived = new Client('long-lived since day 19.5', 12, true);
  const failures: string[] = [];
  const kvnoRefusals: { client: string; day: number; kvno: number | undefined }[] = [];
  let logins = 0;
  let expectedLogins = 0;
  let maxReplay = 0;
  let maxPending = 0;

  const userClient = newClient(13);
  let userTgt: Credential | undefined;
  const start = clock.now();
  for (let step = 0; step < 60 * 24 * 6; step++) {
    const day = (clock.now() - start) / DAY;
    if (step === 20 * 144) {
      await realm.randkey(SERVICE, { keepOld: true });
      await installKeytab(keytab, [1, 2]);
    }
    if (step === 45 * 144) {
      await realm.randkey(SERVICE, { keepOld: true });
      await installKeytab(keytab, [2, 3]);
    }
    // A fresh client: a new process with the user's TGT from the shared cache (no service ticket, no context).
    if (userTgt === undefined || userTgt.endtime.getTime() - clock.now() < 10 * MINUTE) {
      userTgt = (await userClient.getInitialCredentials({ client: 'alice', password: 'alice-password', lifetime: DAY })).credential;
    }
    const fresh = new Client('fresh', 1000 + step, false, userTgt);
    // Every 10-minute slot: a login from a fresh client and from each long-lived one (the late one from day 19.5).
    const clients = [fresh, longLived, ...(day >= 19.5 ? [lateLongLived] : [])];
    expectedLogins += clients.length;
    for (const c of clients) {
      logins++;
      const heldKvno = c.ticketKvno;
      let out = await c.login();
      if (!out.authenticated) {
        if (out.cause === 'kvno-miss') {
          kvnoRefusals.push({ client: c.name, day: Math.floor(day), kvno: heldKvno });
          assert.match(out.body, /new ticket/);
          c.forgetTicket();
          out = await c.login();
        }
        if (!out.authenticated) failures.push(`day ${day.toFixed(2)} ${c.name}: ${out.cause}`);
      }
    }
    const stats = server.stats();
    maxReplay = Math.max(maxReplay, stats.replayCacheEntries ?? 0);
    maxPending = Math.max(maxPending, stats.pendingContexts);
    await clock.advance(10 * MINUTE);
  }

  assert.deepEqual(failures, []);
  assert.equal(logins, expectedLogins);
  assert.ok(logins > 2 * 60 * 144, `${logins} logins`);
  // Only the client holding a kvno-1 ticket on day 45 is refused, once, and recovers.
  assert.deepEqual(kvnoRefusals, [{ client: 'long-lived since day 19.5', day: 45, kvno: 1 }]);
  const refused = events.ofType('http.auth_refused').filter((e) => e.fields['cause'] === 'kvno-miss');
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.fields['ticketKvno'], 1);
  assert.deepEqual(refused[0]!.fields['keytabKvnos'], ['2', '3']);
  assert.match(refused[0]!.message, /kvno 1/);
  assert.equal(events.ofType('acceptor.kvno_miss').length, 1);
  // The server re-read the keytab at each rotation, by itself.
  assert.equal(events.ofType('acceptor.keytab_reloaded').length, 2);
  // Bounded acceptor memory: the replay cache holds only the last 2 × skew of authenticators.
  assert.ok(maxReplay <= 3 * 3 * 2, `replay cache peaked at ${maxReplay}`);
  assert.equal(maxPending, 0);
});

function ticketKvno(c: Credential): number | undefined {
  return Ticket.decode(c.ticket).encPart.kvno;
}
