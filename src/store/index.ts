/**
 * kerbside/store: the principal database (docs/architecture.md "Storage") — an async
 * `PrincipalStore` interface, the embedded SQLite default, an in-memory store
 * for tests, the KDC's `PrincipalCache`, and the separate lockout store.
 * The conformance suite for new backends is in ./conformance.js (it imports
 * node:test, so it is not re-exported here).
 */
export type {
  KeySalt, KeyMaterial, StoredKey, PrincipalFlags, PrincipalLimits, PrincipalAttributes, PrincipalRecord,
  PrincipalPatch, NewPrincipal, SetKeysOptions, PurgeKeysOptions, ListOptions, ListPage, MetaValue, ChangeBatch,
  PrincipalStore, LockoutPolicy, LockoutState, LockoutStore, SourceLockoutState,
} from './types.js';
export {
  StoreError, PrincipalExistsError, PrincipalNotFoundError, StoreUnavailableError, StoreClosedError,
  StoreDependencyMissingError,
} from './errors.js';
export { DEFAULT_PRINCIPAL_FLAGS, MAX_KVNO, NTLM_CREDENTIAL_ENCTYPE, realmOf, globToRegExp, compareNames } from './records.js';
export { isLockedOut, MemoryLockoutStore, sourceLockoutKey } from './lockout.js';
export { MemoryStore, createMemoryStore, type MemoryStoreOptions } from './memory.js';
export { openSqliteStore, openWalDatabase, type SqliteStore, type SqliteStoreOptions } from './sqlite.js';
export {
  sqliteDriverName, SqliteDriverError, type SqliteDriverName, type SqliteDatabase, type SqliteStatement, type SqliteRunResult,
  type SqliteValue,
} from './sqlite-driver.js';
export { PrincipalCache, type PrincipalCacheOptions, type PrincipalCacheStats } from './cache.js';
export { listAll } from './list.js';
export { MemoryReplayCache, type ReplayCache, type ReplayTuple } from './replay-cache.js';
export { ReplayCacheFullError } from './errors.js';
export { replayTag, type ReplayCacheOptions } from './replay-cache.js';
export { openSqliteReplayCache, type SqliteReplayCache, type SqliteReplayCacheOptions } from './sqlite-replay-cache.js';
export {
  MemoryEventLogStore, EVENT_LEVELS, eventRecordSize, eventUserMatches, DEFAULT_EVENT_QUERY_LIMIT, MAX_EVENT_QUERY_LIMIT,
  type EventLevel, type EventRecordData, type NewEventRecord, type EventRecord, type EventQuery, type EventPage, type EventPurge,
  type EventLogStore,
} from './event-log.js';
export { openSqliteEventLog, type SqliteEventLog, type SqliteEventLogOptions } from './sqlite-event-log.js';
