/**
 * What a command gets from the process: arguments, streams, environment and the
 * injected clock/random source. Commands never read `process` directly, so tests
 * can run them in-process with captured output.
 */

import type { Clock } from '../core/clock.js';
import type { RandomSource } from '../core/random.js';
import type { UsageTable } from './usage.js';

export interface CliIO {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  out(text: string): void;
  err(text: string): void;
  /** Reads a secret from the terminal without echo (or a line from piped stdin). */
  readSecret(prompt: string): Promise<string>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: AbortSignal;
}

/** One CLI command module: `export const command: Command`. Returns the exit code. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** MIT-style usage table (commands that follow an MIT tool): --help prints it, a usage error exits with its status. */
  readonly help?: UsageTable;
  run(io: CliIO): Promise<number>;
}

/** A usage error: the dispatcher prints the message and the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
