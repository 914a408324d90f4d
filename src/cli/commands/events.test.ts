/**
 * The persistent event log end to end: `kerbside kdc` as a real server
 * process with MIT krb5 clients (kinit, kvno) as peers writes Windows-shaped
 * records to `<realm>/events.sqlite` — 4768 for a TGT, 4771 for a wrong
 * password, 4740 for the lockout, 4769 for a service ticket — and
 * `kerbside events` (another process) finds, follows, exports and purges them.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientKrb5Conf } from '../../files/index.js';
import { runCli, runCliInProcess, spawnCli, type CliProcess } from '../../testing/kerbside-cli.js';
import { baseEnvironment, mitTool, runProgram, type RunResult } from '../../testing/mit-tools.js';
import { systemClock } from '../../core/clock.js';

const REALM = 'EXAMPLE.TEST';
let work: string;
let dir: string;
let kdc: CliProcess;
let krb5conf: string;

function mit(tool: 'kinit' | 'kvno', args: readonly string[], input?: string): Promise<RunResult> {
  return runProgram(mitTool(tool), args, {
    env: { ...baseEnvironment(), KRB5_CONFIG: krb5conf, KRB5CCNAME: `FILE:${join(work, 'ccache')}`, KRB5RCACHEDIR: work },
    ...(input === undefined ? {} : { input }),
  });
}

async function cli(...args: string[]): Promise<RunResult> {
  const r = await runCli([...args, '--dir', dir]);
  assert.equal(r.code, 0, `kerbside ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r;
}

interface JsonRecord {
  seq: number; time: number; timeCreated: string; eventId: number; level: string; source: string; category: string; type: string;
  user: string | null; computer: string; message: string; data: Record<string, unknown>;
}

/** `kerbside events --json …` until `done` holds (the KDC writes in batches, a moment after it answers). */
async function events(args: readonly string[], done: (r: JsonRecord[]) => boolean): Promise<JsonRecord[]> {
  let last: JsonRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await cli('events', '--json', ...args);
    last = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonRecord);
    if (done(last)) return last;
    await systemClock().sleep(250);
  }
  assert.fail(`kerbside events ${args.join(' ')} never gave what was expected; last:\n${JSON.stringify(last, null, 1)}\nKDC log:\n${kdc.stderr()}`);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kerbside-events-cli-'));
  dir = join(work, 'realm');
  const init = await runCliInProcess(['realm', 'init', '--realm', REALM, '--dir', dir, '--admin-password', 'admin-pw']);
  assert.equal(init.code, 0, init.stderr);
  // Lock after 3 failures (realm init writes 10), so the test needs fewer kinit runs.
  const confPath = join(dir, 'kdc.conf');
  const conf = await readFile(confPath, 'utf8');
  assert.match(conf, /^\s*maxfailure = 10$/m);
  await writeFile(confPath, conf.replace(/^(\s*)maxfailure = 10$/m, '$1maxfailure = 3'));
  await cli('principal', 'add', 'alice', '--password', 'alice-pw');
  await cli('principal', 'add', 'bob', '--password', 'bob-pw-long');
  await cli('principal', 'add', 'HTTP/localhost', '--randkey');
  kdc = spawnCli(['kdc', '--dir', dir, '--listen', '127.0.0.1:0']);
  const m = await kdc.waitFor(/ready on udp 127\.0\.0\.1:(\d+)/);
  krb5conf = join(work, 'krb5.conf');
  await writeFile(krb5conf, clientKrb5Conf({ realm: REALM, kdc: `127.0.0.1:${m[1]!}` }));
});

after(async () => {
  await kdc?.stop('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

test('MIT kinit: 4768 audit success for alice, found by kerbside events --id 4768 --user alice --json', async () => {
  const r = await mit('kinit', [`alice@${REALM}`], 'alice-pw\n');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'events.sqlite')), 'kerbside kdc writes <realm>/events.sqlite by default');
  const found = await events(['--id', '4768', '--user', 'alice'], (x) => x.length >= 1);
  assert.equal(found.length, 1, 'one 4768 per TGT: the PREAUTH_REQUIRED round is not recorded');
  const e = found[0]!;
  assert.equal(e.eventId, 4768);
  assert.equal(e.level, 'audit_success');
  assert.equal(e.source, 'kerbside-kdc');
  assert.equal(e.category, 'Kerberos Authentication Service');
  assert.equal(e.type, 'kdc.request');
  assert.equal(e.user, `alice@${REALM}`);
  assert.equal(e.computer, hostname());
  assert.equal(e.data['service'], `krbtgt/${REALM}@${REALM}`);
  assert.equal(e.data['address'], '127.0.0.1');
  assert.equal(e.data['result'], 'issued');
  assert.ok(Math.abs(Date.parse(e.timeCreated) - systemClock().now()) < 60_000);
  // Nobody else's events under --user alice, and no admin 4768 either.
  assert.deepEqual(await events(['--user', 'admin'], () => true), []);
});

test('MIT kvno: 4769 audit success naming the service', async () => {
  const r = await mit('kvno', [`HTTP/localhost@${REALM}`]);
  assert.equal(r.code, 0, r.stderr);
  const found = await events(['--id', '4769'], (x) => x.length >= 1);
  assert.equal(found[0]!.level, 'audit_success');
  assert.equal(found[0]!.category, 'Kerberos Service Ticket Operations');
  assert.equal(found[0]!.user, `alice@${REALM}`);
  assert.equal(found[0]!.data['service'], `HTTP/localhost@${REALM}`);
});

test('wrong passwords from MIT kinit: 4771 audit failure each, then 4740 when bob is locked out; no password stored', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await mit('kinit', [`bob@${REALM}`], 'not-bobs-password\n');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Password incorrect/);
  }
  const locked = await mit('kinit', [`bob@${REALM}`], 'bob-pw-long\n');
  assert.match(locked.stderr, /revoked/i);
  const found = await events(['--user', 'bob', '--id', '4771,4740'], (x) => x.some((e) => e.eventId === 4740));
  // The lockout is decided while the third failure is processed, so its 4740 comes just before that 4771.
  assert.deepEqual(found.map((e) => [e.eventId, e.level]), [
    [4771, 'audit_failure'], [4771, 'audit_failure'], [4740, 'audit_success'], [4771, 'audit_failure'],
  ]);
  const lockout = found.find((e) => e.eventId === 4740)!;
  assert.equal(lockout.category, 'User Account Management');
  assert.match(lockout.message, /bob@EXAMPLE\.TEST locked out for requests from 127\.0\.0\.1 after 3 pre-authentication failures/);
  // The refusal while locked is a 4768 failure with its result code.
  const refused = await events(['--user', 'bob', '--id', '4768', '--level', 'audit_failure'], (x) => x.length >= 1);
  assert.equal(refused[0]!.data['result'], 'KDC_ERR_CLIENT_REVOKED');
  const exported = join(work, 'all.jsonl');
  await cli('events', 'export', '--to', exported);
  const text = await readFile(exported, 'utf8');
  assert.ok(!text.includes('not-bobs-password') && !text.includes('bob-pw-long') && !text.includes('alice-pw'), 'no password in the log');
});

test('text output: one line per event with time, id, level, source, user, computer and message', async () => {
  const r = await cli('events', '--user', 'bob', '--level', 'audit_failure', '--id', '4771', '--limit', '2');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2, '--limit 2: the newest two');
  for (const line of lines) {
    assert.match(line, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z   4771  Audit Failure  kerbside-kdc  bob@EXAMPLE\.TEST  \S+  pre-authentication failed for bob@EXAMPLE\.TEST from 127\.0\.0\.1$/);
  }
  const since = await cli('events', '--since', '-1h', '--source', 'kerbside-kdc', '--id', '4768');
  assert.ok(since.stdout.split('\n').filter((l) => l !== '').length >= 2);
  assert.equal((await cli('events', '--until', '-1h')).stdout, '', 'nothing is older than an hour');
  const bad = await runCli(['events', '--dir', dir, '--level', 'loud']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--level "loud" is not one of error, warning, information, audit_success, audit_failure/);
  const none = await runCli(['events', '--dir', join(work, 'nowhere')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no event log in .*nowhere: events\.sqlite not found/);
});

test('--follow prints new records as the KDC writes them, and stops cleanly on SIGTERM', async () => {
  const follower = spawnCli(['events', '--follow', '--dir', dir, '--id', '4768', '--user', 'alice', '--json']);
  try {
    await follower.waitFor(/"eventId":4768/);
    const before = follower.stdout().split('\n').filter((l) => l !== '').length;
    const r = await mit('kinit', [`alice@${REALM}`], 'alice-pw\n');
    assert.equal(r.code, 0, r.stderr);
    await follower.waitFor(new RegExp(`(?:.*\\n){${before}}.*"eventId":4768`));
    const lines = follower.stdout().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as JsonRecord);
    assert.equal(lines.length, before + 1);
    assert.ok(lines.every((e) => e.user === `alice@${REALM}` && e.eventId === 4768));
  } finally {
    const end = await follower.stop('SIGTERM');
    assert.equal(end.code, 0, follower.stderr());
  }
});

test('export writes matching records as JSON lines (0600); purge applies retention now', async () => {
  const file = join(work, 'tgts.jsonl');
  const r = await cli('events', 'export', '--to', file, '--id', '4768');
  assert.match(r.stdout, /^exported \d+ events to /);
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as JsonRecord);
  assert.ok(lines.length >= 3 && lines.every((e) => e.eventId === 4768));
  const { statSync } = await import('node:fs');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match((await cli('events', 'purge', '--older-than', '1d')).stdout, /^purged 0 events; \d+ left/);
  assert.match((await cli('events', 'purge', '--max-size', '0')).stdout, /^purged \d+ events; 0 left/);
  const usage = await runCli(['events', 'purge', '--dir', dir]);
  assert.equal(usage.code, 2);
});

test('usage errors name the option and the expected form; an export to a missing folder names the file', async () => {
  const run = (...args: string[]) => runCliInProcess(['events', ...args, '--dir', dir]);
  for (const [args, message] of [
    [['--since', 'yesterday'], /--since "yesterday" is not a time \(ISO 8601 such as 2026-12-03T08:00:00Z, or a time ago such as -1h, -7d\)/],
    [['--until', '2026-13-45'], /--until "2026-13-45" is not a time/],
    [['--id', '4768,x'], /--id "x" is not an event id/],
    [['--limit', '0'], /--limit "0" is not a positive whole number/],
    [['purge', '--older-than', 'soon'], /--older-than "soon" is not a duration/],
    [['purge', '--max-size', 'big'], /--max-size: "big" is not a size/],
    [['export'], /give the file to write with --to FILE\.jsonl/],
  ] as const) {
    const r = await run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const r = await run('export', '--to', join(work, 'no', 'such', 'dir', 'x.jsonl'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot write the export to .*x\.jsonl/);
  // ISO times and glued negative times parse.
  assert.equal((await run('--since=-2d', '--until', '2999-01-01')).code, 0);
});
