/**
 * Running Heimdal 7.8 programs from tests. Heimdal's Debian packages conflict
 * with MIT's, so .ci/install-heimdal unpacks them privately (docs/interop.md) into
 * $KERBSIDE_HEIMDAL or ~/.cache/kerbside/heimdal; the binaries run from there
 * with LD_LIBRARY_PATH pointing at the unpacked libraries. A missing install
 * FAILS the test with the command to run, never skips it.
 *
 * Every program gets a private environment (KRB5_CONFIG, KRB5CCNAME, …) built
 * by the caller; /etc/krb5.conf is never read.
 */

import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { baseEnvironment, runProgram, type RunResult } from './mit-tools.js';

/**
 * Heimdal programs the tests use: short name → path inside the unpacked tree
 * and leading arguments. klist is a subcommand of the multi-call `heimtools`
 * (Debian's klist.heimdal is a symlink that heimtools does not recognise by name).
 */
export const HEIMDAL_TOOLS = Object.freeze({
  kinit: { path: 'usr/bin/kinit.heimdal', args: [] },
  klist: { path: 'usr/bin/heimtools', args: ['klist'] },
  kdestroy: { path: 'usr/bin/kdestroy.heimdal', args: [] },
  kgetcred: { path: 'usr/bin/kgetcred', args: [] },
  ktutil: { path: 'usr/bin/ktutil.heimdal', args: [] },
  kdc: { path: 'usr/lib/heimdal-servers/kdc', args: [] },
} as const satisfies Record<string, { path: string; args: readonly string[] }>);

export type HeimdalTool = keyof typeof HEIMDAL_TOOLS;

/** The folder Heimdal was unpacked into (it may not exist). */
export function heimdalRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env['KERBSIDE_HEIMDAL'] || join(homedir(), '.cache', 'kerbside', 'heimdal');
}

/** The absolute path of a Heimdal program; throws naming the install script when absent. */
export function heimdalTool(name: HeimdalTool, root: string = heimdalRoot()): string {
  const full = join(root, HEIMDAL_TOOLS[name].path);
  try {
    accessSync(full, constants.X_OK);
  } catch {
    throw new Error(`Heimdal ${name} not found at ${full}: run .ci/install-heimdal (it unpacks Heimdal 7.8 into $KERBSIDE_HEIMDAL or ~/.cache/kerbside/heimdal)`);
  }
  return full;
}

/** PATH, C locale, UTC and LD_LIBRARY_PATH for the unpacked libraries, plus `extra`. */
export function heimdalEnvironment(extra: Readonly<Record<string, string>> = {}, root: string = heimdalRoot()): Record<string, string> {
  return { ...baseEnvironment(), LD_LIBRARY_PATH: join(root, 'usr', 'lib', 'x86_64-linux-gnu'), ...extra };
}

export interface HeimdalRunOptions {
  /** Variables added to the base environment: KRB5_CONFIG, KRB5CCNAME, … (KRB5_CONFIG is required). */
  readonly env: Readonly<Record<string, string>>;
  /** Written to stdin, then stdin is closed (e.g. the password for `kinit --password-file=STDIN`). */
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Runs a Heimdal program to completion. Never rejects for a non-zero exit. */
export function runHeimdal(name: HeimdalTool, args: readonly string[], options: HeimdalRunOptions): Promise<RunResult> {
  if (options.env['KRB5_CONFIG'] === undefined) {
    throw new Error('runHeimdal needs KRB5_CONFIG in env: Heimdal would otherwise read /etc/krb5.conf');
  }
  return runProgram(heimdalTool(name), [...HEIMDAL_TOOLS[name].args, ...args], {
    env: heimdalEnvironment(options.env),
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

// ---------------------------------------------------------------------------
// `klist.heimdal -v` output (Heimdal 7.8, C locale)

export interface HeimdalCredential {
  readonly server: string;
  readonly client: string;
  /** "Ticket etype" without the kvno, e.g. 'aes256-cts-hmac-sha1-96'. */
  readonly ticketEnctype: string;
  /** The ticket's kvno as printed ("kvno N"), when shown. */
  readonly kvno?: number;
  /** "Ticket flags", e.g. ['forwardable', 'initial', 'pre-authent']. */
  readonly flags: readonly string[];
}

export interface HeimdalKlist {
  readonly principal: string;
  readonly credentials: readonly HeimdalCredential[];
}

/** Parses `klist.heimdal -v`: the default principal and, per ticket, server, client, enctypes and flags. */
export function parseHeimdalKlistVerbose(stdout: string): HeimdalKlist {
  const principal = /^\s*Principal:\s*(\S+)/m.exec(stdout)?.[1] ?? '';
  const credentials: HeimdalCredential[] = [];
  // Each ticket block starts with "Server: …".
  for (const block of stdout.split(/^(?=Server: )/m).slice(1)) {
    const field = (label: string): string | undefined => new RegExp(`^${label}:\\s*(.*)$`, 'm').exec(block)?.[1]?.trim();
    const etype = /^(\S+?),?(?:\s+kvno\s+(\d+))?$/.exec(field('Ticket etype') ?? '');
    credentials.push({
      server: field('Server') ?? '',
      client: field('Client') ?? '',
      ticketEnctype: etype?.[1] ?? '',
      ...(etype?.[2] === undefined ? {} : { kvno: Number(etype[2]) }),
      flags: (field('Ticket flags') ?? '').split(/,\s*/).filter((f) => f !== ''),
    });
  }
  return { principal, credentials };
}
