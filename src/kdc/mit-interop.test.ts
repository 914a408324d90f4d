/**
 * Real MIT krb5 1.20 clients (kinit, klist, kvno) against startTestRealm on
 * loopback. A missing tool fails the test naming its Debian package.
 */

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { memorySink, type MemorySink } from '../events/index.js';
import { baseEnvironment, mitTool, parseKlistCache, runProgram, type RunResult } from '../testing/mit-tools.js';
import { startTestRealm, type TestRealm } from './test-realm.js';

/** The system clock shifted by `offsetMs` (a KDC whose clock is off). */
function offsetClock(): Clock & { offsetMs: number } {
  const base = systemClock();
  const clock = {
    offsetMs: 0,
    now: () => base.now() + clock.offsetMs,
    setTimer: (ms: number, fn: () => void) => base.setTimer(ms, fn),
    sleep: (ms: number) => base.sleep(ms),
  };
  return clock;
}

let dir: string;
let realm: TestRealm;
let events: MemorySink;
const clock = offsetClock();
const tools = { kinit: '', klist: '', kvno: '' };

before(async () => {
  tools.kinit = mitTool('kinit');
  tools.klist = mitTool('klist');
  tools.kvno = mitTool('kvno');
  dir = await mkdtemp(join(tmpdir(), 'kerbside-kdc-mit-'));
  events = memorySink();
  realm = await startTestRealm({
    clock, events,
    principals: [
      { name: 'alice', password: 'alice secret' },
      { name: 'HTTP/localhost' },
      { name: 'svc/batch', randomKey: true },
    ],
  });
  await realm.writeKrb5Conf(join(dir, 'krb5.conf'));
});

after(async () => {
  await realm?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

let ccacheCounter = 0;

/** A private environment: its own krb5.conf (optionally with extra libdefaults) and ccache. */
async function env(libdefaults?: Record<string, string | number | boolean>): Promise<Record<string, string>> {
  const n = ccacheCounter++;
  let conf = join(dir, 'krb5.conf');
  if (libdefaults !== undefined) {
    conf = join(dir, `krb5-${n}.conf`);
    await realm.writeKrb5Conf(conf, libdefaults);
  }
  return { ...baseEnvironment(), KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(dir, `cc-${n}`)}` };
}

function run(tool: string, args: string[], e: Record<string, string>, input?: string): Promise<RunResult> {
  return runProgram(tool, args, { env: e, ...(input === undefined ? {} : { input }) });
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

async function kinitAlice(e: Record<string, string>, args: string[] = []): Promise<void> {
  ok(await run(tools.kinit, [...args, 'alice'], e, 'alice secret\n'), 'kinit alice');
}

test('MIT kinit with a password gets a TGT; klist shows the flags and enctype', async () => {
  const e = await env();
  await kinitAlice(e, ['-r', '2d']);
  const cache = parseKlistCache(ok(await run(tools.klist, ['-e', '-f'], e), 'klist').stdout);
  assert.equal(cache.defaultPrincipal, 'alice@EXAMPLE.TEST');
  const tgt = cache.credentials.find((c) => c.service === 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
  assert.ok(tgt, 'a TGT in the cache');
  for (const flag of ['F', 'R', 'I', 'A']) assert.ok(tgt.flags?.includes(flag), `flag ${flag} in ${tgt.flags}`);
  assert.equal(tgt.sessionEnctype, 'aes256-cts-hmac-sha1-96');
  assert.equal(tgt.ticketEnctype, 'aes256-cts-hmac-sha1-96');
  assert.ok(tgt.renewUntil !== undefined);
});

test('MIT kvno gets a service ticket; kinit -R renews the TGT', async () => {
  const e = await env();
  await kinitAlice(e, ['-r', '2d']);
  const kvno = ok(await run(tools.kvno, ['HTTP/localhost'], e), 'kvno');
  assert.match(kvno.stdout, /HTTP\/localhost@EXAMPLE\.TEST: kvno = 1/);
  const cache = parseKlistCache(ok(await run(tools.klist, ['-e', '-f'], e), 'klist').stdout);
  const svc = cache.credentials.find((c) => c.service === 'HTTP/localhost@EXAMPLE.TEST');
  assert.ok(svc?.flags?.includes('F'));
  assert.equal(svc?.sessionEnctype, 'aes256-cts-hmac-sha1-96');

  ok(await run(tools.kinit, ['-R'], e), 'kinit -R');
  const renewals = events.ofType('kdc.request').filter((ev) => ev.fields['exchange'] === 'TGS' && (ev.fields['options'] as readonly string[] | undefined)?.includes('renew'));
  assert.ok(renewals.some((ev) => ev.fields['result'] === 'issued'));
  const after = parseKlistCache(ok(await run(tools.klist, [], e), 'klist').stdout);
  assert.equal(after.credentials[0]?.service, 'krbtgt/EXAMPLE.TEST@EXAMPLE.TEST');
});

test('Kerberoasting refused: MIT kvno for a user principal gets KDC_ERR_MUST_USE_USER2USER; an allowService user is served', async () => {
  await realm.addPrincipal('bob', { password: 'bob secret' });
  await realm.addPrincipal('svc/shared', { password: 'shared secret', allowService: true });
  const e = await env();
  await kinitAlice(e);
  const r = await run(tools.kvno, [`bob@${realm.realm}`], e);
  assert.notEqual(r.code, 0, 'a ticket sealed in bob\'s password key was issued');
  assert.match(r.stderr, /Server principal valid for user2user only/);
  const last = events.ofType('kdc.request').filter((ev) => ev.fields['exchange'] === 'TGS').at(-1);
  assert.equal(last?.fields['result'], 'KDC_ERR_MUST_USE_USER2USER');
  assert.match(ok(await run(tools.kvno, ['svc/shared'], e), 'kvno svc/shared').stdout, /svc\/shared@EXAMPLE\.TEST: kvno = 1/);
});

test('MIT kinit -k -t with an exported keytab', async () => {
  const e = await env();
  const keytab = join(dir, 'svc.keytab');
  await realm.exportKeytab('svc/batch', keytab);
  ok(await run(tools.kinit, ['-k', '-t', keytab, 'svc/batch'], e), 'kinit -k -t');
  const cache = parseKlistCache(ok(await run(tools.klist, [], e), 'klist').stdout);
  assert.equal(cache.defaultPrincipal, 'svc/batch@EXAMPLE.TEST');
});

test('a wrong password gives MIT\'s "Password incorrect"', async () => {
  const e = await env();
  const r = await run(tools.kinit, ['alice'], e, 'not the password\n');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Password incorrect while getting initial credentials/);
});

test('a client restricted to aes256-cts-hmac-sha384-192 gets that enctype', async () => {
  const e = await env({ permitted_enctypes: 'aes256-cts-hmac-sha384-192' });
  await kinitAlice(e);
  ok(await run(tools.kvno, ['HTTP/localhost'], e), 'kvno');
  const cache = parseKlistCache(ok(await run(tools.klist, ['-e'], e), 'klist').stdout);
  for (const c of cache.credentials) assert.equal(c.sessionEnctype, 'aes256-cts-hmac-sha384-192', c.service);
});

test('a client forced to TCP (udp_preference_limit = 1) works', async () => {
  const e = await env({ udp_preference_limit: 1 });
  const before = events.events.length;
  await kinitAlice(e);
  ok(await run(tools.kvno, ['HTTP/localhost'], e), 'kvno');
  const seen = events.events.slice(before).filter((ev) => ev.type === 'kdc.request' && ev.fields['result'] === 'issued');
  assert.ok(seen.length >= 2);
  assert.ok(seen.every((ev) => ev.fields['transport'] === 'tcp'));
});

test('a reply too big for UDP makes MIT retry over TCP (KRB_ERR_RESPONSE_TOO_BIG)', async () => {
  const small = await startTestRealm({ principals: [{ name: 'alice', password: 'pw' }], policy: { maxUdpReply: 300 }, events });
  try {
    const conf = join(dir, 'small.conf');
    await small.writeKrb5Conf(conf);
    // A trace file, not /dev/stderr: node's stdio pipes are sockets, which /dev/stderr cannot reopen.
    const trace = join(dir, 'small.trace');
    const e = { ...baseEnvironment(), KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(dir, 'cc-small')}`, KRB5_TRACE: trace };
    ok(await run(tools.kinit, ['alice'], e, 'pw\n'), 'kinit');
    const log = await readFile(trace, 'utf8');
    assert.match(log, /too big for UDP; retrying with TCP/);
    assert.match(log, /Sending TCP request/);
  } finally {
    await small.stop();
  }
});

test('a client clock 10 minutes off: MIT corrects the AS timestamp from the KDC time, the TGS authenticator gets KRB_AP_ERR_SKEW', async () => {
  const e = await env();
  try {
    // MIT notes the KDC's time from the PREAUTH_REQUIRED error (stime) and uses it
    // for the encrypted timestamp, so the AS exchange succeeds despite the offset.
    clock.offsetMs = 10 * 60_000;
    await kinitAlice(e);
    // Now the client's tickets say "KDC time" but its authenticators use its own clock.
    clock.offsetMs = 0;
    const fresh = await env();
    await kinitAlice(fresh);
    clock.offsetMs = 10 * 60_000;
    const r = await run(tools.kvno, ['HTTP/localhost'], fresh);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Clock skew too great/);
    const last = events.ofType('kdc.request').filter((ev) => ev.fields['exchange'] === 'TGS').at(-1);
    assert.equal(last?.fields['result'], 'KRB_AP_ERR_SKEW');
    // The authenticator's time has whole seconds plus cusec; the KDC's offset clock is read a moment later.
    assert.match(String(last?.fields['reason']), /(9m59s|10m0s)/);
  } finally {
    clock.offsetMs = 0;
  }
});

test('MIT kinit against a realm listening on IPv6 (::1), over UDP and over TCP', async () => {
  const v6 = await startTestRealm({ host: '::1', principals: [{ name: 'alice', password: 'pw6' }], events });
  try {
    assert.equal(v6.kdcAddress, `[::1]:${v6.port}`);
    for (const [i, extra] of [{}, { udp_preference_limit: 1 }].entries()) {
      const conf = join(dir, `v6-${i}.conf`);
      await v6.writeKrb5Conf(conf, extra);
      const e = { ...baseEnvironment(), KRB5_CONFIG: conf, KRB5CCNAME: `FILE:${join(dir, `cc-v6-${i}`)}` };
      ok(await run(tools.kinit, ['alice'], e, 'pw6\n'), 'kinit over IPv6');
      const last = events.ofType('kdc.request').filter((ev) => ev.fields['result'] === 'issued').at(-1);
      assert.equal(last?.fields['address'], '::1');
      assert.equal(last?.fields['transport'], i === 0 ? 'udp' : 'tcp');
    }
  } finally {
    await v6.stop();
  }
});
