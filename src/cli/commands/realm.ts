/**
 * `kerbside realm init|show`: creates a realm directory (database, master key
 * stash, kdc.conf, krbtgt and an admin principal) and prints the krb5.conf
 * clients need; shows what a realm directory holds.
 */

import { join } from 'node:path';
import { enctypeName } from '../../crypto/index.js';
import { clientKrb5Conf, formatDuration } from '../../files/index.js';
import { principalNameFromString, principalNameToString } from '../../messages/index.js';
import { listAll } from '../../store/index.js';
import {
  PASSWORD_ARGUMENT_WARNING, durationOption, enctypesOption, listenOption, parseCommandLine, positionals, promptNewPassword,
  realmDirOption,
} from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { addPrincipal, generatePassword } from '../realm-admin.js';
import {
  REALM_FILES, clientAddress, formatListenAddress, readRealmSettings,
} from '../kdc-conf.js';
import { createRealmDirectory, openRealm, removeRealmFiles, writeClientKrb5Conf, type OpenRealm } from '../realm-dir.js';

const USAGE = `kerbside realm init --realm REALM [--dir DIR] [--admin NAME] [--admin-password PW | --prompt-password]
                   [--listen ADDR:PORT]... [--max-life 10h] [--max-renewable-life 7d] [--clockskew 5m]
                   [--enctypes aes256-cts-hmac-sha1-96,…]
       kerbside realm show [--dir DIR]
  DIR defaults to $KERBSIDE_REALM_DIR or ./realm. Without --admin-password or
  --prompt-password a random admin password is generated and printed once
  (--admin-password is visible in the process list; prefer --prompt-password).
  kdc.conf gets a password_quality policy: minlength 8, minclasses 2, history 1.`;

async function init(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values, positionals: rest } = parseCommandLine(argv, {
    realm: { type: 'string' },
    dir: { type: 'string' },
    admin: { type: 'string' },
    'admin-password': { type: 'string' },
    'prompt-password': { type: 'boolean' },
    listen: { type: 'string', multiple: true },
    'max-life': { type: 'string' },
    'max-renewable-life': { type: 'string' },
    clockskew: { type: 'string' },
    enctypes: { type: 'string' },
  });
  positionals(rest, []);
  if (values.realm === undefined) throw new UsageError('--realm is required (e.g. --realm EXAMPLE.TEST)');
  if (values['admin-password'] !== undefined && values['prompt-password'] === true) {
    throw new UsageError('give either --admin-password or --prompt-password');
  }
  const realmName = values.realm;
  const dir = realmDirOption(io, values.dir);
  const adminName = principalIn(values.admin ?? 'admin', realmName);
  const listen = listenOption(values.listen);
  const options = {
    dir, realm: realmName, clock: io.clock, random: io.random,
    ...(listen === undefined ? {} : { listen }),
    ...(values['max-life'] === undefined ? {} : { maxLife: durationOption('max-life', values['max-life']) }),
    ...(values['max-renewable-life'] === undefined ? {} : { maxRenewableLife: durationOption('max-renewable-life', values['max-renewable-life']) }),
    ...(values.clockskew === undefined ? {} : { clockSkew: durationOption('clockskew', values.clockskew) }),
    ...(values.enctypes === undefined ? {} : { supportedEnctypes: enctypesOption('enctypes', values.enctypes) }),
  };
  if (values['admin-password'] !== undefined) io.err(PASSWORD_ARGUMENT_WARNING);
  const given = values['admin-password']
    ?? (values['prompt-password'] === true ? await promptNewPassword(io, adminName) : undefined);
  const password = given ?? generatePassword(io.random);

  const realm = await createRealmDirectory(options);
  let krb5ConfPath: string;
  try {
    await addPrincipal(realm, adminName, { password }, {}, io);
    krb5ConfPath = await writeClientKrb5Conf(dir, clientConf(realm));
  } catch (err) {
    await realm.close();
    await removeRealmFiles(dir);
    throw err;
  }
  await realm.close();

  const s = realm.settings;
  io.out(`Realm ${s.realm} created in ${s.dir}
  database    ${s.databasePath}
  master key  ${s.stashPath}  (back it up and keep it private: without it the keys in the database are unusable)
  kdc.conf    ${join(s.dir, REALM_FILES.config)}
  listens on  ${s.listen.map(formatListenAddress).join(' ')} (UDP and TCP)
  principals  krbtgt/${s.realm}@${s.realm} (random keys), ${adminName}`);
  if (given === undefined) io.out(`\nPassword for ${adminName} (shown only now): ${password}`);
  io.out(`\nStart the KDC with:  kerbside kdc --dir ${s.dir}`);
  io.out(`\nkrb5.conf for clients (written to ${krb5ConfPath}):\n\n${clientConf(realm)}`);
  return 0;
}

function clientConf(realm: OpenRealm): string {
  const first = realm.settings.listen[0]!;
  return clientKrb5Conf({ realm: realm.settings.realm, kdc: clientAddress(first) });
}

/** 'admin' → 'admin@REALM' (before the realm exists, for prompts). */
function principalIn(name: string, realm: string): string {
  const parsed = principalNameFromString(name);
  if (parsed.realm !== undefined && parsed.realm !== realm) throw new UsageError(`--admin ${name} is not in realm ${realm}`);
  return principalNameToString(parsed.name, realm);
}

async function show(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values, positionals: rest } = parseCommandLine(argv, { dir: { type: 'string' } });
  positionals(rest, []);
  const dir = realmDirOption(io, values.dir);
  const s = await readRealmSettings(dir);
  const realm = await openRealm(dir, io);
  let count = 0;
  try {
    for await (const _ of listAll(realm.store)) count++;
  } finally {
    await realm.close();
  }
  io.out(`Realm:               ${s.realm}
Directory:           ${s.dir}
Database:            ${s.databasePath} (${count} principals)
Listens on:          ${s.listen.map((a) => `${formatListenAddress(a)}${a.transports === undefined ? '' : ` (${a.transports.join(', ')})`}`).join(' ')}
Maximum ticket life: ${formatDuration(s.maxLife)}
Maximum renewable:   ${formatDuration(s.maxRenewableLife)}
Clock skew:          ${formatDuration(s.clockSkew)}
Enctypes:            ${s.supportedEnctypes.map(enctypeName).join(' ')}
Password quality:    ${s.passwordQuality === undefined ? 'none (no password_quality in kdc.conf)'
    : `minlength ${s.passwordQuality.minLength}, minclasses ${s.passwordQuality.minClasses}, history ${s.passwordQuality.history}`}`);
  return 0;
}

export const command: Command = {
  name: 'realm',
  summary: 'create a realm directory (database, krbtgt, admin principal, kdc.conf) or show one',
  usage: USAGE,
  async run(io) {
    const [sub, ...rest] = io.argv;
    switch (sub) {
      case 'init': return init(io, rest);
      case 'show': return show(io, rest);
      case undefined: throw new UsageError('missing subcommand (init or show)');
      default: throw new UsageError(`unknown subcommand "${sub}" (init or show)`);
    }
  },
};
