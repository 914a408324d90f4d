/**
 * The package as npm would publish it: its file list (`npm pack --dry-run`),
 * and a consumer project with the packed tarball installed in node_modules,
 * for tests that compile or run code the way a user's project would.
 */

import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnvironment, checkRun, runProgram } from './mit-tools.js';

/** The repository root (this file is dist/src/testing/package.js). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function npmEnv(): Record<string, string> {
  return { ...baseEnvironment(), HOME: process.env['HOME'] ?? tmpdir(), npm_config_update_notifier: 'false', npm_config_fund: 'false' };
}

/** The paths `npm pack` would put in the tarball (without `package/`). Build first: scripts are not run. */
export async function packedFiles(): Promise<string[]> {
  const r = checkRun('npm pack --dry-run', await runProgram('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { env: npmEnv(), cwd: repoRoot, timeoutMs: 120_000 }));
  const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  return pack!.files.map((f) => f.path);
}

export interface Consumer {
  readonly dir: string;
  remove(): Promise<void>;
}

/**
 * A project directory whose node_modules holds the packed kerbside (extracted
 * from `npm pack`, so only the shipped files) and symlinks to every package of
 * this repository's node_modules except `exclude` (e.g. ['fastify', '@types/express']).
 */
export async function consumerProject(options: { exclude?: readonly string[] } = {}): Promise<Consumer> {
  const exclude = new Set(options.exclude ?? []);
  const dir = await mkdtemp(join(tmpdir(), 'kerbside-consumer-'));
  const modules = join(dir, 'node_modules');
  await mkdir(join(modules, 'kerbside'), { recursive: true });
  const r = checkRun('npm pack', await runProgram('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { env: npmEnv(), cwd: repoRoot, timeoutMs: 120_000 }));
  const [pack] = JSON.parse(r.stdout) as { filename: string }[];
  checkRun('tar', await runProgram('tar', ['-xzf', join(dir, pack!.filename), '-C', join(modules, 'kerbside'), '--strip-components=1'], { env: npmEnv() }));
  const source = join(repoRoot, 'node_modules');
  for (const name of await readdir(source)) {
    if (name.startsWith('.') || name === 'kerbside') continue;
    const names = name.startsWith('@') ? (await readdir(join(source, name))).map((n) => `${name}/${n}`) : [name];
    for (const n of names) {
      if (exclude.has(n)) continue;
      await mkdir(dirname(join(modules, n)), { recursive: true });
      await symlink(join(source, n), join(modules, n));
    }
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
