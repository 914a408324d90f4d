/**
 * A throwaway MIT realm on loopback, in the manner of MIT's k5test.py: a
 * private directory with krb5.conf and kdc.conf, a database created with
 * kdb5_util, principals added with kadmin.local, and krb5kdc running in the
 * foreground on 127.0.0.1 and a free port. Every program gets a private
 * environment (KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME, …); /etc/krb5.conf
 * is never read. Call stop() in `after`: it kills the KDC and deletes the
 * directory.
 *
 * Used by the files, client, KDC and HTTP interop tests and the KDC benchmark.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientKrb5Conf, formatProfile, type ProfileInput } from '../files/index.js';
import { baseEnvironment, checkRun, mitTool, runProgram, type RunResult } from './mit-tools.js';
import { systemClock } from '../core/clock.js';
import { systemRandom } from '../core/random.js';

export interface MitPrincipalSpec {
  /** Principal name, realm optional (the realm's is used). */
  readonly name: string;
  /** Password; a random key is used when absent (or when randkey is true). */
  readonly password?: string;
  readonly randkey?: boolean;
  /** Further addprinc options, e.g. ['+requires_preauth', '-allow_tix', '-maxlife 1h']. */
  readonly attrs?: readonly string[];
}

export interface StartMitRealmOptions {
  /** Default EXAMPLE.TEST. */
  readonly realm?: string;
  readonly principals?: readonly MitPrincipalSpec[];
  /** Realm maximum ticket life, e.g. '10h' (default '10h'). */
  readonly maxLife?: string;
  /** Realm maximum renewable life, e.g. '7d' (default '7d'). */
  readonly maxRenewableLife?: string;
  /** Key enctypes the database stores, MIT names (default: the four AES enctypes). */
  readonly enctypes?: readonly string[];
  /** Extra relations inside the realm's kdc.conf subsection. */
  readonly kdcRealmConf?: ProfileInput;
  /** Extra kdc.conf text appended to the file (whole sections). */
  readonly extraKdcConf?: string;
  /** Extra or overriding [libdefaults] relations of the client krb5.conf. */
  readonly libdefaults?: ProfileInput;
  /** Extra krb5.conf text appended to the file (whole sections). */
  readonly extraKrb5Conf?: string;
}

export interface MitRealm {
  readonly realm: string;
  readonly dir: string;
  readonly krb5ConfPath: string;
  readonly kdcConfPath: string;
  readonly kdcPort: number;
  /** The private environment every MIT program of this realm runs with. */
  readonly env: Readonly<Record<string, string>>;
  /** The default credential cache of `env` ('FILE:<dir>/ccache'). */
  readonly ccache: string;
  /** Runs one kadmin.local query; throws when it fails. */
  kadmin(query: string): Promise<RunResult>;
  addPrincipal(spec: MitPrincipalSpec): Promise<void>;
  /** `ktadd -norandkey`: writes the principal's current keys to `path` (no new kvno). */
  exportKeytab(principal: string, path: string, options?: { enctypes?: readonly string[] }): Promise<void>;
  /** `kinit principal` with a password on stdin into `ccache` (default: the realm's). */
  kinit(principal: string, password: string, options?: { ccache?: string; args?: readonly string[] }): Promise<RunResult>;
  /** Runs a program with the realm's environment (plus `env`). Does not throw on a non-zero exit. */
  run(cmd: string, args: readonly string[], options?: { input?: string; env?: Readonly<Record<string, string>> }): Promise<RunResult>;
  /** The KDC's log so far (for failure messages). */
  kdcLog(): Promise<string>;
  stop(): Promise<void>;
}

const DEFAULT_ENCTYPES = [
  'aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96',
  'aes256-cts-hmac-sha384-192', 'aes128-cts-hmac-sha256-128',
];

/** A port that is free on 127.0.0.1 for both TCP and UDP right now (it may be taken again before use). */
export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const tcp: Server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as { port: number }).port));
    });
    const udp = createSocket('udp4');
    const udpOk = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => { tcp.close(() => resolve()); });
    if (udpOk) {
      await new Promise<void>((resolve) => { udp.close(() => resolve()); });
      return port;
    }
    udp.close();
  }
  throw new Error('could not find a port free for both TCP and UDP on 127.0.0.1');
}

/** Live KDC children, killed if the test process exits without stop(). */
const liveKdcs = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackKdc(child: ChildProcess): void {
  liveKdcs.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveKdcs) c.kill('SIGKILL');
    });
  }
}

function writeKdcConf(dir: string, realm: string, port: number, o: StartMitRealmOptions): string {
  const enctypes = o.enctypes ?? DEFAULT_ENCTYPES;
  const text = formatProfile({
    kdcdefaults: {
      kdc_listen: `127.0.0.1:${port}`,
      kdc_tcp_listen: `127.0.0.1:${port}`,
    },
    realms: {
      [realm]: {
        database_name: join(dir, 'principal'),
        key_stash_file: join(dir, 'stash'),
        acl_file: join(dir, 'kadm5.acl'),
        dict_file: join(dir, 'dict'),
        max_life: o.maxLife ?? '10h',
        max_renewable_life: o.maxRenewableLife ?? '7d',
        master_key_type: 'aes256-cts-hmac-sha1-96',
        supported_enctypes: enctypes.map((e) => `${e}:normal`).join(' '),
        kdc_listen: `127.0.0.1:${port}`,
        kdc_tcp_listen: `127.0.0.1:${port}`,
        ...o.kdcRealmConf,
      },
    },
    logging: { kdc: `FILE:${join(dir, 'kdc.log')}` },
  });
  return text + (o.extraKdcConf === undefined ? '' : `\n${o.extraKdcConf}\n`);
}

function writeKrb5Conf(dir: string, realm: string, port: number, o: StartMitRealmOptions): string {
  const text = clientKrb5Conf({
    realm,
    kdc: `127.0.0.1:${port}`,
    libdefaults: {
      default_ccache_name: `FILE:${join(dir, 'ccache')}`,
      default_keytab_name: `FILE:${join(dir, 'keytab')}`,
      ...o.libdefaults,
    },
    domainRealm: { '127.0.0.1': realm },
  });
  return text + (o.extraKrb5Conf === undefined ? '' : `\n${o.extraKrb5Conf}\n`);
}

/** Starts krb5kdc and waits until its log says it is serving; undefined if it exited (port taken). */
async function startKdc(dir: string, realm: string, env: Record<string, string>): Promise<ChildProcess | undefined> {
  const logPath = join(dir, 'kdc.log');
  await writeFile(logPath, '');
  const child = spawn(mitTool('krb5kdc'), ['-n', '-r', realm, '-P', join(dir, 'kdc.pid')], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { output += d; });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { output += d; });
  let exited = false;
  child.once('exit', () => { exited = true; });
  trackKdc(child);
  const clock = systemClock();
  const deadline = clock.now() + 15_000;
  while (clock.now() < deadline) {
    if (exited) {
      liveKdcs.delete(child);
      return undefined;
    }
    const log = await readFile(logPath, 'utf8').catch(() => '');
    if (log.includes('commencing operation')) return child;
    if (/Address already in use|Cannot bind/i.test(log + output)) {
      child.kill('SIGKILL');
      liveKdcs.delete(child);
      return undefined;
    }
    await clock.sleep(25);
  }
  child.kill('SIGKILL');
  liveKdcs.delete(child);
  throw new Error(`krb5kdc did not start within 15 s:\n${output}\n${await readFile(logPath, 'utf8').catch(() => '')}`);
}

export async function startMitRealm(options: StartMitRealmOptions = {}): Promise<MitRealm> {
  const realm = options.realm ?? 'EXAMPLE.TEST';
  // Fail early, naming the package, when a peer is missing.
  for (const t of ['krb5kdc', 'kdb5_util', 'kadmin.local', 'kinit', 'klist'] as const) mitTool(t);

  const dir = await mkdtemp(join(tmpdir(), 'kerbside-mit-'));
  const krb5ConfPath = join(dir, 'krb5.conf');
  const kdcConfPath = join(dir, 'kdc.conf');
  const ccache = `FILE:${join(dir, 'ccache')}`;
  const env: Record<string, string> = {
    ...baseEnvironment(),
    HOME: dir,
    KRB5_CONFIG: krb5ConfPath,
    KRB5_KDC_PROFILE: kdcConfPath,
    KRB5CCNAME: ccache,
    KRB5_KTNAME: `FILE:${join(dir, 'keytab')}`,
    KRB5_CLIENT_KTNAME: `FILE:${join(dir, 'client.keytab')}`,
    KRB5RCACHEDIR: dir,
  };
  const run = (cmd: string, args: readonly string[], o: { input?: string; env?: Readonly<Record<string, string>> } = {}): Promise<RunResult> =>
    runProgram(cmd, args, { env: { ...env, ...o.env }, cwd: dir, ...(o.input === undefined ? {} : { input: o.input }) });

  let kdc: ChildProcess | undefined;
  let port = 0;
  try {
    await writeFile(join(dir, 'kadm5.acl'), `*/admin@${realm} *\n`);
    await writeFile(join(dir, 'dict'), '');
    // The database does not depend on the port; kdc.conf is rewritten per attempt.
    port = await freeLoopbackPort();
    await writeFile(kdcConfPath, writeKdcConf(dir, realm, port, options), { mode: 0o600 });
    await writeFile(krb5ConfPath, writeKrb5Conf(dir, realm, port, options));
    const masterPassword = Buffer.from(systemRandom().bytes(24)).toString('base64');
    checkRun('kdb5_util create', await run(mitTool('kdb5_util'), ['-r', realm, 'create', '-s', '-P', masterPassword]));

    for (let attempt = 0; kdc === undefined; attempt++) {
      if (attempt > 0) {
        port = await freeLoopbackPort();
        await writeFile(kdcConfPath, writeKdcConf(dir, realm, port, options), { mode: 0o600 });
        await writeFile(krb5ConfPath, writeKrb5Conf(dir, realm, port, options));
      }
      kdc = await startKdc(dir, realm, env);
      if (kdc === undefined && attempt >= 4) {
        throw new Error(`krb5kdc could not start after 5 attempts:\n${await readFile(join(dir, 'kdc.log'), 'utf8').catch(() => '')}`);
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const kadmin = async (query: string): Promise<RunResult> =>
    checkRun(`kadmin.local -q "${query}"`, await run(mitTool('kadmin.local'), ['-r', realm, '-q', query]));

  const realmObj: MitRealm = {
    realm, dir, krb5ConfPath, kdcConfPath, kdcPort: port, env, ccache,
    kadmin,
    async addPrincipal(spec) {
      const attrs = (spec.attrs ?? []).join(' ');
      if (spec.password !== undefined && /["\n]/.test(spec.password)) throw new Error('kadmin.local -q cannot pass a password containing a double quote or newline');
      // kadmin's query parser (libss) understands double quotes, not single quotes.
      const key = spec.password !== undefined && spec.randkey !== true ? `-pw "${spec.password}"` : '-randkey';
      const r = await kadmin(`addprinc ${key} ${attrs} ${spec.name}`);
      // kadmin.local reports some failures with exit 0.
      if (!/Principal ".*" created/.test(r.stdout + r.stderr)) throw new Error(`addprinc ${spec.name} failed:\n${r.stderr}${r.stdout}`);
    },
    async exportKeytab(principal, path, o = {}) {
      const e = o.enctypes === undefined ? '' : `-e "${o.enctypes.map((x) => `${x}:normal`).join(' ')}" `;
      await kadmin(`ktadd -k ${path} -norandkey ${e}${principal}`);
    },
    async kinit(principal, password, o = {}) {
      return checkRun(`kinit ${principal}`, await run(mitTool('kinit'), [...(o.args ?? []), principal], {
        input: `${password}\n`, env: { KRB5CCNAME: o.ccache ?? ccache },
      }));
    },
    run,
    kdcLog: () => readFile(join(dir, 'kdc.log'), 'utf8').catch(() => ''),
    async stop() {
      const child = kdc;
      kdc = undefined;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          systemClock().setTimer(3_000, () => child.kill('SIGKILL'));
        });
      }
      if (child !== undefined) liveKdcs.delete(child);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const p of options.principals ?? []) await realmObj.addPrincipal(p);
  } catch (err) {
    await realmObj.stop();
    throw err;
  }
  return realmObj;
}
