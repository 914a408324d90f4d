/**
 * `kerbside ca init|issue|revoke`: the realm's certificate authority for
 * PKINIT (docs/pkinit.md). `init` makes the CA and the KDC certificate in
 * DIR/pkinit and turns PKINIT on in kdc.conf with MIT's names
 * (pkinit_identity, pkinit_anchors, pkinit_revoke); `issue` writes a user
 * certificate (id-pkinit-san, EKU id-pkinit-KPClientAuth) and, unless a
 * public key is given, its key; `revoke` adds a serial to the CRL.
 */

import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { utf8 } from '../../core/bytes.js';
import { systemKeyPairs } from '../../core/index.js';
import { readFileIfExists, writeFileAtomic } from '../../files/index.js';
import { createRealmCa, fromPem, issueKdcCertificate, issueUserCertificate } from '../../pki/index.js';
import { parseCommandLine, positionals, realmDirOption } from '../args.js';
import { RealmDirectoryError } from '../errors.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { readRealmSettings } from '../kdc-conf.js';
import { CA_FILES, PKINIT_DIR, enablePkinit, loadCa, readRevoked, writeCrl } from '../realm-ca.js';

const USAGE = `kerbside ca init [--dir DIR] [--kdc-hostname HOST]... [--validity-days 3650]
       kerbside ca issue PRINCIPAL [--dir DIR] --out-cert FILE [--out-key FILE | --public-key SPKI.pem]
                         [--upn NAME@DOMAIN] [--smart-card-logon] [--validity-days 365]
       kerbside ca revoke SERIAL [--dir DIR]
  init: creates DIR/pkinit/{ca.pem,ca.key,kdc.pem,kdc.key,crl.pem} and adds
  pkinit_identity, pkinit_anchors and pkinit_revoke to kdc.conf. Clients need
  pkinit_anchors = FILE:DIR/pkinit/ca.pem in their krb5.conf.
  issue: a certificate for PRINCIPAL (written with its new key unless
  --public-key names the key, e.g. one made on a smart card).`;

async function init(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values, positionals: rest } = parseCommandLine(argv, {
    dir: { type: 'string' }, 'kdc-hostname': { type: 'string', multiple: true }, 'validity-days': { type: 'string' },
  });
  positionals(rest, []);
  const dir = realmDirOption(io, values.dir);
  const settings = await readRealmSettings(dir);
  const pkinit = join(settings.dir, PKINIT_DIR);
  await mkdir(pkinit, { recursive: true, mode: 0o700 });
  await chmod(pkinit, 0o700);
  if (await readFileIfExists(join(pkinit, CA_FILES.caKey), 'CA key') !== undefined) {
    throw new RealmDirectoryError(`${pkinit} already holds a certificate authority`, { hint: 'issue certificates with kerbside ca issue; delete the folder to start over (every issued certificate becomes untrusted)' });
  }
  const validityDays = values['validity-days'] === undefined ? undefined : Number(values['validity-days']);
  if (validityDays !== undefined && !(Number.isInteger(validityDays) && validityDays > 0)) throw new UsageError(`--validity-days "${values['validity-days']!}" is not a number of days`);
  const ca = await createRealmCa({
    realm: settings.realm, clock: io.clock, random: io.random, keys: systemKeyPairs(), ...(validityDays === undefined ? {} : { validityDays }),
  });
  const kdc = await issueKdcCertificate(ca, { hostnames: values['kdc-hostname'] ?? [] });
  const caPem = ca.pem();
  const kdcPem = kdc.pem();
  await writeFileAtomic(join(pkinit, CA_FILES.caCert), utf8(caPem.certificate), 'CA certificate', 0o644);
  await writeFileAtomic(join(pkinit, CA_FILES.caKey), utf8(caPem.key), 'CA key', 0o600);
  await writeFileAtomic(join(pkinit, CA_FILES.kdcCert), utf8(kdcPem.certificate), 'KDC certificate', 0o644);
  await writeFileAtomic(join(pkinit, CA_FILES.kdcKey), utf8(kdcPem.key!), 'KDC key', 0o600);
  await writeCrl(ca, pkinit, [], io);
  await enablePkinit(settings.dir, settings.realm);
  io.out(`Certificate authority for ${settings.realm} created in ${pkinit} (subject "${ca.subject}").`);
  io.out(`KDC certificate for krbtgt/${settings.realm}@${settings.realm}, serial ${kdc.serial}; kdc.conf now has pkinit_identity, pkinit_anchors and pkinit_revoke.`);
  io.out(`Clients trust it with, in krb5.conf [realms] ${settings.realm} = { … }:\n  pkinit_anchors = FILE:${join(pkinit, CA_FILES.caCert)}`);
  io.out(`Restart kerbside kdc to offer PKINIT. Keep ${join(pkinit, CA_FILES.caKey)} secret: whoever holds it can log on as anyone.`);
  return 0;
}

async function issue(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values, positionals: rest } = parseCommandLine(argv, {
    dir: { type: 'string' }, 'out-cert': { type: 'string' }, 'out-key': { type: 'string' }, 'public-key': { type: 'string' },
    upn: { type: 'string' }, 'smart-card-logon': { type: 'boolean' }, 'validity-days': { type: 'string' },
  });
  const [principalArg] = positionals(rest, ['PRINCIPAL']);
  if (values['out-cert'] === undefined) throw new UsageError('--out-cert is required');
  if (values['public-key'] === undefined && values['out-key'] === undefined) throw new UsageError('give --out-key (a new key is made) or --public-key (the key exists elsewhere, e.g. on a smart card)');
  if (values['public-key'] !== undefined && values['out-key'] !== undefined) throw new UsageError('give either --out-key or --public-key');
  const validityDays = values['validity-days'] === undefined ? 365 : Number(values['validity-days']);
  if (!(Number.isInteger(validityDays) && validityDays > 0)) throw new UsageError(`--validity-days "${values['validity-days']!}" is not a number of days`);
  const { ca, realm } = await loadCa(realmDirOption(io, values.dir), io);
  const principal = principalArg!.includes('@') ? principalArg! : `${principalArg!}@${realm}`;
  const publicKey = values['public-key'] === undefined ? undefined : fromPem(await readFile(resolve(io.cwd, values['public-key']), 'utf8'), 'PUBLIC KEY');
  const issued = await issueUserCertificate(ca, {
    principal, validityDays, smartCardLogonEku: values['smart-card-logon'] === true,
    ...(values.upn === undefined ? {} : { upn: values.upn }),
    ...(publicKey === undefined ? {} : { publicKey }),
  });
  const pem = issued.pem();
  const certPath = resolve(io.cwd, values['out-cert']);
  await writeFileAtomic(certPath, utf8(pem.certificate), 'certificate', 0o644);
  if (values['out-key'] !== undefined) await writeFileAtomic(resolve(io.cwd, values['out-key']), utf8(pem.key!), 'private key', 0o600);
  io.out(`Certificate for ${principal}, serial ${issued.serial}, valid ${validityDays} days, written to ${certPath}${values['out-key'] === undefined ? '' : ` (key: ${resolve(io.cwd, values['out-key'])}, mode 0600)`}.`);
  io.out(`MIT: kinit -X X509_user_identity=FILE:${certPath}${values['out-key'] === undefined ? '' : `,${resolve(io.cwd, values['out-key'])}`} ${principal}`);
  return 0;
}

async function revoke(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values, positionals: rest } = parseCommandLine(argv, { dir: { type: 'string' } });
  const [serialArg] = positionals(rest, ['SERIAL']);
  const serial = serialArg!.toLowerCase().replace(/^0x/, '').replace(/:/g, '');
  if (!/^[0-9a-f]+$/.test(serial)) throw new UsageError(`"${serialArg!}" is not a hexadecimal serial number (as kerbside ca issue prints it)`);
  const { ca, pkinit } = await loadCa(realmDirOption(io, values.dir), io);
  const revoked = await readRevoked(pkinit);
  if (!revoked.some((r) => r.serial === serial)) revoked.push({ serial, date: io.clock.now() });
  await writeCrl(ca, pkinit, revoked, io);
  io.out(`Serial ${serial} revoked; ${join(pkinit, CA_FILES.crl)} lists ${revoked.length} certificate(s). The KDC reads the CRL when it starts: restart it.`);
  return 0;
}

export const command: Command = {
  name: 'ca',
  summary: 'the realm certificate authority for smart-card logon (PKINIT)',
  usage: USAGE,
  async run(io) {
    const [sub, ...argv] = io.argv;
    if (sub === 'init') return init(io, argv);
    if (sub === 'issue') return issue(io, argv);
    if (sub === 'revoke') return revoke(io, argv);
    throw new UsageError(sub === undefined ? 'missing subcommand (init, issue, revoke)' : `unknown subcommand "${sub}" (init, issue, revoke)`);
  },
};

