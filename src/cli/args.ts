/**
 * Command-line parsing shared by the admin commands: node:util parseArgs with
 * its errors turned into UsageError, and the value syntaxes MIT's tools use
 * (durations as krb5_string_to_deltat, dates, enctype lists).
 */

import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration, readFileIfExists } from '../files/index.js';
import { UsageError, type CliIO } from './io.js';
import { PrincipalCommandError } from './errors.js';
import type { ListenAddress } from '../kdc/index.js';
import { parseEnctypeList, parseListenAddress } from './kdc-conf.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` strictly (unknown options are usage errors); positionals allowed. */
export function parseCommandLine<const O extends Options>(
  argv: readonly string[], options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(getoptMessage(err as Error & { code?: string }));
  }
}

/**
 * parseArgs' errors in the words of getopt_long(3), which MIT's tools print
 * ("unrecognized option '--x'", "invalid option -- 'x'", "option requires an
 * argument -- 'c'"), instead of Node's advice about positionals.
 */
function getoptMessage(err: Error & { code?: string }): string {
  const quoted = /'(-[^' ]*)/.exec(err.message)?.[1];
  if (quoted === undefined) return err.message;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return quoted.startsWith('--') ? `unrecognized option '${quoted}'` : `invalid option -- '${quoted.slice(1)}'`;
  }
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && / argument missing$/.test(err.message)) {
    const name = quoted.replace(/^--?/, '');
    return name.length === 1 ? `option requires an argument -- '${name}'` : `option '--${name}' requires an argument`;
  }
  return err.message;
}

/** A duration option in seconds ("10h", "7d", "1d 2h", "36000"). */
export function durationOption(name: string, value: string): number {
  try {
    const seconds = parseDuration(value);
    if (seconds < 0) throw new Error('negative');
    return seconds;
  } catch {
    throw new UsageError(`--${name} "${value}" is not a duration (e.g. 10h, 7d, "1d 2h", 36000)`);
  }
}

/** A date option in ms since the epoch: ISO 8601 ("2027-01-31", "2027-01-31T12:00:00Z"); "never" gives null. */
export function dateOption(name: string, value: string): number | null {
  if (value === 'never') return null;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--${name} "${value}" is not a date (use YYYY-MM-DD, an ISO 8601 time, or "never")`);
  return ms;
}

/** A port number option. */
export function portOption(name: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--${name} "${value}" is not a port number (0-65535)`);
  return port;
}

/** An enctype list option ("aes256-cts-hmac-sha1-96,aes128-cts-hmac-sha1-96" or "aes"). */
export function enctypesOption(name: string, value: string): number[] {
  try {
    return parseEnctypeList(value, `--${name}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Repeated --listen options (MIT kdc_listen syntax), or undefined when none was given. */
export function listenOption(values: readonly string[] | undefined): ListenAddress[] | undefined {
  try {
    return values?.flatMap((l) => parseListenAddress(l));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The realm directory: --dir, else $KERBSIDE_REALM_DIR, else ./realm; relative to the working directory. */
export function realmDirOption(io: CliIO, value: string | undefined): string {
  return resolve(io.cwd, value ?? io.env['KERBSIDE_REALM_DIR'] ?? 'realm');
}

/** Exactly `n` positionals, named in the usage error. */
export function positionals(list: readonly string[], names: readonly string[]): string[] {
  if (list.length !== names.length) {
    throw new UsageError(list.length < names.length
      ? `missing ${names.slice(list.length).join(' and ')}`
      : `unexpected argument "${list[names.length]!}"`);
  }
  return [...list];
}

/** Printed when a password is given as an argument: other local users can read it. */
export const PASSWORD_ARGUMENT_WARNING = 'warning: a password given on the command line is visible to other users of this machine '
  + '(process list) and stays in shell history; use --password-file FILE (- for one line of standard input), '
  + 'or leave both out to be prompted';

/**
 * The new password of a command: --password (with a warning), --password-file
 * (its first line; "-" = one line of standard input), else a prompt (twice).
 */
export async function newPasswordOption(
  io: CliIO, values: { readonly password?: string | undefined; readonly 'password-file'?: string | undefined }, principal: string,
): Promise<string> {
  if (values.password !== undefined && values['password-file'] !== undefined) throw new UsageError('give either --password or --password-file');
  if (values.password !== undefined) {
    io.err(PASSWORD_ARGUMENT_WARNING);
    return values.password;
  }
  const file = values['password-file'];
  if (file === undefined) return promptNewPassword(io, principal);
  let line: string;
  if (file === '-') {
    line = await io.readSecret('');
  } else {
    const bytes = await readFileIfExists(resolve(io.cwd, file), 'password file');
    if (bytes === undefined) throw new PrincipalCommandError(`password file ${file} does not exist; nothing was changed`);
    line = new TextDecoder('utf-8', { fatal: false }).decode(bytes).split(/\r?\n/)[0] ?? '';
  }
  if (line === '') throw new PrincipalCommandError(`the password read from ${file === '-' ? 'standard input' : file} for ${principal} is empty; nothing was changed`);
  return line;
}

/** Reads a new password twice (as kadmin does); refuses an empty or mismatched one. */
export async function promptNewPassword(io: CliIO, principal: string): Promise<string> {
  const first = await io.readSecret(`Enter password for principal "${principal}": `);
  const second = await io.readSecret(`Re-enter password for principal "${principal}": `);
  if (first !== second) throw new PrincipalCommandError(`the passwords entered for ${principal} do not match; nothing was changed`);
  if (first === '') throw new PrincipalCommandError(`the password entered for ${principal} is empty; nothing was changed`);
  return first;
}
