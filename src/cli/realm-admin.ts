/**
 * The store operations behind `realm init`, `principal …`, `keytab export` and
 * `start`, on an open realm directory through the KDC's RealmAdmin (keys
 * wrapped under the master key). Writes go to the store, so a running KDC
 * sees them through the store's change log (PrincipalCache polling).
 */

import type { Clock } from '../core/clock.js';
import type { RandomSource } from '../core/random.js';
import { principalEquals, updateKeytab, type KeytabEntry } from '../files/index.js';
import { PrincipalExistsError, type PrincipalRecord } from '../store/index.js';
import type { PrincipalSettings } from '../kdc/index.js';
import { PrincipalCommandError } from './errors.js';
import type { OpenRealm } from './realm-dir.js';

/** Where new keys come from. */
export type KeySource = { readonly password: string } | { readonly randkey: true };

/** The enctypes of the principal's current keys. */
function currentEnctypes(record: PrincipalRecord): number[] {
  return record.keys.filter((k) => k.kvno === record.kvno).map((k) => k.enctype);
}

/** Adds a principal with keys in `enctypes` (default: the realm's supported enctypes). */
export async function addPrincipal(
  realm: OpenRealm, name: string, source: KeySource, settings: PrincipalSettings,
  options: { readonly enctypes?: readonly number[]; readonly clock: Clock },
): Promise<PrincipalRecord> {
  const full = realm.admin.principalName(name);
  try {
    return await realm.admin.addPrincipal(full, {
      ...settings,
      ...(options.enctypes === undefined ? {} : { enctypes: options.enctypes }),
      ...('password' in source ? { password: source.password, lastPasswordChange: options.clock.now() } : {}),
    });
  } catch (err) {
    if (err instanceof PrincipalExistsError) {
      throw new PrincipalCommandError(`principal ${full} already exists`, {
        hint: 'change it with kerbside principal set-password / randkey / modify', cause: err,
      });
    }
    throw err;
  }
}

/** The record of `name`, or a PrincipalCommandError naming it. */
export async function requirePrincipal(realm: OpenRealm, name: string): Promise<PrincipalRecord> {
  const full = realm.admin.principalName(name);
  const record = await realm.store.get(full);
  if (record === undefined) {
    throw new PrincipalCommandError(`principal ${full} does not exist in realm ${realm.settings.realm}`, {
      hint: 'list the principals with: kerbside principal list',
    });
  }
  return record;
}

/**
 * New keys under a new kvno, in `enctypes` (default: those of the current
 * keys). Older kvnos stay, so tickets already issued under them remain
 * usable, unless `purgeOld`.
 */
export async function changeKeys(
  realm: OpenRealm, name: string, source: KeySource, options: { readonly purgeOld?: boolean; readonly enctypes?: readonly number[] },
): Promise<PrincipalRecord> {
  const record = await requirePrincipal(realm, name);
  const rekey = { keepOld: options.purgeOld !== true, enctypes: options.enctypes ?? currentEnctypes(record) };
  return 'password' in source
    ? realm.admin.setPassword(record.name, source.password, rekey)
    : realm.admin.randkey(record.name, rekey);
}

/**
 * Adds the principal's keys (current kvno, `kvno`, or all) to the keytab
 * `out`, created with mode 0600 if missing. Entries of the same principal,
 * kvno and enctype are replaced; other entries are kept, as MIT ktadd does.
 * The principal becomes a service (`madeService` says whether it was not one).
 */
export async function exportKeytab(
  realm: OpenRealm, name: string, out: string, options: { readonly kvno?: number; readonly allKvnos?: boolean },
): Promise<{ readonly entries: KeytabEntry[]; readonly madeService: boolean }> {
  const record = await requirePrincipal(realm, name);
  const kvno = options.kvno ?? record.kvno;
  const entries = (await realm.admin.keytabEntries(record.name, { allKvnos: true }))
    .filter((e) => options.allKvnos === true || e.kvno === kvno);
  if (entries.length === 0) {
    const held = [...new Set(record.keys.map((k) => k.kvno))].join(', ') || 'none';
    throw new PrincipalCommandError(`principal ${record.name} has no keys of kvno ${kvno} (kvnos held: ${held})`);
  }
  await updateKeytab(out, (existing) => [
    ...existing.filter((e) => !entries.some((n) => principalEquals(n.principal, e.principal) && n.kvno === e.kvno && n.enctype === e.enctype)),
    ...entries,
  ]);
  // A keytab is what an acceptor holds: the principal is a service from now on (clears DISALLOW_SVR).
  const madeService = await realm.admin.markService(record.name);
  return { entries, madeService };
}

/** A random password people can type: 20 characters from an unambiguous alphabet (about 115 bits). */
export function generatePassword(random: RandomSource): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let out = '';
  for (let i = 0; i < 20; i++) out += alphabet[random.int(alphabet.length)]!;
  return out;
}
