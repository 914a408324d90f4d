/**
 * Heimdal 7.8 clients against a kerbside realm made with `kerbside realm init`
 * and served by `kerbside kdc` (in this process): kinit with a password and
 * with a keytab, klist, kgetcred for a service ticket, the wrong-password
 * message, and Heimdal's ktutil reading a keytab from `kerbside keytab export`.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientKrb5Conf } from '../files/index.js';
import { parseHeimdalKlistVerbose, runHeimdal } from '../testing/heimdal.js';
import { runCliInProcess, type CapturedRun } from '../testing/kerbside-cli.js';
import type { RunResult } from '../testing/mit-tools.js';

const REALM = 'HEIMDAL.TEST';
let work: string;
let env: Record<string, string>;
let keytab: string;
const stop = new AbortController();
let served: Promise<CapturedRun> | undefined;

async function cli(...args: string[]): Promise<void> {
  const r = await runCliInProcess([...args, '--dir', join(work, 'realm')]);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kerbside-heimdal-'));
  await cli('realm', 'init', '--realm', REALM, '--admin-password', 'admin-pw');
  await cli('principal', 'add', 'alice', '--password', 'alice-pw');
  await cli('principal', 'add', 'HTTP/localhost', '--randkey');
  keytab = join(work, 'http.keytab');
  await cli('keytab', 'export', '--principal', 'HTTP/localhost', '--out', keytab);

  let ready: (port: string) => void;
  const port = new Promise<string>((resolve) => { ready = resolve; });
  served = runCliInProcess(['kdc', '--dir', join(work, 'realm'), '--listen', '127.0.0.1:0'], {
    signal: stop.signal,
    onOut: (line) => { const m = /ready on udp 127\.0\.0\.1:(\d+)/.exec(line); if (m !== null) ready(m[1]!); },
  });
  const kdcPort = await Promise.race([port, served.then((r) => { throw new Error(`kerbside kdc exited:\n${r.stderr}`); })]);
  await writeFile(join(work, 'krb5.conf'), clientKrb5Conf({ realm: REALM, kdc: `127.0.0.1:${kdcPort}` }));
  env = { KRB5_CONFIG: join(work, 'krb5.conf'), KRB5CCNAME: `FILE:${join(work, 'ccache')}`, HOME: work };
});

after(async () => {
  stop.abort();
  if (served !== undefined) assert.equal((await served).code, 0);
  await rm(work, { recursive: true, force: true });
});

function heimdalKinit(args: readonly string[], password?: string): Promise<RunResult> {
  return runHeimdal('kinit', args, { env, ...(password === undefined ? {} : { input: `${password}\n` }) });
}

test('Heimdal kinit --password-file=STDIN gets a TGT that Heimdal klist shows (enctype, flags)', async () => {
  const r = await heimdalKinit(['--password-file=STDIN', `alice@${REALM}`], 'alice-pw');
  assert.equal(r.code, 0, r.stderr);
  const list = parseHeimdalKlistVerbose((await runHeimdal('klist', ['-v'], { env })).stdout);
  assert.equal(list.principal, `alice@${REALM}`);
  const tgt = list.credentials.find((c) => c.server === `krbtgt/${REALM}@${REALM}`);
  assert.ok(tgt !== undefined, JSON.stringify(list));
  assert.equal(tgt.client, `alice@${REALM}`);
  assert.equal(tgt.ticketEnctype, 'aes256-cts-hmac-sha1-96');
  assert.equal(tgt.kvno, 1);
  for (const flag of ['initial', 'pre-authent']) assert.ok(tgt.flags.includes(flag), `flags ${tgt.flags.join(', ')} lack ${flag}`);
});

test('Heimdal kgetcred gets a service ticket for HTTP/localhost', async () => {
  const r = await runHeimdal('kgetcred', [`HTTP/localhost@${REALM}`], { env });
  assert.equal(r.code, 0, r.stderr);
  const list = parseHeimdalKlistVerbose((await runHeimdal('klist', ['-v'], { env })).stdout);
  const svc = list.credentials.find((c) => c.server === `HTTP/localhost@${REALM}`);
  assert.ok(svc !== undefined, JSON.stringify(list));
  assert.equal(svc.ticketEnctype, 'aes256-cts-hmac-sha1-96');
  assert.equal(svc.kvno, 1);
  assert.ok(!svc.flags.includes('initial'));
});

test('Heimdal kinit with the wrong password fails with Heimdal\'s message', async () => {
  const r = await heimdalKinit(['--password-file=STDIN', `alice@${REALM}`], 'not-the-password');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /kinit\.heimdal: Password incorrect/);
});

test('Heimdal kinit -k -t uses a keytab from kerbside keytab export', async () => {
  const listed = await runHeimdal('ktutil', ['-k', keytab, 'list'], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /1\s+aes256-cts-hmac-sha1-96\s+HTTP\/localhost@HEIMDAL\.TEST/);
  const ccache = `FILE:${join(work, 'svc-ccache')}`;
  const r = await runHeimdal('kinit', ['-k', '-t', keytab, `HTTP/localhost@${REALM}`], { env: { ...env, KRB5CCNAME: ccache } });
  assert.equal(r.code, 0, r.stderr);
  const list = parseHeimdalKlistVerbose((await runHeimdal('klist', ['-v'], { env: { ...env, KRB5CCNAME: ccache } })).stdout);
  assert.equal(list.principal, `HTTP/localhost@${REALM}`);
  assert.equal(list.credentials[0]?.server, `krbtgt/${REALM}@${REALM}`);
});
