/**
 * Runs the real openssl for the pki peer tests; fails (never skips) with the
 * Debian package name when it is missing.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OpensslResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function openssl(args: readonly string[], input?: Uint8Array): OpensslResult {
  const r = spawnSync('openssl', [...args], { input, encoding: 'latin1' });
  if (r.error !== undefined) {
    if ((r.error as { code?: string }).code === 'ENOENT') throw new Error('openssl not found: install the Debian package "openssl"');
    throw r.error;
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A scratch directory removed by `done()`. */
export function scratch(): { path(name: string): string; write(name: string, data: Uint8Array | string): string; read(name: string): Uint8Array; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kerbside-pki-'));
  return {
    path: (name) => join(dir, name),
    write: (name, data) => { const p = join(dir, name); writeFileSync(p, data); return p; },
    read: (name) => new Uint8Array(readFileSync(join(dir, name))),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Seconds since the epoch, for openssl -attime. */
export function attime(ms: number): string {
  return String(Math.floor(ms / 1000));
}
