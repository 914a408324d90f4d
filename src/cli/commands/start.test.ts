/**
 * `kerbside start` (npm start) as a user runs it: a child process in an
 * empty folder, MIT kinit/kvno following the printed instructions, SIGTERM,
 * and a second run that reuses the realm. The first run holds ports 60088
 * and 8080 busy on purpose so the fallbacks to a free port are exercised too.
 * The protected page is fetched with `curl --negotiate -u :` exactly as
 * printed: 401 with the log-on steps without a ticket, 200 with the greeting
 * after MIT kinit.
 */

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, spawnCli, type CliProcess } from '../../testing/kerbside-cli.js';
import { baseEnvironment, mitTool, parseKlistKeytab, requireTool, runProgram, type RunResult } from '../../testing/mit-tools.js';
import { DEMO_PORT } from './start.js';
import { DEMO_WEB_PORT } from '../demo-web.js';

const work = await mkdtemp(join(tmpdir(), 'kerbside-start-'));
const procs: CliProcess[] = [];
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  await rm(work, { recursive: true, force: true });
});

/** Holds the demo port (TCP and UDP) busy, if it is free; whoever holds it, start must fall back. */
async function occupyDemoPort(): Promise<() => Promise<void>> {
  const tcp: Server = createServer();
  const tcpOk = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen(DEMO_PORT, '127.0.0.1', () => resolve(true));
  });
  const udp: Socket = createSocket('udp4');
  const udpOk = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(DEMO_PORT, '127.0.0.1', () => resolve(true));
  });
  return async () => {
    if (tcpOk) await new Promise<void>((r) => { tcp.close(() => r()); });
    if (udpOk) await new Promise<void>((r) => { udp.close(() => r()); });
  };
}

/** Holds the demo web port busy, if it is free; whoever holds it, start must pick another. */
async function occupyWebPort(): Promise<{ held: boolean; release: () => Promise<void> }> {
  const tcp: Server = createServer();
  const held = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen(DEMO_WEB_PORT, '127.0.0.1', () => resolve(true));
  });
  return { held, release: async () => { if (held) await new Promise<void>((r) => { tcp.close(() => r()); }); } };
}

interface Printed { readonly config: string; readonly password: string; readonly port: number; readonly url: string }

async function startDemo(args: readonly string[]): Promise<{ proc: CliProcess; printed: Printed }> {
  const proc = spawnCli(['start', ...args], { cwd: work });
  procs.push(proc);
  const ready = await proc.waitFor(/kerbside start: ready, serving DEMO\.TEST on udp 127\.0\.0\.1:(\d+)/);
  const out = proc.stdout();
  const config = /KRB5_CONFIG=(\S+) kinit alice@DEMO\.TEST/.exec(out)?.[1];
  const password = /user\s+alice@DEMO\.TEST\s+password: (\S+)/.exec(out)?.[1];
  const url = /web page\s+(http:\/\/localhost:\d+\/)/.exec(out)?.[1];
  assert.ok(config !== undefined && password !== undefined, `start did not print a kinit line and a password:\n${out}`);
  assert.ok(url !== undefined, `start did not print the web page's address:\n${out}`);
  assert.match(out, /KRB5_CONFIG=\S+ npx kerbside kinit alice/);
  // The printed commands for the page, with this run's krb5.conf and URL.
  assert.ok(out.includes(`KRB5_CONFIG=${config} curl --negotiate -u : ${url}`), out);
  assert.ok(out.includes(`KRB5_CONFIG=${config} chromium --auth-server-allowlist=localhost ${url}`), out);
  return { proc, printed: { config, password, port: Number(ready[1]), url } };
}

/** `curl --negotiate -u : URL` as printed, with the demo's krb5.conf and the given ccache. */
function curlNegotiate(printed: Printed, ccache: string, accept?: string): Promise<RunResult> {
  const curl = requireTool('curl', 'curl');
  const args = ['-sS', '-w', '\n%{http_code}', '--negotiate', '-u', ':', ...(accept === undefined ? [] : ['-H', `Accept: ${accept}`]), printed.url];
  return runProgram(curl, args, { env: { ...baseEnvironment(), KRB5_CONFIG: printed.config, KRB5CCNAME: ccache }, timeoutMs: 20_000 });
}

/** curl's body and status (the last line, from -w). */
function response(r: RunResult): { status: number; body: string } {
  assert.equal(r.code, 0, `curl failed:\n${r.stderr}`);
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

function mit(tool: 'kinit' | 'kvno', args: readonly string[], config: string, input?: string): Promise<RunResult> {
  return runProgram(mitTool(tool), args, {
    env: { ...baseEnvironment(), KRB5_CONFIG: config, KRB5RCACHEDIR: work },
    ...(input === undefined ? {} : { input }),
  });
}

let first: Printed;

test('first run: creates DEMO.TEST, falls back from a busy port, and MIT kinit logs on as printed', async () => {
  const release = await occupyDemoPort();
  const web = await occupyWebPort();
  let run;
  try {
    run = await startDemo([]);
  } finally {
    await release();
    await web.release();
  }
  first = run.printed;
  assert.notEqual(first.port, DEMO_PORT);
  assert.match(run.proc.stdout(), /Created the demo realm DEMO\.TEST/);
  assert.match(run.proc.stdout(), /Port 60088 is busy/);
  assert.equal(first.config, join(work, '.kerbside', 'demo', 'krb5.conf'));
  assert.notEqual(new URL(first.url).port, String(DEMO_WEB_PORT));
  if (web.held) assert.match(run.proc.stdout(), /Port 8080 is busy; the web page uses port \d+/);

  // No ticket yet (an empty ccache): 401, and the page says what to run, with this demo's paths.
  const none = response(await curlNegotiate(first, `FILE:${join(work, 'no-such-ccache')}`));
  assert.equal(none.status, 401, none.body);
  assert.ok(none.body.includes(`KRB5_CONFIG=${first.config} kinit alice@DEMO.TEST`), none.body);
  assert.ok(none.body.includes(`KRB5_CONFIG=${first.config} curl --negotiate -u : ${first.url}`), none.body);
  assert.ok(none.body.includes('chromium --auth-server-allowlist=localhost'), none.body);
  assert.ok(!none.body.includes(first.password), 'the 401 page must not show the password');

  const k = await mit('kinit', ['alice@DEMO.TEST'], first.config, `${first.password}\n`);
  assert.equal(k.code, 0, `${k.stderr}\n${run.proc.stderr()}`);
  // The ccache lives in the data folder (the printed krb5.conf says so), not in the user's default one.
  await stat(join(work, '.kerbside', 'demo', 'ccache'));
  const v = await mit('kvno', ['HTTP/localhost@DEMO.TEST'], first.config);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /kvno = 1/);

  // With alice's ticket the printed curl command is greeted by name, with the ticket's details.
  const ccache = `FILE:${join(work, '.kerbside', 'demo', 'ccache')}`;
  const ok = response(await curlNegotiate(first, ccache));
  assert.equal(ok.status, 200, `${ok.body}\n${run.proc.stderr()}`);
  assert.match(ok.body, /^Hello, alice@DEMO\.TEST!/);
  for (const line of [/principal\s+alice@DEMO\.TEST/, /realm\s+DEMO\.TEST/, /mechanism\s+spnego\/kerberos/, /flags\s+.*MUTUAL/, /ticketEndTime\s+\d{4}-\d\d-\d\dT/, /via\s+negotiate/]) {
    assert.match(ok.body, line);
  }
  // A browser (Accept: text/html) gets the same as a page.
  const html = response(await curlNegotiate(first, ccache, 'text/html'));
  assert.equal(html.status, 200);
  assert.match(html.body, /<h1>Hello, alice@DEMO\.TEST!<\/h1>/);
  assert.match(html.body, /<th>ticketEndTime<\/th>/);

  const keytab = join(work, '.kerbside', 'demo', 'http.keytab');
  const entries = parseKlistKeytab((await runProgram(mitTool('klist'), ['-k', '-t', '-e', '-K', keytab], { env: baseEnvironment() })).stdout);
  assert.ok(entries.some((e) => e.principal === 'HTTP/localhost@DEMO.TEST' && e.kvno === 1 && e.enctype === 'aes256-cts-hmac-sha1-96'));

  const { code, signal } = await run.proc.stop('SIGTERM');
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  assert.match(run.proc.stdout(), /kerbside start: stopped/);
});

test('second run: reuses the realm (same password) and serves again', async () => {
  const { proc, printed } = await startDemo(['--port', '0', '--web-port', '0']);
  assert.doesNotMatch(proc.stdout(), /Created the demo realm/);
  assert.equal(printed.password, first.password);
  const k = await mit('kinit', ['alice@DEMO.TEST'], printed.config, `${printed.password}\n`);
  assert.equal(k.code, 0, `${k.stderr}\n${proc.stderr()}`);
  // The printed kerbside instructions work too.
  const env = { KRB5_CONFIG: printed.config };
  const kk = await runCli(['kinit', 'alice'], { env, input: `${printed.password}\n` });
  assert.equal(kk.code, 0, `${kk.stderr}\n${proc.stderr()}`);
  assert.match((await runCli(['klist'], { env })).stdout, /Default principal: alice@DEMO\.TEST/);
  // The kerbside-made ccache works for curl's (MIT) GSS-API too.
  const page = response(await curlNegotiate(printed, `FILE:${join(work, '.kerbside', 'demo', 'ccache')}`));
  assert.equal(page.status, 200, page.body);
  assert.match(page.body, /^Hello, alice@DEMO\.TEST!/);
  const { code } = await proc.stop('SIGINT');
  assert.equal(code, 0);
});
