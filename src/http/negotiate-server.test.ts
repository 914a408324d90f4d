/**
 * The core Negotiate handler in-process (RFC 4559 §4–§5): refusals with
 * distinct logged causes (replay, skew, wrong service principal, NTLM, bad
 * token), connection-bound handshake state, the session cookie, and
 * negotiateFetch against kerbside's own server over node:http.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { clientConfig, KerberosClient } from '../client/index.js';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { eventChannelName, memorySink, type MemorySink } from '../events/index.js';
import type { Credential } from '../files/index.js';
import { MechOid, SpnegoInitiator, encodeMechTypes, encodeNegTokenInit } from '../gss/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { negotiateFetch, negotiateListener, negotiateServer, NegotiateCredentialsError, NegotiateMutualAuthError, type NegotiateServer } from './index.js';

let dir: string;
let realm: TestRealm;
let client: KerberosClient;
let tgt: Credential;

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** A fresh SPNEGO initial token for a service ticket; `clock` sets the authenticator's time. */
function negotiateHeader(ticket: Credential, clock = systemClock()): { header: string; initiator: SpnegoInitiator } {
  const initiator = new SpnegoInitiator({ krb5: { credential: ticket, clock } });
  return { header: `Negotiate ${b64(initiator.initSecContext().output!)}`, initiator };
}

function request(header: string | undefined, connection: object = {}, extra: Record<string, string> = {}) {
  return { method: 'GET', url: '/private?q=secret', connection, headers: { ...(header === undefined ? {} : { authorization: header }), ...extra } };
}

function causes(events: MemorySink): unknown[] {
  return events.ofType('http.auth_refused').map((e) => e.fields['cause']);
}

function server(events: MemorySink, extra: Partial<Parameters<typeof negotiateServer>[0]> = {}): NegotiateServer {
  return negotiateServer({ keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, events, ...extra });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-core-'));
  realm = await startTestRealm({
    principals: [
      { name: 'alice', password: 'alice-password' },
      { name: 'HTTP/localhost', randomKey: true },
      { name: 'HTTP/elsewhere', randomKey: true },
      { name: 'HTTP/127.0.0.1', randomKey: true },
    ],
  });
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
  await realm.exportKeytab('HTTP/127.0.0.1', join(dir, 'http-ip.keytab'));
  client = new KerberosClient({ config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }) });
  tgt = (await client.getInitialCredentials({ client: 'alice', password: 'alice-password' })).credential;
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('negotiateServer (core handler)', () => {
  test('no header: 401 with WWW-Authenticate: Negotiate, logged as no-header at debug', async () => {
    const events = memorySink();
    const out = await server(events).authenticate(request(undefined));
    assert.equal(out.authenticated, false);
    assert.ok(!out.authenticated && out.status === 401);
    assert.deepEqual(out.headers, [['WWW-Authenticate', 'Negotiate']]);
    const e = events.ofType('http.auth_refused')[0]!;
    assert.equal(e.fields['cause'], 'no-header');
    assert.equal(e.severity, 'debug');
    assert.equal(e.fields['path'], '/private', 'query strings are not logged');
  });

  test('success: identity, final SPNEGO token verifies at the initiator (mutual authentication)', async () => {
    const events = memorySink();
    const ticket = await client.getServiceTicket(tgt, 'HTTP/localhost');
    const { header, initiator } = negotiateHeader(ticket);
    const out = await server(events).authenticate(request(header));
    assert.ok(out.authenticated);
    assert.equal(out.auth.principal, `alice@${realm.realm}`);
    assert.equal(out.auth.realm, realm.realm);
    assert.equal(out.auth.service, `HTTP/localhost@${realm.realm}`);
    assert.equal(out.auth.mechanism, 'spnego/kerberos');
    assert.equal(out.auth.ticketEndTime.getTime(), ticket.endtime.getTime());
    const www = out.headers.find(([n]) => n === 'WWW-Authenticate')?.[1] ?? '';
    assert.match(www, /^Negotiate \S+$/);
    assert.equal(initiator.initSecContext(new Uint8Array(Buffer.from(www.slice(10), 'base64'))).complete, true);
    assert.equal(events.ofType('http.auth_succeeded').length, 1);
  });

  test('the same authenticator twice is refused as a replay (distinct cause)', async () => {
    const events = memorySink();
    const s = server(events);
    const { header } = negotiateHeader(await client.getServiceTicket(tgt, 'HTTP/localhost'));
    assert.equal((await s.authenticate(request(header))).authenticated, true);
    const again = await s.authenticate(request(header, {}));
    assert.ok(!again.authenticated && again.status === 401 && again.cause === 'replay');
    assert.deepEqual(causes(events), ['replay']);
    assert.equal(events.ofType('acceptor.replay').length, 1);
    assert.match(again.body, /already used/);
  });

  test('a client 10 minutes off is refused as skew (not replay)', async () => {
    const events = memorySink();
    const ticket = await client.getServiceTicket(tgt, 'HTTP/localhost');
    const off = new ManualClock(systemClock().now() + 10 * 60_000);
    const out = await server(events).authenticate(request(negotiateHeader(ticket, off).header));
    assert.ok(!out.authenticated && out.cause === 'skew');
    assert.deepEqual(causes(events), ['skew']);
    const e = events.ofType('http.auth_refused')[0]!;
    assert.ok((e.fields['skewSeconds'] as number) >= 590, JSON.stringify(e.fields));
    assert.match(out.body, /clock/);
  });

  test('a ticket for another service principal is refused as wrong-principal', async () => {
    const events = memorySink();
    const ticket = await client.getServiceTicket(tgt, 'HTTP/elsewhere');
    const out = await server(events).authenticate(request(negotiateHeader(ticket).header));
    assert.ok(!out.authenticated && out.cause === 'wrong-principal');
    const e = events.ofType('http.auth_refused')[0]!;
    assert.equal(e.fields['cause'], 'wrong-principal');
    assert.equal(e.fields['server'], `HTTP/elsewhere@${realm.realm}`);
    assert.doesNotMatch(out.body, /elsewhere|localhost/, 'the body does not name principals');
  });

  test('NTLM offered but not enabled; malformed tokens: distinct causes', async () => {
    const events = memorySink();
    const s = server(events);
    const ntlmType1 = new Uint8Array([0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0, 1, 0, 0, 0, 0x07, 0x82, 0x08, 0xa2]);
    const spnegoNtlm = encodeNegTokenInit(encodeMechTypes([MechOid.NTLMSSP]), { mechToken: ntlmType1 });
    const r1 = await s.authenticate(request(`Negotiate ${b64(ntlmType1)}`));
    const r2 = await s.authenticate(request(`Negotiate ${b64(spnegoNtlm)}`));
    const r3 = await s.authenticate(request(`NTLM ${b64(ntlmType1)}`));
    const r4 = await s.authenticate(request('Negotiate YWJjZA=='));
    const r5 = await s.authenticate(request('Negotiate !!!'));
    assert.deepEqual([r1, r2, r3, r4, r5].map((r) => (r.authenticated ? 'ok' : r.cause)),
      ['ntlm-not-enabled', 'ntlm-not-enabled', 'ntlm-not-enabled', 'bad-token', 'bad-token']);
    assert.ok(!r5.authenticated && r5.status === 400);
    assert.deepEqual(causes(events), ['ntlm-not-enabled', 'ntlm-not-enabled', 'ntlm-not-enabled', 'bad-token', 'bad-token']);
  });

  test('multi-leg state is bound to the connection and dropped when it closes', async () => {
    const events = memorySink();
    const s = server(events);
    // Kerberos offered second, no optimistic token: the acceptor answers request-mic and waits for the next leg.
    const init = encodeNegTokenInit(encodeMechTypes([MechOid.NTLMSSP, MechOid.KRB5]));
    const connA = {};
    const first = await s.authenticate(request(`Negotiate ${b64(init)}`, connA));
    assert.ok(!first.authenticated && first.cause === 'handshake-incomplete' && first.status === 401);
    assert.match(first.headers[0]![1], /^Negotiate \S+/);
    assert.equal(s.stats().pendingContexts, 1);
    // Another connection cannot continue A's handshake.
    const other = await s.authenticate(request('Negotiate oQcwBaADCgEB', {}));
    assert.ok(!other.authenticated && other.cause === 'bad-token');
    s.connectionClosed(connA);
    assert.equal(s.stats().pendingContexts, 0);
  });

  test('session cookie: issued on success (HttpOnly, SameSite=Lax, expires with the ticket or the cap), accepted instead of a token, tampering rejected', async () => {
    const events = memorySink();
    const clock = new ManualClock(systemClock().now());
    const s = server(events, { clock, random: seededRandom(7), sessionCookie: { maxAgeMs: 3600_000 } });
    const ticket = await client.getServiceTicket(tgt, 'HTTP/localhost');
    const ok = await s.authenticate({ ...request(negotiateHeader(ticket).header), secure: true });
    assert.ok(ok.authenticated);
    const setCookie = ok.headers.find(([n]) => n === 'Set-Cookie')?.[1] ?? '';
    assert.match(setCookie, /^kerbside_session=[A-Za-z0-9_-]+; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    const cookie = setCookie.split(';')[0]!;
    const viaCookie = await s.authenticate(request(undefined, {}, { cookie: `other=1; ${cookie}` }));
    assert.ok(viaCookie.authenticated && viaCookie.auth.via === 'cookie' && viaCookie.auth.principal === `alice@${realm.realm}`);
    const tampered = cookie.slice(0, -2) + (cookie.endsWith('AA') ? 'BB' : 'AA');
    const bad = await s.authenticate(request(undefined, {}, { cookie: tampered }));
    assert.ok(!bad.authenticated);
    assert.equal(events.ofType('http.session_cookie_rejected')[0]?.fields['reason'], 'forged-or-other-key');
    await clock.advance(3600_000);
    const expired = await s.authenticate(request(undefined, {}, { cookie }));
    assert.ok(!expired.authenticated);
    assert.equal(events.ofType('http.session_cookie_rejected')[1]?.fields['reason'], 'expired');
  });

  test('an event sink that throws changes no answer: 401 stays 401, a valid token still authenticates (issue 8 item 3)', async () => {
    let offered = 0;
    const broken = { emit() { offered++; throw new Error('log disk full'); } };
    const s = negotiateServer({ keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, events: broken });
    const none = await s.authenticate(request(undefined));
    assert.ok(!none.authenticated && none.status === 401);
    const { header } = negotiateHeader(await client.getServiceTicket(tgt, 'HTTP/localhost'));
    const ok = await s.authenticate(request(header));
    assert.ok(ok.authenticated, 'authenticated despite the sink');
    const replay = await s.authenticate(request(header));
    assert.ok(!replay.authenticated && replay.cause === 'replay');
    assert.ok(offered >= 3, 'events were still offered to the sink');
  });
});

/** Runs `f` with process.stderr.write captured; returns what was written. */
async function captureStderr(f: () => Promise<void>): Promise<string> {
  const original = process.stderr.write;
  let written = '';
  process.stderr.write = ((chunk: string | Uint8Array) => { written += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    await f();
  } finally {
    process.stderr.write = original;
  }
  return written;
}

describe('negotiateServer start-up and default event sink (issue 13)', () => {
  test('a missing keytab is reported at start-up (http.keytab_unavailable, warning, naming the file), then 503', async () => {
    const events = memorySink();
    const missing = join(dir, 'no-such.keytab');
    const core = server(events, { keytab: missing });
    await core.ready();
    const e = events.ofType('http.keytab_unavailable');
    assert.equal(e.length, 1, 'reported before any request');
    assert.equal(e[0]!.severity, 'warning');
    assert.match(e[0]!.message, /no-such\.keytab/);
    assert.match(String(e[0]!.fields['hint']), /readable/);
    const { header } = negotiateHeader(await client.getServiceTicket(tgt, `HTTP/localhost@${realm.realm}`));
    const out = await core.authenticate(request(header));
    assert.ok(!out.authenticated && out.status === 503 && out.cause === 'keytab-unavailable');
  });

  test('a readable keytab: no start-up warning', async () => {
    const events = memorySink();
    await server(events).ready();
    assert.equal(events.ofType('http.keytab_unavailable').length, 0);
  });

  test('default sink: warnings and errors on stderr, one JSON line each; debug refusals are not written', async () => {
    const written = await captureStderr(async () => {
      const core = negotiateServer({ keytab: join(dir, 'no-such.keytab'), principal: `HTTP/localhost@${realm.realm}` });
      await core.ready();
      await core.authenticate(request(undefined)); // no-header: debug, not written
    });
    const lines = written.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string; severity: string; message: string });
    assert.ok(lines.some((l) => l.type === 'http.keytab_unavailable' && /no-such\.keytab/.test(l.message)), written);
    assert.ok(lines.every((l) => l.severity === 'warning' || l.severity === 'error'), written);
    assert.ok(!lines.some((l) => l.type === 'http.auth_refused'), 'the debug no-header refusal is not written');
  });

  test('an explicit events option replaces the stderr default', async () => {
    const events = memorySink();
    const written = await captureStderr(async () => {
      await server(events, { keytab: join(dir, 'no-such.keytab') }).ready();
    });
    assert.equal(written, '');
    assert.equal(events.ofType('http.keytab_unavailable').length, 1);
  });
});

describe('negotiateFetch against kerbside over node:http', () => {
  let httpServer: Server;
  let port: number;
  let core: NegotiateServer;
  let tamper = false;

  before(async () => {
    core = server(memorySink());
    httpServer = createServer(negotiateListener(core, (req, res) => {
      if (tamper) res.setHeader('WWW-Authenticate', 'Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==');
      res.end(`hello ${req.auth.principal}`);
    }));
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    port = (httpServer.address() as AddressInfo).port;
  });
  after(async () => {
    httpServer.closeAllConnections();
    await new Promise((resolve) => httpServer.close(resolve));
  });

  function session() {
    return { serviceTicket: (spn: string) => client.getServiceTicket(tgt, spn) } as unknown as import('../client/index.js').LogonSession;
  }

  test('200 with mutual authentication verified; the connection is released after', async () => {
    const res = await negotiateFetch(`http://localhost:${port}/x`, { negotiate: { session: session() } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `hello alice@${realm.realm}`);
    assert.equal(core.stats().pendingContexts, 0);
  });

  test('events: http.fetch_authenticated on diagnostics_channel by default; an events sink replaces that (issue 13)', async () => {
    const seen: { type: string; fields: Record<string, unknown> }[] = [];
    const onEvent = (m: unknown): void => { seen.push(m as { type: string; fields: Record<string, unknown> }); };
    subscribe(eventChannelName('http.fetch_authenticated'), onEvent);
    try {
      await (await negotiateFetch(`http://localhost:${port}/x`, { negotiate: { session: session() } })).text();
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.fields['spn'], 'HTTP/localhost');
      assert.equal(seen[0]!.fields['mechanism'], 'kerberos');
      assert.equal(seen[0]!.fields['mutualAuthentication'], true);
      assert.equal(seen[0]!.fields['status'], 200);
      const events = memorySink();
      await (await negotiateFetch(`http://localhost:${port}/x`, { negotiate: { session: session(), events } })).text();
      assert.equal(events.ofType('http.fetch_authenticated').length, 1);
      assert.equal(seen.length, 1, 'not published when a sink is given');
    } finally {
      unsubscribe(eventChannelName('http.fetch_authenticated'), onEvent);
    }
  });

  test('a final token that does not verify: NegotiateMutualAuthError, the response is discarded', async () => {
    tamper = true;
    try {
      await assert.rejects(negotiateFetch(`http://localhost:${port}/x`, { negotiate: { session: session() } }), NegotiateMutualAuthError);
    } finally {
      tamper = false;
    }
  });
});

/** A node:http server on 127.0.0.1:0 running `listener` behind negotiateListener; closed by the returned function. */
async function listen(
  core: NegotiateServer, listener: Parameters<typeof negotiateListener>[1], options?: Parameters<typeof negotiateListener>[2],
): Promise<{ port: number; close: () => Promise<void> }> {
  const s = createServer(negotiateListener(core, listener, options));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    port: (s.address() as AddressInfo).port,
    close: async () => { s.closeAllConnections(); await new Promise((resolve) => s.close(resolve)); },
  };
}

describe('negotiateListener: a custom 401 page (refused option)', () => {
  test('refused writes the body; the status and the Negotiate challenge are already set; the listener does not run', async () => {
    let ran = false;
    const seen: string[] = [];
    const web = await listen(server(memorySink()), (_req, res) => { ran = true; res.end('secret'); }, {
      refused: (req, res, refusal) => {
        seen.push(`${req.url} ${refusal.cause}`);
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(`<p>log on first (${refusal.status})</p>`);
      },
    });
    try {
      const none = await fetch(`http://127.0.0.1:${web.port}/page`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Negotiate');
      assert.equal(none.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(await none.text(), '<p>log on first (401)</p>');
      const bad = await fetch(`http://127.0.0.1:${web.port}/page`, { headers: { Authorization: 'Negotiate AAAA' } });
      assert.equal(bad.status, 401);
      assert.equal(await bad.text(), '<p>log on first (401)</p>');
      assert.deepEqual(seen, ['/page no-header', '/page bad-token']);
      assert.equal(ran, false);
    } finally {
      await web.close();
    }
  });
});

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('negotiateFetch as a drop-in for fetch (issue 13)', () => {
  function session() {
    return { serviceTicket: (spn: string) => client.getServiceTicket(tgt, spn) } as unknown as import('../client/index.js').LogonSession;
  }

  test('a 503 without a final token (server without its keytab) is returned as it is, not a mutual-auth failure', async () => {
    const core = server(memorySink(), { keytab: join(dir, 'no-such.keytab') });
    const web = await listen(core, (_req, res) => { res.end('unreachable'); });
    try {
      const res = await negotiateFetch(`http://localhost:${web.port}/x`, { negotiate: { session: session() } });
      assert.equal(res.status, 503);
      assert.match(await res.text(), /cannot use its Kerberos keys/);
    } finally {
      await web.close();
    }
  });

  test('signal: AbortSignal.timeout aborts a request to a server that never answers, with the signal\'s reason', { timeout: 10_000 }, async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => { sockets.push(s); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      await assert.rejects(
        negotiateFetch(`http://localhost:${port}/`, { signal: AbortSignal.timeout(200), negotiate: { session: session() } }),
        (err: Error) => err.name === 'TimeoutError',
      );
      const aborted = new AbortController();
      aborted.abort();
      await assert.rejects(negotiateFetch(`http://localhost:${port}/`, { signal: aborted.signal }), (err: Error) => err.name === 'AbortError');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a Request object and a Headers object are taken as fetch takes them (method, headers, body)', async () => {
    const web = await listen(server(memorySink()), async (req, res) => {
      res.end(`${req.method} ${String(req.headers['x-kerbside-test'])} ${await bodyOf(req)} ${req.auth.principal}`);
    });
    try {
      const viaRequest = await negotiateFetch(new Request(`http://localhost:${web.port}/r`, { method: 'POST', body: 'ping', headers: { 'X-Kerbside-Test': 'req' } }),
        { negotiate: { session: session() } });
      assert.equal(await viaRequest.text(), `POST req ping alice@${realm.realm}`);
      const viaHeaders = await negotiateFetch(`http://localhost:${web.port}/h`, {
        method: 'PUT', body: new TextEncoder().encode('pong'), headers: new Headers({ 'X-Kerbside-Test': 'hdr' }), negotiate: { session: session() },
      });
      assert.equal(await viaHeaders.text(), `PUT hdr pong alice@${realm.realm}`);
      assert.equal(viaHeaders.url, `http://localhost:${web.port}/h`);
      assert.equal(viaHeaders.redirected, false);
    } finally {
      await web.close();
    }
  });

  test('KDC unreachable: the error\'s hint is the unreachable KDC\'s (check the KDC), not "get a TGT (kinit)"', async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const offline = new KerberosClient({
      config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [`127.0.0.1:${deadPort}`] } }, kdcTimeout: 300 }),
    });
    const web = await listen(server(memorySink()), (_req, res) => { res.end('unreachable'); });
    try {
      const unreachable = { serviceTicket: (spn: string) => offline.getServiceTicket(tgt, spn) } as unknown as import('../client/index.js').LogonSession;
      await assert.rejects(negotiateFetch(`http://localhost:${web.port}/`, { negotiate: { session: unreachable } }), (err: NegotiateCredentialsError) => {
        assert.ok(err instanceof NegotiateCredentialsError);
        assert.match(err.message, /cannot reach any KDC/);
        assert.doesNotMatch(err.hint ?? '', /kinit/);
        assert.match(err.hint ?? '', /KDC for .* is running and reachable/);
        return true;
      });
    } finally {
      await web.close();
    }
  });

  test('redirects are followed like fetch (303 POST becomes GET), authenticating again to the new host', async () => {
    const ip = await listen(negotiateServer({ keytab: join(dir, 'http-ip.keytab'), principal: `HTTP/127.0.0.1@${realm.realm}`, events: memorySink() }), async (req, res) => {
      res.end(`${req.method} ${req.url} ${req.auth.principal} ${req.auth.service} ${await bodyOf(req)}`);
    });
    const web = await listen(server(memorySink()), (req, res) => {
      res.statusCode = req.url === '/see-other' ? 303 : 302;
      res.setHeader('Location', `http://127.0.0.1:${ip.port}/there`);
      res.end();
    });
    try {
      const res = await negotiateFetch(`http://localhost:${web.port}/moved`, { negotiate: { session: session() } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `GET /there alice@${realm.realm} HTTP/127.0.0.1@${realm.realm} `);
      assert.equal(res.redirected, true);
      assert.equal(res.url, `http://127.0.0.1:${ip.port}/there`);
      const posted = await negotiateFetch(`http://localhost:${web.port}/see-other`, { method: 'POST', body: 'form', negotiate: { session: session() } });
      assert.equal(await posted.text(), `GET /there alice@${realm.realm} HTTP/127.0.0.1@${realm.realm} `, '303: GET without the body');
      const manual = await negotiateFetch(`http://localhost:${web.port}/moved`, { redirect: 'manual', negotiate: { session: session() } });
      assert.equal(manual.status, 302);
      await assert.rejects(negotiateFetch(`http://localhost:${web.port}/moved`, { redirect: 'error', negotiate: { session: session() } }), TypeError);
    } finally {
      await web.close();
      await ip.close();
    }
  });
});
