#!/usr/bin/env node
/**
 * `kerbside <command> [args]`: the command-line entry point. Commands live in
 * ./commands/<name>.js and are loaded on demand so `kerbside klist` never loads
 * the KDC or its database driver.
 */

import { createInterface } from 'node:readline';
import { KerbsideError } from '../core/errors.js';
import { systemClock } from '../core/clock.js';
import { systemRandom } from '../core/random.js';
import { UsageError, type CliIO, type Command } from './io.js';

/** name → module file under ./commands (frozen; add a row per command). */
export const COMMANDS: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, {
  start: 'start',
  realm: 'realm',
  kdc: 'kdc',
  principal: 'principal',
  keytab: 'keytab',
  kinit: 'kinit',
  klist: 'klist',
  kdestroy: 'kdestroy',
  kvno: 'kvno',
  ktutil: 'ktutil',
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

async function readSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    // Piped input (scripts, tests): read one line.
    const rl = createInterface({ input, terminal: false });
    process.stderr.write(prompt);
    for await (const line of rl) { rl.close(); return line; }
    return '';
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
  io.out('usage: kerbside <command> [options]\n\ncommands:');
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await loadCommand(name);
    if (cmd !== undefined) io.out(`  ${name.padEnd(10)} ${cmd.summary}`);
  }
}

export async function main(argv: readonly string[], io: CliIO = processIO(argv.slice(1))): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    await help(io);
    return name === undefined ? 2 : 0;
  }
  const cmd = await loadCommand(name);
  if (cmd === undefined) {
    io.err(`kerbside: unknown command "${name}" (see kerbside --help)`);
    return 2;
  }
  const cmdIO: CliIO = { ...io, argv: rest };
  try {
    return await cmd.run(cmdIO);
  } catch (err) {
    if (err instanceof UsageError) {
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

// Run when executed as the bin (not when imported by tests).
const invokedAs = process.argv[1] ?? '';
if (/(?:^|[\\/])(main\.js|kerbside)$/.test(invokedAs)) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => { process.stderr.write(`kerbside: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`); process.exitCode = 70; },
  );
}
