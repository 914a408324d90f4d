/**
 * A file's identity without reading it: acceptors stat their keytab to notice
 * a rotation (a rename, rewrite or resize) instead of re-reading the file on
 * every request.
 */

import { stat } from 'node:fs/promises';

/** What identifies one version of a file: a rename (new inode), a rewrite (mtime/ctime) or a resize changes it. */
export interface FileStamp {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** stat(2) of `path`; undefined when the file does not exist. Other errors are thrown. */
export async function statFile(path: string): Promise<FileStamp | undefined> {
  try {
    const s = await stat(path);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
