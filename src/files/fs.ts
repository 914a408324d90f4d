/**
 * The only file-system access of kerbside's file formats: whole-file reads
 * with errors that name the path, and atomic replacement (temp file in the
 * same directory, fsync, rename) so a reader sees the old or the new file,
 * never half of one. Secret-bearing files are created with mode 0600.
 */

import { mkdir, open, opendir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileAccessError } from './errors.js';

let tempCounter = 0;

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string'
    ? (err as { code: string }).code
    : undefined;
}

function accessError(what: string, op: 'read' | 'write', path: string, err: unknown): FileAccessError {
  const errno = errnoOf(err);
  const why = errno === 'ENOENT' ? 'does not exist'
    : errno === 'EACCES' || errno === 'EPERM' ? 'is not accessible (permission denied)'
    : errno === 'EISDIR' ? 'is a directory'
    : `could not be ${op === 'read' ? 'read' : 'written'} (${errno ?? String(err)})`;
  return new FileAccessError(`${what} ${path} ${why}`, {
    path, ...(errno === undefined ? {} : { errno }), cause: err,
    ...(errno === 'EACCES' || errno === 'EPERM' ? { hint: `check the owner and mode of ${path}` } : {}),
  });
}

/** Reads a whole file; a missing or unreadable file is a FileAccessError naming `what` and the path. */
export async function readWholeFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw accessError(what, 'read', path, err);
  }
}

/** Like readWholeFile, but undefined when the file does not exist. */
export async function readFileIfExists(path: string, what: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw accessError(what, 'read', path, err);
  }
}

/**
 * Replaces `path` with `data` atomically: writes `.<name>.kerbside-<pid>-<n>`
 * next to it (exclusive create, `mode`), fsyncs, renames over the target.
 */
export async function writeFileAtomic(path: string, data: Uint8Array, what: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  let temp = '';
  let handle;
  for (let attempt = 0; handle === undefined; attempt++) {
    temp = join(dir, `.${basename(path)}.kerbside-${process.pid}-${tempCounter++}`);
    try {
      handle = await open(temp, 'wx', mode);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST' || attempt > 100) throw accessError(what, 'write', path, err);
    }
  }
  try {
    try {
      await handle.writeFile(data);
      await handle.chmod(mode); // the umask may have narrowed or the file system widened the create mode
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw accessError(what, 'write', path, err);
  }
  await syncDirectory(dir);
}

/** Makes the rename durable; not every platform allows opening a directory, so failures are ignored. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // best effort
  }
}

/** The names in directory `path` in the order the file system gives them (as readdir(3)); undefined when it does not exist. */
export async function listDirectory(path: string, what: string): Promise<string[] | undefined> {
  try {
    // opendir, not readdir: Node's readdir sorts the names, and MIT lists a collection in the file system's order.
    const names: string[] = [];
    for await (const entry of await opendir(path)) names.push(entry.name);
    return names;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw accessError(what, 'read', path, err);
  }
}

/** Creates directory `path` (and its parents) with `mode` when it does not exist. */
export async function ensureDirectory(path: string, what: string, mode = 0o700): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode });
  } catch (err) {
    throw accessError(what, 'write', path, err);
  }
}

/** Creates the empty file `path` exclusively (mode 0600); false when it already exists. */
export async function createExclusive(path: string, what: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    await handle.close();
    return true;
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false;
    throw accessError(what, 'write', path, err);
  }
}

/** Deletes `path`; false when it did not exist. */
export async function removeFile(path: string, what: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw new FileAccessError(`${what} ${path} could not be removed`, { path, ...(errnoOf(err) === undefined ? {} : { errno: errnoOf(err)! }), cause: err });
  }
}
