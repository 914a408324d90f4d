/**
 * Running MIT krb5 programs from tests: finding them (a missing peer FAILS the
 * test with the package to install, never skips it), running them with a
 * private environment, and parsing the klist output the interop tests compare.
 */

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const SYSTEM_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/**
 * The absolute path of program `name`, searched on PATH and the sbin
 * directories. Throws, naming the Debian package that provides it, when absent.
 */
export function requireTool(name: string, debianPackage: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== ''), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // keep looking
    }
  }
  throw new Error(
    `${name} not found: install Debian package ${debianPackage} — .ci/install-peers does this`,
  );
}

/** Programs of MIT krb5 the harness uses, with the Debian package of each. */
export const MIT_TOOLS = Object.freeze({
  kinit: 'krb5-user',
  klist: 'krb5-user',
  kvno: 'krb5-user',
  kdestroy: 'krb5-user',
  kswitch: 'krb5-user',
  ktutil: 'krb5-user',
  'kadmin.local': 'krb5-admin-server',
  kdb5_util: 'krb5-kdc',
  krb5kdc: 'krb5-kdc',
} as const);

export type MitTool = keyof typeof MIT_TOOLS;

export function mitTool(name: MitTool): string {
  return requireTool(name, MIT_TOOLS[name]);
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed. */
  readonly input?: string;
  /** The complete environment (nothing is inherited beyond it). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Kill the program after this many milliseconds (default 30 s). */
  readonly timeoutMs?: number;
}

/** Runs a program to completion and collects its output. Never rejects for a non-zero exit. */
export function runProgram(cmd: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...options.env },
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the program may exit without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Throws with the program's output when it did not exit with 0. */
export function checkRun(what: string, r: RunResult): RunResult {
  if (r.code !== 0) {
    throw new Error(`${what} failed (exit ${r.code ?? r.signal}):\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/** A base environment for MIT programs: PATH, C locale and UTC so output formats are stable. */
export function baseEnvironment(): Record<string, string> {
  return {
    PATH: [...(process.env['PATH'] ?? '').split(delimiter), ...SYSTEM_DIRS].filter((d) => d !== '').join(delimiter),
    LC_ALL: 'C',
    LANG: 'C',
    TZ: 'UTC',
  };
}

// ---------------------------------------------------------------------------
// klist output (MIT 1.20, C locale)

export interface KlistKeytabEntry {
  readonly kvno: number;
  readonly timestamp: string;
  readonly principal: string;
  readonly enctype: string;
  /** Lower-case hex, from `klist -K`. */
  readonly keyHex: string;
}

/** Parses `klist -k -t -e -K` output. */
export function parseKlistKeytab(stdout: string): KlistKeytabEntry[] {
  const out: KlistKeytabEntry[] = [];
  const re = /^\s*(\d+)\s+(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d)\s+(\S+)\s+\(([^)]+)\)\s+\(0x([0-9a-f]*)\)\s*$/;
  for (const line of stdout.split('\n')) {
    const m = re.exec(line);
    if (m !== null) out.push({ kvno: Number(m[1]), timestamp: m[2]!, principal: m[3]!, enctype: m[4]!, keyHex: m[5]! });
  }
  return out;
}

export interface KlistCredential {
  readonly start: string;
  readonly expires: string;
  readonly service: string;
  readonly renewUntil?: string;
  readonly flags?: string;
  readonly sessionEnctype?: string;
  readonly ticketEnctype?: string;
}

export interface KlistCache {
  readonly cacheName: string;
  readonly defaultPrincipal: string;
  readonly credentials: KlistCredential[];
  /** `klist -C` lines "config: key(principal) = value", as printed. */
  readonly config: string[];
}

/** Parses `klist [-c name] -e -f [-C]` output. */
export function parseKlistCache(stdout: string): KlistCache {
  const lines = stdout.split('\n');
  const cacheName = /^Ticket cache: (.*)$/m.exec(stdout)?.[1] ?? '';
  const defaultPrincipal = /^Default principal: (.*)$/m.exec(stdout)?.[1] ?? '';
  const credentials: Array<{ -readonly [K in keyof KlistCredential]: KlistCredential[K] }> = [];
  const config: string[] = [];
  const ticketRe = /^(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d)\s+(\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d)\s+(\S+)\s*$/;
  for (const line of lines) {
    if (line.startsWith('config: ')) {
      config.push(line);
      continue;
    }
    const t = ticketRe.exec(line);
    if (t !== null) {
      credentials.push({ start: t[1]!, expires: t[2]!, service: t[3]! });
      continue;
    }
    const current = credentials[credentials.length - 1];
    if (current === undefined) continue;
    const renew = /renew until (\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d)/.exec(line);
    if (renew !== null) current.renewUntil = renew[1]!;
    const flags = /Flags: ([A-Za-z]*)/.exec(line);
    if (flags !== null) current.flags = flags[1]!;
    const et = /Etype \(skey, tkt\): (\S+), (\S+)/.exec(line);
    if (et !== null) {
      current.sessionEnctype = et[1]!;
      current.ticketEnctype = et[2]!;
    }
  }
  return { cacheName, defaultPrincipal, credentials, config };
}
