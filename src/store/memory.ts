/**
 * The in-memory principal store, for tests and throwaway realms. It behaves
 * like the SQLite store (same validation, ordering, change log), and
 * `connect()` gives a second handle on the same data, the way a second
 * process opens the same SQLite file.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { PrincipalExistsError, PrincipalNotFoundError, StoreClosedError } from './errors.js';
import { MemoryLockoutStore } from './lockout.js';
import {
  DEFAULT_CHANGE_LOG_LIMIT, applyPatch, buildRecord, checkChangeLogLimit, checkMetaKey, checkNtlmCredential, compareNames, copyKey,
  initialAttributes, isNtlmCredential, keysForVersion, kvnosToPurge, listLimit, nameFilter, nextKvno, passwordChanged, realmOf,
} from './records.js';
import type {
  ChangeBatch, KeyMaterial, ListOptions, ListPage, LockoutState, MetaValue, NewPrincipal, PrincipalAttributes,
  PrincipalPatch, PrincipalRecord, PrincipalStore, PurgeKeysOptions, SetKeysOptions, StoredKey,
} from './types.js';

export interface MemoryStoreOptions {
  readonly clock?: Clock;
  /** How many change-log entries to keep (default 100 000); older readers get `reset`. */
  readonly changeLogLimit?: number;
}

interface Row {
  attributes: PrincipalAttributes;
  keys: StoredKey[];
  kvno: number;
  createdAt: number;
  modifiedAt: number;
}

interface Change {
  readonly seq: number;
  readonly kind: 'principal' | 'meta';
  readonly name: string;
}

/** The data every handle of one memory store shares. */
class MemoryData {
  readonly principals = new Map<string, Row>();
  readonly meta = new Map<string, MetaValue>();
  readonly lockout = new Map<string, LockoutState>();
  changes: Change[] = [];
  seq = 0;
  constructor(readonly clock: Clock, readonly changeLogLimit: number) {}

  record(kind: Change['kind'], name: string): void {
    this.changes.push({ seq: ++this.seq, kind, name });
    if (this.changes.length > this.changeLogLimit) this.changes = this.changes.slice(-this.changeLogLimit);
  }
}

export class MemoryStore implements PrincipalStore {
  readonly lockout: MemoryLockoutStore;
  readonly #data: MemoryData;
  #closed = false;

  /** Pass another MemoryStore to share its data (see `connect`). */
  constructor(options: MemoryStoreOptions | MemoryStore = {}) {
    this.#data = options instanceof MemoryStore
      ? options.#data
      : new MemoryData(options.clock ?? systemClock(), checkChangeLogLimit(options.changeLogLimit ?? DEFAULT_CHANGE_LOG_LIMIT));
    this.lockout = new MemoryLockoutStore(this.#data.clock, this.#data.lockout);
  }

  /** Another handle on the same data (like a second process opening the same file). */
  connect(): MemoryStore {
    this.#check();
    return new MemoryStore(this);
  }

  async create(p: NewPrincipal): Promise<PrincipalRecord> {
    this.#check();
    realmOf(p.name);
    const attributes = initialAttributes(p);
    const keys = p.keys === undefined ? [] : keysForVersion(p.name, p.keys, p.kvno ?? 1);
    checkNtlmCredential(p.name, attributes, keys);
    if (this.#data.principals.has(p.name)) throw new PrincipalExistsError(p.name);
    const now = this.#data.clock.now();
    this.#data.principals.set(p.name, { attributes, keys, kvno: keys.find((k) => !isNtlmCredential(k))?.kvno ?? 0, createdAt: now, modifiedAt: now });
    this.#data.record('principal', p.name);
    return this.#read(p.name)!;
  }

  async get(name: string): Promise<PrincipalRecord | undefined> {
    this.#check();
    return this.#read(name);
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    this.#check();
    const limit = listLimit(options);
    const match = nameFilter(options);
    const after = options.after;
    const names = [...this.#data.principals.keys()]
      .filter((n) => (after === undefined || compareNames(n, after) > 0) && match(n))
      .sort(compareNames);
    const page = names.slice(0, limit);
    return names.length > limit ? { names: page, next: page[page.length - 1]! } : { names: page };
  }

  async update(name: string, patch: PrincipalPatch): Promise<PrincipalRecord> {
    const row = this.#row(name);
    row.attributes = applyPatch(name, row.attributes, patch);
    if (!row.attributes.allowNtlm) row.keys = row.keys.filter((k) => !isNtlmCredential(k));
    return this.#touch(name, row);
  }

  async setKeys(name: string, keys: readonly KeyMaterial[], options: SetKeysOptions = {}): Promise<PrincipalRecord> {
    const row = this.#row(name);
    const kvno = nextKvno(name, row.kvno, options.kvno);
    const fresh = keysForVersion(name, keys, kvno);
    checkNtlmCredential(name, row.attributes, fresh);
    row.keys = options.purgeOld === true ? fresh : [...fresh, ...row.keys.filter((k) => !isNtlmCredential(k))];
    row.kvno = kvno;
    if (options.fromPassword === true) row.attributes = passwordChanged(row.attributes, this.#data.clock.now());
    return this.#touch(name, row);
  }

  async replaceKeyBytes(name: string, replace: (key: StoredKey) => Uint8Array | undefined): Promise<PrincipalRecord> {
    const row = this.#row(name);
    let changed = false;
    row.keys = row.keys.map((k) => {
      const bytes = replace(copyKey(k));
      if (bytes === undefined) return k;
      changed = true;
      return { ...k, keyvalue: new Uint8Array(bytes) };
    });
    if (!changed) return this.#read(name)!;
    this.#data.record('principal', name);
    return this.#read(name)!;
  }

  async purgeKeys(name: string, options: PurgeKeysOptions): Promise<PrincipalRecord> {
    const row = this.#row(name);
    const drop = new Set(kvnosToPurge(name, row.keys.map((k) => k.kvno), options));
    if (drop.size === 0) return this.#read(name)!;
    row.keys = row.keys.filter((k) => !drop.has(k.kvno));
    return this.#touch(name, row);
  }

  async delete(name: string): Promise<void> {
    this.#row(name);
    this.#data.principals.delete(name);
    this.#data.record('principal', name);
  }

  async getMeta(key: string): Promise<MetaValue | undefined> {
    this.#check();
    checkMetaKey(key);
    const v = this.#data.meta.get(key);
    return v instanceof Uint8Array ? new Uint8Array(v) : v;
  }

  async setMeta(key: string, value: MetaValue): Promise<void> {
    this.#check();
    checkMetaKey(key);
    this.#data.meta.set(key, value instanceof Uint8Array ? new Uint8Array(value) : String(value));
    this.#data.record('meta', key);
  }

  async deleteMeta(key: string): Promise<void> {
    this.#check();
    checkMetaKey(key);
    if (this.#data.meta.delete(key)) this.#data.record('meta', key);
  }

  async changeSeq(): Promise<number> {
    this.#check();
    return this.#data.seq;
  }

  async changesSince(seq: number): Promise<ChangeBatch> {
    this.#check();
    const { changes, seq: current } = this.#data;
    const oldest = changes[0]?.seq ?? current + 1;
    if (seq < oldest - 1 || seq > current) return { seq: current, principals: [], meta: [], reset: true };
    const principals = new Set<string>();
    const meta = new Set<string>();
    for (const c of changes) {
      if (c.seq <= seq) continue;
      (c.kind === 'principal' ? principals : meta).add(c.name);
    }
    return { seq: current, principals: [...principals], meta: [...meta], reset: false };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.lockout.close();
  }

  #check(): void {
    if (this.#closed) throw new StoreClosedError('the memory principal store');
  }

  #row(name: string): Row {
    this.#check();
    const row = this.#data.principals.get(name);
    if (row === undefined) throw new PrincipalNotFoundError(name);
    return row;
  }

  #touch(name: string, row: Row): PrincipalRecord {
    row.modifiedAt = this.#data.clock.now();
    this.#data.record('principal', name);
    return this.#read(name)!;
  }

  /** A copy, so callers cannot change stored data through it. */
  #read(name: string): PrincipalRecord | undefined {
    const row = this.#data.principals.get(name);
    if (row === undefined) return undefined;
    return buildRecord(name, row.attributes, row.keys.map(copyKey), row.createdAt, row.modifiedAt, row.kvno);
  }
}

/** A fresh in-memory principal store (with its lockout store as `.lockout`). */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options);
}
