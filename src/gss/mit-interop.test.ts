/**
 * Interop with MIT krb5 1.20's GSS-API through python3-gssapi (Debian),
 * against a throwaway MIT realm: MIT initiators (krb5 and SPNEGO) against
 * our acceptors, and our initiators against MIT acceptors, with MIC and
 * Wrap tokens both ways. The acceptance bar is "a real peer accepts it".
 * A missing python3-gssapi fails the suite, naming the package.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { utf8 } from '../core/bytes.js';
import { principalToString, readCcache, ticketsOf, type Credential } from '../files/index.js';
import { memorySink } from '../events/index.js';
import { KerberosClient, loadClientConfig } from '../client/index.js';
import { mitTool } from '../testing/mit-tools.js';
import { startMitRealm, type MitRealm } from '../testing/mit-realm.js';
import {
  AcceptorKeyError, BadBindingsError, decodeSpnegoToken, GssFlags, keytabKeys, Krb5Acceptor, Krb5Initiator, MechOid, SpnegoAcceptor,
  SpnegoInitiator, type Krb5Context,
} from './index.js';

const PYTHON = '/usr/bin/python3';
const PEER = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'gss', 'testdata', 'gss_peer.py');
const SERVICE = 'HTTP/localhost@EXAMPLE.TEST';
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: unknown): Uint8Array => new Uint8Array(Buffer.from(String(s), 'base64'));
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

type Reply = Record<string, unknown>;

/** One python3-gssapi process holding one security context, driven line by line. */
class MitPeer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #replies: string[] = [];
  readonly #waiting: ((line: string) => void)[] = [];
  #stderr = '';

  constructor(env: Readonly<Record<string, string>>) {
    this.#child = spawn(PYTHON, [PEER], { env: { ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.setEncoding('utf8').on('data', (d: string) => { this.#stderr += d; });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const w = this.#waiting.shift();
      if (w !== undefined) w(line);
      else this.#replies.push(line);
    });
    peers.add(this);
  }

  /** Sends a request; throws on an error reply unless `allowError`. */
  async call(req: Reply, allowError = false): Promise<Reply> {
    this.#child.stdin.write(`${JSON.stringify(req)}\n`);
    const line = this.#replies.shift() ?? await new Promise<string>((resolveLine, reject) => {
      this.#waiting.push(resolveLine);
      this.#child.once('exit', () => reject(new Error(`the python peer exited:\n${this.#stderr}`)));
    });
    const reply = JSON.parse(line) as Reply;
    if (!allowError && reply['error'] !== undefined) throw new Error(`MIT peer ${String(req['op'])} failed: ${String(reply['error'])}`);
    return reply;
  }

  stop(): void {
    peers.delete(this);
    this.#child.stdin.end();
    this.#child.kill();
  }
}
const peers = new Set<MitPeer>();

let realm: MitRealm;
let keytab: string;

before(async () => {
  const probe = spawnSync(PYTHON, ['-c', 'import gssapi'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`python3-gssapi is needed for the GSS-API interop tests: install python3-gssapi (Debian: apt-get install -y python3-gssapi; .ci/install-peers does this) and run it with ${PYTHON}\n${probe.stderr ?? ''}`);
  }
  realm = await startMitRealm({
    principals: [{ name: 'alice', password: 'alice-password' }, { name: 'HTTP/localhost', randkey: true }],
  });
  keytab = join(realm.dir, 'keytab');
  await realm.exportKeytab('HTTP/localhost', keytab);
  await realm.kinit('alice', 'alice-password', { args: ['-f'] });
});

after(async () => {
  for (const p of [...peers]) p.stop();
  await realm?.stop();
});

/** MIC and Wrap (confidential and integrity-only) in both directions between our context and the MIT peer. */
async function exchangeMessages(ours: Krb5Context, peer: MitPeer): Promise<void> {
  for (const conf of [true, false]) {
    const w = await peer.call({ op: 'wrap', msg: b64(utf8(`from MIT conf=${conf}`)), conf });
    assert.equal(w['encrypted'], conf);
    const opened = ours.unwrap(unb64(w['token']));
    assert.deepEqual([text(opened.message), opened.conf, opened.status], [`from MIT conf=${conf}`, conf, 'ok']);
    const u = await peer.call({ op: 'unwrap', token: b64(ours.wrap(utf8(`from kerbside conf=${conf}`), { conf })) });
    assert.deepEqual([text(unb64(u['msg'])), u['encrypted']], [`from kerbside conf=${conf}`, conf]);
  }
  const mic = await peer.call({ op: 'mic', msg: b64(utf8('signed by MIT')) });
  assert.deepEqual(ours.verifyMic(utf8('signed by MIT'), unb64(mic['token'])), { status: 'ok' });
  await peer.call({ op: 'verify', msg: b64(utf8('signed by kerbside')), token: b64(ours.getMic(utf8('signed by kerbside'))) });
  // Replayed MIT token: our replay detection refuses it.
  assert.throws(() => ours.verifyMic(utf8('signed by MIT'), unb64(mic['token'])), { major: 'GSS_S_DUPLICATE_TOKEN' });
}

const ALL = ['mutual', 'replay', 'sequence', 'conf', 'integ'];

/** Runs an MIT initiator against one of our acceptor contexts until both are complete. */
async function mitInitiates(
  peer: MitPeer, acc: { acceptSecContext(t: Uint8Array): Promise<{ output?: Uint8Array; complete: boolean }>; readonly complete: boolean },
  init: Reply,
): Promise<Uint8Array[]> {
  const seen: Uint8Array[] = [];
  let r = await peer.call({ op: 'init', target: SERVICE, ...init });
  for (let leg = 0; leg < 5 && r['token'] !== null; leg++) {
    seen.push(unb64(r['token']));
    const out = await acc.acceptSecContext(unb64(r['token']));
    if (out.output === undefined) break;
    seen.push(out.output);
    r = await peer.call({ op: 'step', token: b64(out.output) });
  }
  assert.equal(r['complete'], true, 'MIT initiator complete');
  assert.ok(acc.complete, 'our acceptor complete');
  return seen;
}

test('MIT krb5 initiator → kerbside acceptor: mutual auth, delegation, MIC/Wrap both ways', async () => {
  const events = memorySink();
  const acceptor = new Krb5Acceptor({ keys: keytabKeys(`FILE:${keytab}`, { events }), principal: SERVICE, events });
  const peer = new MitPeer(realm.env);
  const acc = acceptor.newContext();
  await mitInitiates(peer, acc, { mech: 'krb5', flags: [...ALL, 'deleg'] });
  const ctx = acc.context;
  assert.equal(ctx.initiator, 'alice@EXAMPLE.TEST');
  assert.equal(ctx.acceptor, SERVICE);
  assert.ok((ctx.flags & GssFlags.MUTUAL) !== 0 && (ctx.flags & GssFlags.DELEG) !== 0);
  assert.equal(principalToString(ctx.delegatedCredential!.server), 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
  const info = await peer.call({ op: 'info' });
  assert.equal(info['target'], SERVICE);
  await exchangeMessages(ctx, peer);
  peer.stop();
});

test('MIT krb5 initiator without mutual auth → kerbside acceptor: one token, sequence numbers from the initiator', async () => {
  const acceptor = new Krb5Acceptor({ keys: keytabKeys(`FILE:${keytab}`) });
  const peer = new MitPeer(realm.env);
  const acc = acceptor.newContext();
  const tokens = await mitInitiates(peer, acc, { mech: 'krb5', flags: ['replay', 'sequence', 'conf', 'integ'] });
  assert.equal(tokens.length, 1);
  assert.equal(acc.context.flags & GssFlags.MUTUAL, 0);
  await exchangeMessages(acc.context, peer);
  peer.stop();
});

test('MIT krb5 initiator with channel bindings → kerbside acceptor requiring them (EPA)', async () => {
  const acceptor = new Krb5Acceptor({ keys: keytabKeys(`FILE:${keytab}`), channelBindingPolicy: 'require' });
  const cb = { applicationData: utf8('tls-server-end-point:0123456789abcdef0123456789abcdef') };
  const peer = new MitPeer(realm.env);
  const acc = acceptor.newContext({ channelBindings: cb });
  await mitInitiates(peer, acc, { mech: 'krb5', flags: ALL, cb: b64(cb.applicationData) });
  await exchangeMessages(acc.context, peer);
  peer.stop();

  const wrong = new MitPeer(realm.env);
  const r = await wrong.call({ op: 'init', target: SERVICE, mech: 'krb5', flags: ALL, cb: b64(utf8('tls-server-end-point:another')) });
  await assert.rejects(acceptor.newContext({ channelBindings: cb }).acceptSecContext(unb64(r['token'])), BadBindingsError);
  wrong.stop();
});

test('MIT SPNEGO initiator → kerbside SPNEGO acceptor, then MIC/Wrap both ways', async () => {
  const acceptor = new SpnegoAcceptor({ krb5: new Krb5Acceptor({ keys: keytabKeys(`FILE:${keytab}`) }) });
  const peer = new MitPeer(realm.env);
  const acc = acceptor.newContext();
  const tokens = await mitInitiates(peer, acc, { mech: 'spnego', flags: ALL });
  const first = decodeSpnegoToken(tokens[0]!);
  assert.ok(first.type === 'init' && first.value.mechTypes[0] === MechOid.KRB5, 'MIT lists Kerberos first');
  assert.equal(acc.context.initiator, 'alice@EXAMPLE.TEST');
  await exchangeMessages(acc.context as Krb5Context, peer);
  peer.stop();
});

test('MIT SPNEGO initiator → kerbside acceptor demanding the mechListMIC exchange: MICs verified on both sides', async () => {
  const acceptor = new SpnegoAcceptor({ krb5: new Krb5Acceptor({ keys: keytabKeys(`FILE:${keytab}`) }), requireMic: true });
  const peer = new MitPeer(realm.env);
  const acc = acceptor.newContext();
  const tokens = await mitInitiates(peer, acc, { mech: 'spnego', flags: ALL });
  assert.equal(tokens.length, 3, 'NegTokenInit, request-mic + AP-REP + MIC, MIT\'s MIC');
  const last = decodeSpnegoToken(tokens[2]!);
  assert.ok(last.type === 'resp' && last.value.mechListMIC !== undefined);
  await exchangeMessages(acc.context as Krb5Context, peer);
  peer.stop();
});

/** The service ticket MIT's kvno put into the realm's ccache. */
async function mitServiceTicket(): Promise<Credential> {
  const r = await realm.run(mitTool('kvno'), [SERVICE]);
  assert.equal(r.code, 0, r.stderr);
  const cred = ticketsOf(await readCcache(realm.ccache)).find((c) => principalToString(c.server) === SERVICE);
  assert.ok(cred !== undefined, 'kvno stored the service ticket');
  return cred;
}

/** Runs one of our initiators against the MIT acceptor until both are complete. */
async function weInitiate(peer: MitPeer, init: { initSecContext(t?: Uint8Array): { output?: Uint8Array; complete: boolean }; readonly complete: boolean }): Promise<void> {
  await peer.call({ op: 'accept' });
  let out = init.initSecContext();
  for (let leg = 0; leg < 5 && out.output !== undefined; leg++) {
    const r = await peer.call({ op: 'step', token: b64(out.output) });
    if (r['token'] === null) break;
    out = init.initSecContext(unb64(r['token']));
  }
  assert.ok(init.complete, 'our initiator complete');
  const info = await peer.call({ op: 'info' });
  assert.equal(info['initiator'], 'alice@EXAMPLE.TEST');
}

test('kerbside krb5 initiator (ticket from an MIT ccache) → MIT acceptor: mutual auth, MIC/Wrap both ways', async () => {
  const init = new Krb5Initiator({ credential: await mitServiceTicket() });
  const peer = new MitPeer(realm.env);
  await weInitiate(peer, init);
  await exchangeMessages(init.context, peer);
  peer.stop();
});

test('kerbside krb5 initiator without mutual auth, with channel bindings → MIT acceptor with the same bindings', async () => {
  const cb = { applicationData: utf8('tls-server-end-point:fedcba9876543210') };
  const init = new Krb5Initiator({
    credential: await mitServiceTicket(), channelBindings: cb,
    requestFlags: GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG,
  });
  const peer = new MitPeer(realm.env);
  await peer.call({ op: 'accept', cb: b64(cb.applicationData) });
  const r = await peer.call({ op: 'step', token: b64(init.initSecContext().output!) });
  assert.deepEqual([r['token'], r['complete']], [null, true]);
  await exchangeMessages(init.context, peer);
  peer.stop();
});

test('kerbside SPNEGO initiator (ticket from kerbside\'s client) → MIT SPNEGO acceptor', async () => {
  const client = new KerberosClient({ config: await loadClientConfig(realm.krb5ConfPath) });
  const tgt = await client.getInitialCredentials({ client: 'alice', password: 'alice-password' });
  const ticket = await client.getServiceTicket(tgt.credential, 'HTTP/localhost');
  const init = new SpnegoInitiator({ krb5: { credential: ticket } });
  const peer = new MitPeer(realm.env);
  await weInitiate(peer, init);
  await exchangeMessages(init.context as Krb5Context, peer);
  peer.stop();
});

test('kerbside SPNEGO initiator sending a mechListMIC (no mutual auth) → MIT acceptor verifies it and answers with its own', async () => {
  const init = new SpnegoInitiator({
    krb5: { credential: await mitServiceTicket(), requestFlags: GssFlags.REPLAY | GssFlags.SEQUENCE | GssFlags.CONF | GssFlags.INTEG },
    sendMic: 'always',
  });
  const peer = new MitPeer(realm.env);
  await weInitiate(peer, init);
  await exchangeMessages(init.context as Krb5Context, peer);
  peer.stop();
});

test('kerbside SPNEGO initiator offering the Microsoft OID first → MIT acceptor', async () => {
  const init = new SpnegoInitiator({ krb5: { credential: await mitServiceTicket() }, mechTypes: [MechOid.KRB5_MS, MechOid.KRB5] });
  const peer = new MitPeer(realm.env);
  await weInitiate(peer, init);
  await exchangeMessages(init.context as Krb5Context, peer);
  peer.stop();
});

test('key rotation with MIT: a new kvno is "keytab out of date" until ktadd, then accepted without a restart; old tickets keep working', async () => {
  const rotating = join(realm.dir, 'rotating.keytab');
  await realm.exportKeytab('HTTP/localhost', rotating);
  const events = memorySink();
  const acceptor = new Krb5Acceptor({ keys: keytabKeys(`FILE:${rotating}`, { events }), events });
  const handshake = async (ccache: string): Promise<unknown> => {
    const peer = new MitPeer({ ...realm.env, KRB5CCNAME: ccache });
    try {
      const r = await peer.call({ op: 'init', target: SERVICE, mech: 'krb5', flags: ALL });
      return await acceptor.newContext().acceptSecContext(unb64(r['token'])).then(() => 'accepted', (e: unknown) => e);
    } finally {
      peer.stop();
    }
  };
  assert.equal(await handshake(realm.ccache), 'accepted', 'ticket with the current kvno');
  await realm.kadmin('cpw -randkey HTTP/localhost');
  const fresh = `FILE:${join(realm.dir, 'fresh.ccache')}`;
  await realm.kinit('alice', 'alice-password', { ccache: fresh });
  const miss = await handshake(fresh);
  assert.ok(miss instanceof AcceptorKeyError, String(miss));
  assert.equal(miss.problem, 'keytab-out-of-date');
  assert.match(miss.message, /not in keytab \(which holds \d+\).*: the keytab is likely out of date/);
  await realm.exportKeytab('HTTP/localhost', rotating); // ktadd appends the new kvno
  assert.equal(await handshake(fresh), 'accepted', 'new kvno picked up on the miss');
  assert.equal(await handshake(realm.ccache), 'accepted', 'the old kvno is still in the keytab');
  assert.ok(events.events.some((e) => e.type === 'acceptor.keytab_reloaded'));
  assert.ok(events.events.some((e) => e.type === 'acceptor.kvno_miss'));
});
