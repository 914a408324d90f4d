/**
 * `kerbside smartcard enroll`: puts a smart-card logon identity on a PKCS#11
 * token (docs/pkinit.md): an RSA key pair generated on the token (the
 * private key never leaves it), a certificate for the principal from the
 * realm CA, written to the token under the same CKA_ID, where MIT's
 * `kinit -X X509_user_identity=PKCS11:…` and kerbside's find it.
 */

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fromHex, toHex } from '../../core/bytes.js';
import { issueUserCertificate, openToken } from '../../pki/index.js';
import { parseCommandLine, positionals, realmDirOption } from '../args.js';
import { UsageError, type CliIO, type Command } from '../io.js';
import { loadCa } from '../realm-ca.js';

const USAGE = `kerbside smartcard enroll PRINCIPAL --module LIB.so [--slot N | --token LABEL] [--pin-file FILE]
                           [--id HEX] [--label TEXT] [--dir DIR] [--validity-days 365] [--smart-card-logon]
  Generates a 2048-bit RSA key pair on the token, issues a certificate for
  PRINCIPAL from the realm CA in DIR (kerbside ca init) and writes it to the
  token with the key's ID. The PIN is asked for (or read from --pin-file);
  it is never taken as an argument.`;

/** The user PIN: the first line of --pin-file, or a prompt. */
export async function readPin(io: CliIO, pinFile: string | undefined, what: string): Promise<string> {
  if (pinFile !== undefined) {
    const text = await readFile(resolve(io.cwd, pinFile), 'utf8');
    const pin = text.split(/\r?\n/)[0] ?? '';
    if (pin === '') throw new UsageError(`--pin-file ${pinFile} is empty`);
    return pin;
  }
  return io.readSecret(`PIN for ${what}: `);
}

async function enroll(io: CliIO, argv: readonly string[]): Promise<number> {
  const { values, positionals: rest } = parseCommandLine(argv, {
    module: { type: 'string' }, slot: { type: 'string' }, token: { type: 'string' }, 'pin-file': { type: 'string' },
    id: { type: 'string' }, label: { type: 'string' }, dir: { type: 'string' }, 'validity-days': { type: 'string' },
    'smart-card-logon': { type: 'boolean' }, pin: { type: 'string' },
  });
  if (values.pin !== undefined) throw new UsageError('a PIN is never taken on the command line (other users see it in the process list); use the prompt or --pin-file');
  const [principalArg] = positionals(rest, ['PRINCIPAL']);
  if (values.module === undefined) throw new UsageError('--module is required (the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so or /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so)');
  const slot = values.slot === undefined ? undefined : Number(values.slot);
  if (slot !== undefined && !Number.isSafeInteger(slot)) throw new UsageError(`--slot "${values.slot!}" is not a slot id`);
  const idHex = values.id ?? toHex(io.random.bytes(4));
  if (!/^([0-9a-fA-F]{2})+$/.test(idHex)) throw new UsageError(`--id "${idHex}" is not hexadecimal bytes`);
  const id = fromHex(idHex);
  const validityDays = values['validity-days'] === undefined ? 365 : Number(values['validity-days']);
  if (!(Number.isInteger(validityDays) && validityDays > 0)) throw new UsageError(`--validity-days "${values['validity-days']!}" is not a number of days`);

  const { ca, realm } = await loadCa(realmDirOption(io, values.dir), io);
  const principal = principalArg!.includes('@') ? principalArg! : `${principalArg!}@${realm}`;
  const token = await openToken({
    module: resolve(io.cwd, values.module), ...(slot === undefined ? {} : { slot }), ...(values.token === undefined ? {} : { tokenLabel: values.token }),
  });
  try {
    await token.login(await readPin(io, values['pin-file'], `token "${token.label}"`));
    const label = values.label ?? principal;
    const publicKey = await token.generateRsaKeyPair({ id, label, bits: 2048 });
    const issued = await issueUserCertificate(ca, { principal, publicKey, validityDays, smartCardLogonEku: values['smart-card-logon'] === true });
    await token.writeCertificate({ id, label, der: issued.certificate });
    io.out(`Token "${token.label}" (slot ${token.slot}): key pair and certificate for ${principal} with ID ${idHex.toLowerCase()}, serial ${issued.serial}, valid ${validityDays} days.`);
    io.out(`MIT: kinit -X X509_user_identity=PKCS11:module_name=${resolve(io.cwd, values.module)}:slotid=${token.slot}:certid=${idHex.toLowerCase()} ${principal}`);
  } finally {
    await token.close();
  }
  return 0;
}

export const command: Command = {
  name: 'smartcard',
  summary: 'put a smart-card logon key and certificate on a PKCS#11 token',
  usage: USAGE,
  async run(io) {
    const [sub, ...argv] = io.argv;
    if (sub === 'enroll') return enroll(io, argv);
    throw new UsageError(sub === undefined ? 'missing subcommand (enroll)' : `unknown subcommand "${sub}" (enroll)`);
  },
};
