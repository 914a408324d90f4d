/**
 * The SQLite drivers the store tests run against in this Node: the one forced
 * by KERBSIDE_SQLITE_DRIVER, else every one that loads here (node:sqlite on
 * Node >= 22.13; better-sqlite3 where its native binding matches this Node's
 * ABI). On Node 20 that is better-sqlite3 only: src/node-matrix.test.ts runs
 * the same suites under node@22 and node@24 with node:sqlite.
 */

import { loadBetterSqlite3, loadNodeSqlite } from '../store/sqlite-driver.js';
import type { SqliteDriverName } from '../store/index.js';

async function betterSqlite3Loads(): Promise<boolean> {
  try {
    const Driver = await loadBetterSqlite3();
    new Driver(':memory:').close(); // the binding is loaded (and ABI-checked) here
    return true;
  } catch {
    return false;
  }
}

export async function sqliteDriversUnderTest(): Promise<readonly SqliteDriverName[]> {
  const forced = process.env['KERBSIDE_SQLITE_DRIVER'];
  if (forced === 'node' || forced === 'better-sqlite3') return [forced];
  const drivers: SqliteDriverName[] = [];
  if (loadNodeSqlite() !== undefined) drivers.push('node');
  if (await betterSqlite3Loads()) drivers.push('better-sqlite3');
  if (drivers.length === 0) {
    throw new Error(`no SQLite driver loads in Node ${process.versions.node}: run npm rebuild better-sqlite3, or use Node >= 22.13 (node:sqlite)`);
  }
  return drivers;
}
