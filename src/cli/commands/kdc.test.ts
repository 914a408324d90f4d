/**
 * `kerbside kdc` as a real server process, administered by `kerbside
 * principal` / `keytab` in other processes, with MIT krb5 1.20 clients
 * (kinit, klist, kvno) as peers: changes are seen without a restart (the
 * PrincipalCache polls the store's change log), UDP/TCP and IPv4/IPv6 work,
 * every request is logged without secrets, and SIGTERM stops it with exit 0.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientKrb5Conf } from '../../files/index.js';
import { runCli, runCliInProcess, spawnCli, type CliProcess } from '../../testing/kerbside-cli.js';
import { baseEnvironment, mitTool, parseKlistCache, parseKlistKeytab, runProgram, type RunResult } from '../../testing/mit-tools.js';
import { systemClock } from '../../core/clock.js';
import { createSocket } from 'node:dgram';
import { ErrorCode } from '../../messages/index.js';
import { asReq, expectError, methodData } from '../../testing/kdc-client.js';

const REALM = 'EXAMPLE.TEST';
let work: string;
let dir: string;
let kdc: CliProcess;
let conf: { v4: string; tcp: string; v6: string };
let udpPort: number;

function mit(tool: 'kinit' | 'klist' | 'kvno', args: readonly string[], o: { config?: string; ccache?: string; input?: string } = {}): Promise<RunResult> {
  return runProgram(mitTool(tool), args, {
    env: { ...baseEnvironment(), KRB5_CONFIG: o.config ?? conf.v4, KRB5CCNAME: `FILE:${o.ccache ?? join(work, 'ccache')}`, KRB5RCACHEDIR: work },
    ...(o.input === undefined ? {} : { input: o.input }),
  });
}

async function cli(...args: string[]): Promise<RunResult> {
  const r = await runCli([...args, '--dir', dir]);
  assert.equal(r.code, 0, `kerbside ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

/** Retries until `attempt` succeeds: the KDC notices another process's change within one poll interval. */
async function eventually(what: string, attempt: () => Promise<RunResult>): Promise<RunResult> {
  let last: RunResult | undefined;
  for (let i = 0; i < 40; i++) {
    last = await attempt();
    if (last.code === 0) return last;
    await systemClock().sleep(250);
  }
  assert.fail(`${what} never succeeded:\n${last?.stderr}${last?.stdout}\nKDC log:\n${kdc.stderr()}`);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kerbside-kdc-cli-'));
  dir = join(work, 'realm');
  const init = await runCliInProcess(['realm', 'init', '--realm', REALM, '--dir', dir, '--admin-password', 'admin-pw']);
  assert.equal(init.code, 0, init.stderr);
  kdc = spawnCli(['kdc', '--dir', dir, '--listen', '127.0.0.1:0', '--listen', '[::1]:0', '--poll-interval-ms', '200']);
  const m = await kdc.waitFor(/ready on udp 127\.0\.0\.1:(\d+), tcp 127\.0\.0\.1:\d+, udp \[::1\]:(\d+)/);
  const [v4, v6] = [`127.0.0.1:${m[1]!}`, `[::1]:${m[2]!}`];
  udpPort = Number(m[1]);
  conf = { v4: join(work, 'krb5.conf'), tcp: join(work, 'krb5-tcp.conf'), v6: join(work, 'krb5-v6.conf') };
  await writeFile(conf.v4, clientKrb5Conf({ realm: REALM, kdc: v4 }));
  await writeFile(conf.tcp, clientKrb5Conf({ realm: REALM, kdc: v4 }).replace('[libdefaults]\n', '[libdefaults]\n\tudp_preference_limit = 1\n'));
  await writeFile(conf.v6, clientKrb5Conf({ realm: REALM, kdc: v6 }));
});

after(async () => {
  await kdc?.stop('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

test('the admin principal made by realm init gets a TGT from MIT kinit', async () => {
  const r = await mit('kinit', [`admin@${REALM}`], { input: 'admin-pw\n' });
  assert.equal(r.code, 0, r.stderr);
  const cache = parseKlistCache((await mit('klist', ['-e', '-f'])).stdout);
  assert.equal(cache.defaultPrincipal, `admin@${REALM}`);
  assert.equal(cache.credentials[0]?.service, `krbtgt/${REALM}@${REALM}`);
  assert.equal(cache.credentials[0]?.ticketEnctype, 'aes256-cts-hmac-sha1-96');
  assert.match(cache.credentials[0]?.flags ?? '', /I/);
  assert.match(cache.credentials[0]?.flags ?? '', /A/);
});

test('a principal added by another process while the KDC runs can log on at once', async () => {
  await cli('principal', 'add', 'bob', '--password', 'bob-pw-1');
  const r = await eventually('kinit bob', () => mit('kinit', [`bob@${REALM}`], { input: 'bob-pw-1\n' }));
  assert.equal(r.code, 0);
  assert.equal(parseKlistCache((await mit('klist', [])).stdout).defaultPrincipal, `bob@${REALM}`);
});

test('keytab export: MIT kinit -k uses it, and MIT kvno gets a ticket for the service', async () => {
  await cli('principal', 'add', 'HTTP/localhost', '--randkey');
  const keytab = join(work, 'http.keytab');
  await cli('keytab', 'export', '--principal', 'HTTP/localhost', '--out', keytab);
  const entries = parseKlistKeytab((await runProgram(mitTool('klist'), ['-k', '-t', '-e', '-K', keytab], { env: baseEnvironment() })).stdout);
  assert.deepEqual(entries.map((e) => [e.principal, e.kvno, e.enctype]), [
    [`HTTP/localhost@${REALM}`, 1, 'aes256-cts-hmac-sha1-96'], [`HTTP/localhost@${REALM}`, 1, 'aes128-cts-hmac-sha1-96'],
    [`HTTP/localhost@${REALM}`, 1, 'aes256-cts-hmac-sha384-192'], [`HTTP/localhost@${REALM}`, 1, 'aes128-cts-hmac-sha256-128'],
  ]);
  const svc = join(work, 'svc-ccache');
  const k = await eventually('kinit -k', () => mit('kinit', ['-k', '-t', keytab, `HTTP/localhost@${REALM}`], { ccache: svc }));
  assert.equal(k.code, 0);

  const v = await mit('kvno', [`HTTP/localhost@${REALM}`]);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /HTTP\/localhost@EXAMPLE\.TEST: kvno = 1/);
});

test('set-password in another process: the KDC takes the new password, the old one stops working', async () => {
  await cli('principal', 'set-password', 'bob', '--password', 'bob-pw-2');
  await eventually('kinit bob with the new password', () => mit('kinit', [`bob@${REALM}`], { input: 'bob-pw-2\n' }));
  const old = await mit('kinit', [`bob@${REALM}`], { input: 'bob-pw-1\n' });
  assert.notEqual(old.code, 0);
  assert.match(old.stderr, /Password incorrect/);
  const show = await cli('principal', 'show', 'bob');
  assert.match(show.stdout, /Current kvno: 2/);
  assert.match(show.stdout, /Key: vno 1, aes256-cts-hmac-sha1-96/, 'old keys are kept by default');
});

test('randkey adds a kvno that MIT kvno sees, and keeps the old kvno unless --purge-old', async () => {
  await cli('principal', 'randkey', 'HTTP/localhost');
  const v = await eventually('kvno after randkey', async () => {
    // A fresh ccache each time: kvno would otherwise reuse the cached kvno-1 ticket.
    await mit('kinit', [`bob@${REALM}`], { input: 'bob-pw-2\n' });
    const r = await mit('kvno', [`HTTP/localhost@${REALM}`]);
    return r.code === 0 && /kvno = 2/.test(r.stdout) ? r : { ...r, code: 1 };
  });
  assert.match(v.stdout, /kvno = 2/);
  const show = await cli('principal', 'show', 'HTTP/localhost');
  assert.match(show.stdout, /Key: vno 1,/);
  await cli('principal', 'randkey', 'HTTP/localhost', '--purge-old');
  const purged = await cli('principal', 'show', 'HTTP/localhost');
  assert.match(purged.stdout, /Current kvno: 3/);
  assert.doesNotMatch(purged.stdout, /Key: vno [12],/);
});

test('set-password on a service keeps the old kvno: a ticket issued before decrypts with the old key from the exported keytab, a new one with the new key', async () => {
  const service = `HTTP/rotate.example.test@${REALM}`;
  // A service account with a password (as in AD): a service only because it is declared one.
  await cli('principal', 'add', 'HTTP/rotate.example.test', '--password', 'svc-pw-1', '--allow-svr');
  await cli('principal', 'add', 'rot-user', '--password', 'user-pw-1');
  const before = join(work, 'rotate-before.cc');
  const after = join(work, 'rotate-after.cc');
  await eventually('kinit rot-user', () => mit('kinit', [`rot-user@${REALM}`], { ccache: before, input: 'user-pw-1\n' }));
  const old = await eventually('kvno before the change', () => mit('kvno', [service], { ccache: before }));
  assert.match(old.stdout, /kvno = 1/);

  await cli('principal', 'set-password', 'HTTP/rotate.example.test', '--password', 'svc-pw-2');
  await eventually('kvno 2 after set-password', async () => {
    await mit('kinit', [`rot-user@${REALM}`], { ccache: after, input: 'user-pw-1\n' });
    const r = await mit('kvno', [service], { ccache: after });
    return r.code === 0 && /kvno = 2/.test(r.stdout) ? r : { ...r, code: 1 };
  });

  const allKvnos = join(work, 'rotate-all.keytab');
  await cli('keytab', 'export', '--principal', 'HTTP/rotate.example.test', '--out', allKvnos, '--all-kvnos');
  // MIT kvno -k decrypts the ticket it holds (the cached one) with the keytab.
  const oldTicket = await mit('kvno', ['-k', allKvnos, service], { ccache: before });
  assert.equal(oldTicket.code, 0, oldTicket.stderr);
  assert.match(oldTicket.stdout, /kvno = 1, keytab entry valid/);
  const newTicket = await mit('kvno', ['-k', allKvnos, service], { ccache: after });
  assert.equal(newTicket.code, 0, newTicket.stderr);
  assert.match(newTicket.stdout, /kvno = 2, keytab entry valid/);

  // Control: a keytab with only the current kvno cannot decrypt the older ticket.
  const currentOnly = join(work, 'rotate-current.keytab');
  await cli('keytab', 'export', '--principal', 'HTTP/rotate.example.test', '--out', currentOnly);
  const stale = await mit('kvno', ['-k', currentOnly, service], { ccache: before });
  assert.notEqual(stale.code, 0, 'the kvno-1 ticket must not validate against a kvno-2-only keytab');
});

test('a disabled principal is refused; --enabled lets it back in', async () => {
  await cli('principal', 'modify', 'bob', '--disabled');
  const refused = await eventually('refusal of disabled bob', async () => {
    const r = await mit('kinit', [`bob@${REALM}`], { input: 'bob-pw-2\n' });
    return { ...r, code: r.code === 0 ? 1 : 0 };
  });
  assert.match(refused.stderr, /revoked/i);
  await cli('principal', 'modify', 'bob', '--enabled');
  await eventually('kinit of re-enabled bob', () => mit('kinit', [`bob@${REALM}`], { input: 'bob-pw-2\n' }));
});

test('the KDC answers over TCP and over IPv6', async () => {
  const tcp = await mit('kinit', [`admin@${REALM}`], { input: 'admin-pw\n', config: conf.tcp });
  assert.equal(tcp.code, 0, tcp.stderr);
  const v6 = await mit('kinit', [`admin@${REALM}`], { input: 'admin-pw\n', config: conf.v6 });
  assert.equal(v6.code, 0, v6.stderr);
});

/** Sends one AS-REQ without pre-authentication over UDP and returns the raw reply. */
async function bareAsReq(client: string, port: number): Promise<Uint8Array> {
  const socket = createSocket('udp4');
  try {
    const reply = new Promise<Uint8Array>((resolve) => socket.once('message', (m) => resolve(new Uint8Array(m))));
    socket.send(asReq({ client, nonce: 4242, till: Date.UTC(2037, 0, 1) }), port, '127.0.0.1');
    return await reply;
  } finally {
    socket.close();
  }
}

test('lockout (realm init defaults): 10 wrong passwords from MIT kinit lock the user for that address only; locked looks unlocked until the right password', async () => {
  await cli('principal', 'add', 'locky', '--password', 'locky-pw');
  await cli('principal', 'add', 'lucky', '--password', 'lucky-pw');
  const ccache = join(work, 'ccache-locky');
  await eventually('kinit of new locky', () => mit('kinit', [`locky@${REALM}`], { input: 'locky-pw\n', ccache }));
  await eventually('kinit of new lucky', () => mit('kinit', [`lucky@${REALM}`], { input: 'lucky-pw\n', ccache }));
  for (let i = 0; i < 10; i++) {
    const r = await mit('kinit', [`locky@${REALM}`], { input: 'not-the-password\n', ccache });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Password incorrect/, `attempt ${i + 1}: a locked account must look like any other to a wrong password`);
  }
  const revoked = await mit('kinit', [`locky@${REALM}`], { input: 'locky-pw\n', ccache });
  assert.notEqual(revoked.code, 0, 'the right password is refused while locked');
  assert.match(revoked.stderr, /revoked/i);

  // Without the password nobody can tell: the same PREAUTH_REQUIRED as for an unlocked user of the same name length.
  const [locked, unlocked] = [await bareAsReq('locky', udpPort), await bareAsReq('lucky', udpPort)];
  const [le, ue] = [expectError(locked), expectError(unlocked)];
  assert.equal(le.errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
  assert.equal(ue.errorCode, ErrorCode.KDC_ERR_PREAUTH_REQUIRED);
  assert.equal(le.eText, ue.eText);
  assert.deepEqual(methodData(le).map((p) => [p.padataType, p.padataValue.length]), methodData(ue).map((p) => [p.padataType, p.padataValue.length]));
  assert.equal(locked.length, unlocked.length);

  // Per source: from ::1 the user is not locked.
  const v6 = await mit('kinit', [`locky@${REALM}`], { input: 'locky-pw\n', ccache, config: conf.v6 });
  assert.equal(v6.code, 0, v6.stderr);
  const show = (await cli('principal', 'show', 'locky')).stdout;
  assert.match(show, /Locked for 127\.0\.0\.1 until: \d{4}-/);
  assert.match(show, /Last failed authentication: /);

  await cli('principal', 'modify', 'locky', '--unlock');
  const after = await mit('kinit', [`locky@${REALM}`], { input: 'locky-pw\n', ccache });
  assert.equal(after.code, 0, after.stderr);
  assert.doesNotMatch((await cli('principal', 'show', 'locky')).stdout, /Locked/);
  const log = kdc.stderr();
  assert.match(log, /kdc\.lockout: locky@EXAMPLE\.TEST locked out for requests from 127\.0\.0\.1 after 10 pre-authentication failures/);
  assert.ok(!log.includes('locky-pw') && !log.includes('not-the-password'), 'no password in the log');
});

test('one log line per request: client, service, result, enctype and address; never a password', async () => {
  const log = kdc.stderr();
  assert.match(log, /AS client=bob@EXAMPLE\.TEST service=krbtgt\/EXAMPLE\.TEST@EXAMPLE\.TEST result=issued enctype=aes256-cts-hmac-sha1-96 from=127\.0\.0\.1\/udp/);
  assert.match(log, /TGS client=bob@EXAMPLE\.TEST service=HTTP\/localhost@EXAMPLE\.TEST result=issued enctype=\S+ from=127\.0\.0\.1\/udp/);
  assert.match(log, /result=KDC_ERR_PREAUTH_FAILED .*from=127\.0\.0\.1\/udp/);
  assert.match(log, /result=KDC_ERR_CLIENT_REVOKED/);
  assert.match(log, /result=issued .*from=127\.0\.0\.1\/tcp/);
  assert.match(log, /result=issued .*from=::1\/udp/);
  for (const secret of ['admin-pw', 'bob-pw-1', 'bob-pw-2']) assert.ok(!log.includes(secret), `the log holds ${secret}`);
});

test('SIGTERM stops the KDC cleanly with exit code 0', async () => {
  const { code, signal } = await kdc.stop('SIGTERM');
  assert.equal(signal, null);
  assert.equal(code, 0, kdc.stderr());
  assert.match(kdc.stdout(), /kerbside kdc: stopped/);
});
