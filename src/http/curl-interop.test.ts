/**
 * curl --negotiate (MIT GSS-API) against Express and Fastify apps protected
 * by kerbside, with a TGT MIT kinit got from the kerbside KDC. curl checks
 * our final mutual-authentication token.
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { KerberosClient, LogonSession, loadClientConfig } from '../client/index.js';
import { principalToString } from '../files/index.js';
import { createEmitter, memorySink, openEventLog } from '../events/index.js';
import { systemClock } from '../core/clock.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { baseEnvironment, checkRun, mitTool, requireTool, runProgram } from '../testing/mit-tools.js';
import { negotiateExpress, negotiateFastify, negotiateListener, negotiateServer, type AuthenticatedRequest, type NegotiateServer } from './index.js';

let dir: string;
let realm: TestRealm;
let curl: string;
let env: Record<string, string>;
const servers: Server[] = [];
let fastify: FastifyInstance | undefined;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function runCurl(port: number, paths: readonly string[], extra: readonly string[] = []) {
  return runProgram(curl, [
    '-sS', '-v', '--fail', '--negotiate', '-u', ':', '--resolve', `localhost:${port}:127.0.0.1`, ...extra,
    ...paths.map((p) => `http://localhost:${port}${p}`),
  ], { env, timeoutMs: 20_000 });
}

function newServer(events = memorySink()): NegotiateServer {
  return negotiateServer({ keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, events });
}

before(async () => {
  curl = requireTool('curl', 'curl');
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-curl-'));
  realm = await startTestRealm({
    principals: [
      { name: 'alice', password: 'alice-password' },
      { name: 'HTTP/localhost', randomKey: true, okAsDelegate: true },
      { name: 'HTTP/backend.test', randomKey: true },
    ],
  });
  await realm.writeKrb5Conf(join(dir, 'krb5.conf'));
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
  env = { ...baseEnvironment(), KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'ccache')}`, HOME: dir };
  checkRun('kinit alice', await runProgram(mitTool('kinit'), [`alice@${realm.realm}`], { input: 'alice-password\n', env }));
});

after(async () => {
  await fastify?.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function assertCurlOk(r: Awaited<ReturnType<typeof runCurl>>, body: string): void {
  assert.equal(r.code, 0, `curl failed (exit ${r.code}):\n${r.stderr}`);
  assert.equal(r.stdout, body);
  // curl validates the final token; a bad one makes it print an authentication problem.
  // (Token header lines are left out: base64 can spell "gss".)
  const messages = r.stderr.split('\n').filter((l) => !/^[<>] (Authorization|WWW-Authenticate):/i.test(l)).join('\n');
  assert.doesNotMatch(messages, /Authentication problem|gss_|GSS/i, r.stderr);
  assert.match(r.stderr, /< WWW-Authenticate: Negotiate \S+/i, 'the 200 carries the final mutual-authentication token');
}

describe('curl --negotiate against kerbside', () => {
  test('Express: 200, req.auth is alice, curl accepts the mutual-auth token; keep-alive reuses the connection', async () => {
    const events = memorySink();
    const server = newServer(events);
    const app = express();
    app.use(negotiateExpress(server));
    app.get(['/', '/again'], (req, res) => {
      const auth = (req as unknown as AuthenticatedRequest).auth;
      res.type('text/plain').send(`hello ${auth.principal} via ${auth.mechanism}\n`);
    });
    const port = await listen(createServer(app));
    const r = await runCurl(port, ['/', '/again']);
    assertCurlOk(r, `hello alice@${realm.realm} via spnego/kerberos\n`.repeat(2));
    assert.match(r.stderr, /Re-using existing connection/i, r.stderr);
    assert.equal(events.ofType('http.auth_succeeded').length, 2);
    assert.equal(events.ofType('http.auth_refused').filter((e) => e.fields['cause'] !== 'no-header').length, 0);
  });

  test('Fastify: 200 and curl accepts the mutual-auth token', async () => {
    const server = newServer();
    fastify = Fastify();
    await fastify.register(negotiateFastify, { server });
    fastify.get('/', async (request) => `hello ${(request as unknown as { auth: { principal: string } }).auth.principal}\n`);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const port = (fastify.server.address() as AddressInfo).port;
    assertCurlOk(await runCurl(port, ['/']), `hello alice@${realm.realm}\n`);
  });

  test('node:http: 200; without a ticket curl gets 401 and the refusal is logged', async () => {
    const events = memorySink();
    const server = newServer(events);
    const port = await listen(createServer(negotiateListener(server, (req, res) => {
      res.end(`hello ${req.auth.principal}\n`);
    })));
    assertCurlOk(await runCurl(port, ['/']), `hello alice@${realm.realm}\n`);
    const noTicket = await runProgram(curl, ['-sS', '--negotiate', '-u', ':', '-o', '/dev/null', '-w', '%{http_code}',
      '--resolve', `localhost:${port}:127.0.0.1`, `http://localhost:${port}/`], {
      env: { ...env, KRB5CCNAME: `FILE:${join(dir, 'no-such-ccache')}` }, timeoutMs: 20_000,
    });
    assert.equal(noTicket.stdout, '401', noTicket.stderr);
    assert.ok(events.ofType('http.auth_refused').some((e) => e.fields['cause'] === 'no-header'));
  });

  test('delegation: curl --delegation always forwards alice\'s TGT; the app opens a logon session from it and gets a ticket for a back-end service', async () => {
    const client = new KerberosClient({ config: await loadClientConfig(join(dir, 'krb5.conf')) });
    const server = newServer();
    const port = await listen(createServer(negotiateListener(server, (req, res) => {
      void (async () => {
        const delegated = req.auth.delegated;
        if (delegated === undefined) { res.statusCode = 500; res.end('no delegated credential\n'); return; }
        const session = await LogonSession.open({ client, source: { kind: 'delegated', credential: delegated } });
        try {
          const ticket = await session.serviceTicket(`HTTP/backend.test@${realm.realm}`);
          res.end(`${principalToString(ticket.client)} -> ${principalToString(ticket.server)} (${session.status().source})\n`);
        } finally {
          await session.close();
        }
      })().catch((err: unknown) => { res.statusCode = 500; res.end(`${String(err)}\n`); });
    })));
    const r = await runCurl(port, ['/'], ['--delegation', 'always']);
    assertCurlOk(r, `alice@${realm.realm} -> HTTP/backend.test@${realm.realm} (credentials delegated by alice@${realm.realm})\n`);
  });
});

test('an app\'s event log (openEventLog): curl --negotiate\'s logon and a refused request become records of source kerbside-http', async () => {
  const log = await openEventLog(join(dir, 'app'), { computer: 'web1' });
  const server = negotiateServer({ keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, events: log.sink });
  const port = await listen(createServer(negotiateListener(server, (req, res) => { res.end(`hello ${req.auth.principal}\n`); })));
  assertCurlOk(await runCurl(port, ['/']), `hello alice@${realm.realm}\n`);
  // The first round without a header is debug (every Negotiate logon has it): not recorded. A bad token is.
  const refused = await runProgram(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Authorization: Negotiate AAAA', `http://127.0.0.1:${port}/`], { env, timeoutMs: 20_000 });
  assert.equal(refused.stdout, '401');
  createEmitter(log.sink, systemClock()).emit('spnego.downgrade_refused', 'a downgrade to NTLM was refused', { failureCode: 'KRB_AP_ERR_SKEW' });
  await log.close();
  const again = await openEventLog(join(dir, 'app'));
  try {
    const { records } = await again.store.query({ sources: ['kerbside-http'] });
    const ok = records.find((r) => r.type === 'http.auth_succeeded');
    assert.equal(ok?.user, `alice@${realm.realm}`);
    assert.equal(ok?.level, 'information');
    assert.equal(ok?.computer, 'web1');
    const bad = records.filter((r) => r.type === 'http.auth_refused');
    assert.deepEqual(bad.map((r) => [r.level, r.data['cause']]), [['warning', 'bad-token']]);
    const downgrade = (await again.store.query({ eventIds: [40960] })).records;
    assert.deepEqual(downgrade.map((r) => [r.category, r.level, r.source]), [['SPNEGO (Negotiator)', 'warning', 'kerbside-gss']]);
  } finally {
    await again.close();
  }
});
