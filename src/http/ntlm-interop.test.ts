/**
 * NTLM over HTTP against real peers (issue 11 acceptance): curl's own NTLM
 * (`curl --ntlm`), curl --negotiate with gss-ntlmssp as its GSS-API mechanism
 * (NTLM inside SPNEGO, no Kerberos ticket), and python3-ntlm-auth's
 * NtlmContext, each against an Express or node:http app protected by
 * kerbside with a localNtlmValidator. python3-ntlm-auth is also the oracle
 * for the NTLMv2 response computation (MS-NLMP §3.3.2).
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { fromHex, toHex } from '../core/bytes.js';
import { memorySink, type MemorySink } from '../events/index.js';
import { localNtlmValidator, ntlm } from '../gss/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { ntlmUserFile, requireGssNtlmssp } from '../testing/gss-ntlmssp.js';
import { baseEnvironment, requireTool, runProgram } from '../testing/mit-tools.js';
import { negotiateExpress, negotiateListener, negotiateServer, type AuthenticatedRequest, type NegotiateServer } from './index.js';

const PYTHON = '/usr/bin/python3';
/** python3-ntlm-auth takes MD4 from hashlib, which OpenSSL 3 has only in its legacy provider. */
const OPENSSL_LEGACY = `openssl_conf = init
[init]
providers = providers
[providers]
default = on
legacy = on
[on]
activate = 1
`;

let dir: string;
let realm: TestRealm;
let curl: string;
const servers: Server[] = [];
let userFile: { path: string; close(): Promise<void> };

function requireNtlmAuth(): void {
  try {
    accessSync('/usr/lib/python3/dist-packages/ntlm_auth/ntlm.py');
  } catch {
    throw new Error('python3-ntlm-auth is not installed (/usr/lib/python3/dist-packages/ntlm_auth): apt-get install python3-ntlm-auth — .ci/install-peers does this');
  }
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function newServer(events: MemorySink, requireMic = false): NegotiateServer {
  return negotiateServer({
    keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, events,
    ntlm: {
      validator: localNtlmValidator({
        alice: { principal: `alice@${realm.realm}`, secret: { password: 'alice-pw' } },
        bob: { principal: `bob@${realm.realm}`, secret: { ntHash: ntlm.ntHash('bob-pw') } },
      }),
      requireMic,
    },
  });
}

/** An Express app answering `hello <principal> via <mechanism> (<package>)`. */
async function expressApp(server: NegotiateServer): Promise<number> {
  const app = express();
  app.use(negotiateExpress(server));
  app.get(['/', '/again'], (req, res) => {
    const auth = (req as unknown as AuthenticatedRequest).auth;
    res.type('text/plain').send(`hello ${auth.principal} via ${auth.mechanism} (${auth.package})\n`);
  });
  return listen(createServer(app));
}

before(async () => {
  curl = requireTool('curl', 'curl');
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-ntlm-'));
  realm = await startTestRealm({
    principals: [{ name: 'alice', password: 'alice-password' }, { name: 'HTTP/localhost', randomKey: true }],
  });
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
  await realm.writeKrb5Conf(join(dir, 'krb5.conf'));
  await writeFile(join(dir, 'openssl.cnf'), OPENSSL_LEGACY);
  userFile = await ntlmUserFile([{ domain: 'EXAMPLE', user: 'alice', password: 'alice-pw' }]);
});

after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await userFile?.close();
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function env(): Record<string, string> {
  // No Kerberos ticket: an empty ccache name, and a krb5.conf that knows the realm.
  return { ...baseEnvironment(), KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'no-ccache')}`, HOME: dir };
}

describe('curl against kerbside with NTLM', () => {
  test('the 401 lists Negotiate then NTLM (IIS provider list), one header each', async () => {
    const port = await expressApp(newServer(memorySink()));
    const r = await runProgram(curl, ['-sS', '-v', '-o', '/dev/null', `http://127.0.0.1:${port}/`], { env: env(), timeoutMs: 20_000 });
    const offered = r.stderr.split('\n').filter((l) => /^< WWW-Authenticate:/i.test(l)).map((l) => l.slice(2).trim());
    assert.deepEqual(offered, ['WWW-Authenticate: Negotiate', 'WWW-Authenticate: NTLM']);
  });

  // curl 7.88's own NTLM sends no AUTHENTICATE MIC (no MsvAvFlags MIC_PRESENT); the acceptor checks the MIC only when
  // the client announces one (MS-NLMP §3.2.5.1.2; docs/ntlm.md), unless requireMic is set.
  test('curl --ntlm -u alice:alice-pw: 200, three legs on one connection, req.auth is NTLM, event 4776 success', async () => {
    const events = memorySink();
    const port = await expressApp(newServer(events));
    const r = await runProgram(curl, ['-sS', '-v', '--fail', '--ntlm', '-u', 'alice:alice-pw', `http://127.0.0.1:${port}/`, `http://127.0.0.1:${port}/again`], { env: env(), timeoutMs: 20_000 });
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(events.ofType('http.auth_refused').map((e) => [e.message, e.fields]))}`);
    assert.equal(r.stdout, `hello alice@${realm.realm} via ntlm (ntlm)\n`.repeat(2));
    assert.equal((r.stderr.match(/Connected to/g) ?? []).length, 1, 'one connection for both requests and all legs');
    const v = events.ofType('ntlm.validation');
    assert.equal(v.length, 2);
    assert.deepEqual(v.map((e) => [e.fields['user'], e.fields['status']]), [['alice', 'success'], ['alice', 'success']]);
    assert.ok(events.ofType('http.auth_succeeded').every((e) => e.fields['package'] === 'ntlm'));
  });

  test('with ntlm.requireMic, curl --ntlm (no MIC) gets 401 with cause mic', async () => {
    const events = memorySink();
    const port = await expressApp(newServer(events, true));
    const r = await runProgram(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--ntlm', '-u', 'alice:alice-pw', `http://127.0.0.1:${port}/`], { env: env(), timeoutMs: 20_000 });
    assert.equal(r.stdout, '401', r.stderr);
    assert.ok(events.ofType('http.auth_refused').some((e) => e.fields['cause'] === 'mic'));
  });

  test('a wrong password: 401, ntlm.validation failure and http.auth_refused cause bad-password; an unknown user: unknown-user', async () => {
    const events = memorySink();
    const port = await expressApp(newServer(events));
    const wrong = await runProgram(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--ntlm', '-u', 'alice:wrong', `http://127.0.0.1:${port}/`], { env: env(), timeoutMs: 20_000 });
    assert.equal(wrong.stdout, '401', wrong.stderr);
    const failure = events.ofType('ntlm.validation').find((e) => e.fields['status'] === 'failure');
    assert.ok(failure !== undefined, 'an ntlm.validation failure event');
    assert.equal(failure.fields['user'], 'alice');
    assert.equal(failure.fields['cause'], 'bad_password');
    assert.ok(events.ofType('http.auth_refused').some((e) => e.fields['cause'] === 'bad-password' && e.fields['mechanism'] === 'ntlm'));
    const unknown = await runProgram(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--ntlm', '-u', 'mallory:x', `http://127.0.0.1:${port}/`], { env: env(), timeoutMs: 20_000 });
    assert.equal(unknown.stdout, '401');
    assert.ok(events.ofType('http.auth_refused').some((e) => e.fields['cause'] === 'unknown-user'));
    // Nothing secret in any event.
    assert.doesNotMatch(JSON.stringify(events.events), /alice-pw|wrong/);
  });

  test('curl --negotiate with gss-ntlmssp (NTLM inside SPNEGO, no Kerberos ticket): 200 as alice', async () => {
    requireGssNtlmssp();
    const events = memorySink();
    const port = await expressApp(newServer(events));
    const r = await runProgram(curl, ['-sS', '-v', '--fail', '--negotiate', '-u', 'EXAMPLE\\alice:alice-pw', '--resolve', `localhost:${port}:127.0.0.1`, `http://localhost:${port}/`], {
      env: { ...env(), NTLM_USER_FILE: userFile.path }, timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(events.ofType('http.auth_refused').map((e) => e.fields))}`);
    assert.equal(r.stdout, `hello alice@${realm.realm} via spnego/ntlm (ntlm)\n`);
  });
});

/** python3-ntlm-auth's NtlmContext as an HTTP client: three legs on one http.client connection; prints status, body, CHALLENGE and AUTHENTICATE. */
const PY_CLIENT = `
import sys, base64, http.client
from ntlm_auth.ntlm import NtlmContext
port, user, domain, pw = sys.argv[1:5]
ctx = NtlmContext(user, pw, domain=domain, workstation='PYHOST', ntlm_compatibility=3)
c = http.client.HTTPConnection('127.0.0.1', int(port))
c.request('GET', '/'); r = c.getresponse(); r.read()
assert r.status == 401, r.status
neg = ctx.step()
c.request('GET', '/', headers={'Authorization': 'NTLM ' + base64.b64encode(neg).decode()}); r = c.getresponse(); r.read()
chal = [v for k, v in r.getheaders() if k.lower() == 'www-authenticate' and v.startswith('NTLM ')][0][5:]
auth = ctx.step(base64.b64decode(chal))
c.request('GET', '/', headers={'Authorization': 'NTLM ' + base64.b64encode(auth).decode()}); r = c.getresponse(); body = r.read()
print(r.status); print(body.decode().strip()); print(base64.b64decode(chal).hex()); print(auth.hex())
`;

/** python3-ntlm-auth's NTLMv2 response for fixed inputs (ComputeResponse._get_NTLMv2_response). */
const PY_RESPONSE = `
import sys
from ntlm_auth.compute_response import ComputeResponse
from ntlm_auth.messages import TargetInfo
user, pw, domain, sc, cc, ts, ti = sys.argv[1:8]
info = TargetInfo(); info.unpack(bytes.fromhex(ti))
resp, key = ComputeResponse._get_NTLMv2_response(user, pw, domain, bytes.fromhex(sc), bytes.fromhex(cc), int(ts).to_bytes(8, 'little'), info)
print(resp.hex()); print(key.hex())
`;

describe('python3-ntlm-auth as an oracle', () => {
  test('its NtlmContext client logs on to kerbside over HTTP (Authorization: NTLM), and its NTLMv2 response is the one kerbside computes', async () => {
    requireNtlmAuth();
    const events = memorySink();
    const server = newServer(events);
    const port = await listen(createServer(negotiateListener(server, (req, res) => {
      res.end(`hello ${req.auth.principal} ${req.auth.ntlm?.workstation ?? ''}\n`);
    })));
    const r = await runProgram(PYTHON, ['-c', PY_CLIENT, String(port), 'alice', 'EXAMPLE', 'alice-pw'], { env: { ...baseEnvironment(), OPENSSL_CONF: join(dir, 'openssl.cnf') }, timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const [status, body, challengeHex, authenticateHex] = r.stdout.trim().split('\n');
    assert.equal(status, '200', `${r.stdout}\n${JSON.stringify(events.ofType('http.auth_refused').map((e) => e.fields))}`);
    assert.equal(body, `hello alice@${realm.realm} PYHOST`);
    // Recompute python's NT response with kerbside's crypto from the same inputs.
    const challenge = ntlm.decodeChallenge(fromHex(challengeHex!));
    const message = ntlm.decodeAuthenticate(fromHex(authenticateHex!));
    const v2 = message.ntlmv2!;
    const ours = ntlm.ntlmv2Response({
      responseKeyNT: ntlm.ntowfv2({ password: 'alice-pw' }, 'alice', 'EXAMPLE'),
      serverChallenge: challenge.serverChallenge, clientChallenge: v2.clientChallenge, timestamp: v2.timestamp,
      targetInfo: v2.blob.subarray(28, v2.blob.length - 4),
    });
    assert.equal(toHex(ours.ntProofStr), toHex(v2.ntProofStr));
    assert.equal(toHex(ours.temp), toHex(v2.blob));
  });

  test('python3-ntlm-auth and kerbside compute the same NTLMv2 response and session base key for fixed inputs', async () => {
    requireNtlmAuth();
    // Inputs of MS-NLMP §4.2.4 (user "User", domain "Domain", password "Password", the §4.2.1 challenges), with target info of our own.
    const targetInfo = ntlm.encodeTargetInfo([ntlm.avString(ntlm.MsvAv.NbDomainName, 'DOMAIN'), ntlm.avString(ntlm.MsvAv.NbComputerName, 'SERVER')]);
    const serverChallenge = fromHex('0123456789abcdef');
    const clientChallenge = fromHex('aaaaaaaaaaaaaaaa');
    const timestamp = 0n;
    const r = await runProgram(PYTHON, ['-c', PY_RESPONSE, 'User', 'Password', 'Domain', toHex(serverChallenge), toHex(clientChallenge), String(timestamp), toHex(targetInfo)], { env: { ...baseEnvironment(), OPENSSL_CONF: join(dir, 'openssl.cnf') }, timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const [responseHex, keyHex] = r.stdout.trim().split('\n');
    const ours = ntlm.ntlmv2Response({
      responseKeyNT: ntlm.ntowfv2({ password: 'Password' }, 'User', 'Domain'), serverChallenge, clientChallenge, timestamp, targetInfo,
    });
    assert.equal(toHex(ours.ntChallengeResponse), responseHex);
    assert.equal(toHex(ours.sessionBaseKey), keyHex);
  });
});
