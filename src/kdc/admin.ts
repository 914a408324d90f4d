/**
 * Realm administration on top of a PrincipalStore (what MIT kadmin.local's
 * addprinc / cpw / cpw -randkey / ktadd do): principals with password-derived
 * keys (RFC 3961 string-to-key with the RFC 4120 §4 default salt, stored
 * explicitly so PA-ETYPE-INFO2 always announces it) or random keys, one key
 * per enctype the realm permits; re-keying adds a new kvno and keeps the old
 * ones for tickets still in flight; keytab export through the files module.
 */

import { systemClock, type Clock } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { systemRandom, type RandomSource } from '../core/random.js';
import { generateKey, md4, stringToKey, type Key } from '../crypto/index.js';
import { writeKeytab, type KeytabEntry } from '../files/index.js';
import { principalNameFromString, principalNameToString } from '../messages/index.js';
import { MemoryStore, NTLM_CREDENTIAL_ENCTYPE, PrincipalCache, type KeyMaterial, type NewPrincipal, type PrincipalRecord, type PrincipalStore } from '../store/index.js';
import { resolveRealmPolicy, type RealmPolicy, type RealmPolicyInput } from './config.js';
import { defaultSalt, storedSalt, type KeyProtector } from './keys.js';
import { currentKeys, isPermittedEnctype } from './policy.js';
import {
  checkPasswordHistory, checkPasswordQualityPolicy, checkPasswordStrength, type PasswordQualityPolicy,
} from './password-quality.js';

export interface RealmAdminOptions {
  readonly realm: string;
  readonly store: PrincipalStore;
  /** Decides which enctypes keys are made in (permittedEnctypes, allowWeakCrypto). */
  readonly policy?: RealmPolicyInput;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /**
   * How key bytes are stored: masterKeyProtector (a realm master key), or
   * plainKeysForTests() with a MemoryStore. No default, so a persistent store
   * never receives keys in the clear by omission.
   */
  readonly keys: KeyProtector;
  /** Checked whenever a password is set (password-quality.ts); default: none. */
  readonly passwordQuality?: PasswordQualityPolicy;
  /**
   * NTLM is enabled for the realm (kdc.conf `ntlm = true`, docs/ntlm.md "Credentials"): setting the
   * password of a principal with allowNtlm also stores its NTLM credential. Default false.
   */
  readonly ntlm?: boolean;
}

/** Attributes of a new principal (store defaults for whatever is left out). */
export type PrincipalSettings = Omit<NewPrincipal, 'name' | 'keys' | 'kvno'>;

export interface KeyOptions {
  /** Enctypes to make keys in; default the realm's permitted enctypes. */
  readonly enctypes?: readonly number[];
}

export interface AddPrincipalOptions extends PrincipalSettings, KeyOptions {
  /**
   * Derive the keys from this password. Without it the keys are random (MIT
   * addprinc -randkey). A password principal is a user: unless allowService
   * is given it may not be the server of a ticket (MIT DISALLOW_SVR), so its
   * password key cannot be attacked through service tickets (Kerberoasting).
   */
  readonly password?: string;
}

export interface RekeyOptions extends KeyOptions {
  /** Keep older kvnos for tickets issued under them (default true, MIT cpw -keepold). */
  readonly keepOld?: boolean;
}

export interface KeytabOptions {
  /** Every stored kvno instead of only the current one (MIT ktadd exports the current). */
  readonly allKvnos?: boolean;
}

export interface RealmAdmin {
  readonly realm: string;
  readonly store: PrincipalStore;
  readonly policy: RealmPolicy;
  /** The full store name: 'alice' → 'alice@REALM'; an explicit realm must be this one. */
  principalName(name: string): string;
  /** Creates krbtgt/REALM@REALM with random keys unless it exists. Returns its record. */
  createRealm(): Promise<PrincipalRecord>;
  addPrincipal(name: string, options?: AddPrincipalOptions): Promise<PrincipalRecord>;
  /** New keys from a password under a new kvno. */
  setPassword(name: string, password: string, options?: RekeyOptions): Promise<PrincipalRecord>;
  /** New random keys under a new kvno. */
  randkey(name: string, options?: RekeyOptions): Promise<PrincipalRecord>;
  /** Keytab entries for a principal's keys (key bytes in the clear). */
  keytabEntries(name: string, options?: KeytabOptions): Promise<KeytabEntry[]>;
  /**
   * Writes the keys of one or more principals to a keytab file (replacing it,
   * mode 0600). A keytab is what an acceptor holds, so each principal becomes
   * a service (markService).
   */
  exportKeytab(names: string | readonly string[], path: string, options?: KeytabOptions): Promise<KeytabEntry[]>;
  /** Lets the principal be the server of service tickets (allowService, MIT -allow_svr off); true when it changed. */
  markService(name: string): Promise<boolean>;
}

export function realmAdmin(options: RealmAdminOptions): RealmAdmin {
  const { realm, store } = options;
  const policy = resolveRealmPolicy(options.policy);
  const clock = options.clock ?? systemClock();
  const random = options.random ?? systemRandom();
  const protector = options.keys;
  const quality = options.passwordQuality === undefined ? undefined : checkPasswordQualityPolicy(options.passwordQuality);
  if (realm.length === 0) throw new InvalidArgumentError('a realm name must not be empty');
  if (protector.kind === 'plain-for-tests' && !inMemory(store)) {
    throw new InvalidArgumentError(`plainKeysForTests() would store the keys of realm ${realm} in the clear in a persistent database`, {
      hint: 'wrap them under a realm master key: keys: masterKeyProtector(masterKey, random) (kerbside realm init does this)',
    });
  }

  function principalName(name: string): string {
    const parsed = principalNameFromString(name);
    if (parsed.realm !== undefined && parsed.realm !== realm) {
      throw new InvalidArgumentError(`principal ${name} is not in realm ${realm}`, { hint: `leave the realm off or write @${realm}` });
    }
    return principalNameToString(parsed.name, realm);
  }

  function enctypesFor(opts: KeyOptions): number[] {
    const enctypes = [...(opts.enctypes ?? policy.permittedEnctypes)].filter((e) => isPermittedEnctype(e, policy));
    if (enctypes.length === 0) {
      throw new InvalidArgumentError(`none of the enctypes ${(opts.enctypes ?? policy.permittedEnctypes).join(', ')} is permitted in realm ${realm}`, {
        hint: 'weak enctypes such as RC4 need allowWeakCrypto in the realm policy',
      });
    }
    return enctypes;
  }

  const allowWeak = { allowWeak: policy.allowWeakCrypto };
  const realmNtlm = options.ntlm === true;

  /**
   * Keys are sealed for the kvno they will be stored under, so that kvno is passed to the store explicitly.
   * With `ntlm` the NTLM credential comes along, sealed like a key under its private enctype.
   */
  async function passwordKeys(name: string, kvno: number, password: string, opts: KeyOptions, ntlm: boolean): Promise<KeyMaterial[]> {
    const salt = defaultSalt(name);
    const keys: KeyMaterial[] = [];
    for (const enctype of enctypesFor(opts)) {
      const key = await stringToKey(enctype, password, salt, undefined, allowWeak);
      keys.push({ enctype, keyvalue: protector.seal(key, name, kvno), salt: storedSalt(salt) });
    }
    if (ntlm && realmNtlm) {
      // MS-NLMP §3.3.1 NTOWF: MD4 of the UTF-16LE password (the RC4-HMAC key, RFC 4757 §3).
      const nt = md4(Buffer.from(password, 'utf16le'));
      try {
        keys.push({ enctype: NTLM_CREDENTIAL_ENCTYPE, keyvalue: protector.seal({ enctype: NTLM_CREDENTIAL_ENCTYPE, keyvalue: nt }, name, kvno) });
      } finally {
        if (protector.kind === 'master-key') nt.fill(0);
      }
    }
    return keys;
  }

  function randomKeys(name: string, kvno: number, opts: KeyOptions): KeyMaterial[] {
    return enctypesFor(opts).map((enctype) => ({ enctype, keyvalue: protector.seal(generateKey(enctype, random, allowWeak), name, kvno) }));
  }

  /** The kvno the next setKeys stores (MIT: current + 1); a concurrent re-key makes the store refuse ours. */
  async function nextKvno(name: string): Promise<number> {
    const record = await store.get(name);
    return (record?.kvno ?? 0) + 1;
  }

  async function keytabEntries(name: string, opts: KeytabOptions = {}): Promise<KeytabEntry[]> {
    const full = principalName(name);
    const record = await store.get(full);
    if (record === undefined) throw new InvalidArgumentError(`no principal ${full} in the store`);
    const parsed = principalNameFromString(full);
    const principal = { realm, nameType: parsed.name.nameType, components: parsed.name.nameString };
    const timestamp = new Date(Math.floor(clock.now() / 1000) * 1000);
    const keys = opts.allKvnos === true ? record.keys : currentKeys(record.keys);
    return keys.map((stored) => {
      const key: Key = protector.open(stored, full);
      return { principal, timestamp, kvno: stored.kvno, enctype: stored.enctype, key: key.keyvalue };
    });
  }

  /** Lets the principal be the server of service tickets (clears MIT's DISALLOW_SVR); true when it changed. */
  async function markService(name: string): Promise<boolean> {
    const full = principalName(name);
    const record = await store.get(full);
    if (record === undefined || record.allowService) return false;
    await store.update(full, { allowService: true });
    return true;
  }

  const admin: RealmAdmin = {
    realm,
    store,
    policy,
    principalName,
    async createRealm() {
      const name = principalName(`krbtgt/${realm}`);
      return (await store.get(name)) ?? store.create({ name, kvno: 1, keys: randomKeys(name, 1, {}) });
    },
    async addPrincipal(name, opts = {}) {
      const full = principalName(name);
      const { password, enctypes, ...settings } = opts;
      const keyOptions = enctypes === undefined ? {} : { enctypes };
      if (password !== undefined && quality !== undefined) checkPasswordStrength(quality, full, password);
      const keys = password === undefined ? randomKeys(full, 1, keyOptions) : await passwordKeys(full, 1, password, keyOptions, settings.allowNtlm === true);
      // Active Directory's model against Kerberoasting: a principal with a password is a user, and tickets
      // for it would be sealed in a key anyone can guess at offline. It is a service only when made one.
      const allowService = settings.allowService ?? password === undefined;
      return store.create({ ...settings, allowService, name: full, kvno: 1, keys });
    },
    async setPassword(name, password, opts = {}) {
      const full = principalName(name);
      const current = await store.get(full);
      if (quality !== undefined) {
        checkPasswordStrength(quality, full, password);
        if (current !== undefined) await checkPasswordHistory(quality, current, password, protector, allowWeak);
      }
      const kvno = (current?.kvno ?? 0) + 1;
      const keys = await passwordKeys(full, kvno, password, opts, current?.allowNtlm === true);
      return store.setKeys(full, keys, { kvno, purgeOld: opts.keepOld === false, fromPassword: true });
    },
    async randkey(name, opts = {}) {
      const full = principalName(name);
      const kvno = await nextKvno(full);
      return store.setKeys(full, randomKeys(full, kvno, opts), { kvno, purgeOld: opts.keepOld === false });
    },
    keytabEntries,
    async exportKeytab(names, path, opts = {}) {
      const entries: KeytabEntry[] = [];
      const list = typeof names === 'string' ? [names] : names;
      for (const name of list) entries.push(...await keytabEntries(name, opts));
      await writeKeytab(path, entries);
      for (const name of list) await markService(name);
      return entries;
    },
    markService,
  };
  return Object.freeze(admin);
}

/** A MemoryStore, directly or behind a PrincipalCache: the only place plain keys may go. */
function inMemory(store: PrincipalStore): boolean {
  return store instanceof MemoryStore || (store instanceof PrincipalCache && inMemory(store.store));
}

/** A RealmAdmin whose realm has its krbtgt principal (created if missing). */
export async function createRealm(options: RealmAdminOptions): Promise<RealmAdmin> {
  const admin = realmAdmin(options);
  await admin.createRealm();
  return admin;
}
