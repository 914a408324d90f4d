/**
 * Running the kerbside CLI from tests and benchmarks: in-process with a
 * captured CliIO (fast, for admin commands), as a one-shot child process, or
 * as a long-running child (`kerbside kdc`, `kerbside start`) whose output can
 * be waited on. Children that a test forgets are killed when it exits.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../core/clock.js';
import { systemRandom } from '../core/random.js';
import type { CliIO } from '../cli/io.js';
import { baseEnvironment, runProgram, type RunResult } from './mit-tools.js';

/** The compiled CLI entry point (dist/src/cli/main.js). */
export const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

export interface CapturedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface InProcessOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Answers to readSecret, in order. */
  readonly secrets?: readonly string[];
  /** Aborting it plays the part of SIGTERM. */
  readonly signal?: AbortSignal;
  /** Called with each line written to stdout (e.g. to notice a ready line). */
  readonly onOut?: (text: string) => void;
}

/** Runs `kerbside …args` in this process with captured output. */
export async function runCliInProcess(args: readonly string[], options: InProcessOptions = {}): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const secrets = [...(options.secrets ?? [])];
  const io: CliIO = {
    argv: args.slice(1),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    clock: systemClock(),
    random: systemRandom(),
    out: (t) => { const line = t.endsWith('\n') ? t : `${t}\n`; stdout += line; options.onOut?.(line); },
    err: (t) => { stderr += t.endsWith('\n') ? t : `${t}\n`; },
    readSecret: async () => {
      const s = secrets.shift();
      if (s === undefined) throw new Error('the command asked for more secrets than the test gave');
      return s;
    },
    stopSignal: options.signal ?? new AbortController().signal,
  };
  // Imported here, not at the top: cli/main.js runs itself when process.argv[1] ends in main.js (as a benchmark's does).
  const { main } = await import('../cli/main.js');
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** Runs `node dist/src/cli/main.js …args` to completion. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: Readonly<Record<string, string>>; input?: string } = {}): Promise<RunResult> {
  return runProgram(process.execPath, [CLI_MAIN, ...args], {
    env: { ...baseEnvironment(), ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in stdout; rejects (with the output so far) on exit or timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (default SIGTERM) and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
let hooked = false;

/** Starts `node dist/src/cli/main.js …args` in the background. */
export function spawnCli(args: readonly string[], options: { cwd?: string; env?: Readonly<Record<string, string>> } = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...baseEnvironment(), ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => { for (const c of live) c.kill('SIGKILL'); });
  }
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; for (const w of waiters) w(); });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m !== null) { done(); resolve(m); return; }
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`kerbside ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${re}:\n${out}\n${err}`));
          }
        };
        const timer = systemClock().setTimer(timeoutMs, () => { done(); reject(new Error(`kerbside ${args.join(' ')} did not print ${re} within ${timeoutMs} ms:\n${out}\n${err}`)); });
        const done = (): void => { timer.cancel(); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const force = systemClock().setTimer(10_000, () => child.kill('SIGKILL'));
        const result = await exited;
        force.cancel();
        return result;
      }
      return exited;
    },
  };
}
