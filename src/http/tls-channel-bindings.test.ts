/**
 * HTTP Negotiate over TLS with RFC 5929 `tls-server-end-point` channel
 * bindings (docs/lessons.md "EPA"), end to end: the adapters bind each TLS
 * connection to the certificate the server presented on it, negotiateFetch
 * binds its AP-REQ to the certificate it saw, and a server with policy
 * 'require' refuses missing or foreign bindings with the logged cause
 * `channel-bindings`. Peers: curl --negotiate (MIT GSS-API, which sends no
 * bindings) and python3-gssapi (MIT's initiator, given the bindings we
 * compute, so MIT's Bnd checksum is checked against ours).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { clientConfig, KerberosClient, LogonSession } from '../client/index.js';
import { memorySink, type MemorySink } from '../events/index.js';
import type { Credential } from '../files/index.js';
import { SpnegoInitiator, tlsServerEndPoint, type ChannelBindingPolicy } from '../gss/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { baseEnvironment, checkRun, mitTool, requireTool, runProgram } from '../testing/mit-tools.js';
import { selfSignedCertificate, type TestCertificate } from '../testing/tls.js';
import {
  negotiateExpress, negotiateFastify, negotiateFetch, negotiateListener, negotiateServer, NegotiateRefusedError,
  type AuthenticatedRequest, type NegotiateServer,
} from './index.js';

let dir: string;
let realm: TestRealm;
let rsa: TestCertificate;
let ecdsa: TestCertificate;
let session: LogonSession;
let ticket: Credential;
let env: Record<string, string>;
const servers: Server[] = [];
const children: ChildProcess[] = [];
let fastify: FastifyInstance | undefined;

function handler(events: MemorySink, policy: ChannelBindingPolicy, sessionCookie = false): NegotiateServer {
  return negotiateServer({
    keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, events, channelBindingPolicy: policy, sessionCookie,
  });
}

/** An https server with node:http's listener adapter; returns its port. */
async function httpsListener(cert: TestCertificate, server: NegotiateServer): Promise<number> {
  const s = createServer({ cert: cert.certPem, key: cert.keyPem }, negotiateListener(server, (req, res) => {
    res.end(`hello ${req.auth.principal}\n`);
  }));
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

/** One https GET carrying a Negotiate token we built (bindings of our choosing). */
function rawGet(port: number, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port, path: '/', servername: 'localhost', ca: rsa.certPem, agent: false, headers: { authorization },
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end();
  });
}

function token(bindings?: ReturnType<typeof tlsServerEndPoint>): string {
  const init = new SpnegoInitiator({ krb5: { credential: ticket, ...(bindings === undefined ? {} : { channelBindings: bindings }) } });
  return `Negotiate ${Buffer.from(init.initSecContext().output!).toString('base64')}`;
}

function refusalCauses(events: MemorySink): unknown[] {
  return events.ofType('http.auth_refused').map((e) => e.fields['cause']).filter((c) => c !== 'no-header');
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-tls-'));
  [rsa, ecdsa] = await Promise.all([selfSignedCertificate(), selfSignedCertificate({ keyType: 'ec-p384' })]);
  realm = await startTestRealm({
    principals: [{ name: 'alice', password: 'alice-password' }, { name: 'HTTP/localhost', randomKey: true }],
  });
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
  await realm.writeKrb5Conf(join(dir, 'krb5.conf'));
  const client = new KerberosClient({ config: clientConfig({ defaultRealm: realm.realm, realms: { [realm.realm]: { kdc: [realm.kdcAddress] } } }) });
  session = await LogonSession.open({ client, principal: 'alice', source: { kind: 'password', password: 'alice-password' } });
  ticket = await session.serviceTicket(`HTTP/localhost@${realm.realm}`);
  env = { ...baseEnvironment(), KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5CCNAME: `FILE:${join(dir, 'ccache')}`, HOME: dir };
  checkRun('kinit alice', await runProgram(mitTool('kinit'), [`alice@${realm.realm}`], { input: 'alice-password\n', env }));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await fastify?.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
  await realm?.stop();
  await rsa?.remove();
  await ecdsa?.remove();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('Negotiate over TLS with tls-server-end-point channel bindings', () => {
  test('node:http(s) listener, policy require: negotiateFetch binds to the certificate; 200, mutual auth, Secure cookie', async () => {
    const events = memorySink();
    const port = await httpsListener(rsa, handler(events, 'require', true));
    const res = await negotiateFetch(`https://localhost:${port}/`, { negotiate: { session, ca: rsa.certPem } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(await res.text(), `hello alice@${realm.realm}\n`);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Negotiate \S+/);
    assert.match(res.headers.get('set-cookie') ?? '', /;\s*Secure/i, 'the session cookie is Secure on TLS');
    // Preemptive: the token is built on a fresh socket, after its TLS handshake.
    const pre = await negotiateFetch(`https://localhost:${port}/`, { negotiate: { session, ca: rsa.certPem, preemptive: true } });
    assert.equal(pre.status, 200, await pre.clone().text());
    assert.deepEqual(refusalCauses(events), []);
    assert.equal(events.ofType('http.auth_succeeded').length, 2);
  });

  test('policy require: no bindings and another certificate\'s bindings are refused with cause channel-bindings', async () => {
    const events = memorySink();
    const port = await httpsListener(rsa, handler(events, 'require'));
    await assert.rejects(
      negotiateFetch(`https://localhost:${port}/`, { negotiate: { session, ca: rsa.certPem, channelBindings: false } }),
      (err: unknown) => err instanceof NegotiateRefusedError,
    );
    assert.equal(await rawGet(port, token(tlsServerEndPoint(ecdsa.certDer))), 401, 'bindings of a certificate this server did not present');
    assert.equal(await rawGet(port, token(tlsServerEndPoint(rsa.certDer))), 200, 'the same request with the right bindings');
    assert.deepEqual(refusalCauses(events), ['channel-bindings', 'channel-bindings']);
    for (const e of events.ofType('http.auth_refused').filter((x) => x.fields['cause'] === 'channel-bindings')) {
      assert.equal(e.severity, 'warning');
    }
  });

  test('policy allow: a client without bindings is accepted, a mismatching one is still refused', async () => {
    const events = memorySink();
    const port = await httpsListener(rsa, handler(events, 'allow'));
    assert.equal(await rawGet(port, token()), 200);
    assert.equal(await rawGet(port, token(tlsServerEndPoint(ecdsa.certDer))), 401);
    assert.deepEqual(refusalCauses(events), ['channel-bindings']);
  });

  test('Express over https with an ECDSA P-384 certificate (RFC 5929 hash SHA-384), policy require: 200', async () => {
    const events = memorySink();
    const app = express();
    app.use(negotiateExpress(handler(events, 'require')));
    app.get('/', (req, res) => { res.type('text/plain').send(`hello ${(req as unknown as AuthenticatedRequest).auth.principal}\n`); });
    const s = createServer({ cert: ecdsa.certPem, key: ecdsa.keyPem }, app);
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const port = (s.address() as AddressInfo).port;
    const res = await negotiateFetch(`https://localhost:${port}/`, { negotiate: { session, ca: ecdsa.certPem } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(await res.text(), `hello alice@${realm.realm}\n`);
    assert.deepEqual(refusalCauses(events), []);
  });

  test('Fastify over https, policy require: 200 with bindings, refused without', async () => {
    const events = memorySink();
    fastify = Fastify({ https: { cert: rsa.certPem, key: rsa.keyPem } });
    await fastify.register(negotiateFastify, { server: handler(events, 'require') });
    fastify.get('/', async (request) => `hello ${(request as unknown as { auth: { principal: string } }).auth.principal}\n`);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const port = (fastify.server.address() as AddressInfo).port;
    const res = await negotiateFetch(`https://localhost:${port}/`, { negotiate: { session, ca: rsa.certPem } });
    assert.equal(res.status, 200, await res.clone().text());
    await assert.rejects(
      negotiateFetch(`https://localhost:${port}/`, { negotiate: { session, ca: rsa.certPem, channelBindings: false } }),
      NegotiateRefusedError,
    );
    assert.deepEqual(refusalCauses(events), ['channel-bindings']);
  });

  test('curl --negotiate --cacert (MIT GSS-API, no bindings) against policy allow: 200 with mutual auth', async () => {
    const curl = requireTool('curl', 'curl');
    const events = memorySink();
    const port = await httpsListener(rsa, handler(events, 'allow'));
    const r = await runProgram(curl, [
      '-sS', '-v', '--fail', '--negotiate', '-u', ':', '--cacert', rsa.certPath,
      '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`,
    ], { env, timeoutMs: 20_000 });
    assert.equal(r.code, 0, `curl failed (exit ${r.code}):\n${r.stderr}`);
    assert.equal(r.stdout, `hello alice@${realm.realm}\n`);
    assert.match(r.stderr, /< WWW-Authenticate: Negotiate \S+/i);
    assert.doesNotMatch(r.stderr, /Authentication problem/i);
    assert.deepEqual(refusalCauses(events), []);
  });

  test('python3-gssapi (MIT initiator) with the tls-server-end-point bindings it computes, against policy require: 200', async () => {
    const python = '/usr/bin/python3'; // Debian's python3-gssapi lives in the system interpreter
    const script = join(dir, 'cb_client.py');
    await writeFile(script, PYTHON_CLIENT);
    const events = memorySink();
    const port = await httpsListener(rsa, handler(events, 'require'));
    const run = (bind: string) => runProgram(python, [script, String(port), rsa.certPath, bind], { env, timeoutMs: 20_000 });
    const good = await run('bind');
    assert.equal(good.code, 0, `${good.stderr}${good.stdout}`);
    assert.equal(good.stdout, `200 hello alice@${realm.realm}\n`);
    const none = await run('nobind');
    assert.equal(none.code, 0, `${none.stderr}${none.stdout}`);
    assert.match(none.stdout, /^401 /);
    assert.deepEqual(refusalCauses(events), ['channel-bindings']);
  });

  test('negotiateFetch against an MIT acceptor (python3-gssapi https server) checking tls-server-end-point bindings: 200', async () => {
    const script = join(dir, 'cb_server.py');
    await writeFile(script, PYTHON_SERVER);
    const child = spawn('/usr/bin/python3', [script, rsa.certPath, rsa.keyPath], {
      env: { ...env, KRB5_KTNAME: `FILE:${join(dir, 'http.keytab')}`, KRB5RCACHEDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d; });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        output += d;
        const m = /ready (\d+)/.exec(output);
        if (m !== null) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`the python3-gssapi server exited (${code}):\n${output}`)));
    });
    const res = await negotiateFetch(`https://localhost:${port}/`, { negotiate: { session, ca: rsa.certPem } })
      .catch((err: unknown) => { throw new Error(`${String(err)}\n${output}`); });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `hello alice@${realm.realm}\n`);
  });
});

// An https server whose acceptor is MIT's, given the bindings of its own
// certificate: a mismatching Bnd from our initiator would be GSS_S_BAD_BINDINGS.
const PYTHON_SERVER = `
import base64, http.server, ssl, sys
import gssapi
certfile, keyfile = sys.argv[1], sys.argv[2]
with open(certfile) as f:
    der = ssl.PEM_cert_to_DER_cert(f.read())
import hashlib
cb = gssapi.raw.ChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest())
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, status, body, token=None):
        data = body.encode()
        self.send_response(status)
        self.send_header("WWW-Authenticate", "Negotiate" + ("" if token is None else " " + base64.b64encode(token).decode()))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("negotiate "):
            return self.reply(401, "negotiate\\n")
        try:
            ctx = gssapi.SecurityContext(usage="accept", channel_bindings=cb)
            out = ctx.step(base64.b64decode(auth.split()[1]))
            self.reply(200, "hello %s\\n" % ctx.initiator_name, out)
        except gssapi.exceptions.GSSError as e:
            self.reply(401, "%s\\n" % e)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(certfile, keyfile)
srv.socket = tls.wrap_socket(srv.socket, server_side=True)
print("ready", srv.server_address[1], flush=True)
srv.serve_forever()
`;

// MIT's initiator computes the Bnd checksum (RFC 4121 §4.1.1.2) from the
// application data; the hash follows RFC 5929 §4.1 for an RSA-SHA256 cert.
const PYTHON_CLIENT = `
import base64, hashlib, http.client, ssl, sys
try:
    import gssapi
except ImportError:
    sys.exit("python3-gssapi is not installed: install Debian package python3-gssapi")
port, cafile, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
conn = http.client.HTTPSConnection("localhost", port, context=ctx)
conn.connect()
der = conn.sock.getpeercert(binary_form=True)
cb = None
if mode == "bind":
    cb = gssapi.raw.ChannelBindings(application_data=b"tls-server-end-point:" + hashlib.sha256(der).digest())
name = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
sec = gssapi.SecurityContext(name=name, mech=spnego, usage="initiate", channel_bindings=cb)
tok = sec.step()
conn.request("GET", "/", headers={"Authorization": "Negotiate " + base64.b64encode(tok).decode()})
r = conn.getresponse()
print(r.status, r.read().decode(), end="")
`;
