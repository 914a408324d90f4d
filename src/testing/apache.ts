/**
 * Test harness (not part of the public API; belongs in src/testing/ — see
 * the report): Apache httpd with mod_auth_gssapi from a private
 * configuration on 127.0.0.1, protecting `/<name>/` locations each with
 * its own keytab. Started in the foreground as a child process, killed by
 * its pid. Workers run as nobody, so the files it reads are made readable.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';

export interface ApacheLocation {
  /** URL path segment: /<name>/hello.txt is protected. */
  readonly name: string;
  /** Keytab file to copy in (the krb5 mechanism). */
  readonly keytab?: string;
  /**
   * GssapiAllowedMech (default krb5); 'ntlmssp' uses gss-ntlmssp with the
   * server's `ntlmUserFile`, and binds the handshake to the connection
   * (mod_auth_gssapi allows NTLM only with GssapiConnectionBound).
   */
  readonly mech?: 'krb5' | 'ntlmssp';
}

export interface ApacheServer {
  readonly port: number;
  readonly dir: string;
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

const MODULES = '/usr/lib/apache2/modules';

function findApache(): string {
  return '/usr/sbin/apache2';
}

export interface ApacheOptions {
  readonly krb5Conf?: string;
  readonly port: number;
  readonly extraEnv?: Record<string, string>;
  /**
   * gss-ntlmssp's user file (lines 'DOMAIN:user:password'), copied in and
   * passed as NTLM_USER_FILE: the accounts an 'ntlmssp' location accepts.
   */
  readonly ntlmUserFile?: string;
}

export async function startApache(locations: readonly ApacheLocation[], options: ApacheOptions): Promise<ApacheServer> {
  const apache = findApache();
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-apache-'));
  await chmod(dir, 0o755);
  const rcache = join(dir, 'rcache');
  await mkdir(rcache, { mode: 0o1777 });
  await chmod(rcache, 0o1777);
  const docs = join(dir, 'htdocs');
  await mkdir(docs);
  const blocks: string[] = [];
  for (const loc of locations) {
    await mkdir(join(docs, loc.name));
    await writeFile(join(docs, loc.name, 'hello.txt'), `hello from apache ${loc.name}\n`);
    let credStore = '';
    if (loc.keytab !== undefined) {
      const kt = join(dir, `${loc.name}.keytab`);
      await copyFile(loc.keytab, kt);
      await chmod(kt, 0o644);
      credStore = `\n  GssapiCredStore keytab:${kt}`;
    }
    blocks.push(`<Location /${loc.name}/>
  AuthType GSSAPI
  AuthName "kerbside test"${credStore}
  GssapiAllowedMech ${loc.mech ?? 'krb5'}${loc.mech === 'ntlmssp' ? '\n  GssapiConnectionBound On' : ''}
  Require valid-user
</Location>`);
  }
  // Workers run as nobody: give them a readable copy of the krb5.conf.
  let krb5Conf: string | undefined;
  if (options.krb5Conf !== undefined) {
    krb5Conf = join(dir, 'krb5.conf');
    await copyFile(options.krb5Conf, krb5Conf);
    await chmod(krb5Conf, 0o644);
  }
  let ntlmUserFile: string | undefined;
  if (options.ntlmUserFile !== undefined) {
    ntlmUserFile = join(dir, 'ntlm-users');
    await copyFile(options.ntlmUserFile, ntlmUserFile);
    await chmod(ntlmUserFile, 0o644);
  }
  const conf = join(dir, 'httpd.conf');
  await writeFile(conf, `ServerRoot "${dir}"
ServerName localhost
Listen 127.0.0.1:${options.port}
PidFile ${join(dir, 'httpd.pid')}
ErrorLog ${join(dir, 'error.log')}
LogLevel info
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule auth_gssapi_module ${MODULES}/mod_auth_gssapi.so
User nobody
Group nogroup
DocumentRoot "${docs}"
KeepAlive On
MaxKeepAliveRequests 0
StartServers 1
ServerLimit 2
ThreadsPerChild 25
MaxRequestWorkers 50
${blocks.join('\n')}
`);
  const child: ChildProcess = spawn(apache, ['-f', conf, '-DFOREGROUND'], {
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      KRB5RCACHEDIR: rcache,
      KRB5_CONFIG: krb5Conf ?? '/dev/null',
      ...(ntlmUserFile === undefined ? {} : { NTLM_USER_FILE: ntlmUserFile }),
      ...options.extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = async (): Promise<string> => readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  // Wait until it accepts connections (or exits).
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await canConnect(options.port)) return { port: options.port, dir, errorLog, stop };
    await systemClock().sleep(50);
  }
  const log = await errorLog();
  await stop();
  throw new Error(`apache2 did not start on 127.0.0.1:${options.port}:\n${output}\n${log}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
