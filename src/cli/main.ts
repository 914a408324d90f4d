#!/usr/bin/env node
/**
 * `kerbside <command> [args]`: the command-line entry point. Commands live in
 * ./commands/<name>.js and are loaded on demand so `kerbside klist` never loads
 * the KDC or its database driver.
 */

import { createInterface, type Interface } from 'node:readline';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KerbsideError } from '../core/errors.js';
import { systemClock } from '../core/clock.js';
import { systemRandom } from '../core/random.js';
import { readFileIfExists } from '../files/index.js';
import { UsageError, type CliIO, type Command } from './io.js';
import { formatUsage, wantsHelp } from './usage.js';

/** name → module file under ./commands (frozen; add a row per command). */
export const COMMANDS: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  start: 'start',
  realm: 'realm',
  kdc: 'kdc',
  principal: 'principal',
  keytab: 'keytab',
  ca: 'ca',
  smartcard: 'smartcard',
  kinit: 'kinit',
  klist: 'klist',
  kdestroy: 'kdestroy',
  kswitch: 'kswitch',
  kvno: 'kvno',
  ktutil: 'ktutil',
  task: 'task',
  logon: 'logon',
  logoff: 'logoff',
  scheduler: 'scheduler',
  events: 'events',
}));

export async function loadCommand(name: string): Promise<Command | undefined> {
  const file = COMMANDS[name];
  if (file === undefined) return undefined;
  try {
    const mod = (await import(`./commands/${file}.js`)) as { command?: Command };
    return mod.command;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * Piped stdin (scripts, tests) is read line by line through one reader for the
 * whole process, so a second prompt (e.g. "Verifying - Password") gets the
 * second line rather than nothing.
 */
let pipedReader: { rl: Interface; lines: AsyncIterator<string> } | undefined;

async function readPipedLine(): Promise<string> {
  if (pipedReader === undefined) {
    const rl = createInterface({ input: process.stdin, terminal: false });
    pipedReader = { rl, lines: rl[Symbol.asyncIterator]() };
  }
  const next = await pipedReader.lines.next();
  return next.done === true ? '' : next.value;
}

function closePipedReader(): void {
  pipedReader?.rl.close();
  pipedReader = undefined;
}

async function readSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    process.stderr.write(prompt);
    return readPipedLine();
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') { done(); resolve(value); return; }
        if (ch === '\u0003') { done(); reject(new UsageError('interrupted')); return; }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    input.on('data', onData);
  });
}

export function processIO(argv: readonly string[]): CliIO {
  const controller = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => controller.abort());
  return {
    argv,
    env: process.env,
    cwd: process.cwd(),
    clock: systemClock(),
    random: systemRandom(),
    out: (t) => { process.stdout.write(t.endsWith('\n') ? t : `${t}\n`); },
    err: (t) => { process.stderr.write(t.endsWith('\n') ? t : `${t}\n`); },
    readSecret,
    stopSignal: controller.signal,
  };
}

async function help(io: CliIO): Promise<void> {
  io.out('usage: kerbside <command> [options]    (kerbside <command> --help for one command; kerbside --version)\n\ncommands:');
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await loadCommand(name);
    if (cmd !== undefined) io.out(`  ${name.padEnd(10)} ${cmd.summary}`);
  }
}

/** The version in kerbside's package.json (the nearest one above this module named "kerbside"). */
export async function packageVersion(): Promise<string> {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 6; i++) {
    const bytes = await readFileIfExists(fileURLToPath(new URL('package.json', dir)), 'package.json');
    if (bytes !== undefined) {
      const pkg = JSON.parse(new TextDecoder().decode(bytes)) as { name?: unknown; version?: unknown };
      if (pkg.name === 'kerbside' && typeof pkg.version === 'string') return pkg.version;
    }
    dir = new URL('..', dir);
  }
  return 'unknown';
}

export async function main(argv: readonly string[], io: CliIO = processIO(argv.slice(1))): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    await help(io);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    io.out(`kerbside ${await packageVersion()}`);
    return 0;
  }
  const cmd = await loadCommand(name);
  if (cmd === undefined) {
    io.err(`kerbside: unknown command "${name}" (see kerbside --help)`);
    return 2;
  }
  if (wantsHelp(rest)) {
    io.out(cmd.help !== undefined ? formatUsage(cmd.help) : `${cmd.summary}\nusage: kerbside ${cmd.usage.replace(/^kerbside /, '')}`);
    return 0;
  }
  const cmdIO: CliIO = { ...io, argv: rest };
  try {
    return await cmd.run(cmdIO);
  } catch (err) {
    if (err instanceof UsageError) {
      if (cmd.help !== undefined) {
        // MIT's tools: "kinit: <getopt message>", then the usage, on stderr.
        io.err(`${name}: ${err.message}\n${formatUsage(cmd.help)}`);
        return cmd.help.usageExit;
      }
      io.err(`kerbside ${name}: ${err.message}\nusage: ${cmd.usage}`);
      return 2;
    }
    if (err instanceof KerbsideError) {
      io.err(`kerbside ${name}: ${err.explain()}`);
      return 1;
    }
    throw err;
  }
}

/** True when this file is the program node was started with (directly or through the npm bin link). */
function isEntryPoint(): boolean {
  const invokedAs = process.argv[1];
  if (invokedAs === undefined) return false;
  try {
    return realpathSync(invokedAs) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => { closePipedReader(); process.exitCode = code; },
    (err: unknown) => {
      closePipedReader();
      process.stderr.write(`kerbside: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
