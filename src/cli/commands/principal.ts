/**
 * `kerbside principal add|list|show|delete|set-password|randkey|modify`:
 * kadmin.local's addprinc, listprincs, getprinc, delprinc, cpw, cpw -randkey
 * and modprinc on a realm directory. Works while the KDC runs: the KDC sees
 * each change through the store's change log within one poll interval.
 */

import { enctypeName } from '../../crypto/index.js';
import { formatDuration } from '../../files/index.js';
import type { PrincipalSettings } from '../../kdc/index.js';
import { listAll, type LockoutState, type PrincipalPatch, type PrincipalRecord, type SourceLockoutState } from '../../store/index.js';
import {
  dateOption, durationOption, enctypesOption, newPasswordOption, parseCommandLine, positionals, realmDirOption,
} from '../args.js';
import { PrincipalCommandError } from '../errors.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { addPrincipal, changeKeys, requirePrincipal, type KeySource } from '../realm-admin.js';
import { openRealm, type OpenRealm } from '../realm-dir.js';

const ATTRIBUTE_USAGE = `attributes: --requires-preauth | --no-requires-preauth (default on)
            --allow-svr | --no-allow-svr (may be the server of service tickets; default: on with --randkey,
              off with a password, so nobody can get a ticket sealed in a user's password key to guess it offline)
            --allow-forwardable | --no-allow-forwardable   --allow-renewable | --no-allow-renewable
            --requires-pkinit | --no-requires-pkinit (log on only with a smart card or certificate; default off)
            --allow-ntlm | --no-allow-ntlm (may log on with NTLM; default off. With kdc.conf's ntlm = true the
              NTLM credential is stored when the password is next set; --no-allow-ntlm deletes it. docs/ntlm.md)
            --certificate-map 'X509:<I>ISSUER<SR>SERIAL' (repeatable; certificates that log on as NAME) | --no-certificate-map
            --disabled | --enabled   --expiry DATE|never   --password-expiry DATE|never
            --max-life 10h   --max-renewable-life 7d   (DATE: YYYY-MM-DD or ISO 8601)`;

const USAGE = `kerbside principal <subcommand> [--dir DIR] …
  add NAME [--password-file FILE | --password PW | --randkey] [--enctypes LIST] [attributes]
  list [PATTERN]                       glob such as 'HTTP/*'
  show NAME
  delete NAME
  set-password NAME [--password-file FILE | --password PW] [--purge-old] [--enctypes LIST]
  randkey NAME [--purge-old] [--enctypes LIST]
  modify NAME [attributes] [--unlock]
${ATTRIBUTE_USAGE}
  Passwords: without --password-file or --password, add and set-password prompt twice (from a terminal,
  or two lines of standard input); --password-file FILE reads its first line, - one line of standard input.
  --password PW works but is visible in the process list and shell history (a warning says so).
  New passwords must meet kdc.conf's password_quality (minlength, minclasses, history).
  Old key versions are kept on set-password/randkey (tickets already issued stay usable) unless --purge-old.
  NAME without @REALM is in the realm of DIR ($KERBSIDE_REALM_DIR or ./realm).`;

const COMMON = { dir: { type: 'string' } } as const;

const ATTRIBUTES = {
  'requires-preauth': { type: 'boolean' },
  'no-requires-preauth': { type: 'boolean' },
  'allow-svr': { type: 'boolean' },
  'no-allow-svr': { type: 'boolean' },
  'allow-forwardable': { type: 'boolean' },
  'no-allow-forwardable': { type: 'boolean' },
  'allow-renewable': { type: 'boolean' },
  'no-allow-renewable': { type: 'boolean' },
  'requires-pkinit': { type: 'boolean' },
  'no-requires-pkinit': { type: 'boolean' },
  'allow-ntlm': { type: 'boolean' },
  'no-allow-ntlm': { type: 'boolean' },
  'certificate-map': { type: 'string', multiple: true },
  'no-certificate-map': { type: 'boolean' },
  disabled: { type: 'boolean' },
  enabled: { type: 'boolean' },
  expiry: { type: 'string' },
  'password-expiry': { type: 'string' },
  'max-life': { type: 'string' },
  'max-renewable-life': { type: 'string' },
} as const;

type AttributeValues = {
  [K in keyof typeof ATTRIBUTES]?: (typeof ATTRIBUTES)[K] extends { multiple: true } ? string[] : (typeof ATTRIBUTES)[K]['type'] extends 'boolean' ? boolean : string
};

function flag(values: AttributeValues, on: keyof AttributeValues, off: keyof AttributeValues): boolean | undefined {
  if (values[on] === true && values[off] === true) throw new UsageError(`give either --${on} or --${off}, not both`);
  return values[on] === true ? true : values[off] === true ? false : undefined;
}

/** Attribute flags as a patch: absent = unchanged, null = cleared ("never"). */
function attributePatch(values: AttributeValues): PrincipalPatch {
  const patch: Record<string, unknown> = {
    requiresPreauth: flag(values, 'requires-preauth', 'no-requires-preauth'),
    allowService: flag(values, 'allow-svr', 'no-allow-svr'),
    allowForwardable: flag(values, 'allow-forwardable', 'no-allow-forwardable'),
    allowRenewable: flag(values, 'allow-renewable', 'no-allow-renewable'),
    requiresPkinit: flag(values, 'requires-pkinit', 'no-requires-pkinit'),
    allowNtlm: flag(values, 'allow-ntlm', 'no-allow-ntlm'),
    disabled: flag(values, 'disabled', 'enabled'),
    principalExpiry: values.expiry === undefined ? undefined : dateOption('expiry', values.expiry),
    passwordExpiry: values['password-expiry'] === undefined ? undefined : dateOption('password-expiry', values['password-expiry']),
    maxLife: values['max-life'] === undefined ? undefined : durationOption('max-life', values['max-life']),
    maxRenewableLife: values['max-renewable-life'] === undefined ? undefined : durationOption('max-renewable-life', values['max-renewable-life']),
    certificateMappings: certificateMappings(values),
  };
  for (const k of Object.keys(patch)) if (patch[k] === undefined) delete patch[k];
  return patch as PrincipalPatch;
}

/** --certificate-map (repeatable: the new list) or --no-certificate-map (none). */
function certificateMappings(values: AttributeValues): readonly string[] | null | undefined {
  const given = values['certificate-map'];
  if (given !== undefined && values['no-certificate-map'] === true) throw new UsageError('give either --certificate-map or --no-certificate-map, not both');
  if (values['no-certificate-map'] === true) return null;
  if (given === undefined) return undefined;
  for (const m of given) {
    if (!/^X509:<I>.+<(SR|S)>.+$/.test(m)) {
      throw new UsageError(`--certificate-map "${m}" is not "X509:<I>issuer<SR>serial" or "X509:<I>issuer<S>subject" (issuer, subject and serial as the KDC log and kerbside ca issue print them)`);
    }
  }
  return given;
}

/** AS-REP roasting: without pre-authentication anyone may ask for an AS reply sealed in the principal's key. */
function warnNoPreauth(io: CliIO, patch: PrincipalPatch, name: string): void {
  if (patch.requiresPreauth !== false) return;
  io.err(`warning: ${name} will not need pre-authentication: anyone can ask the KDC for an AS reply encrypted in its key `
    + 'and guess the password offline (AS-REP roasting). Use it only for random-key principals or clients that cannot '
    + 'pre-authenticate, and give such principals long random passwords.');
}

/** A new principal's settings: the patch without the nulls ("never" is the default anyway). */
function newSettings(values: AttributeValues): PrincipalSettings {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributePatch(values))) if (v !== null) out[k] = v;
  return out as PrincipalSettings;
}

async function withRealm<T>(io: CliIO, dir: string | undefined, fn: (realm: OpenRealm) => Promise<T>): Promise<T> {
  const realm = await openRealm(realmDirOption(io, dir), io);
  try {
    return await fn(realm);
  } finally {
    await realm.close();
  }
}

function time(ms: number | undefined): string {
  return ms === undefined ? '[never]' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** MIT getprinc attribute names for the flags that differ from a plain, enabled principal. */
function attributeNames(r: PrincipalRecord): string[] {
  const names: Array<[boolean, string]> = [
    [r.disabled, 'DISABLED'],
    [r.requiresPreauth, 'REQUIRES_PRE_AUTH'],
    [!r.allowForwardable, 'DISALLOW_FORWARDABLE'],
    [!r.allowRenewable, 'DISALLOW_RENEWABLE'],
    [!r.allowProxiable, 'DISALLOW_PROXIABLE'],
    [!r.allowPostdated, 'DISALLOW_POSTDATED'],
    [!r.allowTickets, 'DISALLOW_ALL_TIX'],
    [!r.allowService, 'DISALLOW_SVR'],
    [r.okAsDelegate, 'OK_AS_DELEGATE'],
    [r.requiresPasswordChange, 'REQUIRES_PWCHANGE'],
    [r.passwordChangeService, 'PWCHANGE_SERVICE'],
    [r.requiresPkinit, 'REQUIRES_PKINIT'],
  ];
  return names.filter(([on]) => on).map(([, name]) => name);
}

async function show(io: CliIO, realm: OpenRealm, name: string): Promise<void> {
  const r = await requirePrincipal(realm, name);
  const lockout = await realm.store.lockout.get(r.name);
  const s = realm.settings;
  const life = (own: number | undefined, realmMax: number): string =>
    own === undefined ? `${formatDuration(realmMax)} (realm maximum)` : formatDuration(own);
  const lines = [
    `Principal: ${r.name}`,
    `Expiration date: ${time(r.principalExpiry)}`,
    `Last password change: ${time(r.lastPasswordChange)}`,
    `Password expiration date: ${time(r.passwordExpiry)}`,
    `Maximum ticket life: ${life(r.maxLife, s.maxLife)}`,
    `Maximum renewable life: ${life(r.maxRenewableLife, s.maxRenewableLife)}`,
    `Created: ${time(r.createdAt)}`,
    `Last modified: ${time(r.modifiedAt)}`,
    `Attributes: ${attributeNames(r).join(' ')}`,
    `Service: ${r.allowService ? 'yes, tickets for it can be issued' : 'no (DISALLOW_SVR: a user; --allow-svr makes it a service)'}`,
    `Current kvno: ${r.kvno}`,
    `Number of keys: ${r.keys.length}`,
    ...r.keys.map((k) => `Key: vno ${k.kvno}, ${enctypeName(k.enctype)}`),
    `Failed password attempts: ${lockout.failures}`,
  ];
  lines.push(`NTLM: ${ntlmState(realm, r)}`);
  if (r.allowedEnctypes !== undefined) lines.push(`Allowed session enctypes: ${r.allowedEnctypes.map(enctypeName).join(' ')}`);
  for (const m of r.certificateMappings ?? []) lines.push(`Certificate mapping: ${m}`);
  lines.push(...lockoutLines(lockout, await realm.store.lockout.sources(r.name), io.clock.now()));
  io.out(lines.join('\n'));
}

/** What `show` says about NTLM (docs/ntlm.md "Credentials"). */
function ntlmState(realm: OpenRealm, r: PrincipalRecord): string {
  if (!r.allowNtlm) return 'not allowed';
  if (r.ntlmCredential !== undefined) return `allowed, credential held (kvno ${r.ntlmCredential.kvno})${realm.settings.ntlm.enabled ? '' : ' but NTLM is off for the realm (kdc.conf ntlm)'}`;
  return realm.settings.ntlm.enabled
    ? 'allowed, no credential yet (it is stored when the password is next set)'
    : 'allowed, but NTLM is off for the realm (kdc.conf ntlm = true turns it on)';
}

/** Where turning NTLM on leaves the principal: the credential needs the password, which kerbside never keeps. */
function noteNtlm(io: CliIO, realm: OpenRealm, r: PrincipalRecord): void {
  if (!r.allowNtlm || r.ntlmCredential !== undefined) return;
  io.err(realm.settings.ntlm.enabled
    ? `note: ${r.name} may use NTLM, but its NTLM credential is made from the password: set it (kerbside principal set-password ${r.name}) before it can log on with NTLM.`
    : `note: NTLM is off for realm ${realm.settings.realm}: no NTLM credential is stored for ${r.name} until kdc.conf says ntlm = true and its password is set again.`);
}

/** Last failure, the principal-wide lock and the per-source ones in force (docs/lockout.md). */
function lockoutLines(lockout: LockoutState, sources: readonly SourceLockoutState[], now: number): string[] {
  const until = (t: number): string => (t === Infinity ? 'an administrator unlocks it' : time(t));
  const lines = lockout.lastFailure === undefined ? [] : [`Last failed authentication: ${time(lockout.lastFailure)}`];
  if (lockout.lockedUntil !== undefined && now < lockout.lockedUntil) lines.push(`Locked until: ${until(lockout.lockedUntil)}`);
  for (const { source, state } of sources) {
    if (state.lockedUntil !== undefined && now < state.lockedUntil) {
      lines.push(`Locked for ${source} until: ${until(state.lockedUntil)} (${state.failures} failures)`);
    } else if (state.failures > 0) {
      lines.push(`Failed password attempts from ${source}: ${state.failures}`);
    }
  }
  return lines;
}

function kvnosKept(r: PrincipalRecord): string {
  const older = [...new Set(r.keys.map((k) => k.kvno))].filter((v) => v !== r.kvno);
  return older.length === 0 ? 'no older kvnos kept' : `older kvnos kept: ${older.join(', ')}`;
}

async function run(io: CliIO): Promise<number> {
  const [sub, ...argv] = io.argv;
  switch (sub) {
    case 'add': {
      const { values, positionals: rest } = parseCommandLine(argv, {
        ...COMMON, ...ATTRIBUTES, password: { type: 'string' }, 'password-file': { type: 'string' }, randkey: { type: 'boolean' },
        enctypes: { type: 'string' },
      });
      const [name] = positionals(rest, ['NAME']);
      if ((values.password !== undefined || values['password-file'] !== undefined) && values.randkey === true) {
        throw new UsageError('give either --password / --password-file or --randkey');
      }
      const settings = newSettings(values);
      const enctypes = values.enctypes === undefined ? undefined : enctypesOption('enctypes', values.enctypes);
      return withRealm(io, values.dir, async (realm) => {
        const full = realm.admin.principalName(name!);
        if (await realm.store.get(full) !== undefined) throw new PrincipalCommandError(`principal ${full} already exists`);
        warnNoPreauth(io, settings, full);
        const source: KeySource = values.randkey === true ? { randkey: true } : { password: await newPasswordOption(io, values, full) };
        const r = await addPrincipal(realm, full, source, settings, { clock: io.clock, ...(enctypes === undefined ? {} : { enctypes }) });
        io.out(`Principal "${r.name}" created (kvno ${r.kvno}, ${r.keys.map((k) => enctypeName(k.enctype)).join(' ')}).`);
        noteNtlm(io, realm, r);
        if (!r.allowService) io.out(`It is a user: no service tickets are issued for it (principal modify ${r.name} --allow-svr makes it a service).`);
        return 0;
      });
    }
    case 'list': {
      const { values, positionals: rest } = parseCommandLine(argv, COMMON);
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]!}"`);
      return withRealm(io, values.dir, async (realm) => {
        const names: string[] = [];
        for await (const n of listAll(realm.store, rest[0] === undefined ? {} : { pattern: rest[0] })) names.push(n);
        if (names.length > 0) io.out(names.join('\n'));
        return 0;
      });
    }
    case 'show': {
      const { values, positionals: rest } = parseCommandLine(argv, COMMON);
      const [name] = positionals(rest, ['NAME']);
      return withRealm(io, values.dir, async (realm) => { await show(io, realm, name!); return 0; });
    }
    case 'delete': {
      const { values, positionals: rest } = parseCommandLine(argv, COMMON);
      const [name] = positionals(rest, ['NAME']);
      return withRealm(io, values.dir, async (realm) => {
        const r = await requirePrincipal(realm, name!);
        const tgs = `krbtgt/${realm.settings.realm}@${realm.settings.realm}`;
        if (r.name === tgs) {
          throw new PrincipalCommandError(`refusing to delete ${tgs}: without it the realm issues no tickets`, {
            hint: 'to invalidate every ticket of the realm, use: kerbside principal randkey --purge-old ' + tgs,
          });
        }
        await realm.store.delete(r.name);
        await realm.store.lockout.forget(r.name);
        io.out(`Principal "${r.name}" deleted.`);
        return 0;
      });
    }
    case 'set-password':
    case 'randkey': {
      const { values, positionals: rest } = parseCommandLine(argv, {
        ...COMMON, 'purge-old': { type: 'boolean' }, enctypes: { type: 'string' }, password: { type: 'string' },
        'password-file': { type: 'string' },
      });
      const [name] = positionals(rest, ['NAME']);
      if (sub === 'randkey' && (values.password !== undefined || values['password-file'] !== undefined)) {
        throw new UsageError('randkey takes no password (use set-password)');
      }
      const enctypes = values.enctypes === undefined ? undefined : enctypesOption('enctypes', values.enctypes);
      return withRealm(io, values.dir, async (realm) => {
        const current = await requirePrincipal(realm, name!);
        const source: KeySource = sub === 'randkey' ? { randkey: true } : { password: await newPasswordOption(io, values, current.name) };
        const r = await changeKeys(realm, current.name, source, {
          purgeOld: values['purge-old'] === true, ...(enctypes === undefined ? {} : { enctypes }),
        });
        io.out(sub === 'randkey'
          ? `Key for "${r.name}" randomized (kvno ${r.kvno}; ${kvnosKept(r)}).`
          : `Password for "${r.name}" changed (kvno ${r.kvno}; ${kvnosKept(r)}${r.ntlmCredential === undefined ? '' : '; NTLM credential stored'}).`);
        if (sub === 'randkey' && current.ntlmCredential !== undefined) io.err(`note: random keys have no password, so the NTLM credential of ${r.name} was deleted.`);
        return 0;
      });
    }
    case 'modify': {
      const { values, positionals: rest } = parseCommandLine(argv, { ...COMMON, ...ATTRIBUTES, unlock: { type: 'boolean' } });
      const [name] = positionals(rest, ['NAME']);
      const patch = attributePatch(values);
      if (Object.keys(patch).length === 0 && values.unlock !== true) throw new UsageError('nothing to modify: give at least one attribute or --unlock');
      return withRealm(io, values.dir, async (realm) => {
        const current = await requirePrincipal(realm, name!);
        warnNoPreauth(io, patch, current.name);
        const r = Object.keys(patch).length === 0 ? current : await realm.store.update(current.name, patch);
        if (values.unlock === true) await realm.store.lockout.unlock(r.name);
        io.out(`Principal "${r.name}" modified.`);
        if (patch.allowNtlm === true) noteNtlm(io, realm, r);
        return 0;
      });
    }
    case undefined:
      throw new UsageError('missing subcommand (add, list, show, delete, set-password, randkey, modify)');
    default:
      throw new UsageError(`unknown subcommand "${sub}" (add, list, show, delete, set-password, randkey, modify)`);
  }
}

export const command: Command = {
  name: 'principal',
  summary: 'add, list, show, delete, re-key and modify principals of a realm directory',
  usage: USAGE,
  run,
};
