/**
 * Test harness: SoftHSM2 tokens in a private directory (a missing
 * softhsm2-util FAILS the test, naming the Debian package `softhsm2`).
 *
 * SoftHSM reads SOFTHSM2_CONF when the module is initialised, and pkcs11js
 * loads it into the test process itself: a test file therefore uses ONE
 * directory (one softhsm2.conf, one token directory, any number of tokens)
 * and calls `useSoftHsmConfig` — or sets `process.env.SOFTHSM2_CONF` from
 * `env` — before its first openToken. kerbside finalizes the module when its
 * last token closes, so tokens created later are seen by the next openToken.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueUserCertificate, openToken, type RealmCa } from '../pki/index.js';
import { baseEnvironment, checkRun, requireTool, runProgram } from './mit-tools.js';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmTokenOptions {
  /** A private directory: softhsm2.conf and tokens/ are created in it. */
  readonly dir: string;
  readonly label: string;
  readonly pin: string;
  readonly soPin: string;
}

export interface SoftHsmToken {
  readonly module: string;
  /** The slot id SoftHSM reassigned the new token to. */
  readonly slot: number;
  readonly label: string;
  /** For child processes (pkcs11-tool, MIT kinit) and for process.env. */
  readonly env: { readonly SOFTHSM2_CONF: string };
}

/** Path of the configuration `createSoftHsmToken` writes into `dir`. */
export function softHsmConfigPath(dir: string): string {
  return join(dir, 'softhsm2.conf');
}

/** Points this process's SoftHSM at `dir` (before the module is first initialised). */
export function useSoftHsmConfig(dir: string): void {
  process.env['SOFTHSM2_CONF'] = softHsmConfigPath(dir);
}

/** The environment for a peer program that loads SoftHSM with the configuration of `dir`. */
export function softHsmEnvironment(dir: string): Record<string, string> {
  return { ...baseEnvironment(), HOME: dir, SOFTHSM2_CONF: softHsmConfigPath(dir) };
}

/** Initialises a new token in the first free slot of `dir`'s SoftHSM. */
export async function createSoftHsmToken(options: SoftHsmTokenOptions): Promise<SoftHsmToken> {
  const util = requireTool('softhsm2-util', 'softhsm2');
  const tokens = join(options.dir, 'tokens');
  await mkdir(tokens, { recursive: true });
  const conf = softHsmConfigPath(options.dir);
  // Rewriting the same content is harmless for a second token in the same directory.
  await writeFile(conf, [
    `directories.tokendir = ${tokens}`,
    'objectstore.backend = file',
    'log.level = ERROR',
    'slots.removable = false',
    '',
  ].join('\n'));
  const r = checkRun('softhsm2-util --init-token', await runProgram(util, [
    '--init-token', '--free', '--label', options.label, '--pin', options.pin, '--so-pin', options.soPin,
  ], { env: softHsmEnvironment(options.dir), timeoutMs: 30_000 }));
  const m = /reassigned to slot (\d+)/.exec(r.stdout + r.stderr);
  if (m?.[1] === undefined) {
    throw new Error(`softhsm2-util did not report the new slot:\n${r.stdout}${r.stderr}`);
  }
  return Object.freeze({
    module: SOFTHSM_MODULE,
    slot: Number(m[1]),
    label: options.label,
    env: Object.freeze({ SOFTHSM2_CONF: conf }),
  });
}

/**
 * A smart card for `principal`: a token in `dir` (SOFTHSM2_CONF set for this
 * process), an RSA key made on it and a certificate from `ca` under CKA_ID
 * a1, as `kerbside smartcard enroll` does. Returns the PKCS11: identity.
 */
export async function enrolledSoftHsmCard(o: { dir: string; ca: RealmCa; principal: string; pin: string }): Promise<{ card: SoftHsmToken; identity: string }> {
  useSoftHsmConfig(o.dir);
  const card = await createSoftHsmToken({ dir: o.dir, label: `${o.principal.split('@')[0]}-card`, pin: o.pin, soPin: '97531975' });
  const id = new Uint8Array([0xa1]);
  const token = await openToken({ module: card.module, slot: card.slot });
  try {
    await token.login(o.pin);
    const publicKey = await token.generateRsaKeyPair({ id, label: o.principal });
    const cert = await issueUserCertificate(o.ca, { principal: o.principal, publicKey });
    await token.writeCertificate({ id, label: o.principal, der: cert.certificate });
  } finally {
    await token.close();
  }
  return { card, identity: `PKCS11:module_name=${card.module}:slotid=${card.slot}:certid=a1` };
}
