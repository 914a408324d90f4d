/**
 * HTTP Negotiate (RFC 4559) acceptor throughput: fresh-context
 * authentications per second — one new AP-REQ per request, replay cache on —
 * against
 *   (a) kerbside: node:http + negotiateListener, in a child process;
 *   (b) Apache httpd + mod_auth_gssapi (MIT GSS-API), src/testing/apache.ts;
 *   (c) a Node server on MIT GSS-API through the npm `kerberos` native
 *       binding, installed at bench time into a private prefix (never into
 *       the project); when it cannot be installed or built the bench says why
 *       and runs (a) and (b).
 * One realm (startTestRealm); each server has a keytab for its own HTTP/
 * principal; the same client load for all (load.ts). Server CPU per
 * authentication is read from /proc/<pid>/stat of each server's process tree.
 *
 *   npm run build && node dist/bench/negotiate/main.js [--workers 2] [--seconds 10] [--warmup 2]
 *     [--servers kerbside,apache,native] [--native-prefix DIR (reuse an install)]
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { clientConfig, KerberosClient, LogonSession } from '../../src/client/index.js';
import type { Credential } from '../../src/files/index.js';
import { startTestRealm, type TestRealm } from '../../src/kdc/index.js';
import { startApache, type ApacheServer } from '../../src/testing/apache.js';
import { freeLoopbackPort } from '../../src/testing/mit-realm.js';
import { runLoad, negotiateHeader, type LoadResult, type NegotiateTarget } from './load.js';
import { clockTicks, fmt } from '../common/measure.js';

const REALM = 'BENCH.TEST';
const KINDS = ['kerbside', 'apache', 'native'] as const;
type Kind = typeof KINDS[number];
const LABEL: Readonly<Record<Kind, string>> = { kerbside: 'kerbside (node:http)', apache: 'Apache mod_auth_gssapi', native: 'node + npm kerberos' };

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    servers: { type: 'string', default: KINDS.join(',') },
    'native-prefix': { type: 'string' },
  },
});
const workers = Number(values.workers);
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const servers = values.servers.split(',').map((s) => s.trim()) as Kind[];
if (!(workers > 0) || !(seconds > 0) || !(warmupSeconds >= 0) || servers.some((s) => !KINDS.includes(s))) {
  console.error('usage: negotiate [--workers N] [--seconds D] [--warmup S] [--servers kerbside,apache,native] [--native-prefix DIR]');
  process.exit(2);
}


interface Running {
  readonly target: NegotiateTarget;
  stop(): Promise<void>;
}

/** A server script of this directory as a child process that prints "ready <port>". */
async function startChild(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /ready (\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}:\n${out}`)));
  });
  return { child, port };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** npm install --prefix <dir> kerberos@^2 (compiles against libkrb5-dev when no prebuilt binary fits). */
async function installNative(prefix: string): Promise<string | undefined> {
  await mkdir(prefix, { recursive: true });
  await writeFile(join(prefix, 'package.json'), '{ "name": "kerbside-bench-native", "private": true }\n');
  console.log(`  installing kerberos@^2 into ${prefix} (private prefix, not the project) …`);
  return new Promise((resolve) => {
    const npm = spawn('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel', 'error', 'kerberos@^2'], {
      cwd: prefix, stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000,
    });
    let log = '';
    npm.stdout.setEncoding('utf8').on('data', (d: string) => { log += d; });
    npm.stderr.setEncoding('utf8').on('data', (d: string) => { log += d; });
    npm.on('error', (err) => resolve(`npm could not be run: ${err.message}`));
    npm.on('close', (code) => {
      if (code !== 0) return resolve(`npm install kerberos@^2 failed (exit ${code}):\n${log.split('\n').slice(-15).join('\n')}`);
      if (!existsSync(join(prefix, 'node_modules', 'kerberos', 'build', 'Release', 'kerberos.node'))
        && !existsSync(join(prefix, 'node_modules', 'kerberos', 'prebuilds'))) {
        return resolve(`kerberos was installed but its native addon was not built (install scripts disabled?):\n${log.split('\n').slice(-15).join('\n')}`);
      }
      resolve(undefined);
    });
  });
}

async function main(): Promise<void> {
  const ticksPerSecond = clockTicks();
  console.log(`negotiate: ${workers} workers × ${seconds} s per server (after ${warmupSeconds} s warm-up), one keep-alive connection per worker, `
    + `a fresh SPNEGO/Kerberos AP-REQ per request, replay caches on; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), `
    + 'load generator in this process; server CPU from /proc/<pid>/stat of its process tree');
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-bench-negotiate-'));
  let realm: TestRealm | undefined;
  const results: LoadResult[] = [];
  try {
    realm = await startTestRealm({
      realm: REALM,
      principals: [
        { name: 'alice', password: 'alice-password' },
        ...KINDS.map((k) => ({ name: `HTTP/${k}.bench`, randomKey: true })),
      ],
    });
    const krb5Conf = join(dir, 'krb5.conf');
    await realm.writeKrb5Conf(krb5Conf);
    const client = new KerberosClient({ config: clientConfig({ defaultRealm: REALM, realms: { [REALM]: { kdc: [realm.kdcAddress] } } }) });
    const session = await LogonSession.open({ client, principal: 'alice', source: { kind: 'password', password: 'alice-password' } });
    const ticket: Record<string, Credential> = {};
    for (const k of KINDS) {
      await realm.exportKeytab(`HTTP/${k}.bench`, join(dir, `${k}.keytab`));
      ticket[k] = await session.serviceTicket(`HTTP/${k}.bench@${REALM}`);
    }
    console.log(`  ticket enctype ${ticket['kerbside']!.key.enctype}, realm ${REALM} (kerbside KDC at ${realm.kdcAddress})`);

    const start: Record<Kind, () => Promise<Running>> = {
      kerbside: async () => {
        const { child, port } = await startChild('./kerbside-server.js', [join(dir, 'kerbside.keytab'), `HTTP/kerbside.bench@${REALM}`], { PATH: process.env['PATH'] ?? '' });
        return { target: { name: LABEL.kerbside, port, path: '/', ticket: ticket['kerbside']!, pid: child.pid! }, stop: () => stopChild(child) };
      },
      apache: async () => {
        const apache: ApacheServer = await startApache([{ name: 'apache', keytab: join(dir, 'apache.keytab') }], { port: await freeLoopbackPort(), krb5Conf });
        const pid = Number((await readFile(join(apache.dir, 'httpd.pid'), 'utf8')).trim());
        return { target: { name: LABEL.apache, port: apache.port, path: '/apache/hello.txt', ticket: ticket['apache']!, pid }, stop: () => apache.stop() };
      },
      native: async () => {
        let prefix = values['native-prefix'];
        if (prefix === undefined) {
          prefix = join(dir, 'npm-kerberos');
          const failure = await installNative(prefix);
          if (failure !== undefined) throw new Error(failure);
        }
        const rcache = join(dir, 'native-rcache');
        await mkdir(rcache, { recursive: true });
        await chmod(rcache, 0o700);
        const { child, port } = await startChild('./native-server.js', [prefix, 'HTTP@native.bench'], {
          PATH: process.env['PATH'] ?? '', KRB5_CONFIG: krb5Conf, KRB5_KTNAME: `FILE:${join(dir, 'native.keytab')}`, KRB5RCACHEDIR: rcache,
        });
        return { target: { name: LABEL.native, port, path: '/', ticket: ticket['native']!, pid: child.pid! }, stop: () => stopChild(child) };
      },
    };

    for (const kind of servers) {
      let running: Running;
      try {
        running = await start[kind]();
      } catch (err) {
        console.log(`  ${LABEL[kind]}: not run — ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      try {
        const probe = await fetch(`http://127.0.0.1:${running.target.port}${running.target.path}`, { headers: { authorization: negotiateHeader(running.target.ticket) } });
        if (probe.status !== 200) {
          console.log(`  ${LABEL[kind]}: not run — the first authenticated request got ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
          continue;
        }
        const r = await runLoad(running.target, { workers, seconds, warmupSeconds, ticksPerSecond });
        results.push(r);
        console.log(`  ${r.target}: ${fmt(r.auths / r.seconds, 0)} auths/s`);
      } finally {
        await running.stop();
      }
    }
  } finally {
    await realm?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\n${table(results)}\n`);
  const k = results.find((r) => r.target === LABEL.kerbside);
  for (const other of [LABEL.apache, LABEL.native]) {
    const o = results.find((r) => r.target === other);
    if (k === undefined || o === undefined) continue;
    const cpu = k.serverCpuUsPerAuth !== undefined && o.serverCpuUsPerAuth !== undefined ? k.serverCpuUsPerAuth / o.serverCpuUsPerAuth : undefined;
    console.log(`kerbside / ${other}: throughput ${fmt((k.auths / k.seconds) / (o.auths / o.seconds), 2)}×, `
      + `p50 latency ${fmt(k.p50ms / o.p50ms, 2)}×, p99 latency ${fmt(k.p99ms / o.p99ms, 2)}×, server CPU per auth ${fmt(cpu, 2)}×`);
  }
}


function table(results: readonly LoadResult[]): string {
  const head = ['server', 'workers', 'auths', 'auths/s', 'p50 ms', 'p99 ms', 'errors', 'server CPU µs/auth', 'loadgen CPU'];
  const rows = results.map((r) => [
    r.target, String(r.workers), String(r.auths), fmt(r.auths / r.seconds, 0), fmt(r.p50ms, 3), fmt(r.p99ms, 3),
    r.errors === 0 ? '0' : `${r.errors} (${Object.entries(r.errorKinds).map(([kind, n]) => `${kind}: ${n}`).join(', ')})`,
    fmt(r.serverCpuUsPerAuth, 1), `${fmt(r.clientCpuShare * 100, 0)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
