/**
 * negotiateServer with NTLM, in process: the provider list and its order,
 * raw NTLMSSP under `Negotiate` and `Authorization: NTLM`, NTLM inside
 * SPNEGO, req.auth, Extended Protection (MsvAvChannelBindings, MS-NLMP
 * §2.2.2.1) with the connection's bindings, and a distinct cause for each
 * refusal. Tokens come from kerbside's NtlmInitiator / SpnegoInitiator
 * (checked against python3-ntlm-auth, curl and gss-ntlmssp in
 * ntlm-interop.test.ts).
 */

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { seededRandom } from '../core/random.js';
import { utf8 } from '../core/bytes.js';
import { memorySink, type MemorySink } from '../events/index.js';
import { localNtlmValidator, MechOid, NtlmChallengeRegistry, NtlmInitiator, SpnegoInitiator, type ChannelBindings } from '../gss/index.js';
import { startTestRealm, type TestRealm } from '../kdc/index.js';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '../testing/tls.js';
import {
  negotiateFetch, negotiateListener, negotiateServer, NegotiateRefusedError, type NegotiateOutcome, type NegotiateServer, type NegotiateServerOptions,
} from './index.js';

const clock = new ManualClock(Date.UTC(2026, 6, 1));
let dir: string;
let realm: TestRealm;
let seed = 100;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kerbside-http-ntlm-server-'));
  realm = await startTestRealm({ clock, principals: [{ name: 'HTTP/localhost', randomKey: true }] });
  await realm.exportKeytab('HTTP/localhost', join(dir, 'http.keytab'));
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function server(events: MemorySink, extra: Partial<NegotiateServerOptions> = {}): NegotiateServer {
  return negotiateServer({
    keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, clock, random: seededRandom(seed++), events,
    ntlm: { validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'pw' } } }), issuedChallenges: new NtlmChallengeRegistry() },
    ...extra,
  });
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

function headerOf(out: NegotiateOutcome, scheme: string): string | undefined {
  return out.headers.find(([n, v]) => n === 'WWW-Authenticate' && v.startsWith(`${scheme} `))?.[1].slice(scheme.length + 1);
}

/** A raw NTLM handshake under `scheme` on one connection; both outcomes. */
async function rawLogin(s: NegotiateServer, scheme: 'NTLM' | 'Negotiate', o: { password?: string; bindings?: ChannelBindings; serverBindings?: ChannelBindings; target?: string } = {}) {
  const connection = {};
  const initiator = new NtlmInitiator({
    credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: o.password ?? 'pw' } }, targetName: o.target ?? 'HTTP/localhost', clock,
    random: seededRandom(seed++), ...(o.bindings === undefined ? {} : { channelBindings: o.bindings }),
  });
  const req = (token: Uint8Array) => ({
    method: 'GET', url: '/', headers: { authorization: `${scheme} ${b64(token)}` }, connection,
    ...(o.serverBindings === undefined ? {} : { channelBindings: o.serverBindings }),
  });
  const first = await s.authenticate(req(initiator.initSecContext().output!));
  const challenge = headerOf(first, scheme);
  assert.ok(challenge !== undefined, `a ${scheme} CHALLENGE: ${JSON.stringify(first)}`);
  const second = await s.authenticate(req(initiator.initSecContext(unb64(challenge)).output!));
  return { first, second };
}

const bindingsOf = (text: string): ChannelBindings => ({ applicationData: utf8(`tls-server-end-point:${text}`) });

describe('negotiateServer with ntlm', () => {
  test('providers: Negotiate then NTLM by default, one header each; the order is configurable; NTLM without ntlm is a configuration error', async () => {
    const none = await server(memorySink()).authenticate({ method: 'GET', headers: {}, connection: {} });
    assert.deepEqual(none.headers, [['WWW-Authenticate', 'Negotiate'], ['WWW-Authenticate', 'NTLM']]);
    const reversed = await server(memorySink(), { providers: ['NTLM', 'Negotiate'] }).authenticate({ method: 'GET', headers: {}, connection: {} });
    assert.deepEqual(reversed.headers, [['WWW-Authenticate', 'NTLM'], ['WWW-Authenticate', 'Negotiate']]);
    assert.throws(() => negotiateServer({ keytab: join(dir, 'http.keytab'), providers: ['Negotiate', 'NTLM'] }), /ntlm option/);
  });

  test('Authorization: NTLM, three legs on one connection: req.auth says ntlm, the principal and the names sent', async () => {
    const events = memorySink();
    const { first, second } = await rawLogin(server(events), 'NTLM');
    assert.ok(!first.authenticated && first.status === 401 && first.cause === 'handshake-incomplete');
    assert.ok(second.authenticated, JSON.stringify(events.ofType('http.auth_refused').map((e) => e.fields)));
    assert.equal(second.auth.principal, 'alice@EXAMPLE.TEST');
    assert.equal(second.auth.package, 'ntlm');
    assert.equal(second.auth.mechanism, 'ntlm');
    assert.deepEqual(second.auth.ntlm, { user: 'alice', domain: 'EXAMPLE', workstation: '' });
    assert.deepEqual(second.headers, [], 'raw NTLM has no final token');
    assert.equal(events.ofType('ntlm.validation')[0]?.fields['status'], 'success');
  });

  test('raw NTLMSSP under Negotiate: the CHALLENGE comes back under Negotiate', async () => {
    const { second } = await rawLogin(server(memorySink()), 'Negotiate');
    assert.ok(second.authenticated);
    assert.equal(second.auth.mechanism, 'ntlm');
  });

  test('NTLM inside SPNEGO: 200 with the final NegTokenResp, which the initiator accepts (mechListMIC)', async () => {
    const s = server(memorySink());
    const connection = {};
    const initiator = new SpnegoInitiator({
      ntlm: { credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'pw' } }, targetName: 'HTTP/localhost', clock, random: seededRandom(seed++) },
      mechTypes: [MechOid.NTLMSSP],
    });
    const req = (t: Uint8Array) => ({ method: 'GET', headers: { authorization: `Negotiate ${b64(t)}` }, connection });
    const first = await s.authenticate(req(initiator.initSecContext().output!));
    const second = await s.authenticate(req(initiator.initSecContext(unb64(headerOf(first, 'Negotiate')!)).output!));
    assert.ok(second.authenticated);
    assert.equal(second.auth.mechanism, 'spnego/ntlm');
    const final = headerOf(second, 'Negotiate');
    if (final !== undefined) assert.equal(initiator.initSecContext(unb64(final)).complete, true);
    assert.equal(initiator.complete, true);
  });

  test('Extended Protection: matching bindings pass under require; other bindings, or none, are refused as channel-bindings', async () => {
    const events = memorySink();
    const s = server(events, { channelBindingPolicy: 'require' });
    assert.ok((await rawLogin(s, 'NTLM', { bindings: bindingsOf('A'), serverBindings: bindingsOf('A') })).second.authenticated);
    const other = (await rawLogin(s, 'NTLM', { bindings: bindingsOf('PROXY'), serverBindings: bindingsOf('A') })).second;
    assert.ok(!other.authenticated && other.cause === 'channel-bindings');
    const missing = (await rawLogin(s, 'NTLM', { serverBindings: bindingsOf('A') })).second;
    assert.ok(!missing.authenticated && missing.cause === 'channel-bindings');
    assert.ok(events.ofType('http.auth_refused').filter((e) => e.fields['cause'] === 'channel-bindings').every((e) => e.fields['mechanism'] === 'ntlm'));
  });

  test('distinct causes: bad-password, target-name, timestamp, malformed; NTLM off: ntlm-not-enabled', async () => {
    const events = memorySink();
    // Handshakes may wait longer than the NTLMv2 timestamp skew here, so that the timestamp check is what refuses.
    const s = server(events, { pendingTtlMs: 60 * 60_000 });
    const bad = (await rawLogin(s, 'NTLM', { password: 'nope' })).second;
    assert.ok(!bad.authenticated && bad.cause === 'bad-password');
    const target = (await rawLogin(s, 'NTLM', { target: 'HTTP/elsewhere.test' })).second;
    assert.ok(!target.authenticated && target.cause === 'target-name');
    // An AUTHENTICATE that arrives long after its CHALLENGE: its timestamp is outside the skew.
    const connection = {};
    const initiator = new NtlmInitiator({ credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'pw' } }, clock, random: seededRandom(seed++) });
    const first = await s.authenticate({ method: 'GET', headers: { authorization: `NTLM ${b64(initiator.initSecContext().output!)}` }, connection });
    const authenticate = initiator.initSecContext(unb64(headerOf(first, 'NTLM')!)).output!;
    await clock.advance(10 * 60_000);
    const late = await s.authenticate({ method: 'GET', headers: { authorization: `NTLM ${b64(authenticate)}` }, connection });
    assert.ok(!late.authenticated && late.cause === 'timestamp', late.authenticated ? '' : late.cause);
    const malformed = await s.authenticate({ method: 'GET', headers: { authorization: `NTLM ${b64(utf8('NTLMSSP\0\x01\0\0\0'))}` }, connection: {} });
    assert.ok(!malformed.authenticated && malformed.cause === 'malformed', malformed.authenticated ? '' : malformed.cause);
    const noNtlm = negotiateServer({ keytab: join(dir, 'http.keytab'), clock, events: memorySink() });
    const refused = await noNtlm.authenticate({ method: 'GET', headers: { authorization: 'NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAA=' }, connection: {} });
    assert.ok(!refused.authenticated && refused.cause === 'ntlm-not-enabled');
    assert.deepEqual(refused.headers, [['WWW-Authenticate', 'Negotiate']]);
  });

  test('an AUTHENTICATE sent again after the logon is refused: no NTLM handshake is in progress on the connection', async () => {
    const events = memorySink();
    const s = server(events);
    const connection = {};
    const initiator = new NtlmInitiator({ credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'pw' } }, clock, random: seededRandom(seed++) });
    const neg = initiator.initSecContext().output!;
    const first = await s.authenticate({ method: 'GET', headers: { authorization: `NTLM ${b64(neg)}` }, connection });
    const authenticate = initiator.initSecContext(unb64(headerOf(first, 'NTLM')!)).output!;
    assert.ok((await s.authenticate({ method: 'GET', headers: { authorization: `NTLM ${b64(authenticate)}` }, connection })).authenticated);
    // The AUTHENTICATE again on the same connection: no handshake in progress.
    const again = await s.authenticate({ method: 'GET', headers: { authorization: `NTLM ${b64(authenticate)}` }, connection });
    assert.ok(!again.authenticated && again.cause === 'bad-token');
  });
});

describe('NTLM over TLS (Extended Protection end to end)', () => {
  test('negotiateFetch over https: its AUTHENTICATE carries the certificate\'s bindings, which a require server accepts; without them it is refused', async () => {
    const cert = await selfSignedCertificate();
    const events = memorySink();
    // systemClock: the NTLMv2 timestamps come from the client's real clock here.
    const core = negotiateServer({
      keytab: join(dir, 'http.keytab'), principal: `HTTP/localhost@${realm.realm}`, events, channelBindingPolicy: 'require',
      ntlm: { validator: localNtlmValidator({ alice: { principal: 'alice@EXAMPLE.TEST', secret: { password: 'pw' } } }), issuedChallenges: new NtlmChallengeRegistry() },
    });
    const https: Server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, negotiateListener(core, (req, res) => { res.end(`hello ${req.auth.principal}\n`); }));
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    try {
      const port = (https.address() as AddressInfo).port;
      const ntlm = { user: 'alice', domain: 'EXAMPLE', password: 'pw' };
      const env = { KRB5_CONFIG: '/dev/null', KRB5CCNAME: 'FILE:/nonexistent/kerbside-ccache' };
      for (const ntlmScheme of ['Negotiate', 'NTLM'] as const) {
        const res = await negotiateFetch(`https://localhost:${port}/`, { negotiate: { env, ca: cert.certPem, ntlm, ntlmScheme } });
        assert.equal(res.status, 200, `${ntlmScheme}: ${JSON.stringify(events.ofType('http.auth_refused').map((e) => e.fields))}`);
        assert.equal(await res.text(), 'hello alice@EXAMPLE.TEST\n');
      }
      await assert.rejects(negotiateFetch(`https://localhost:${port}/`, { negotiate: { env, ca: cert.certPem, ntlm, channelBindings: false } }), NegotiateRefusedError);
      assert.ok(events.ofType('http.auth_refused').some((e) => e.fields['cause'] === 'channel-bindings' && e.fields['mechanism'] === 'ntlm'));
    } finally {
      https.closeAllConnections();
      await new Promise((resolve) => https.close(resolve));
    }
  });
});
