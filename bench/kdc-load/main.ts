/**
 * KDC load: requests/s, p50/p99 latency, errors and KDC CPU time per request
 * for fresh AS exchanges (PA-ENC-TIMESTAMP) and TGS exchanges.
 *
 * Compare mode (default): creates the same throwaway realm twice — with
 * `kerbside realm init` + `kerbside principal add`, served by `kerbside kdc`
 * as a child process, and with MIT krb5kdc (startMitRealm) — same principals,
 * passwords and enctype (aes256-cts-hmac-sha1-96 only, pre-authentication
 * required), then runs the same load against both and prints a table with
 * the kerbside/MIT ratios.
 *
 * Single mode: `--krb5-conf FILE --client NAME --password PW [--service S]
 * [--kdc-pid PID]` runs the load against the KDC that FILE names for its
 * default realm.
 *
 *   npm run build && node dist/bench/kdc-load/main.js [--workers 4] [--seconds 10] [--workload as,tgs] [--transport udp|tcp]
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Krb5Config } from '../../src/files/index.js';
import { parseKdcAddress } from '../../src/client/index.js';
import { startMitRealm, type MitRealm } from '../../src/testing/mit-realm.js';
import { CLI_MAIN, runCli } from '../../src/testing/kerbside-cli.js';
import { runLoad, type LoadResult, type LoadTarget, type Transport, type Workload } from './load.js';
import { clockTicks, fmt } from '../common/measure.js';

const REALM = 'BENCH.TEST';
const SERVICE = 'host/bench.test';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    workload: { type: 'string', default: 'as,tgs' },
    transport: { type: 'string', default: 'udp' },
    'krb5-conf': { type: 'string' },
    client: { type: 'string' },
    password: { type: 'string' },
    service: { type: 'string' },
    'kdc-pid': { type: 'string' },
  },
});
const workers = Number(values.workers);
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const transport = values.transport as Transport;
const workloads = values.workload.split(',').map((w) => w.trim().toUpperCase()) as Workload[];
if (!(workers > 0) || !(seconds > 0) || !(warmupSeconds >= 0) || !['udp', 'tcp'].includes(transport)
  || workloads.some((w) => w !== 'AS' && w !== 'TGS')) {
  console.error('usage: kdc-load [--workers N] [--seconds D] [--warmup S] [--workload as,tgs] [--transport udp|tcp] [--krb5-conf FILE --client NAME --password PW [--service S] [--kdc-pid PID]]');
  process.exit(2);
}

const ticks = clockTicks();

const clients = Array.from({ length: workers }, (_, i) => ({ name: `bench${i}`, password: `bench-password-${i}` }));

/** `kerbside realm init` + `principal add`, then `kerbside kdc` as a child (its request log goes to a file, as MIT's does). */
async function startKerbside(dir: string): Promise<{ target: LoadTarget; stop: () => Promise<void> }> {
  const realmDir = join(dir, 'realm');
  const cli = async (...args: string[]): Promise<void> => {
    const r = await runCli([...args, '--dir', realmDir]);
    if (r.code !== 0) throw new Error(`kerbside ${args.join(' ')} failed:\n${r.stderr}`);
  };
  await cli('realm', 'init', '--realm', REALM, '--enctypes', 'aes256-cts-hmac-sha1-96', '--admin-password', 'bench-admin');
  for (const c of clients) await cli('principal', 'add', c.name, '--password', c.password);
  await cli('principal', 'add', SERVICE, '--randkey');
  const logFd = openSync(join(dir, 'kdc.log'), 'w');
  const child: ChildProcess = spawn(process.execPath, [CLI_MAIN, 'kdc', '--dir', realmDir, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', logFd],
  });
  closeSync(logFd);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /ready on udp 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`kerbside kdc exited with ${code}:\n${out}`)));
  });
  return {
    target: { name: 'kerbside', host: '127.0.0.1', port, realm: REALM, clients, service: SERVICE, pid: child.pid! },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** MIT krb5kdc with the same principals; last-success writes off, as kerbside does not make them by default. */
async function startMit(): Promise<{ target: LoadTarget; realm: MitRealm }> {
  const realm = await startMitRealm({
    realm: REALM,
    enctypes: ['aes256-cts-hmac-sha1-96'],
    principals: [
      ...clients.map((c) => ({ name: c.name, password: c.password, attrs: ['+requires_preauth'] })),
      { name: SERVICE, randkey: true },
    ],
    extraKdcConf: `[dbmodules]\n\t${REALM} = {\n\t\tdisable_last_success = true\n\t}\n`,
  });
  const pid = Number((await readFile(join(realm.dir, 'kdc.pid'), 'utf8')).trim());
  return { target: { name: 'MIT krb5kdc', host: '127.0.0.1', port: realm.kdcPort, realm: REALM, clients, service: SERVICE, pid }, realm };
}

async function singleTarget(): Promise<LoadTarget> {
  const conf = await Krb5Config.load({ paths: values['krb5-conf']! });
  const realm = conf.libdefaults().defaultRealm;
  if (realm === undefined) throw new Error(`${values['krb5-conf']!} has no default_realm`);
  const kdc = conf.realm(realm).kdc[0];
  if (kdc === undefined) throw new Error(`${values['krb5-conf']!} names no kdc for ${realm}`);
  if (values.client === undefined || values.password === undefined) throw new Error('--client and --password are required with --krb5-conf');
  const address = parseKdcAddress(kdc);
  return {
    name: `${realm} at ${kdc}`, host: address.host, port: address.port, realm,
    clients: [{ name: values.client, password: values.password }],
    service: values.service ?? `krbtgt/${realm}`,
    ...(values['kdc-pid'] === undefined ? {} : { pid: Number(values['kdc-pid']) }),
  };
}


function table(results: readonly LoadResult[]): string {
  const head = ['KDC', 'workload', 'workers', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'KDC CPU µs/req', 'loadgen CPU'];
  const rows = results.map((r) => [
    r.target, r.workload, String(r.workers), String(r.requests), fmt(r.requests / r.seconds, 0), fmt(r.p50ms, 3), fmt(r.p99ms, 3),
    r.errors === 0 ? '0' : `${r.errors} (${Object.entries(r.errorKinds).map(([k, v]) => `${k}: ${v}`).join(', ')})`,
    fmt(r.kdcCpuUsPerRequest, 1), `${fmt(r.clientCpuShare * 100, 0)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const options = { workers, seconds, transport, warmupSeconds };
  console.log(`kdc-load: ${workers} workers × ${seconds} s per run (after ${warmupSeconds} s warm-up), ${transport.toUpperCase()}, `
    + `aes256-cts-hmac-sha1-96; node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load generator in this process`);

  if (values['krb5-conf'] !== undefined) {
    const target = await singleTarget();
    const results: LoadResult[] = [];
    for (const workload of workloads) results.push(await runLoad(target, { ...options, workload }, ticks));
    console.log(`\n${table(results)}`);
    return;
  }

  const dir = await mkdtemp(join(tmpdir(), 'kerbside-bench-'));
  let kerbside: Awaited<ReturnType<typeof startKerbside>> | undefined;
  let mit: Awaited<ReturnType<typeof startMit>> | undefined;
  try {
    kerbside = await startKerbside(dir);
    mit = await startMit();
    const results: LoadResult[] = [];
    for (const workload of workloads) {
      for (const target of [kerbside.target, mit.target]) {
        const r = await runLoad(target, { ...options, workload }, ticks);
        results.push(r);
        console.log(`  ${target.name} ${workload}: ${fmt(r.requests / r.seconds, 0)} req/s`);
      }
    }
    console.log(`\n${table(results)}\n`);
    for (const workload of workloads) {
      const k = results.find((r) => r.target === 'kerbside' && r.workload === workload)!;
      const m = results.find((r) => r.target !== 'kerbside' && r.workload === workload)!;
      const cpu = k.kdcCpuUsPerRequest !== undefined && m.kdcCpuUsPerRequest !== undefined ? k.kdcCpuUsPerRequest / m.kdcCpuUsPerRequest : undefined;
      console.log(`kerbside/MIT ${workload}: throughput ${fmt((k.requests / k.seconds) / (m.requests / m.seconds), 2)}×, `
        + `p50 latency ${fmt(k.p50ms / m.p50ms, 2)}×, KDC CPU per request ${fmt(cpu, 2)}×`);
    }
  } finally {
    await kerbside?.stop();
    await mit?.realm.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
