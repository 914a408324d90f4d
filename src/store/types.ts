/**
 * The principal database's interfaces (docs/architecture.md "Storage"). Every backend —
 * the embedded SQLite default, the in-memory one for tests, PostgreSQL later —
 * implements `PrincipalStore` and passes `runStoreConformance`.
 *
 * Times are milliseconds since the Unix epoch (as `Clock.now()` returns);
 * lifetimes (`maxLife`, `maxRenewableLife`) are seconds, as in kadmin.
 * Key bytes are opaque here: the KDC may wrap them under a master key before
 * storing them. Passwords are never stored.
 */

/** The salt a key was derived with (RFC 4120 §5.2.3 / MIT krb5_key_salt_tuple: type 0 = normal, …). */
export interface KeySalt {
  readonly type: number;
  readonly value: Uint8Array;
}

/** One key without its version: what callers hand to `create` and `setKeys`. */
export interface KeyMaterial {
  readonly enctype: number;
  /** Opaque to the store (possibly wrapped under a master key). */
  readonly keyvalue: Uint8Array;
  readonly salt?: KeySalt;
  /** String-to-key parameters (RFC 3961 §3), e.g. the PBKDF2 iteration count. */
  readonly s2kparams?: Uint8Array;
}

/** One stored key, identified by (kvno, enctype). */
export interface StoredKey extends KeyMaterial {
  readonly kvno: number;
}

/** Yes/no attributes (MIT `KRB5_KDB_*` flags, inverted to say what is allowed). */
export interface PrincipalFlags {
  /** Default true: AS requests must carry pre-authentication. */
  readonly requiresPreauth: boolean;
  /** Default true. */
  readonly allowForwardable: boolean;
  /** Default true. */
  readonly allowRenewable: boolean;
  /** Default false. */
  readonly allowProxiable: boolean;
  /** Default false. */
  readonly allowPostdated: boolean;
  /** Default false: a disabled principal gets no tickets at all. */
  readonly disabled: boolean;
  /** Default true: may obtain tickets as a client (MIT DISALLOW_ALL_TIX inverted). */
  readonly allowTickets: boolean;
  /** Default true: may be the server of a service ticket (MIT DISALLOW_SVR inverted). */
  readonly allowService: boolean;
  /** Default false: tickets for this service carry the ok-as-delegate flag. */
  readonly okAsDelegate: boolean;
  /** Default false: the next AS exchange may only obtain a kadmin/changepw ticket (MIT REQUIRES_PWCHANGE). */
  readonly requiresPasswordChange: boolean;
  /** Default false: this principal is the password-changing service (MIT PWCHANGE_SERVICE). */
  readonly passwordChangeService: boolean;
  /** Default false: logon only with a certificate or smart card (PKINIT); passwords and keys are refused in AS (docs/pkinit.md). */
  readonly requiresPkinit: boolean;
  /**
   * Default false: the principal may log on with NTLM (docs/ntlm.md "Credentials"). Only then does the
   * store keep an NTLM credential for it; turning this off deletes the credential.
   */
  readonly allowNtlm: boolean;
}

/** Optional limits: absent means "no limit of its own" (the realm default applies). */
export interface PrincipalLimits {
  /** The principal may not be used after this time (ms). */
  readonly principalExpiry?: number;
  /** The password must be changed by this time (ms). */
  readonly passwordExpiry?: number;
  /** Maximum ticket lifetime in seconds. */
  readonly maxLife?: number;
  /** Maximum renewable lifetime in seconds. */
  readonly maxRenewableLife?: number;
  /** Enctypes this principal may use as a service/session enctype, in order of preference. */
  readonly allowedEnctypes?: readonly number[];
  /** Name of a password/lockout policy kept in realm metadata (e.g. key `policy:<name>`). */
  readonly policy?: string;
  /**
   * Certificates that log on as this principal besides those whose SAN names
   * it (PKINIT, docs/pkinit.md), in Active Directory's altSecurityIdentities
   * strong forms: 'X509:<I>issuer DN<SR>serial hex' or 'X509:<I>issuer DN<S>subject DN'.
   */
  readonly certificateMappings?: readonly string[];
  /** When the keys were last derived from a new password (ms). */
  readonly lastPasswordChange?: number;
}

export type PrincipalAttributes = PrincipalFlags & PrincipalLimits;

export interface PrincipalRecord extends PrincipalFlags, PrincipalLimits {
  /** Canonical string form 'comp1/comp2@REALM' (MIT quoting); the primary key, case-sensitive. */
  readonly name: string;
  /** The realm part of `name`. */
  readonly realm: string;
  /** The current (highest) key version; 0 when the principal has no keys. */
  readonly kvno: number;
  /**
   * Every stored Kerberos key, newest kvno first; within a kvno in the order they were given. The
   * NTLM credential is never among them.
   */
  readonly keys: readonly StoredKey[];
  /**
   * The NT hash (MD4 of the UTF-16LE password, docs/ntlm.md "Credentials"), wrapped like a key, with
   * enctype NTLM_CREDENTIAL_ENCTYPE and the kvno of the password keys it was made with. Present only
   * while allowNtlm is on. Kept apart from `keys`, so no Kerberos path (key choice, keytab export)
   * can ever select it.
   */
  readonly ntlmCredential?: StoredKey;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

/**
 * Attribute changes for `update`. Absent properties stay as they are; `null`
 * clears an optional limit.
 */
export type PrincipalPatch = Partial<PrincipalFlags> & {
  readonly [K in keyof PrincipalLimits]?: Exclude<PrincipalLimits[K], undefined> | null;
};

/** What `create` takes: a name, optional keys and any attributes that differ from the defaults. */
export interface NewPrincipal extends Partial<PrincipalFlags>, PrincipalLimits {
  readonly name: string;
  /** Initial keys, all of version `kvno`. Without keys the principal has kvno 0 until `setKeys`. */
  readonly keys?: readonly KeyMaterial[];
  /** Version of the initial keys; default 1 (e.g. carry a kvno over when migrating from MIT). */
  readonly kvno?: number;
}

export interface SetKeysOptions {
  /** Version of the new keys; must exceed the current kvno. Default: current + 1. */
  readonly kvno?: number;
  /** Drop every older kvno (MIT `cpw` without `-keepold`). Default false: old kvnos stay for live tickets. */
  readonly purgeOld?: boolean;
  /** The keys come from a new password: sets `lastPasswordChange` to now and clears `requiresPasswordChange`. */
  readonly fromPassword?: boolean;
}

/** Which old key versions `purgeKeys` drops. The current kvno is never dropped. */
export interface PurgeKeysOptions {
  /** Keep only this many newest kvnos (>= 1). */
  readonly keepNewest?: number;
  /** Drop every kvno below this one. */
  readonly belowKvno?: number;
}

export interface ListOptions {
  /**
   * Shell-style glob over the whole name, case-sensitive: `*`, `?`, `[abc]`,
   * `[a-z]`, `[!abc]`, `\` escapes the next character. Default: everything.
   */
  readonly pattern?: string;
  /** Only names starting with this string. */
  readonly prefix?: string;
  /** Cursor: only names after this one (use `ListPage.next`). */
  readonly after?: string;
  /** Page size; default 1000. */
  readonly limit?: number;
}

export interface ListPage {
  /** Matching names in ascending order (by UTF-8 bytes). */
  readonly names: readonly string[];
  /** Present when more names may follow: pass it as `after`. */
  readonly next?: string;
}

export type MetaValue = string | Uint8Array;

/** One batch of the change log. */
export interface ChangeBatch {
  /** Pass this to the next `changesSince`. */
  readonly seq: number;
  /** Principals created, updated, re-keyed or deleted since the given seq (deduplicated). */
  readonly principals: readonly string[];
  /** Realm metadata keys set or deleted since the given seq (deduplicated). */
  readonly meta: readonly string[];
  /**
   * True when the log no longer reaches back to the given seq (it was pruned):
   * the caller must treat everything as changed.
   */
  readonly reset: boolean;
}

/**
 * The principal database. All writes are transactions and an acknowledged
 * write is durable. Names are case-sensitive, as in MIT.
 */
export interface PrincipalStore {
  /** Throws PrincipalExistsError if the name is taken. */
  create(principal: NewPrincipal): Promise<PrincipalRecord>;
  /** Undefined when there is no such principal. */
  get(name: string): Promise<PrincipalRecord | undefined>;
  list(options?: ListOptions): Promise<ListPage>;
  /** Throws PrincipalNotFoundError. Turning allowNtlm off deletes the NTLM credential. */
  update(name: string, patch: PrincipalPatch): Promise<PrincipalRecord>;
  /**
   * Adds a new key version (see SetKeysOptions). Throws PrincipalNotFoundError. A key of enctype
   * NTLM_CREDENTIAL_ENCTYPE among `keys` becomes the NTLM credential (refused unless allowNtlm is
   * on); an older NTLM credential is dropped whether or not a new one is given.
   */
  setKeys(name: string, keys: readonly KeyMaterial[], options?: SetKeysOptions): Promise<PrincipalRecord>;
  /**
   * Rewrites the stored bytes of existing keys in place — same kvno, enctype,
   * salt and modification time — e.g. to re-wrap them in a new master-key
   * format. `replace` returns the new bytes, or undefined to keep a key as
   * it is; it runs inside the write transaction, so it must be synchronous.
   * Logs a change when anything changed. Throws PrincipalNotFoundError.
   */
  replaceKeyBytes(name: string, replace: (key: StoredKey) => Uint8Array | undefined): Promise<PrincipalRecord>;
  /** Drops old key versions. Throws PrincipalNotFoundError. */
  purgeKeys(name: string, options: PurgeKeysOptions): Promise<PrincipalRecord>;
  /** Throws PrincipalNotFoundError. */
  delete(name: string): Promise<void>;

  /** Realm metadata (realm policy, master key check value, …). */
  getMeta(key: string): Promise<MetaValue | undefined>;
  setMeta(key: string, value: MetaValue): Promise<void>;
  deleteMeta(key: string): Promise<void>;

  /** The newest change sequence number (0 before the first write). */
  changeSeq(): Promise<number>;
  /** Changes with a sequence number above `seq`, visible across processes. */
  changesSince(seq: number): Promise<ChangeBatch>;

  /** Releases the handle; later calls throw StoreClosedError. Idempotent. */
  close(): Promise<void>;
}

/** Lockout thresholds (MIT policy: max_failure, failure_count_interval, lockout_duration). */
export interface LockoutPolicy {
  /** Failures that lock the principal; 0 disables locking (failures are still counted). */
  readonly maxFailures: number;
  /** Failures older than this no longer count (ms); 0 = they never expire. */
  readonly failureWindowMs: number;
  /** How long a lock lasts (ms); 0 = until an administrator unlocks. */
  readonly lockoutDurationMs: number;
}

export interface LockoutState {
  /** Failures counted in the current window. */
  readonly failures: number;
  readonly firstFailure?: number;
  readonly lastFailure?: number;
  /** Locked while now < lockedUntil; `Infinity` = until an administrator unlocks. */
  readonly lockedUntil?: number;
  readonly lastSuccess?: number;
}

/** The lockout state of a principal for one source address (docs/lockout.md). */
export interface SourceLockoutState {
  /** An IPv4 address or an IPv6 /64 ('2001:db8:1:2::/64'). */
  readonly source: string;
  readonly state: LockoutState;
}

/**
 * Authentication failures and last successes, kept apart from the principal
 * record (the klmdb model, docs/lessons.md "KDC") so these frequent writes never
 * touch the principal table or its change log.
 */
export interface LockoutStore {
  /** The state for a principal (failures 0 when nothing is recorded). */
  get(principal: string): Promise<LockoutState>;
  /** Counts one failure at the clock's now; locks when the count reaches the policy's maximum. */
  recordFailure(principal: string, policy: LockoutPolicy): Promise<LockoutState>;
  /** Records a success at now and clears the failure count. */
  recordSuccess(principal: string): Promise<LockoutState>;
  /** Clears failures and any lock (administrator unlock), the principal's source rows included; keeps last success. */
  unlock(principal: string): Promise<void>;
  /** Forgets everything about a principal (e.g. after it was deleted), its source rows included. */
  forget(principal: string): Promise<void>;
  /** The rows kept for `principal` per source address (keys made by `sourceLockoutKey`), sorted by source. */
  sources(principal: string): Promise<readonly SourceLockoutState[]>;
}
