/**
 * NTLM in a realm directory, end to end through the real CLI
 * (docs/ntlm.md "Credentials", "Validation"): kdc.conf `ntlm = true`,
 * `principal add --allow-ntlm`, `principal show`, `keytab export` for the web
 * node, and `kerbside kdc --ntlm-listen` as a separate process answering
 * passThroughNtlmValidator over TCP with the exported keytab.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../core/random.js';
import { readKeytab } from '../files/index.js';
import { keytabKeys } from '../gss/index.js';
import {
  NegotiateFlags, avTimestamp, NtlmAcceptor, NtlmChallengeRegistry, NtlmInitiator, NtlmLogonFailureError, NtlmPassThroughError, buildAuthenticate, encodeChallenge, encodeNegotiate, filetimeFromUnixMs,
  passThroughNtlmValidator, type NtlmValidator,
} from '../gss/ntlm/index.js';
import { systemClock } from '../core/clock.js';
import { runCli, runCliInProcess, spawnCli, type CliProcess } from '../testing/kerbside-cli.js';
import { baseEnvironment, requireTool, runProgram } from '../testing/mit-tools.js';
import { nullSink } from '../events/index.js';
import { negotiateListener, negotiateServer } from '../http/index.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const REALM = 'EXAMPLE.TEST';
const SERVICE = `HTTP/web.example.test@${REALM}`;
const FLAGS = (NegotiateFlags.UNICODE | NegotiateFlags.NTLM | NegotiateFlags.EXTENDED_SESSIONSECURITY | NegotiateFlags.TARGET_INFO
  | NegotiateFlags.NEGOTIATE_128 | NegotiateFlags.KEY_EXCH) >>> 0;

let work: string;
let dir: string;
let keytab: string;
let kdc: CliProcess;
let ntlmPort: number;

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCli([...args, '--dir', dir]);
  assert.equal(r.code, 0, `kerbside ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

let seed = 1;
function logon(user: string, password: string): { challenge: Uint8Array; authenticate: Uint8Array; service: string } {
  const random = seededRandom(seed++);
  const negotiate = encodeNegotiate({ flags: FLAGS });
  const challenge = encodeChallenge({
    flags: FLAGS, serverChallenge: random.bytes(8), targetName: 'EXAMPLE',
    targetInfo: { pairs: [{ id: 2, value: new Uint8Array(Buffer.from('EXAMPLE', 'utf16le')) }, avTimestamp(filetimeFromUnixMs(systemClock().now()))] },
  });
  const { authenticate } = buildAuthenticate({
    negotiate, challenge, user, domain: 'EXAMPLE', workstation: 'WS1', secret: { password }, timestamp: filetimeFromUnixMs(systemClock().now()), random,
  });
  return { challenge, authenticate, service: SERVICE };
}

/** Waits for the KDC's log (its stderr, read asynchronously) to show `re`. */
async function logged(re: RegExp): Promise<void> {
  for (let i = 0; i < 50 && !re.test(kdc.stderr()); i++) await systemClock().sleep(50);
  assert.match(kdc.stderr(), re);
}

const validator = (): NtlmValidator => passThroughNtlmValidator({ address: `127.0.0.1:${ntlmPort}`, keys: keytabKeys(keytab), service: SERVICE });
/** The same, given the keytab's path. */
const byPath = (): NtlmValidator => passThroughNtlmValidator({ address: `127.0.0.1:${ntlmPort}`, keys: keytab, service: SERVICE });

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kerbside-ntlm-cli-'));
  dir = join(work, 'realm');
  keytab = join(work, 'web.keytab');
  const init = await runCliInProcess(['realm', 'init', '--realm', REALM, '--dir', dir, '--admin-password', 'admin-pw1']);
  assert.equal(init.code, 0, init.stderr);
  const conf = join(dir, 'kdc.conf');
  await writeFile(conf, (await readFile(conf, 'utf8')).replace('\t\tdatabase_name =', '\t\tntlm = true\n\t\tdatabase_name ='));
  await cli('principal', 'add', 'alice', '--password', 'alice-pw1', '--allow-ntlm');
  await cli('principal', 'add', 'bob', '--password', 'bob-pw12');
  await cli('principal', 'add', 'HTTP/web.example.test', '--randkey');
  await cli('keytab', 'export', '--principal', SERVICE, '--out', keytab);
  kdc = spawnCli(['kdc', '--dir', dir, '--listen', '127.0.0.1:0', '--ntlm-listen', '127.0.0.1:0', '--poll-interval-ms', '200']);
  ntlmPort = Number((await kdc.waitFor(/NTLM pass-through on tcp 127\.0\.0\.1:(\d+)/))[1]);
  await kdc.waitFor(/ready on/);
});

after(async () => {
  await kdc?.stop('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

test('principal add --allow-ntlm stores the credential; show says so; modify --no-allow-ntlm deletes it', async () => {
  assert.match((await cli('principal', 'show', 'alice')).stdout, /^NTLM: allowed, credential held \(kvno 1\)$/m);
  assert.match((await cli('principal', 'show', 'bob')).stdout, /^NTLM: not allowed$/m);
  const on = await cli('principal', 'modify', 'bob', '--allow-ntlm');
  assert.match(on.stderr, /set it \(kerbside principal set-password/);
  assert.match((await cli('principal', 'show', 'bob')).stdout, /^NTLM: allowed, no credential yet/m);
  assert.match((await cli('principal', 'set-password', 'bob', '--password', 'bob-pw123')).stdout, /NTLM credential stored/);
  assert.match((await cli('principal', 'show', 'bob')).stdout, /^NTLM: allowed, credential held \(kvno 2\)$/m);
  await cli('principal', 'modify', 'bob', '--no-allow-ntlm');
  assert.match((await cli('principal', 'show', 'bob')).stdout, /^NTLM: not allowed$/m);
  // Exported keytabs hold only Kerberos keys, never the NTLM credential.
  const exported = join(work, 'alice.keytab');
  await cli('keytab', 'export', '--principal', 'alice', '--out', exported);
  assert.deepEqual((await readKeytab(exported)).map((e) => e.enctype), [18, 17, 20, 19]);
});

test('kerbside kdc --ntlm-listen validates a logon for the web node holding the service keytab; a bad password is a logon failure', async () => {
  const ok = await byPath().validate(logon('alice', 'alice-pw1'));
  assert.equal(ok.principal, `alice@${REALM}`);
  assert.equal(ok.sessionBaseKey.length, 16);
  // The whole handshake: kerbside's NTLM initiator and acceptor, the acceptor asking the KDC process.
  const initiator = new NtlmInitiator({ credential: { user: 'alice', domain: 'EXAMPLE', secret: { password: 'alice-pw1' } }, targetName: 'HTTP/web.example.test' });
  const ctx = new NtlmAcceptor({ validator: validator(), service: SERVICE, issuedChallenges: new NtlmChallengeRegistry() }).newContext();
  const challenge = await ctx.acceptSecContext(initiator.initSecContext().output!);
  assert.equal((await ctx.acceptSecContext(initiator.initSecContext(challenge.output!).output!)).complete, true);
  assert.equal(ctx.context.initiator, `alice@${REALM}`);
  await assert.rejects(validator().validate(logon('alice', 'wrong-pw1')), (err: unknown) => err instanceof NtlmLogonFailureError && err.detail['cause'] === 'bad_password');
  await logged(/info ntlm\.validation: NTLM logon of EXAMPLE\\alice as alice@EXAMPLE\.TEST for HTTP\/web\.example\.test@EXAMPLE\.TEST/);
  await logged(/warning ntlm\.validation: .*\(bad_password\)/);
  assert.doesNotMatch(kdc.stderr(), /alice-pw1|wrong-pw1/);
  // The KDC host's event log has the three as 4776, found by user (the running KDC writes it in batches).
  let records: Record<string, unknown>[] = [];
  for (let i = 0; i < 50 && records.length < 3; i++) {
    if (i > 0) await systemClock().sleep(100);
    const r = await cli('events', '--id', '4776', '--user', 'alice', '--json');
    records = r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  assert.deepEqual(records.map((r) => r['level']).sort(), ['audit_failure', 'audit_success', 'audit_success'], JSON.stringify(records));
  assert.doesNotMatch(JSON.stringify(records), /alice-pw1|wrong-pw1/);
});

test('after the service is re-keyed without its old kvno, the stale keytab is refused (unknown_key) until exported again', async () => {
  await cli('principal', 'randkey', 'HTTP/web.example.test', '--purge-old');
  let refused: unknown;
  for (let i = 0; i < 40 && refused === undefined; i++) {
    refused = await validator().validate(logon('alice', 'alice-pw1')).then(() => undefined, (err: unknown) => err);
    if (refused === undefined) await systemClock().sleep(100);
  }
  assert.ok(refused instanceof NtlmPassThroughError, String(refused));
  assert.equal(refused.detail['cause'], 'unknown_key');
  await cli('keytab', 'export', '--principal', SERVICE, '--out', keytab);
  assert.equal((await validator().validate(logon('alice', 'alice-pw1'))).principal, `alice@${REALM}`);
});

test('--ntlm-listen without ntlm = true in kdc.conf is refused with the fix', async () => {
  const other = join(work, 'plain');
  assert.equal((await runCliInProcess(['realm', 'init', '--realm', REALM, '--dir', other, '--admin-password', 'admin-pw1'])).code, 0);
  const stop = new AbortController();
  const r = await runCliInProcess(['kdc', '--dir', other, '--listen', '127.0.0.1:0', '--ntlm-listen', '127.0.0.1:0'], { signal: stop.signal });
  stop.abort();
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /NTLM pass-through needs NTLM enabled/);
  assert.match(r.stderr, /ntlm = true/);
});

test('curl --ntlm to a web node whose negotiateServer validates through kerbside kdc --ntlm-listen: 200 as alice; a wrong password 401', async () => {
  const curl = requireTool('curl', 'curl');
  const server = negotiateServer({
    keytab, principal: SERVICE, events: nullSink(),
    ntlm: { validator: byPath(), service: SERVICE },
  });
  const http = createServer(negotiateListener(server, (req, res) => { res.end(`hello ${req.auth.principal} (${req.auth.package})\n`); }));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
    const env = { ...baseEnvironment(), KRB5CCNAME: `FILE:${join(work, 'no-ccache')}` };
    const ok = await runProgram(curl, ['-sS', '--fail', '--ntlm', '-u', 'alice:alice-pw1', url], { env, timeoutMs: 20_000 });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `hello alice@${REALM} (ntlm)\n`);
    const bad = await runProgram(curl, ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--ntlm', '-u', 'alice:wrong-pw1', url], { env, timeoutMs: 20_000 });
    assert.equal(bad.stdout, '401');
  } finally {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
});
