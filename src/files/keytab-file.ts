/**
 * Reading and writing FILE keytabs by name ('FILE:/path', 'WRFILE:/path' or a
 * path). Writes replace the file atomically with mode 0600.
 */

import { decodeKeytab, encodeKeytab, type KeytabEntry } from './keytab.js';
import { KeytabFormatError, withFile } from './errors.js';
import { readFileIfExists, readWholeFile, writeFileAtomic } from './fs.js';
import { parseKeytabName } from './names.js';

function decodeNamed(bytes: Uint8Array, path: string): KeytabEntry[] {
  try {
    return decodeKeytab(bytes);
  } catch (err) {
    throw err instanceof KeytabFormatError ? withFile(err, path) : err;
  }
}

/** Reads and decodes the keytab `name`. A missing file is a FileAccessError. */
export async function readKeytab(name: string): Promise<KeytabEntry[]> {
  const { path } = parseKeytabName(name);
  return decodeNamed(await readWholeFile(path, 'keytab'), path);
}

/** Encodes `entries` and atomically replaces the keytab `name` (mode 0600). */
export async function writeKeytab(name: string, entries: readonly KeytabEntry[]): Promise<void> {
  const { path } = parseKeytabName(name);
  await writeFileAtomic(path, encodeKeytab(entries), 'keytab');
}

/**
 * Read-modify-write: `change` receives the current entries (none when the file
 * does not exist yet) and returns the new ones, which replace the file.
 * Returns what was written. Not a lock: concurrent updaters of one keytab must
 * be serialised by the caller.
 */
export async function updateKeytab(
  name: string,
  change: (entries: KeytabEntry[]) => readonly KeytabEntry[] | Promise<readonly KeytabEntry[]>,
): Promise<readonly KeytabEntry[]> {
  const { path } = parseKeytabName(name);
  const bytes = await readFileIfExists(path, 'keytab');
  const next = await change(bytes === undefined ? [] : decodeNamed(bytes, path));
  await writeFileAtomic(path, encodeKeytab(next), 'keytab');
  return next;
}
