/**
 * A throwaway Active Directory domain for tests: Samba 4.17 provisioned as a
 * domain controller (realm AD.TEST, domain ADTEST, DC dc1.ad.test) inside a
 * network namespace this harness creates, with its own directory, started
 * with `samba -M single` and stopped (namespace deleted, directory removed)
 * by stop(). See docs/active-directory.md for what it offers and the traps.
 *
 * Isolation, so that two runs (or a run and a hand-made DC) never meet:
 * - each run claims a free 10.99.N.0/24 (N = 1…254) by creating the namespace
 *   `kerbside-ad-N`; the DC is 10.99.N.2 inside it, the host side of the veth
 *   pair is 10.99.N.1. All traffic stays on that link or the namespace's lo.
 * - nothing under /etc is written: every program inside the namespace runs
 *   through a small shell wrapper that bind-mounts a private hosts file,
 *   resolv.conf and /run/samba (the mounts live in the mount namespace that
 *   `ip netns exec` creates, and vanish with the program).
 * - the private /run/samba is not only tidiness: Samba's winbind client
 *   library (used by smbd to map SIDs to Unix ids) looks for winbindd's socket
 *   at the compiled-in /run/samba/winbindd and ignores the smb.conf
 *   `winbindd socket directory`; with that option pointing elsewhere, every
 *   SMB session setup (Kerberos or NTLM) fails with NT_STATUS_INTERNAL_ERROR
 *   after authentication succeeded (docs/active-directory.md).
 *
 * Needs root (ip netns, mount) and the Debian packages in SAMBA_PACKAGES; a
 * missing package is installed with .ci/install-samba, and the test fails,
 * naming the packages, when that cannot be done.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from '../core/clock.js';
import { formatKrb5Conf } from '../files/index.js';
import { KerberosClient, LogonSession, loadClientConfig } from '../client/index.js';
import { baseEnvironment, checkRun, mitTool, requireTool, runProgram, type RunResult } from './mit-tools.js';

/** What `.ci/install-samba` installs (with --no-install-recommends). */
export const SAMBA_PACKAGES = Object.freeze(['samba', 'samba-ad-dc', 'samba-ad-provision', 'winbind', 'smbclient', 'ldb-tools'] as const);

export const AD_REALM = 'AD.TEST';
export const AD_DOMAIN = 'ADTEST';
export const AD_DNS_DOMAIN = 'ad.test';
export const AD_DC_HOSTNAME = 'dc1.ad.test';

export interface AdUserSpec {
  readonly name: string;
  readonly password: string;
  /**
   * Set msDS-SupportedEncryptionTypes to 24 (AES128 + AES256). Like real AD,
   * Samba otherwise issues RC4 service tickets for the account and exports an
   * RC4-only keytab for it.
   */
  readonly aes?: boolean;
  /** Service principal names to register on the account (samba-tool spn add). */
  readonly spns?: readonly string[];
}

export const DEFAULT_AD_USERS: readonly AdUserSpec[] = Object.freeze([
  { name: 'alice', password: 'Alice-Pass.2026!', aes: true },
  { name: 'svc1', password: 'Svc1-Pass.2026!', aes: true, spns: ['HTTP/web.ad.test'] },
]);

export interface StartSambaAdOptions {
  /** Accounts created after start (default DEFAULT_AD_USERS: alice and svc1 with HTTP/web.ad.test). */
  readonly users?: readonly AdUserSpec[];
  /** Samba's `log level` for every daemon (default 1); 10 shows each step of a session setup. */
  readonly logLevel?: number;
  /** How long samba may take to answer Kerberos and SMB (default 60 s). */
  readonly startTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface SambaAd {
  readonly realm: string;
  readonly domain: string;
  /** The DC's host name; it resolves only inside the namespace (netnsExec / netnsCommand). */
  readonly dcHostname: string;
  /** The DC's address (10.99.N.2), reachable from the host through the veth pair. */
  readonly kdcAddress: string;
  /** The host's end of the veth pair (10.99.N.1). */
  readonly hostAddress: string;
  readonly netns: string;
  readonly dir: string;
  /** Client krb5.conf for MIT tools and kerbside: the KDC by address, no DNS, no rdns. */
  readonly krb5ConfPath: string;
  /** Client smb.conf for smbclient (private cache, lock and state directories). */
  readonly smbClientConfPath: string;
  /** The DC's own smb.conf. */
  readonly smbConfPath: string;
  readonly adminPassword: string;
  /** Account name → password, for every account this harness created. */
  readonly users: ReadonlyMap<string, string>;
  /** PATH, C locale, UTC and KRB5_CONFIG; add KRB5CCNAME per user. */
  readonly env: Readonly<Record<string, string>>;
  addUser(name: string, password: string, options?: { readonly aes?: boolean; readonly spns?: readonly string[] }): Promise<void>;
  addSpn(spn: string, account: string): Promise<void>;
  /** Exports the keys of `principal` (an SPN or account name) to a keytab (default DIR/<name>.keytab); returns its path. */
  exportKeytab(principal: string, path?: string): Promise<string>;
  /** Runs a program inside the namespace (names like dc1.ad.test resolve there). Does not throw on a non-zero exit. */
  netnsExec(cmd: string, args: readonly string[], options?: NetnsRunOptions): Promise<RunResult>;
  /** The argv that runs `argv` inside the namespace, for callers that spawn it themselves (a scheduler task). */
  netnsCommand(argv: readonly string[]): string[];
  /** `samba-tool ARGS -s smb.conf` inside the namespace; throws on failure. */
  sambaTool(args: readonly string[]): Promise<RunResult>;
  /** The argv of smbclient against //dc1.ad.test/SHARE with the private client config (run it with netnsCommand). */
  smbclientArgs(share: string, args: readonly string[]): string[];
  /** How long the start took, ms: provisioning, until samba answered, creating the accounts. */
  readonly timings: { readonly provisionMs: number; readonly startMs: number; readonly usersMs: number };
  /** Samba's output so far (all daemons log to it). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface NetnsRunOptions {
  /** Added to the harness environment (KRB5CCNAME, …). */
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly timeoutMs?: number;
}

const ADMIN_PASSWORD = 'Adm1n-Pass.2026!';

/**
 * The wrapper every program in the namespace runs under: private hosts,
 * resolv.conf and /run/samba bind-mounted from the run's directory ($0), then
 * the program. `ip netns exec` gives it a mount namespace of its own whose
 * mounts do not propagate back to the host.
 */
const WRAPPER = 'set -e; mount --bind "$0/ns/hosts" /etc/hosts; mount --bind "$0/ns/resolv.conf" /etc/resolv.conf; '
  + 'mount --bind "$0/ns/run-samba" /run/samba; exec "$@"';

/** Directory of the repository (dist/src/testing → three levels up). */
function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

function missingPackages(): string[] {
  return SAMBA_PACKAGES.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
}

/**
 * Installs the Samba packages when one is missing (idempotent: nothing
 * happens when all are present). Throws naming the packages when it cannot.
 */
export async function ensureSambaInstalled(): Promise<void> {
  if (missingPackages().length === 0) return;
  const script = join(repoRoot(), '.ci', 'install-samba');
  const r = existsSync(script)
    ? await runProgram('bash', [script], { env: baseEnvironment(), timeoutMs: 600_000 })
    : { code: null, signal: null, stdout: '', stderr: `${script} not found` };
  const still = missingPackages();
  if (r.code !== 0 || still.length > 0) {
    throw new Error(
      `Samba AD DC packages missing: ${still.join(' ') || SAMBA_PACKAGES.join(' ')}; install Debian packages `
      + `${SAMBA_PACKAGES.join(' ')} with .ci/install-samba (as root; it keeps the MIT krb5 packages):\n${r.stderr}${r.stdout}`,
    );
  }
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the Samba AD harness needs root: it creates a network namespace (ip netns) and bind mounts inside it');
  }
}

/** Live DCs (namespace → the spawned `ip netns exec`), torn down if the test process exits without stop(). */
const live = new Map<string, { readonly child: ChildProcess; readonly dir: string }>();
let exitHookInstalled = false;
function trackDc(netns: string, child: ChildProcess, dir: string): void {
  live.set(netns, { child, dir });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [ns, dc] of live) {
        signalNetns(ns, 'SIGKILL');
        dc.child.kill('SIGKILL');
        ip(['netns', 'del', ns]);
        rmSync(dc.dir, { recursive: true, force: true });
      }
    });
  }
}

/** Processes living in the namespace: only ones this harness started there. */
function netnsPids(netns: string): number[] {
  const r = ip(['netns', 'pids', netns]);
  return r.ok ? r.out.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number) : [];
}

function signalNetns(netns: string, signal: NodeJS.Signals, only?: number): void {
  for (const pid of netnsPids(netns)) {
    if (only !== undefined && pid !== only) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function ip(args: readonly string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(requireTool('ip', 'iproute2'), args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error?.message ?? ''}` };
}

/** Claims a free 10.99.N.0/24 by creating namespace kerbside-ad-N; sets up the veth pair. */
function claimNetwork(clock: Clock): { netns: string; n: number; hostIf: string; nsIf: string } {
  const used = ip(['-o', '-4', 'addr', 'show']).out;
  // Start somewhere depending on the time so parallel runs rarely race for the same N.
  const start = clock.now() % 254;
  for (let i = 0; i < 254; i++) {
    const n = ((start + i) % 254) + 1;
    if (used.includes(` 10.99.${n}.`)) continue;
    const netns = `kerbside-ad-${n}`;
    if (!ip(['netns', 'add', netns]).ok) continue; // taken by a live (or leaked) run
    const hostIf = `ksad${n}h`;
    const nsIf = `ksad${n}n`;
    const steps: string[][] = [
      ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf],
      ['link', 'set', nsIf, 'netns', netns],
      ['addr', 'add', `10.99.${n}.1/24`, 'dev', hostIf],
      ['link', 'set', hostIf, 'up'],
      ['-n', netns, 'addr', 'add', `10.99.${n}.2/24`, 'dev', nsIf],
      ['-n', netns, 'link', 'set', nsIf, 'up'],
      ['-n', netns, 'link', 'set', 'lo', 'up'],
    ];
    for (const step of steps) {
      const r = ip(step);
      if (!r.ok) {
        ip(['netns', 'del', netns]);
        ip(['link', 'del', hostIf]);
        throw new Error(`ip ${step.join(' ')} failed: ${r.err}`);
      }
    }
    return { netns, n, hostIf, nsIf };
  }
  throw new Error('no free 10.99.N.0/24 for a Samba AD namespace (ip netns list shows kerbside-ad-* left over?)');
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const s = connect({ host, port });
    s.once('connect', () => { s.destroy(); resolveOpen(true); });
    s.once('error', () => resolveOpen(false));
  });
}

export async function startSambaAd(options: StartSambaAdOptions = {}): Promise<SambaAd> {
  requireRoot();
  await ensureSambaInstalled();
  for (const t of ['kinit', 'kvno'] as const) mitTool(t);
  const ipTool = requireTool('ip', 'iproute2');
  const sambaPath = requireTool('samba', 'samba');
  const sambaToolPath = requireTool('samba-tool', 'samba-common-bin');
  const smbclientPath = requireTool('smbclient', 'smbclient');
  const ldbmodifyPath = requireTool('ldbmodify', 'ldb-tools');
  const clock = options.clock ?? systemClock();
  if (!existsSync('/run/samba')) mkdirSync('/run/samba', { recursive: true });

  const dir = await mkdtemp(join(tmpdir(), 'kerbside-ad-'));
  let net: ReturnType<typeof claimNetwork>;
  try {
    net = claimNetwork(clock);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { netns, n, nsIf } = net;
  const kdcAddress = `10.99.${n}.2`;
  const hostAddress = `10.99.${n}.1`;
  const dcDir = join(dir, 'dc');
  const smbConfPath = join(dcDir, 'etc', 'smb.conf');
  const krb5ConfPath = join(dir, 'krb5.conf');
  const smbClientConfPath = join(dir, 'client', 'smb.conf');
  const samba = join(dir, 'samba.out');
  const env: Record<string, string> = { ...baseEnvironment(), HOME: dir, KRB5_CONFIG: krb5ConfPath, KRB5RCACHEDIR: dir };
  const users = new Map<string, string>();

  // Absolute paths: a caller's child may run with a PATH of its own.
  const netnsCommand = (argv: readonly string[]): string[] => [ipTool, 'netns', 'exec', netns, '/bin/sh', '-c', WRAPPER, dir, ...argv];
  const netnsExec = (cmd: string, args: readonly string[], o: NetnsRunOptions = {}): Promise<RunResult> => {
    const [c, ...a] = netnsCommand([cmd, ...args]);
    return runProgram(c!, a, {
      env: { ...env, ...o.env }, cwd: dir,
      ...(o.input === undefined ? {} : { input: o.input }),
      timeoutMs: o.timeoutMs ?? 60_000,
    });
  };
  const sambaTool = async (args: readonly string[]): Promise<RunResult> =>
    checkRun(`samba-tool ${args[0] ?? ''} ${args[1] ?? ''}`, await netnsExec(sambaToolPath, [...args, '-s', smbConfPath]));
  const baseDn = AD_DNS_DOMAIN.split('.').map((p) => `DC=${p}`).join(',');

  let child: ChildProcess | undefined;
  let timings = { provisionMs: 0, startMs: 0, usersMs: 0 };
  const pidFile = join(dcDir, 'run', 'samba.pid');

  const stop = async (): Promise<void> => {
    // The pid file names the samba root process (ip netns exec forks, so it is not child.pid).
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (pid > 0) signalNetns(netns, 'SIGTERM', pid);
    // samba's children (smbd, winbindd) exit with it; give them a moment, then kill what is left in the namespace.
    const deadline = clock.now() + 5_000;
    while (netnsPids(netns).length > 0 && clock.now() < deadline) await clock.sleep(100);
    signalNetns(netns, 'SIGKILL');
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    live.delete(netns);
    ip(['netns', 'del', netns]); // deletes the veth pair with it
    await rm(dir, { recursive: true, force: true });
  };

  const addSpn = async (spn: string, account: string): Promise<void> => {
    await sambaTool(['spn', 'add', spn, account]);
  };
  const addUser = async (name: string, password: string, o: { readonly aes?: boolean; readonly spns?: readonly string[] } = {}): Promise<void> => {
    await sambaTool(['user', 'add', name, password]);
    users.set(name, password);
    if (o.aes === true) {
      const ldif = `dn: CN=${name},CN=Users,${baseDn}\nchangetype: modify\nreplace: msDS-SupportedEncryptionTypes\nmsDS-SupportedEncryptionTypes: 24\n`;
      checkRun(`ldbmodify ${name}`, await netnsExec(ldbmodifyPath, ['-H', join(dcDir, 'private', 'sam.ldb')], { input: ldif }));
    }
    for (const spn of o.spns ?? []) await addSpn(spn, name);
  };

  try {
    // smbd serves the shares as the logged-on user's Unix id: the path to sysvol must be traversable.
    await chmod(dir, 0o711);
    await mkdir0700(join(dir, 'ns', 'run-samba'));
    await mkdir0700(join(dir, 'client'));
    await mkdir0700(join(dcDir, 'log'));
    await mkdir0700(join(dcDir, 'run'));
    await chmod(dcDir, 0o711);
    await writeFile(join(dir, 'ns', 'hosts'), `127.0.0.1 localhost\n${kdcAddress} ${AD_DC_HOSTNAME} dc1\n`);
    await writeFile(join(dir, 'ns', 'resolv.conf'), `nameserver ${kdcAddress}\n`);
    await writeFile(krb5ConfPath, formatKrb5Conf({
      defaultRealm: AD_REALM,
      libdefaults: { dns_lookup_kdc: false, dns_lookup_realm: false, dns_canonicalize_hostname: false, rdns: false },
      realms: { [AD_REALM]: { kdc: kdcAddress, admin_server: kdcAddress, kpasswd_server: kdcAddress } },
      domainRealm: { [`.${AD_DNS_DOMAIN}`]: AD_REALM, [AD_DNS_DOMAIN]: AD_REALM },
    }));
    const cdir = join(dir, 'client');
    await writeFile(smbClientConfPath, [
      '[global]', `\tworkgroup = ${AD_DOMAIN}`, `\trealm = ${AD_REALM}`,
      `\tlock directory = ${cdir}`, `\tstate directory = ${cdir}`, `\tcache directory = ${cdir}`,
      `\tprivate dir = ${cdir}`, `\tncalrpc dir = ${cdir}/ncalrpc`, `\tlog file = ${cdir}/log.%m`, '',
    ].join('\n'));

    const logLevel = options.logLevel ?? 1;
    const t0 = clock.now();
    const provision = await netnsExec(sambaToolPath, [
      'domain', 'provision', '--use-rfc2307', `--realm=${AD_REALM}`, `--domain=${AD_DOMAIN}`, '--server-role=dc',
      '--dns-backend=SAMBA_INTERNAL', `--adminpass=${ADMIN_PASSWORD}`, '--host-name=dc1', `--host-ip=${kdcAddress}`,
      `--targetdir=${dcDir}`,
      `--option=interfaces=lo ${nsIf}`, '--option=bind interfaces only=yes',
      `--option=log file=${dcDir}/log/log.%m`, `--option=log level=${logLevel}`,
      `--option=pid directory=${dcDir}/run`, `--option=ncalrpc dir=${dcDir}/run/ncalrpc`,
      // Where libwbclient looks anyway (see the file comment); /run/samba is private to the namespace's programs.
      '--option=winbindd socket directory=/run/samba/winbindd',
      // Names outside ad.test have nowhere to go: a closed port on the namespace's loopback.
      '--option=dns forwarder=127.0.0.9',
      '--option=load printers=no', '--option=printing=bsd', '--option=printcap name=/dev/null', '--option=disable spoolss=yes',
    ], { timeoutMs: 120_000 });
    await writeFile(join(dir, 'provision.log'), provision.stdout + provision.stderr);
    checkRun('samba-tool domain provision', provision);
    const t1 = clock.now();

    const out = openSync(samba, 'a');
    try {
      const [c, ...a] = netnsCommand([sambaPath, '-s', smbConfPath, '-F', '--debug-stdout', `-d${logLevel}`, '-M', 'single']);
      // The DC reads its own krb5.conf, never the host's /etc/krb5.conf.
      child = spawn(c!, a, { env: { ...env, KRB5_CONFIG: join(dcDir, 'private', 'krb5.conf') }, cwd: dir, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    trackDc(netns, child, dir);

    // Up when the KDC issues a TGT, smbd listens and winbindd (SID → uid mapping for smbd) has its socket.
    const timeout = options.startTimeoutMs ?? 60_000;
    const deadline = clock.now() + timeout;
    const adminCache = `FILE:${join(dir, 'cc.administrator')}`;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`samba exited (${child.exitCode ?? child.signalCode}) while starting:\n${(await readFile(samba, 'utf8').catch(() => '')).slice(-4000)}`);
      }
      const winbind = existsSync(join(dir, 'ns', 'run-samba', 'winbindd', 'pipe'));
      if (winbind && await tcpOpen(kdcAddress, 445)) {
        const k = await runProgram(mitTool('kinit'), ['administrator'], { env: { ...env, KRB5CCNAME: adminCache }, input: `${ADMIN_PASSWORD}\n`, timeoutMs: 10_000 });
        if (k.code === 0) break;
      }
      if (clock.now() > deadline) {
        throw new Error(`samba did not answer Kerberos and SMB within ${timeout} ms:\n${(await readFile(samba, 'utf8').catch(() => '')).slice(-4000)}`);
      }
      await clock.sleep(200);
    }

    const t2 = clock.now();
    await sambaTool(['domain', 'passwordsettings', 'set', '--complexity=off', '--max-pwd-age=0', '--min-pwd-age=0']);
    for (const u of options.users ?? DEFAULT_AD_USERS) {
      await addUser(u.name, u.password, { ...(u.aes === undefined ? {} : { aes: u.aes }), ...(u.spns === undefined ? {} : { spns: u.spns }) });
    }
    timings = { provisionMs: t1 - t0, startMs: t2 - t1, usersMs: clock.now() - t2 };
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    realm: AD_REALM, domain: AD_DOMAIN, dcHostname: AD_DC_HOSTNAME, kdcAddress, hostAddress, netns, dir,
    krb5ConfPath, smbClientConfPath, smbConfPath, adminPassword: ADMIN_PASSWORD, users, env,
    addUser, addSpn,
    async exportKeytab(principal, path) {
      const target = path ?? join(dir, `${principal.replace(/[^A-Za-z0-9.-]/g, '_')}.keytab`);
      await sambaTool(['domain', 'exportkeytab', target, `--principal=${principal}`]);
      return target;
    },
    netnsExec, netnsCommand, sambaTool,
    smbclientArgs: (share, args) => [smbclientPath, `//${AD_DC_HOSTNAME}/${share}`, '-s', smbClientConfPath, ...args],
    timings,
    log: () => readFile(samba, 'utf8').catch(() => ''),
    stop,
  };
}

async function mkdir0700(path: string): Promise<void> {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

// ---------------------------------------------------------------------------
// Running a program as an AD user (issue 9: each run gets its own logon)

export interface AdUserLogon {
  readonly principal: string;
  readonly session: LogonSession;
  /** A private folder (mode 0700) holding only the cache. */
  readonly dir: string;
  /** 'FILE:<dir>/ccache', written by the session. */
  readonly ccache: string;
  /** The child's environment: the harness's (PATH, C locale, KRB5_CONFIG) plus KRB5CCNAME. */
  readonly env: Readonly<Record<string, string>>;
  /** Closes the session and destroys the cache (removes the folder). */
  close(): Promise<void>;
}

/**
 * The environment a process needs to act as a user with a private cache:
 * MIT tools (kvno, klist, curl --negotiate) and Samba's smbclient honour
 * KRB5_CONFIG and KRB5CCNAME; KRB5RCACHEDIR and HOME keep replay caches and
 * dot files out of shared places.
 */
export function userEnvironment(krb5ConfPath: string, ccache: string, home: string): Record<string, string> {
  return { ...baseEnvironment(), HOME: home, KRB5_CONFIG: krb5ConfPath, KRB5CCNAME: ccache, KRB5RCACHEDIR: home };
}

/**
 * Logs `user` on with a password through kerbside's client (an AS exchange
 * with the DC's KDC) into a new 0700 folder's FILE cache, and returns the
 * environment a child needs to run as that user. Throws the client's typed
 * error (PasswordIncorrectError, krbCode 24, …) when the KDC refuses.
 */
export async function logonAsAdUser(ad: Pick<SambaAd, 'realm' | 'krb5ConfPath' | 'users'>, user: string, password?: string): Promise<AdUserLogon> {
  const pw = password ?? ad.users.get(user);
  if (pw === undefined) throw new Error(`no password known for AD user ${user}`);
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-ad-user-'));
  await chmod(dir, 0o700);
  const ccache = `FILE:${join(dir, 'ccache')}`;
  const principal = `${user}@${ad.realm}`;
  try {
    const client = new KerberosClient({ config: await loadClientConfig(ad.krb5ConfPath) });
    const session = await LogonSession.open({ client, principal, source: { kind: 'password', password: pw }, ccache });
    try {
      await session.tgt(); // the session writes its cache before this resolves
    } catch (err) {
      await session.close();
      throw err;
    }
    return {
      principal, session, dir, ccache, env: userEnvironment(ad.krb5ConfPath, ccache, dir),
      async close() {
        await session.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Files in a logon's folder (tests check nothing but the cache is there). */
export async function logonFolderEntries(logon: AdUserLogon): Promise<string[]> {
  return (await readdir(logon.dir)).sort();
}

/**
 * Everything a scheduler test needs to define a task that runs as an AD user
 * with a stored password against this DC (issue 9, acceptance 3): the
 * principal and password, the krb5.conf to give the daemon and its children,
 * and the two commands a run executes. The runner supplies the cache:
 * `environment(ccache, home)` is the child's environment for a run whose
 * own logon wrote `ccache`.
 */
export interface AdUserTask {
  readonly principal: string;
  readonly password: string;
  readonly krb5ConfPath: string;
  /** MIT `kvno cifs/dc1.ad.test` (runs on the host: the KDC is named by address). */
  readonly kvnoCifs: readonly string[];
  /** `smbclient //dc1.ad.test/netlogon --use-kerberos=required -N -c ls`, inside the namespace (the name resolves there). */
  readonly smbclientLs: readonly string[];
  environment(ccache: string, home: string): Record<string, string>;
}

export function adUserTask(ad: SambaAd, user: string): AdUserTask {
  const password = ad.users.get(user);
  if (password === undefined) throw new Error(`no password known for AD user ${user}`);
  return {
    principal: `${user}@${ad.realm}`,
    password,
    krb5ConfPath: ad.krb5ConfPath,
    kvnoCifs: [mitTool('kvno'), `cifs/${ad.dcHostname}`],
    smbclientLs: ad.netnsCommand(ad.smbclientArgs('netlogon', ['--use-kerberos=required', '-N', '-c', 'ls'])),
    environment: (ccache, home) => userEnvironment(ad.krb5ConfPath, ccache, home),
  };
}

/** True when smbclient's `ls` output is a directory listing (it ends with the share's free-space line). */
export function isSmbListing(stdout: string): boolean {
  return /^\s+\.\s+D\s+0\s/m.test(stdout) && /blocks of size \d+\. \d+ blocks available/.test(stdout);
}

// ---------------------------------------------------------------------------
// Samba's ntlm_auth as an NTLMSSP peer (docs/ntlm.md "Peer tests")

/**
 * A running `ntlm_auth --helper-protocol=…`, spoken to line by line: the
 * Squid helper protocol (`YR [base64]`, `TT base64`, `KK base64`, answered
 * with `TT`/`KK`/`AF`/`NA`/`BH` lines). As a server (squid-2.5-ntlmssp) it
 * checks the AUTHENTICATE through the DC's winbind, so it runs inside the
 * namespace (`ad.netnsCommand`); as a client (ntlmssp-client-1) it needs no DC.
 */
export interface NtlmAuthHelper {
  /** Sends one line and resolves with the helper's next line (rejects when it exits first or after 20 s). */
  ask(line: string): Promise<string>;
  /** What the helper wrote on stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/** The ntlm_auth binary (Debian winbind), or a failure naming the package. */
export function ntlmAuthPath(): string {
  return requireTool('ntlm_auth', 'winbind');
}

/** Starts `argv` (an ntlm_auth command line, possibly wrapped by netnsCommand) as a line helper. */
export function startNtlmAuth(argv: readonly string[], env: Readonly<Record<string, string>>, clock: Clock = systemClock()): NtlmAuthHelper {
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, { env: { ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiting: Array<(line: string | undefined) => void> = [];
  const lines: string[] = [];
  const deliver = (): void => {
    while (waiting.length > 0 && lines.length > 0) waiting.shift()!(lines.shift());
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
    deliver();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
      for (const w of waiting.splice(0)) w(undefined);
    });
  });
  child.once('error', (e) => { err += String(e); });
  return {
    ask(line) {
      return new Promise((resolve, reject) => {
        const timer = clock.setTimer(20_000, () => reject(new Error(`ntlm_auth gave no answer to "${line.slice(0, 2)}" within 20 s:\n${err}`)));
        waiting.push((answer) => {
          timer.cancel();
          if (answer === undefined) reject(new Error(`ntlm_auth exited (${child.exitCode ?? child.signalCode}) before answering "${line.slice(0, 2)}":\n${err}`));
          else resolve(answer);
        });
        child.stdin!.write(`${line}\n`);
        deliver();
      });
    },
    stderr: () => err,
    async close() {
      child.stdin!.end();
      const force = clock.setTimer(5000, () => child.kill('SIGKILL'));
      await exited;
      force.cancel();
    },
  };
}
