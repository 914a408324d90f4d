/**
 * A realm directory, as `kerbside realm init` creates it and the other admin
 * commands open it:
 *
 *   kdc.conf          MIT kdc.conf(5) profile syntax: [kdcdefaults] and one realm under [realms]
 *   principal.sqlite  the embedded principal store (mode 0600)
 *   stash             the master key, as an MIT stash file (a keytab holding K/M@REALM, mode 0600)
 *   krb5.conf         a client configuration pointing at this KDC
 *
 * Every key in the database is wrapped under the master key, so a copy of the
 * database alone (a backup, a dump) reveals no keys, and each wrapped key is
 * bound to its record (principal, kvno, enctype: kdc/keys.ts), so key bytes
 * moved to another record are refused. A realm created before that binding
 * (meta kerbside.key_wrap absent) is re-wrapped once, key by key in place,
 * the first time any command or the KDC opens it; from then on old-format
 * blobs are refused. The database keeps a
 * check value so a stash from another realm is refused with a clear error
 * rather than failing every request.
 */

import { mkdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { fromUtf8, utf8 } from '../core/bytes.js';
import type { RandomSource } from '../core/random.js';
import { decrypt, encrypt, generateKey, type Key } from '../crypto/index.js';
import { NT_PRINCIPAL, readKeytab, writeFileAtomic, writeKeytab } from '../files/index.js';
import {
  DEFAULT_PASSWORD_QUALITY, isLegacyWrappedKey, masterKeyProtector, realmAdmin, type KeyProtector, type ListenAddress,
  type PasswordQualityPolicy, type RealmAdmin,
} from '../kdc/index.js';
import { listAll, openSqliteStore, type SqliteStore } from '../store/index.js';
import { RealmDirectoryError } from './errors.js';
import {
  DEFAULT_REALM_SETTINGS, DEFAULT_TRANSPORT_SETTINGS, INIT_LOCKOUT_SETTINGS, NTLM_OFF, REALM_FILES, formatKdcConf, readRealmSettings, realmPolicy,
  type RealmLockoutSettings, type RealmSettings,
} from './kdc-conf.js';

const MASTER_PRINCIPAL = 'K/M';
/** Realm metadata holding the master key check value, and the private key usage it is encrypted with. */
const MASTER_CHECK_META = 'kerbside.master_key_check';
const MASTER_CHECK_USAGE = 1_000_002;
const MASTER_CHECK_TEXT = 'kerbside master key check';
/** Realm metadata: '2' once every stored key is in the record-bound format. */
const KEY_WRAP_META = 'kerbside.key_wrap';
const KEY_WRAP_CURRENT = '2';

// ---------------------------------------------------------------------------
// Creating and opening

export interface OpenRealm {
  readonly settings: RealmSettings;
  readonly store: SqliteStore;
  /** Wraps keys under the realm's master key before they are stored, and unwraps them. */
  readonly keys: KeyProtector;
  /** Principal and key administration on `store` with the realm's policy and master key. */
  readonly admin: RealmAdmin;
  close(): Promise<void>;
}

function opened(settings: RealmSettings, store: SqliteStore, masterKey: Key, env: { clock: Clock; random: RandomSource }): OpenRealm {
  const keys = masterKeyProtector(masterKey, env.random);
  const admin = realmAdmin({
    realm: settings.realm, store, policy: realmPolicy(settings), clock: env.clock, random: env.random, keys,
    ...(settings.passwordQuality === undefined ? {} : { passwordQuality: settings.passwordQuality }),
    ntlm: settings.ntlm.enabled,
  });
  return { settings, store, keys, admin, close: () => store.close() };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return false;
    throw err;
  }
}

async function readStash(s: RealmSettings): Promise<Key> {
  if (!(await exists(s.stashPath))) {
    throw new RealmDirectoryError(`the master key stash ${s.stashPath} of realm ${s.realm} is missing`, {
      hint: 'restore it from the backup made when the realm was created; without it the keys in the database cannot be used',
    });
  }
  const entry = (await readKeytab(s.stashPath)).find((e) => e.principal.components.join('/') === MASTER_PRINCIPAL);
  if (entry === undefined) throw new RealmDirectoryError(`${s.stashPath} holds no master key (K/M@${s.realm})`);
  return { enctype: entry.enctype, keyvalue: entry.key };
}

/** Opens the realm in `dir`: settings, store and master key (checked against the database). */
export async function openRealm(dir: string, options: { clock: Clock; random: RandomSource }): Promise<OpenRealm> {
  const settings = await readRealmSettings(dir);
  if (!(await exists(settings.databasePath))) {
    throw new RealmDirectoryError(`the principal database ${settings.databasePath} of realm ${settings.realm} is missing`, {
      hint: 'the realm directory is incomplete: restore the database, or create a new realm in an empty directory',
    });
  }
  const masterKey = await readStash(settings);
  const store = await openSqliteStore({ path: settings.databasePath, clock: options.clock });
  try {
    const check = await store.getMeta(MASTER_CHECK_META);
    let ok = false;
    try {
      ok = check instanceof Uint8Array && fromUtf8(decrypt(masterKey, MASTER_CHECK_USAGE, check)) === MASTER_CHECK_TEXT;
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new RealmDirectoryError(`the master key in ${settings.stashPath} does not belong to the database ${settings.databasePath}`, {
        hint: 'the stash file was replaced or comes from another realm; restore the matching stash',
      });
    }
    if ((await store.getMeta(KEY_WRAP_META)) !== KEY_WRAP_CURRENT) await rewrapLegacyKeys(store, masterKey, options.random);
  } catch (err) {
    await store.close();
    throw err;
  }
  return opened(settings, store, masterKey, options);
}

/**
 * Re-wraps every first-format key in the record-bound format, one principal
 * per transaction (safe to interrupt and to run from two processes at once:
 * a key already re-wrapped is left alone), then marks the realm migrated.
 * Returns how many keys were re-wrapped.
 */
export async function rewrapLegacyKeys(store: SqliteStore, masterKey: Key, random: RandomSource): Promise<number> {
  const legacy = masterKeyProtector(masterKey, random, { acceptLegacyBlobs: true });
  let count = 0;
  for await (const name of listAll(store)) {
    await store.replaceKeyBytes(name, (k) => {
      if (!isLegacyWrappedKey(k.keyvalue)) return undefined;
      count++;
      return legacy.seal(legacy.open(k, name), name, k.kvno);
    });
  }
  await store.setMeta(KEY_WRAP_META, KEY_WRAP_CURRENT);
  return count;
}

export interface InitRealmOptions {
  readonly dir: string;
  readonly realm: string;
  readonly listen?: readonly ListenAddress[];
  readonly maxLife?: number;
  readonly maxRenewableLife?: number;
  readonly clockSkew?: number;
  readonly supportedEnctypes?: readonly number[];
  /** Default DEFAULT_PASSWORD_QUALITY (minlength 8, minclasses 2, history 1). */
  readonly passwordQuality?: PasswordQualityPolicy;
  /** Default INIT_LOCKOUT_SETTINGS (on); maxFailure 0 writes none (off). */
  readonly lockout?: RealmLockoutSettings;
  readonly clock: Clock;
  readonly random: RandomSource;
}

/** Whether `dir` already holds (part of) a realm, or a krb5.conf that init would overwrite. */
export async function realmExists(dir: string): Promise<boolean> {
  const abs = resolve(dir);
  for (const f of [REALM_FILES.config, REALM_FILES.database, REALM_FILES.stash, REALM_FILES.krb5Conf]) {
    if (await exists(join(abs, f))) return true;
  }
  return false;
}

/**
 * Creates the directory (0700), the master key stash, the database with its
 * check value and krbtgt/REALM (random keys), then kdc.conf. Refuses a
 * directory that already holds a realm. Other principals are added by the caller.
 */
export async function createRealmDirectory(o: InitRealmOptions): Promise<OpenRealm> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(o.realm)) {
    throw new RealmDirectoryError(`"${o.realm}" is not a realm name kerbside creates`, {
      hint: 'use an upper-case DNS-style name such as EXAMPLE.TEST (letters, digits, ".", "-", "_")',
    });
  }
  const abs = resolve(o.dir);
  if (await realmExists(abs)) {
    throw new RealmDirectoryError(`${abs} already holds a realm; refusing to overwrite it`, {
      hint: 'choose an empty directory, or remove the old realm (kdc.conf, principal.sqlite, stash, krb5.conf) yourself',
    });
  }
  await mkdir(abs, { recursive: true, mode: 0o700 });
  const settings: RealmSettings = {
    dir: abs,
    realm: o.realm,
    databasePath: join(abs, REALM_FILES.database),
    stashPath: join(abs, REALM_FILES.stash),
    listen: o.listen ?? DEFAULT_REALM_SETTINGS.listen,
    maxLife: o.maxLife ?? DEFAULT_REALM_SETTINGS.maxLife,
    maxRenewableLife: o.maxRenewableLife ?? DEFAULT_REALM_SETTINGS.maxRenewableLife,
    clockSkew: o.clockSkew ?? DEFAULT_REALM_SETTINGS.clockSkew,
    supportedEnctypes: o.supportedEnctypes ?? DEFAULT_REALM_SETTINGS.supportedEnctypes,
    passwordQuality: o.passwordQuality ?? DEFAULT_PASSWORD_QUALITY,
    lockout: o.lockout ?? INIT_LOCKOUT_SETTINGS,
    transport: DEFAULT_TRANSPORT_SETTINGS,
    ntlm: NTLM_OFF,
  };
  try {
    const masterKey = generateKey(18, o.random);
    await writeKeytab(settings.stashPath, [{
      principal: { realm: o.realm, nameType: NT_PRINCIPAL, components: MASTER_PRINCIPAL.split('/') },
      timestamp: new Date(Math.floor(o.clock.now() / 1000) * 1000),
      kvno: 1,
      enctype: masterKey.enctype,
      key: masterKey.keyvalue,
    }]);
    const store = await openSqliteStore({ path: settings.databasePath, clock: o.clock });
    const realm = opened(settings, store, masterKey, o);
    try {
      await store.setMeta(MASTER_CHECK_META, encrypt(masterKey, MASTER_CHECK_USAGE, utf8(MASTER_CHECK_TEXT), o.random));
      await store.setMeta(KEY_WRAP_META, KEY_WRAP_CURRENT);
      await realm.admin.createRealm();
      // kdc.conf last: it marks the directory as a complete realm.
      await writeFileAtomic(join(abs, REALM_FILES.config), utf8(formatKdcConf(settings)), 'realm configuration', 0o644);
    } catch (err) {
      await store.close();
      throw err;
    }
    return realm;
  } catch (err) {
    await removeRealmFiles(abs);
    throw err;
  }
}

/** Removes the files a realm directory holds (after a failed init; never the directory's other files). */
export async function removeRealmFiles(dir: string): Promise<void> {
  const db = REALM_FILES.database;
  for (const f of [REALM_FILES.config, REALM_FILES.stash, REALM_FILES.krb5Conf, db, `${db}-wal`, `${db}-shm`]) {
    await rm(join(dir, f), { force: true });
  }
}

/** Writes `<dir>/krb5.conf` for clients (mode 0644). */
export async function writeClientKrb5Conf(dir: string, text: string): Promise<string> {
  const path = join(resolve(dir), REALM_FILES.krb5Conf);
  await writeFileAtomic(path, utf8(text), 'client krb5.conf', 0o644);
  return path;
}
